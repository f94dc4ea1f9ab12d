"""Upstream TLS per environment: a private CA bundle and a client certificate (mTLS),
against a real TLS server on 127.0.0.1 with certificates made here (trustme)."""

from __future__ import annotations

import ssl
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest
import trustme

from proxy.config import PdtEnvironment, PdtSettings, TlsSettings
from proxy.errors import ConfigError
from proxy.upstream.failures import TlsFailed, TransportFailure
from proxy.upstream.seam import SendLimits
from proxy.upstream.transport import build_transport
from tests.upstream.wire import Seen, WireServer, reply

LIMITS = SendLimits(connect_s=2.0, read_s=2.0, pool_s=2.0, write_s=2.0, max_body_bytes=1024)
TlsOf = Callable[["Pki"], TlsSettings]


@dataclass(frozen=True)
class Pki:
    ca_file: Path
    client_pem: Path  # certificate and key in one file
    client_cert: Path
    client_key: Path
    server: ssl.SSLContext
    server_requiring_client: ssl.SSLContext


@pytest.fixture(scope="module")
def pki(tmp_path_factory: pytest.TempPathFactory) -> Pki:
    folder = tmp_path_factory.mktemp("pki")
    ca = trustme.CA()
    server_cert = ca.issue_cert("localhost")
    client = ca.issue_cert("proxy.client.test")
    ca_file = folder / "ca.pem"
    ca.cert_pem.write_to_path(str(ca_file))
    client_pem = folder / "client.pem"
    client.private_key_and_cert_chain_pem.write_to_path(str(client_pem))
    client_cert = folder / "client.crt"
    client.cert_chain_pems[0].write_to_path(str(client_cert))
    client_key = folder / "client.key"
    client.private_key_pem.write_to_path(str(client_key))

    def server_context(require_client: bool) -> ssl.SSLContext:
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        server_cert.configure_cert(context)
        if require_client:
            ca.configure_trust(context)
            context.verify_mode = ssl.CERT_REQUIRED
        return context

    return Pki(ca_file, client_pem, client_cert, client_key, server_context(False), server_context(True))


async def ok(seen: Seen) -> bytes:
    return reply(200, {"path": seen.path})


async def status_over_tls(server: WireServer, tls: TlsSettings) -> int:
    settings = PdtSettings(environments={"prd": PdtEnvironment(base_url=server.base_url, tls=tls)})
    transport = build_transport(settings)
    try:
        # The router hands a real host to the production aiohttp transport.
        answer = await transport.send("GET", f"{server.base_url}/v1/ping", {}, None, LIMITS)
        return answer.status
    finally:
        await transport.aclose()


@pytest.mark.parametrize(
    ("requires_client", "tls_of", "outcome"),
    [
        pytest.param(False, lambda p: TlsSettings(ca_bundle=p.ca_file), 200, id="private CA trusted"),
        pytest.param(False, lambda p: TlsSettings(), TlsFailed, id="public CAs only: refused"),
        pytest.param(
            True,
            lambda p: TlsSettings(ca_bundle=p.ca_file, client_cert=p.client_cert, client_key=p.client_key),
            200,
            id="mTLS: certificate and key files",
        ),
        pytest.param(
            True,
            lambda p: TlsSettings(ca_bundle=p.ca_file, client_cert=p.client_pem),
            200,
            id="mTLS: one PEM",
        ),
        pytest.param(
            True, lambda p: TlsSettings(ca_bundle=p.ca_file), TransportFailure, id="mTLS: no certificate"
        ),
    ],
)
async def test_upstream_tls(
    pki: Pki, requires_client: bool, tls_of: TlsOf, outcome: int | type[Exception]
) -> None:
    server_context = pki.server_requiring_client if requires_client else pki.server
    async with WireServer(ok, tls=server_context) as server:
        if isinstance(outcome, int):
            assert await status_over_tls(server, tls_of(pki)) == outcome
            assert [seen.path for seen in server.seen] == ["/v1/ping"]
        else:
            with pytest.raises(outcome):
                await status_over_tls(server, tls_of(pki))
            assert server.seen == []


@pytest.mark.parametrize(
    "tls_of",
    [
        pytest.param(
            lambda p: TlsSettings(ca_bundle=p.ca_file.with_name("missing.pem")), id="missing CA bundle"
        ),
        pytest.param(lambda p: TlsSettings(client_cert=p.ca_file), id="certificate without its key"),
    ],
)
def test_unusable_tls_files_stop_startup_naming_the_environment(pki: Pki, tls_of: TlsOf) -> None:
    settings = PdtSettings(
        environments={"prd": PdtEnvironment(base_url="https://pdt.example", tls=tls_of(pki))}
    )
    with pytest.raises(ConfigError, match=r"pdt\.environments\.prd\.tls"):
        build_transport(settings)


def test_a_key_without_a_certificate_is_a_configuration_error(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="client_key is set without client_cert"):
        TlsSettings(client_key=tmp_path / "key.pem")

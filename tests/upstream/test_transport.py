"""The routing transport: configured origins only, simulator in process, real hosts pooled."""

from __future__ import annotations

import httpx
import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from proxy.config import LegacyEnvironment, LegacySettings, PdtEnvironment, PdtSettings
from proxy.errors import ConfigError
from proxy.upstream import SIMULATOR_BASE_URL, HostRoutingTransport, build_transport, resolve_base_url
from proxy.upstream.transport import LEGACY_SIMULATOR_BASE_URL


class Recorder(httpx.AsyncBaseTransport):
    """A transport that answers 200 and remembers what reached it."""

    def __init__(self) -> None:
        self.seen: list[str] = []
        self.closed = False

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        self.seen.append(str(request.url))
        return httpx.Response(200, json={"via": "recorder"})

    async def aclose(self) -> None:
        self.closed = True


def settings_for(prd: str, hml: str) -> PdtSettings:
    return PdtSettings(
        environments={"prd": PdtEnvironment(base_url=prd), "hml": PdtEnvironment(base_url=hml)}
    )


@pytest.mark.parametrize(
    ("base_url", "expected"),
    [
        ("simulator", SIMULATOR_BASE_URL),
        ("https://datatrustapi.clearsale.com.br", "https://datatrustapi.clearsale.com.br"),
        ("https://pdt.test/prefix/", "https://pdt.test/prefix"),
    ],
)
def test_resolve_base_url(base_url: str, expected: str) -> None:
    assert resolve_base_url(PdtEnvironment(base_url=base_url)) == expected


@pytest.mark.parametrize(
    "url",
    [
        "https://evil.test/v1/transaction?document=12345678909",
        "http://pdt.test/v1/transaction",
        "https://pdt.test:8443/v1/transaction",
        "https://pdt.test.evil.test/v1/transaction",
        "https://user:hunter2@elsewhere.test/v1/x#frag",
    ],
)
async def test_a_request_to_an_unconfigured_origin_is_refused_without_io(url: str) -> None:
    recorder = Recorder()
    routing = HostRoutingTransport({("https", "pdt.test", None): recorder})
    async with httpx.AsyncClient(transport=routing) as client:
        with pytest.raises(httpx.ConnectError, match="not a configured upstream host") as caught:
            await client.get(url)
    assert recorder.seen == []
    message = str(caught.value)
    for leaked in ("/v1", "document", "12345678909", "hunter2", "user", "frag"):
        assert leaked not in message


@pytest.mark.parametrize("url", ["https://pdt.test/v1/x", "https://PDT.test:443/v1/x"])
async def test_a_configured_origin_reaches_its_transport(url: str) -> None:
    recorder = Recorder()
    async with httpx.AsyncClient(
        transport=HostRoutingTransport({("https", "pdt.test", None): recorder})
    ) as client:
        assert (await client.get(url)).json() == {"via": "recorder"}
    assert recorder.seen == ["https://pdt.test/v1/x"]
    assert recorder.closed


async def _ping(request: Request) -> JSONResponse:
    return JSONResponse({"pong": True, "auth": request.headers.get("authorization")})


async def _crash(request: Request) -> JSONResponse:
    raise RuntimeError("simulator bug")


SIMULATOR = Starlette(routes=[Route("/v1/ping", _ping), Route("/v1/crash", _crash)])


async def test_the_simulator_origin_is_served_in_process_and_real_hosts_are_not() -> None:
    transport = build_transport(settings_for("simulator", "https://pdt-hml.test"), simulator_app=SIMULATOR)
    async with httpx.AsyncClient(transport=transport) as client:
        answer = await client.get(f"{SIMULATOR_BASE_URL}/v1/ping", headers={"authorization": "Bearer t"})
        assert answer.json() == {"pong": True, "auth": "Bearer t"}
        with pytest.raises(httpx.ConnectError, match="not a configured upstream host"):
            await client.get("https://pdt-prd.test/v1/ping")


async def test_a_simulator_crash_looks_like_a_remote_500() -> None:
    transport = build_transport(settings_for("simulator", "simulator"), simulator_app=SIMULATOR)
    async with httpx.AsyncClient(transport=transport) as client:
        assert (await client.get(f"{SIMULATOR_BASE_URL}/v1/crash")).status_code == 500


def test_the_simulator_needs_an_app() -> None:
    with pytest.raises(ConfigError, match=r"pdt\.environments\.hml is the simulator"):
        build_transport(settings_for("https://pdt.test", "simulator"))


async def test_a_transport_without_the_simulator_needs_no_app() -> None:
    transport = build_transport(settings_for("https://pdt.test", "https://pdt-hml.test"))
    await transport.aclose()


LEGACY_SIMULATOR = Starlette(routes=[Route("/products/v1/ping", _ping)])


def legacy_for(prd: str, hml: str) -> LegacySettings:
    return LegacySettings(
        environments={"prd": LegacyEnvironment(base_url=prd), "hml": LegacyEnvironment(base_url=hml)}
    )


async def test_legacy_backends_share_the_routing_and_the_refusal() -> None:
    transport = build_transport(
        settings_for("simulator", "simulator"),
        simulator_app=SIMULATOR,
        legacy=legacy_for("simulator", "https://homologacao.legacy.test"),
        legacy_app=LEGACY_SIMULATOR,
    )
    async with httpx.AsyncClient(transport=transport) as client:
        legacy = await client.get(f"{LEGACY_SIMULATOR_BASE_URL}/products/v1/ping")
        assert legacy.json()["pong"] is True
        pdt = await client.get(f"{SIMULATOR_BASE_URL}/v1/ping")
        assert pdt.json()["pong"] is True
        # Each simulator answers only its own origin: the PDT app never sees legacy paths.
        assert (await client.get(f"{SIMULATOR_BASE_URL}/products/v1/ping")).status_code == 404
        with pytest.raises(httpx.ConnectError, match="not a configured upstream host"):
            await client.get("https://api.clearsale.com.br/products/v1/ping")


def test_the_legacy_simulator_needs_its_app() -> None:
    with pytest.raises(ConfigError, match=r"legacy\.environments\.prd is the simulator"):
        build_transport(
            settings_for("simulator", "simulator"),
            simulator_app=SIMULATOR,
            legacy=legacy_for("simulator", "simulator"),
        )


def test_legacy_base_urls() -> None:
    assert resolve_base_url(LegacyEnvironment()) == LEGACY_SIMULATOR_BASE_URL
    assert resolve_base_url(LegacyEnvironment(base_url="https://api.test/")) == "https://api.test"


async def test_a_product_may_have_its_own_legacy_host() -> None:
    legacy = LegacySettings(
        environments={"prd": LegacyEnvironment(base_url="https://api.legacy.test")},
        products={"ffr": {"prd": LegacyEnvironment(base_url="https://ffr.bank.test")}},
    )
    assert legacy.environment_for("ffr", "prd") == LegacyEnvironment(base_url="https://ffr.bank.test")
    assert legacy.environment_for("mobile-trust", "prd") == LegacyEnvironment(
        base_url="https://api.legacy.test"
    )
    assert legacy.environment_for("ffr", "hml") is None
    transport = build_transport(
        settings_for("simulator", "simulator"), simulator_app=SIMULATOR, legacy=legacy
    )
    async with httpx.AsyncClient(transport=transport) as client:
        # Both hosts are routed (to the network pool); anything else is refused before I/O.
        with pytest.raises(httpx.ConnectError, match="not a configured upstream host"):
            await client.get("https://elsewhere.test/v1/x")
    assert transport.origins == {
        SIMULATOR_BASE_URL,
        "https://api.legacy.test",
        "https://ffr.bank.test",
    }

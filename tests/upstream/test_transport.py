"""The routing transport: configured origins only, simulator in process, real hosts pooled."""

from __future__ import annotations

from collections.abc import Mapping

import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from proxy.config import LegacyEnvironment, LegacySettings, PdtEnvironment, PdtSettings
from proxy.errors import ConfigError
from proxy.upstream import SIMULATOR_BASE_URL, HostRoutingTransport, build_transport, resolve_base_url
from proxy.upstream.failures import ConnectFailed
from proxy.upstream.seam import SendLimits, UpstreamAnswer, UpstreamTransport
from proxy.upstream.transport import LEGACY_SIMULATOR_BASE_URL, origin_prefix

LIMITS = SendLimits(connect_s=1.0, read_s=1.0, pool_s=1.0, write_s=1.0, max_body_bytes=64)


class Recorder:
    """A transport that answers 200 and remembers what reached it."""

    def __init__(self) -> None:
        self.seen: list[str] = []
        self.closed = False

    async def send(
        self, method: str, url: str, headers: Mapping[str, str], body: bytes | None, limits: SendLimits
    ) -> UpstreamAnswer:
        self.seen.append(url)
        return UpstreamAnswer(status=200, body=b"recorder", content_type=None, retry_after=None)

    async def aclose(self) -> None:
        self.closed = True


async def get(
    transport: UpstreamTransport, url: str, headers: Mapping[str, str] | None = None
) -> UpstreamAnswer:
    return await transport.send("GET", url, headers or {}, None, LIMITS)


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
    ("url", "prefix"),
    [
        ("https://pdt.test/v1/x", "https://pdt.test"),
        ("https://pdt.test:8443?q=1", "https://pdt.test:8443"),
        ("https://pdt.test#frag", "https://pdt.test"),
        ("https://pdt.test", "https://pdt.test"),
    ],
)
def test_origin_prefix(url: str, prefix: str) -> None:
    assert origin_prefix(url) == prefix


@pytest.mark.parametrize(
    "url",
    [
        "https://evil.test/v1/transaction?document=12345678909",
        "http://pdt.test/v1/transaction",
        "https://pdt.test:8443/v1/transaction",
        "https://pdt.test.evil.test/v1/transaction",
        "https://user:hunter2@elsewhere.test/v1/x#frag",
        "https://user:hunter2@pdt.test.evil.test/v1/x",
    ],
)
async def test_a_request_to_an_unconfigured_origin_is_refused_without_io(url: str) -> None:
    recorder = Recorder()
    routing = HostRoutingTransport({("https", "pdt.test", None): recorder})
    # Twice: a refusal is never remembered as a route.
    for _ in range(2):
        with pytest.raises(ConnectFailed, match="not a configured upstream host") as caught:
            await get(routing, url)
    assert recorder.seen == []
    message = str(caught.value)
    for leaked in ("/v1", "document", "12345678909", "hunter2", "user", "frag"):
        assert leaked not in message


@pytest.mark.parametrize("url", ["https://pdt.test/v1/x", "https://PDT.test:443/v1/x"])
async def test_a_configured_origin_reaches_its_transport(url: str) -> None:
    recorder = Recorder()
    routing = HostRoutingTransport({("https", "pdt.test", None): recorder})
    # Twice: the second goes through the remembered spelling of the origin.
    assert (await get(routing, url)).body == b"recorder"
    assert (await get(routing, url)).body == b"recorder"
    await routing.aclose()
    assert recorder.seen == [url, url]
    assert recorder.closed


async def _ping(request: Request) -> JSONResponse:
    return JSONResponse(
        {"pong": True, "auth": request.headers.get("authorization"), "query": request.url.query},
        headers={"Retry-After": "3"},
    )


async def _echo(request: Request) -> Response:
    return Response(await request.body(), media_type=request.headers.get("content-type"))


async def _crash(request: Request) -> JSONResponse:
    raise RuntimeError("simulator bug")


SIMULATOR = Starlette(
    routes=[Route("/v1/ping", _ping), Route("/v1/crash", _crash), Route("/v1/echo", _echo, methods=["POST"])]
)


async def test_the_simulator_origin_is_served_in_process_and_real_hosts_are_not() -> None:
    transport = build_transport(settings_for("simulator", "https://pdt-hml.test"), simulator_app=SIMULATOR)
    answer = await get(transport, f"{SIMULATOR_BASE_URL}/v1/ping?a=1", {"Authorization": "Bearer t"})
    assert (answer.status, answer.content_type, answer.retry_after) == (200, "application/json", "3")
    assert answer.body == b'{"pong":true,"auth":"Bearer t","query":"a=1"}'
    with pytest.raises(ConnectFailed, match="not a configured upstream host"):
        await get(transport, "https://pdt-prd.test/v1/ping")
    await transport.aclose()


async def test_the_simulator_gets_the_body_and_its_answer_is_bounded() -> None:
    transport = build_transport(settings_for("simulator", "simulator"), simulator_app=SIMULATOR)
    body = b"x" * 200
    answer = await transport.send(
        "POST", f"{SIMULATOR_BASE_URL}/v1/echo", {"Content-Type": "text/plain"}, body, LIMITS
    )
    # One byte over the limit, so the caller's size check sees it as oversized.
    assert answer.body == body[: LIMITS.max_body_bytes + 1]
    assert answer.content_type == "text/plain; charset=utf-8"


async def test_a_simulator_crash_looks_like_a_remote_500() -> None:
    transport = build_transport(settings_for("simulator", "simulator"), simulator_app=SIMULATOR)
    assert (await get(transport, f"{SIMULATOR_BASE_URL}/v1/crash")).status == 500


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
    assert (await get(transport, f"{LEGACY_SIMULATOR_BASE_URL}/products/v1/ping")).status == 200
    assert (await get(transport, f"{SIMULATOR_BASE_URL}/v1/ping")).status == 200
    # Each simulator answers only its own origin: the PDT app never sees legacy paths.
    assert (await get(transport, f"{SIMULATOR_BASE_URL}/products/v1/ping")).status == 404
    with pytest.raises(ConnectFailed, match="not a configured upstream host"):
        await get(transport, "https://api.clearsale.com.br/products/v1/ping")


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
    # Both hosts are routed (to the network pool); anything else is refused before I/O.
    with pytest.raises(ConnectFailed, match="not a configured upstream host"):
        await get(transport, "https://elsewhere.test/v1/x")
    assert transport.origins == {
        SIMULATOR_BASE_URL,
        "https://api.legacy.test",
        "https://ffr.bank.test",
    }

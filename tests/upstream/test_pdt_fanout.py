"""request_modules: modules run in parallel, and one failure cancels the rest."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable

import httpx
import pytest
import respx

from proxy.errors import (
    NotFound,
    ProxyError,
    UpstreamMalformed,
    UpstreamRejected,
    UpstreamTimeout,
    UpstreamUnavailable,
)
from proxy.upstream import PdtClient
from proxy.upstream._errors import most_meaningful
from tests.upstream.support import TX, a_call

Handler = Callable[[httpx.Request], Awaitable[httpx.Response]]
ALL = ("scores", "ratings", "insights")


def mock_modules(router: respx.Router, handlers: dict[str, Handler]) -> None:
    for name, handler in handlers.items():
        router.post(f"/v1/transaction/{TX}/{name}").mock(side_effect=handler)


async def test_modules_are_requested_in_parallel(router: respx.Router, pdt: PdtClient) -> None:
    # Each answer waits until all three requests have arrived: requested one after
    # the other, the first would wait forever and the call would hit its deadline.
    everyone_in = asyncio.Barrier(len(ALL))

    def answer(name: str) -> Handler:
        async def handler(request: httpx.Request) -> httpx.Response:
            await everyone_in.wait()
            return httpx.Response(201, json=[{"module": name}])

        return handler

    mock_modules(router, {name: answer(name) for name in ALL})
    result = await pdt.request_modules(a_call(), TX, list(ALL))
    assert result == {name: [{"module": name}] for name in ALL}
    assert router["auth"].call_count == 1


async def test_a_failing_module_cancels_its_siblings(router: respx.Router, pdt: PdtClient) -> None:
    arrived = {name: asyncio.Event() for name in ("ratings", "insights")}
    cancelled: set[str] = set()

    def stuck(name: str) -> Handler:
        async def handler(request: httpx.Request) -> httpx.Response:
            arrived[name].set()
            try:
                await asyncio.Event().wait()
            except asyncio.CancelledError:
                cancelled.add(name)
                raise
            raise AssertionError("unreachable")

        return handler

    async def failing(request: httpx.Request) -> httpx.Response:
        for event in arrived.values():
            await event.wait()
        return httpx.Response(503)

    mock_modules(router, {"scores": failing, "ratings": stuck("ratings"), "insights": stuck("insights")})
    with pytest.raises(UpstreamUnavailable) as caught:
        await pdt.request_modules(a_call(), TX, list(ALL))
    assert caught.value.call == "scores"
    assert cancelled == {"ratings", "insights"}


async def test_failures_together_raise_the_most_meaningful(router: respx.Router, pdt: PdtClient) -> None:
    # Released together, the 503 resumes first; the 404 still lands before the
    # task group cancels anyone, so both failures reach the group.
    together = asyncio.Barrier(2)

    def failing(status: int) -> Handler:
        async def handler(request: httpx.Request) -> httpx.Response:
            await together.wait()
            return httpx.Response(status)

        return handler

    mock_modules(router, {"scores": failing(503), "ratings": failing(404)})
    with pytest.raises(NotFound):
        await pdt.request_modules(a_call(), TX, ["scores", "ratings"])


async def test_repeated_module_names_are_requested_once(router: respx.Router, pdt: PdtClient) -> None:
    route = router.post(f"/v1/transaction/{TX}/scores").mock(return_value=httpx.Response(201, json=[]))
    assert await pdt.request_modules(a_call(), TX, ["scores", "scores"]) == {"scores": []}
    assert route.call_count == 1


async def test_no_modules_is_no_call(router: respx.Router, pdt: PdtClient) -> None:
    assert await pdt.request_modules(a_call(), TX, []) == {}
    assert router.calls.call_count == 0


def _timeout() -> UpstreamTimeout:
    return UpstreamTimeout("t", call="scores")


def _unavailable() -> UpstreamUnavailable:
    return UpstreamUnavailable("u", call="ratings")


def _malformed() -> UpstreamMalformed:
    return UpstreamMalformed("m", call="insights")


def _rejected() -> UpstreamRejected:
    return UpstreamRejected("r", status=400, call="scores")


def _not_found() -> NotFound:
    return NotFound("n")


@pytest.mark.parametrize(
    ("members", "expected"),
    [
        pytest.param([_timeout, _not_found], NotFound, id="not-found-over-timeout"),
        pytest.param([_unavailable, _rejected], UpstreamRejected, id="rejected-over-unavailable"),
        pytest.param([_unavailable, _malformed], UpstreamMalformed, id="malformed-over-unavailable"),
        pytest.param([_timeout, _unavailable], UpstreamUnavailable, id="unavailable-over-timeout"),
        pytest.param([_timeout], UpstreamTimeout, id="single"),
    ],
)
def test_the_most_meaningful_error_wins(
    members: list[Callable[[], ProxyError]], expected: type[ProxyError]
) -> None:
    assert type(most_meaningful(ExceptionGroup("modules", [make() for make in members]))) is expected


def test_a_group_holding_a_foreign_error_is_raised_whole() -> None:
    group = ExceptionGroup("modules", [_timeout(), KeyError("bug")])
    assert most_meaningful(group) is group

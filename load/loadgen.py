"""Load generators for the benchmark: closed loop for throughput, open loop for latency.

Closed loop (N connections, each sends its next request when the previous answer
arrives) finds saturation; it hides queueing, so its latencies are not reported.
Open loop sends at a fixed arrival rate whatever the server does and measures each
request from its *scheduled* start, so a stalled server shows up in p99 instead
of silently slowing the generator down (no coordinated omission).

wrk is used for the closed loop when installed (it costs the shared core far less
than a Python client); the built-in aiohttp generator is the fallback and does
the open loop.
"""

from __future__ import annotations

import asyncio
import re
import shutil
import subprocess
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import aiohttp
import orjson

__all__ = ["ClosedLoopResult", "OpenLoopResult", "closed_loop", "login_then_call", "open_loop", "percentile"]


@dataclass(frozen=True)
class ClosedLoopResult:
    requests: int
    errors: int
    seconds: float
    tool: str

    @property
    def rate(self) -> float:
        return self.requests / self.seconds


@dataclass(frozen=True)
class OpenLoopResult:
    rate: float
    latencies_s: list[float]
    errors: int

    def p(self, q: float) -> float:
        return percentile(self.latencies_s, q)


def percentile(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q / 100 * len(ordered)))]


_WRK_SCRIPT = """
wrk.method = "POST"
wrk.body = [[{body}]]
wrk.headers["Content-Type"] = "application/json"
wrk.headers["Authorization"] = "{authorization}"
done = function(summary, latency, requests)
  local errors = summary.errors.status + summary.errors.connect + summary.errors.read
    + summary.errors.write + summary.errors.timeout
  io.write(string.format("RESULT %d %d %f\\n", summary.requests, errors, summary.duration / 1e6))
end
"""


def _wrk(
    url: str, body: dict[str, object], authorization: str, seconds: float, connections: int
) -> ClosedLoopResult:
    script = _WRK_SCRIPT.format(body=orjson.dumps(body).decode(), authorization=authorization)
    return _run_wrk(url, script, seconds, connections)


def _run_wrk(url: str, script_text: str, seconds: float, connections: int) -> ClosedLoopResult:
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as script:
        script.write(script_text)
    try:
        output = subprocess.run(  # noqa: S603 (wrk with our own arguments)
            ["wrk", "-t1", f"-c{connections}", f"-d{max(1, round(seconds))}s", "-s", script.name, url],  # noqa: S607
            capture_output=True,
            text=True,
            check=True,
            timeout=seconds + 30,
        ).stdout
    finally:
        Path(script.name).unlink()
    match = re.search(r"RESULT (\d+) (\d+) ([\d.]+)", output)
    if match is None:
        raise RuntimeError(f"wrk printed no result: {output}")
    return ClosedLoopResult(int(match[1]), int(match[2]), float(match[3]), "wrk")


async def _aiohttp_closed(
    url: str, body: dict[str, object], authorization: str, seconds: float, connections: int
) -> ClosedLoopResult:
    payload = orjson.dumps(body)
    headers = {"Authorization": authorization, "Content-Type": "application/json"}
    count = errors = 0
    stop = time.perf_counter() + seconds
    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=connections)) as session:

        async def user() -> None:
            nonlocal count, errors
            while time.perf_counter() < stop:
                async with session.post(url, data=payload, headers=headers) as answer:
                    await answer.read()
                    count += 1
                    errors += answer.status >= 400

        started = time.perf_counter()
        await asyncio.gather(*(user() for _ in range(connections)))
        return ClosedLoopResult(count, errors, time.perf_counter() - started, "aiohttp")


def closed_loop(
    url: str, body: dict[str, object], authorization: str, *, seconds: float, connections: int
) -> ClosedLoopResult:
    if shutil.which("wrk"):
        return _wrk(url, body, authorization, seconds, connections)
    return asyncio.run(_aiohttp_closed(url, body, authorization, seconds, connections))


# Requests alternate: a login, then a call with the newest token a login answered.
# wrk's request() is per thread, not per connection, so a call may carry a token
# another connection's login fetched; the work is the same, one login per call.
_WRK_LOGIN_CALL = """
local login_body = [[{login_body}]]
local call_body = [[{call_body}]]
local token = "{token}"
local sent = 0
request = function()
  sent = sent + 1
  if sent % 2 == 1 then
    return wrk.format("POST", "{login_path}", {{["Content-Type"] = "application/json"}}, login_body)
  end
  return wrk.format("POST", "{call_path}",
    {{["Content-Type"] = "application/json", ["Authorization"] = "Bearer " .. token}}, call_body)
end
response = function(status, headers, body)
  local found = body:match('"{token_field}":"([^"]+)"')
  if found then token = found end
end
done = function(summary, latency, requests)
  local errors = summary.errors.status + summary.errors.connect + summary.errors.read
    + summary.errors.write + summary.errors.timeout
  io.write(string.format("RESULT %d %d %f\\n", summary.requests, errors, summary.duration / 1e6))
end
"""


async def _aiohttp_login_call(
    base: str,
    login: tuple[str, dict[str, object], str],
    call: tuple[str, dict[str, object]],
    seconds: float,
    connections: int,
) -> ClosedLoopResult:
    login_path, login_body, token_field = login
    call_path, call_body = call
    login_payload, call_payload = orjson.dumps(login_body), orjson.dumps(call_body)
    json_type = {"Content-Type": "application/json"}
    count = errors = 0
    stop = time.perf_counter() + seconds
    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=connections)) as session:

        async def client() -> None:
            nonlocal count, errors
            while time.perf_counter() < stop:
                async with session.post(base + login_path, data=login_payload, headers=json_type) as answer:
                    token = orjson.loads(await answer.read()).get(token_field, "")
                    errors += answer.status >= 400
                headers = {**json_type, "Authorization": f"Bearer {token}"}
                async with session.post(base + call_path, data=call_payload, headers=headers) as answer:
                    await answer.read()
                    errors += answer.status >= 400
                count += 2

        started = time.perf_counter()
        await asyncio.gather(*(client() for _ in range(connections)))
        return ClosedLoopResult(count, errors, time.perf_counter() - started, "aiohttp")


def login_then_call(
    base: str,
    login: tuple[str, dict[str, object], str],
    call: tuple[str, dict[str, object]],
    *,
    token: str,
    seconds: float,
    connections: int,
) -> ClosedLoopResult:
    """A client that logs in before every call: ``requests`` counts both (half are logins).

    ``login`` is (path, body, the answer's token field), ``call`` (path, body);
    ``token`` is a valid one for wrk's first calls, sent before any login answered.
    """
    if shutil.which("wrk"):
        login_path, login_body, token_field = login
        call_path, call_body = call
        script = _WRK_LOGIN_CALL.format(
            login_body=orjson.dumps(login_body).decode(),
            call_body=orjson.dumps(call_body).decode(),
            login_path=login_path,
            call_path=call_path,
            token=token,
            token_field=token_field,
        )
        return _run_wrk(base + "/", script, seconds, connections)
    return asyncio.run(_aiohttp_login_call(base, login, call, seconds, connections))


async def _open(
    url: str, body: dict[str, object], authorization: str, rate: float, seconds: float
) -> OpenLoopResult:
    payload = orjson.dumps(body)
    headers = {"Authorization": authorization, "Content-Type": "application/json"}
    latencies: list[float] = []
    errors = 0
    total = int(rate * seconds)
    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=512)) as session:

        async def one(scheduled: float) -> None:
            nonlocal errors
            try:
                async with session.post(url, data=payload, headers=headers) as answer:
                    await answer.read()
                    errors += answer.status >= 400
            except aiohttp.ClientError:
                errors += 1
            latencies.append(time.perf_counter() - scheduled)

        start = time.perf_counter() + 0.05
        tasks = []
        for index in range(total):
            scheduled = start + index / rate
            delay = scheduled - time.perf_counter()
            if delay > 0:
                await asyncio.sleep(delay)
            tasks.append(asyncio.create_task(one(scheduled)))
        await asyncio.gather(*tasks)
    return OpenLoopResult(rate, latencies, errors)


def open_loop(
    url: str, body: dict[str, object], authorization: str, *, rate: float, seconds: float
) -> OpenLoopResult:
    return asyncio.run(_open(url, body, authorization, rate, seconds))

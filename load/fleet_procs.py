"""The fleet's processes and services: children in their own process groups, nginx,
a PostgreSQL database made for the run, Redis.

Every child runs in a process group of its own (``start_new_session``), so a
signal reaches what it forked too (nginx's workers), and asks the kernel to kill it
if this script dies without its ``finally`` (``PR_SET_PDEATHSIG``): a fleet run
killed by a test's timeout leaves no replica listening. Only loopback addresses.
"""

from __future__ import annotations

import contextlib
import ctypes
import getpass
import os
import secrets
import shutil
import signal
import socket
import subprocess
import threading
import time
from collections.abc import Collection, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any, Final
from urllib.parse import urlsplit

import httpx
import psycopg
from psycopg import sql
from psycopg.conninfo import conninfo_to_dict, make_conninfo

__all__ = [
    "LOOPBACK",
    "Child",
    "MissingService",
    "Nginx",
    "free_port",
    "nginx_binary",
    "nginx_conf",
    "postgres_database",
    "redis_call",
    "wait_answering",
]

LOOPBACK: Final = "127.0.0.1"
_PR_SET_PDEATHSIG: Final = 1


class MissingService(RuntimeError):
    """nginx, PostgreSQL or Redis is not there: the run cannot say anything."""


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind((LOOPBACK, 0))
        return int(probe.getsockname()[1])


def _die_with_parent() -> None:
    # Runs in the child between fork and exec. The signal fires when the *thread*
    # that forked exits, so children are only ever started from the main thread.
    libc = ctypes.CDLL(None, use_errno=True)
    libc.prctl(_PR_SET_PDEATHSIG, signal.SIGKILL)


@dataclass(eq=False)
class Child:
    """One long-running process of the fleet, restartable with the same argv and env."""

    name: str
    argv: list[str]
    env: Mapping[str, str]
    log: Path
    cwd: Path
    process: subprocess.Popen[bytes] | None = field(default=None, repr=False)

    def start(self) -> None:
        if threading.current_thread() is not threading.main_thread():
            raise RuntimeError("children are started from the main thread (PR_SET_PDEATHSIG)")
        sink: IO[bytes]
        with self.log.open("ab") as sink:
            self.process = subprocess.Popen(  # noqa: S603 (our own interpreter, nginx: fixed argv)
                self.argv,
                env=dict(self.env),
                cwd=self.cwd,
                stdin=subprocess.DEVNULL,
                stdout=sink,
                stderr=subprocess.STDOUT,
                start_new_session=True,
                preexec_fn=_die_with_parent,  # started from the main thread only (see above)
            )

    @property
    def pid(self) -> int:
        if self.process is None:
            raise RuntimeError(f"{self.name} was never started")
        return self.process.pid

    @property
    def running(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def signal(self, signum: int) -> None:
        """To the whole process group; a group already gone is fine."""
        if self.process is not None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.process.pid, signum)

    def wait(self, timeout_s: float) -> int | None:
        if self.process is None:
            return None
        try:
            return self.process.wait(timeout=timeout_s)
        except subprocess.TimeoutExpired:
            return None

    def stop(self, timeout_s: float = 15.0) -> None:
        """SIGTERM, then SIGKILL past ``timeout_s``; the group either way, so no
        grandchild outlives it."""
        if self.process is None:
            return
        if self.process.poll() is None:
            self.signal(signal.SIGTERM)
            if self.wait(timeout_s) is None:
                self.signal(signal.SIGKILL)
                self.process.wait()
        # Workers of a master that already exited still belong to the group.
        self.signal(signal.SIGKILL)

    def tail(self, characters: int = 3000) -> str:
        try:
            return self.log.read_text(errors="replace")[-characters:]
        except OSError:
            return ""


def wait_answering(child: Child, url: str, *, timeout_s: float, want: int | None = 200) -> float:
    """Poll ``url`` until it answers ``want`` (None: any HTTP answer, for a server
    with no health route); the seconds it took. A child that exits meanwhile is an
    error naming its log's end."""
    started = time.monotonic()
    deadline = started + timeout_s
    while True:
        if not child.running:
            raise RuntimeError(f"{child.name} exited:\n{child.tail()}")
        with contextlib.suppress(httpx.TransportError):
            status = httpx.get(url, timeout=1.0).status_code
            if want is None or status == want:
                return time.monotonic() - started
        if time.monotonic() > deadline:
            raise RuntimeError(
                f"{child.name} did not answer {want or 'at all'} on {url} within {timeout_s:.0f} s"
            )
        time.sleep(0.1)


# -- nginx ------------------------------------------------------------------------------------


def nginx_binary() -> str:
    # Debian puts it in /usr/sbin, which a non-root PATH often lacks.
    found = shutil.which("nginx") or next(
        (path for path in ("/usr/sbin/nginx", "/usr/local/sbin/nginx") if os.access(path, os.X_OK)), None
    )
    if found is None:
        raise MissingService("nginx is not installed (.ci/run installs nginx-light)")
    return found


def nginx_conf(
    *,
    prefix: Path,
    listen_port: int,
    upstream_ports: Sequence[int],
    fail_timeout_s: int,
    keepalive: int = 0,
    down: Collection[int] = (),
    user: str | None = None,
) -> str:
    """A self-contained nginx configuration: everything under ``prefix``, loopback only.

    Passive health checks: a replica that refuses a connection or times out is
    skipped (``proxy_next_upstream error timeout``) and left alone for
    ``fail_timeout_s`` after one failure. Non-idempotent requests whose bytes reached
    a replica are never re-sent (nginx's default, kept: a POST may already have
    reached PDT and been billed). ``keepalive`` 0: a connection per request to the
    replicas, so a replica's graceful shutdown never races a request onto a
    connection it is closing; N: up to N idle connections kept per nginx worker.
    ``down``: replicas taken out of rotation (a rolling restart's drain)."""
    if not upstream_ports:
        raise ValueError("an upstream needs at least one replica")
    if set(down) >= set(upstream_ports):
        raise ValueError("at least one replica must stay in rotation")
    servers = "\n".join(
        f"        server {LOOPBACK}:{port} max_fails=1 fail_timeout={fail_timeout_s}s"
        + (" down;" if port in down else ";")
        for port in upstream_ports
    )
    temp = "\n".join(f"    {kind}_temp_path {prefix / 'temp' / kind};" for kind in _TEMP_KINDS)
    pool = f"\n        keepalive {keepalive};" if keepalive else ""
    http11 = (
        '\n            proxy_http_version 1.1;\n            proxy_set_header Connection "";'
        if keepalive
        else ""
    )
    # As root, nginx would run its worker as nobody, who cannot write under our prefix.
    user_line = f"user {user};\n" if user else ""
    return f"""{user_line}daemon off;
worker_processes 1;
pid {prefix / "nginx.pid"};
error_log {prefix / "error.log"} warn;
events {{
    worker_connections 2048;
}}
http {{
    access_log off;
{temp}
    upstream pdt_proxy_fleet {{
{servers}{pool}
    }}
    server {{
        listen {LOOPBACK}:{listen_port};
        location / {{
            proxy_pass http://pdt_proxy_fleet;
            proxy_next_upstream error timeout;
            proxy_next_upstream_tries {len(upstream_ports)};
            proxy_connect_timeout 1s;
            proxy_read_timeout 30s;
            proxy_set_header Host $host;{http11}
        }}
    }}
}}
"""


_TEMP_KINDS: Final = ("client_body", "proxy", "fastcgi", "uwsgi", "scgi")


class Nginx:
    """nginx in front of the replicas: its own prefix, pid and logs; reconfigured in
    place (SIGHUP) to take a replica out of rotation and put it back.

    A master and one worker: only a master reloads a configuration (a single-process
    nginx stopped answering after SIGHUP here). The master dies with the run
    (PR_SET_PDEATHSIG); a worker it leaves when the run is SIGKILLed lingers, so the
    suite stops a run that overstays with SIGTERM, which runs every ``finally``."""

    def __init__(
        self,
        prefix: Path,
        *,
        listen_port: int,
        upstream_ports: Sequence[int],
        keepalive: int,
        env: Mapping[str, str],
        cwd: Path,
    ) -> None:
        self.prefix = prefix
        self.listen_port = listen_port
        self.upstream_ports = list(upstream_ports)
        self.keepalive = keepalive
        for kind in _TEMP_KINDS:
            (prefix / "temp" / kind).mkdir(parents=True, exist_ok=True)
        self.conf = prefix / "nginx.conf"
        self._write(down=())
        # -e: the error log of the start-up itself stays under the prefix too.
        argv = [nginx_binary(), "-p", str(prefix), "-c", str(self.conf), "-e", str(prefix / "error.log")]
        self.child = Child("nginx", argv, env, prefix / "nginx.out", cwd)

    def _write(self, down: Collection[int]) -> None:
        self.conf.write_text(
            nginx_conf(
                prefix=self.prefix,
                listen_port=self.listen_port,
                upstream_ports=self.upstream_ports,
                fail_timeout_s=2,
                keepalive=self.keepalive,
                down=down,
                user=getpass.getuser() if os.geteuid() == 0 else None,
            ),
            encoding="utf-8",
        )

    def _workers(self) -> set[int]:
        children = Path(f"/proc/{self.child.pid}/task/{self.child.pid}/children")
        with contextlib.suppress(OSError):
            return {int(pid) for pid in children.read_text().split()}
        return set()

    def route(self, *, down: Collection[int], timeout_s: float = 10.0) -> None:
        """Send new requests only to the replicas not ``down``; returns once a worker
        with the new configuration runs (the old one finishes its requests and exits)."""
        before = self._workers()
        self._write(down)
        self.child.signal(signal.SIGHUP)
        deadline = time.monotonic() + timeout_s
        while not self._workers() - before:
            if time.monotonic() > deadline or not self.child.running:
                raise RuntimeError(f"nginx did not reload:\n{self.child.tail()}")
            time.sleep(0.05)


# -- PostgreSQL -------------------------------------------------------------------------------


@contextlib.contextmanager
def postgres_database(admin_dsn: str) -> Iterator[str]:
    """A database made for the run (its DSN), dropped afterwards with whatever the
    replicas still hold open on it."""
    host = conninfo_to_dict(admin_dsn).get("host") or LOOPBACK
    if str(host) not in (LOOPBACK, "localhost", "::1"):
        raise MissingService(f"PostgreSQL must be on loopback for a fleet run, not {host}")
    name = f"{DATABASE_PREFIX}{int(time.time())}_{secrets.token_hex(4)}"
    try:
        with psycopg.connect(admin_dsn, autocommit=True, connect_timeout=5) as admin:
            _drop_abandoned(admin, time.time())
            admin.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    except psycopg.OperationalError as error:
        raise MissingService(f"PostgreSQL is not reachable ({admin_dsn}): {error}") from None
    try:
        yield make_conninfo(admin_dsn, dbname=name)
    finally:
        with psycopg.connect(admin_dsn, autocommit=True, connect_timeout=5) as admin:
            admin.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))


DATABASE_PREFIX: Final = "pdt_fleet_"
# Older than any run, and nobody connected: a run killed before its ``finally``.
_ABANDONED_AFTER_S: Final = 3600


def abandoned(names: Sequence[str], busy: Sequence[str], now: float) -> list[str]:
    """Run databases a SIGKILLed run left behind: named by their creation time, old
    enough that no run can still use them, and with no backend connected."""
    found = []
    for name in names:
        stamp = name.removeprefix(DATABASE_PREFIX).split("_", 1)[0]
        old = stamp.isdigit() and now - int(stamp) > _ABANDONED_AFTER_S
        if name.startswith(DATABASE_PREFIX) and old and name not in busy:
            found.append(name)
    return found


def _drop_abandoned(admin: psycopg.Connection[Any], now: float) -> None:
    like = DATABASE_PREFIX.replace("_", r"\_") + "%"
    names = [
        row[0] for row in admin.execute("SELECT datname FROM pg_database WHERE datname LIKE %s", (like,))
    ]
    busy = [
        row[0]
        for row in admin.execute("SELECT DISTINCT datname FROM pg_stat_activity WHERE datname IS NOT NULL")
    ]
    for name in abandoned(names, busy, now):
        # Without FORCE: a database someone connected to meanwhile stays.
        with contextlib.suppress(psycopg.Error):
            admin.execute(sql.SQL("DROP DATABASE IF EXISTS {}").format(sql.Identifier(name)))


# -- Redis --------------------------------------------------------------------------------------


def _read_reply(stream: IO[bytes]) -> bytes | int:
    line = stream.readline()
    if not line.endswith(b"\r\n"):
        raise ConnectionError("Redis closed the connection")
    kind, rest = line[:1], line[1:-2]
    if kind == b"+":
        return rest
    if kind == b":":
        return int(rest)
    if kind == b"$":
        length = int(rest)
        return b"" if length < 0 else stream.read(length + 2)[:-2]
    raise ConnectionError(f"Redis answered {line[:80]!r}")


def redis_call(url: str, *words: str) -> bytes | int:
    """One Redis command over RESP (PING, INFO): enough to check the server and read
    its counters without a client library the proxy itself may not need."""
    parts = urlsplit(url)
    host, port = parts.hostname or LOOPBACK, parts.port or 6379
    if host not in (LOOPBACK, "localhost", "::1"):
        raise MissingService(f"Redis must be on loopback for a fleet run, not {host}")
    command = b"*%d\r\n" % len(words) + b"".join(b"$%d\r\n%s\r\n" % (len(w), w.encode()) for w in words)
    try:
        with socket.create_connection((host, port), timeout=3) as connection:
            connection.sendall(command)
            with connection.makefile("rb") as stream:
                return _read_reply(stream)
    except OSError as error:
        raise MissingService(f"Redis is not reachable at {host}:{port}: {error}") from None

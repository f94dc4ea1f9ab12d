"""deploy/compose: the services, their wiring and their secrets read from the file, and
nginx's configuration checked by nginx itself (no Docker daemon here)."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.deploy.support import DEPLOY

COMPOSE_DIR = DEPLOY / "compose"
COMPOSE: dict[str, Any] = yaml.safe_load((COMPOSE_DIR / "compose.yaml").read_text(encoding="utf-8"))
SERVICES: dict[str, Any] = COMPOSE["services"]
NGINX_CONF = (COMPOSE_DIR / "nginx.conf").read_text(encoding="utf-8")
# The directives alone, comments dropped.
NGINX_DIRECTIVES = "\n".join(line.split("#", 1)[0] for line in NGINX_CONF.splitlines())
REPLICAS = ["proxy-1", "proxy-2", "proxy-3"]
SECRET_LIKE = re.compile(r"KEY|TOKEN|PASSWORD|SECRET")
# ${NAME:?message}: compose refuses to start while NAME is unset or empty.
REQUIRED = re.compile(r"\$\{(?P<name>[A-Z0-9_]+):\?[^}]*\}")
INTERPOLATED = re.compile(r"^\$\{[A-Z0-9_]+(?::?[-?][^}]*)?\}$")


def _environment(service: str) -> dict[str, str]:
    environment: dict[str, str] = SERVICES[service]["environment"]
    return environment


def test_the_services() -> None:
    assert set(SERVICES) == {"postgres", "redis", "migrate", "nginx", *REPLICAS}


@pytest.mark.parametrize("replica", REPLICAS)
def test_each_replica_shares_the_database_redis_and_keys(replica: str) -> None:
    service = SERVICES[replica]
    environment = _environment(replica)
    assert service["command"][:2] == ["pdt-proxy", "serve"]
    assert "--workers" not in service["command"]
    assert "@postgres:5432/" in environment["PROXY_DATABASE_DSN"]
    assert environment["PROXY_REDIS_URL"].startswith("redis://redis:6379")
    assert environment["PROXY_DATABASE_AUTO_MIGRATE"] == "false"
    # The same keys everywhere, and no start without them.
    for name in ("PROXY_TOKEN_KEY", "PROXY_CANARY_KEY"):
        assert REQUIRED.fullmatch(environment[name]), name
        assert {_environment(other)[name] for other in REPLICAS} == {environment[name]}
    assert service["depends_on"]["migrate"]["condition"] == "service_completed_successfully"
    assert service["read_only"] is True
    assert {"/tmp", "/var/lib/pdt-proxy"} <= set(service["tmpfs"])  # noqa: S108 (paths in the container)
    assert "healthcheck" not in service or service["healthcheck"].get("disable") is not True


def test_migrate_runs_once_against_the_same_database_before_the_replicas() -> None:
    migrate = SERVICES["migrate"]
    assert migrate["command"] == ["pdt-proxy", "migrate"]
    assert migrate["restart"] == "no"
    assert migrate["depends_on"]["postgres"]["condition"] == "service_healthy"
    assert _environment("migrate")["PROXY_DATABASE_DSN"] == _environment("proxy-1")["PROXY_DATABASE_DSN"]


def test_no_secret_is_written_in_the_file() -> None:
    for name, service in SERVICES.items():
        for variable, value in (service.get("environment") or {}).items():
            if SECRET_LIKE.search(variable):
                assert INTERPOLATED.match(str(value)), f"{name}: {variable}"
        dsn = (service.get("environment") or {}).get("PROXY_DATABASE_DSN")
        if dsn:
            password = re.search(r"://[^:]+:(?P<password>[^@]+)@", dsn)
            assert password is not None
            assert REQUIRED.fullmatch(password["password"]), name


def test_the_example_env_file_names_every_required_variable() -> None:
    required = set(REQUIRED.findall((COMPOSE_DIR / "compose.yaml").read_text(encoding="utf-8")))
    example = (COMPOSE_DIR / ".env.example").read_text(encoding="utf-8")
    offered = {line.split("=", 1)[0] for line in example.splitlines() if re.match(r"^[A-Z0-9_]+=", line)}
    assert required
    assert required <= offered
    # An example, never a real key: every value is left empty.
    assert all(line.endswith("=") for line in example.splitlines() if re.match(r"^[A-Z0-9_]+=", line))


def test_nginx_balances_every_replica_and_nothing_else() -> None:
    upstreams = re.findall(r"^\s*server\s+([\w.-]+):(\d+)", NGINX_CONF, re.MULTILINE)
    assert sorted(upstreams) == [(replica, "8080") for replica in REPLICAS]
    nginx = SERVICES["nginx"]
    assert "./nginx.conf:/etc/nginx/nginx.conf:ro" in nginx["volumes"]
    assert set(nginx["depends_on"]) == set(REPLICAS)
    listen = re.search(r"^\s*listen\s+(\d+);", NGINX_CONF, re.MULTILINE)
    assert listen is not None
    assert any(port.endswith(f":{listen[1]}") for port in nginx["ports"])
    # A POST that reached a replica is never sent to another: no duplicate transactions.
    next_upstream = re.findall(r"proxy_next_upstream\s+([^;]*);", NGINX_DIRECTIVES)
    assert next_upstream
    assert all("non_idempotent" not in line for line in next_upstream)
    # Access lines carry the path without the query string.
    assert "$uri" in NGINX_DIRECTIVES
    assert "$request_uri" not in NGINX_DIRECTIVES
    assert not re.search(r"\$request\b(?!_)", NGINX_DIRECTIVES)
    assert "$args" not in NGINX_DIRECTIVES


def _nginx() -> str | None:
    return shutil.which("nginx") or shutil.which("nginx", path="/usr/sbin:/usr/local/sbin")


@pytest.mark.skipif(_nginx() is None, reason="nginx is not installed (.ci/run installs it)")
def test_nginx_accepts_its_configuration(tmp_path: Path) -> None:
    # The replicas' names resolve only inside compose's network: loopback ports stand in.
    local = re.sub(r"server proxy-(\d):8080", r"server 127.0.0.1:1808\1", NGINX_CONF)
    config = tmp_path / "nginx.conf"
    config.write_text(local, encoding="utf-8")
    nginx = _nginx()
    assert nginx is not None
    checked = subprocess.run(  # noqa: S603 (nginx checking a file of this repository)
        [nginx, "-t", "-p", str(tmp_path), "-c", str(config), "-e", "/dev/stderr"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert checked.returncode == 0, checked.stderr


@pytest.mark.skipif(_nginx() is None, reason="nginx is not installed (.ci/run installs it)")
def test_nginx_check_is_live(tmp_path: Path) -> None:
    config = tmp_path / "nginx.conf"
    config.write_text(NGINX_CONF.replace("least_conn;", "least_conn"), encoding="utf-8")
    nginx = _nginx()
    assert nginx is not None
    checked = subprocess.run(  # noqa: S603 (nginx checking a file this test wrote)
        [nginx, "-t", "-p", str(tmp_path), "-c", str(config), "-e", "/dev/stderr"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert checked.returncode != 0

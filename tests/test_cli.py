"""The command line as a newcomer uses it: real processes on loopback ports."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest

from proxy.cli import main


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@contextmanager
def _running(
    args: list[str], env: dict[str, str], ready_url: str, log: Path
) -> Iterator[subprocess.Popen[bytes]]:
    with log.open("wb") as output:
        process = subprocess.Popen(  # noqa: S603 (this interpreter running our own CLI)
            [sys.executable, "-m", "proxy.cli", *args], env=env, stdout=output, stderr=subprocess.STDOUT
        )
    try:
        deadline = time.monotonic() + 30
        while True:
            assert process.poll() is None, log.read_text()
            try:
                if httpx.get(ready_url, timeout=1).status_code < 500:
                    break
            except httpx.TransportError:
                pass
            assert time.monotonic() < deadline, "server never became ready"
            time.sleep(0.1)
        yield process
    finally:
        process.terminate()
        process.wait(timeout=15)


def test_serve_answers_the_documented_example_on_embedded_defaults(tmp_path: Path) -> None:
    port = _free_port()
    env = {**os.environ, "PROXY_DATA_DIR": str(tmp_path / "data")}
    base = f"http://127.0.0.1:{port}"
    log = tmp_path / "serve.log"
    with _running(["serve", "--port", str(port)], env, f"{base}/healthz", log) as process:
        token = httpx.post(
            f"{base}/products/v1/authentication", json={"Username": "demo-dt", "Password": "demo-dt-secret"}
        ).json()["token"]
        answer = httpx.post(
            f"{base}/products/v1/datatrust",
            json={"Document": "123.456.789-09", "Email": "maria@example.com"},
            headers={"Authorization": f"Bearer {token}"},
        )
        assert answer.status_code == 200
        assert list(answer.json()) == [
            "transactionId",
            "identifierId",
            "createdAt",
            "score",
            "ratings",
            "insights",
        ]
        metrics = httpx.get(f"{base}/metrics", headers={"Authorization": "Bearer demo-admin-token"}).text
        assert "pdt_proxy_requests_total{" in metrics
    logged = log.read_text()
    # uvicorn drains, shuts the app down, then re-raises SIGTERM to exit with it.
    assert process.returncode in (0, -15), logged
    assert "Application shutdown complete" in logged
    assert "Traceback" not in logged
    assert '"event": "access"' in logged or '"event":"access"' in logged
    # Nothing personal reached the logs, whatever the masking found to do.
    assert "123.456.789-09" not in logged
    assert "12345678909" not in logged
    assert "maria@example.com" not in logged
    assert token not in logged


def test_simulate_pdt_serves_the_pdt_api(tmp_path: Path) -> None:
    port = _free_port()
    base = f"http://127.0.0.1:{port}"
    env = {**os.environ, "PROXY_DATA_DIR": str(tmp_path / "data")}
    log = tmp_path / "simulator.log"
    with _running(["simulate", "pdt", "--port", str(port)], env, f"{base}/v1/transaction/none", log):
        login = httpx.post(
            f"{base}/v1/authentication",
            json={"Username": "demo-dt-pdt-prd", "Password": "demo-dt-pdt-prd-secret"},
        )
        assert login.status_code == 200
        assert login.json()["expiresInSeconds"] == 7200


def test_serve_refuses_to_start_on_a_broken_mapping(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    # serve exports PROXY_CONFIG for its workers; the monkeypatch puts the variable
    # back as it was, so later tests do not load this broken configuration.
    monkeypatch.setenv("PROXY_CONFIG", "")
    mappings = tmp_path / "mappings"
    source = Path(__file__).resolve().parent.parent / "mappings"
    subprocess.run(["cp", "-r", str(source), str(mappings)], check=True)  # noqa: S603, S607
    operation = mappings / "datatrust-v1" / "operations" / "transaction-create.yaml"
    operation.write_text(
        operation.read_text().replace("from: Document\n", "from: Documento\n"), encoding="utf-8"
    )
    config = tmp_path / "proxy.yaml"
    config.write_text(f"mappings_dir: {mappings}\ndata_dir: {tmp_path / 'data'}\n", encoding="utf-8")
    assert main(["--config", str(config), "serve", "--port", str(_free_port())]) == 1
    error = capsys.readouterr().err
    assert "datatrust-v1/operations/transaction-create.yaml" in error
    assert "rule 'dt.req.document'" in error
    assert "has no field 'Documento'" in error


def test_hash_password_reads_standard_input(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    import io

    monkeypatch.setattr(sys, "stdin", io.StringIO("s3cret\n"))
    assert main(["hash-password"]) == 0
    assert capsys.readouterr().out.startswith("$argon2id$")


def test_backtest_command_writes_the_report_and_the_page(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    import asyncio

    import orjson

    from proxy.cli import main
    from tests.admin.test_tenant_routes import ADMIN, dt_headers, person, proxy_app
    from tests.conftest import make_settings

    async def shadow_traffic() -> None:
        async with proxy_app(make_settings(tmp_path)) as (client, runtime):
            await client.put("/admin/tenants/demo-dt/stage", json={"stage": "shadow"}, headers=ADMIN)
            headers = await dt_headers(client)
            for n in range(3):
                await client.post("/products/v1/datatrust", json=person(n), headers=headers)
            assert runtime.shadow is not None
            await runtime.shadow.drain(10.0)

    # The command runs its own event loop, as it does from a shell.
    asyncio.run(shadow_traffic())
    monkeypatch.setenv("PROXY_DATA_DIR", str(tmp_path / "data"))
    page, report = tmp_path / "backtest.html", tmp_path / "backtest.json"
    code = main(["backtest", "demo-dt", "--html", str(page), "--json", str(report)])
    # Written, and "not ready": exit 3, so a script or a pipeline can act on the verdict.
    assert code == 3, capsys.readouterr().err
    assert orjson.loads(report.read_bytes())["samples"] == 3
    # The bank's copy by default: Portuguese, titled with the tenant's name, no rule ids.
    bank = page.read_text(encoding="utf-8")
    assert "Backtest da migração para a PDT: Demo Data Trust v1 client" in bank
    assert "Ainda não está pronto para a virada" in bank
    assert "dt.resp." not in bank
    internal = tmp_path / "internal.html"
    assert main(["backtest", "demo-dt", "--html", str(internal), "--internal", "--lang", "en"]) == 3
    assert "Not ready for cut-over yet" in internal.read_text(encoding="utf-8")
    assert "Agreement per field" in internal.read_text(encoding="utf-8")
    err = capsys.readouterr().err
    assert "demo-dt: 3 samples over 0 h and 1 days, not ready" in err
    assert main(["backtest", "demo-dt", "--from", "last week"]) == 2
    assert "--from: not an ISO-8601" in capsys.readouterr().err


def test_backtest_never_creates_a_database(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    data = tmp_path / "data"
    monkeypatch.setenv("PROXY_DATA_DIR", str(data))
    assert main(["backtest", "demo-dt"]) == 1
    assert "no database at" in capsys.readouterr().err
    assert not data.exists()


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        pytest.param(["backtest", "nobody"], "unknown tenant 'nobody'", id="unknown tenant"),
        pytest.param(
            ["backtest", "demo-dt", "--days", "-3"], "--days: a window of at least one day", id="days"
        ),
        pytest.param(
            ["backtest", "demo-dt", "--days", "0"], "--days: a window of at least one day", id="zero"
        ),
        pytest.param(
            ["backtest", "demo-dt", "--from", "2026-12-02", "--to", "2026-12-01"],
            "--from must be before --to",
            id="window backwards",
        ),
    ],
)
def test_backtest_refuses_bad_requests_with_exit_2(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    argv: list[str],
    message: str,
) -> None:
    monkeypatch.setenv("PROXY_DATA_DIR", str(tmp_path / "data"))
    assert main(argv) == 2
    assert message in capsys.readouterr().err


@pytest.mark.parametrize(
    "argv",
    [
        pytest.param(["--config", "{config}", "lint"], id="before the command"),
        pytest.param(["lint", "--config", "{config}"], id="after the command"),
        pytest.param(["--config", "/nonexistent.yaml", "lint", "--config", "{config}"], id="after wins"),
        pytest.param(["ledger", "export", "--config", "{config}", "--month", "2026-12"], id="nested command"),
    ],
)
def test_config_is_accepted_before_or_after_the_command(tmp_path: Path, argv: list[str]) -> None:
    from proxy.cli import _parser

    config = str(tmp_path / "proxy.yaml")
    args = _parser().parse_args([part.replace("{config}", config) for part in argv])
    assert args.config == config


def test_version(capsys: pytest.CaptureFixture[str]) -> None:
    from importlib.metadata import version

    with pytest.raises(SystemExit) as stopped:
        main(["--version"])
    assert stopped.value.code == 0
    assert capsys.readouterr().out.strip() == f"pdt-proxy {version('pdt-proxy')}"


@pytest.mark.parametrize(
    ("command", "variables"),
    [
        pytest.param(["serve"], ["PROXY_CONFIG", "PROXY_HOST", "PROXY_PORT", "PROXY_WORKERS"], id="serve"),
        pytest.param(["lint"], ["PROXY_CONFIG", "PROXY_MAPPINGS_DIR"], id="lint"),
        pytest.param(["backtest"], ["PROXY_CONFIG"], id="backtest"),
    ],
)
def test_help_names_the_environment_variable_of_each_option(
    capsys: pytest.CaptureFixture[str], command: list[str], variables: list[str]
) -> None:
    with pytest.raises(SystemExit):
        main([*command, "--help"])
    shown = " ".join(capsys.readouterr().out.split())
    for variable in variables:
        assert variable in shown


def test_environment_sets_the_listener() -> None:
    from proxy.config import load_settings

    server = load_settings(
        environ={"PROXY_HOST": "127.0.0.2", "PROXY_PORT": "9000", "PROXY_WORKERS": "3"}
    ).server
    assert (server.host, server.port, server.workers) == ("127.0.0.2", 9000, 3)


@pytest.mark.parametrize("workers", [1, 2])
def test_serve_with_an_admin_port_listens_twice(tmp_path: Path, workers: int) -> None:
    port, admin_port = _free_port(), _free_port()
    env = {**os.environ, "PROXY_DATA_DIR": str(tmp_path / "data")}
    env.pop("PROXY_CONFIG", None)
    public, admin = f"http://127.0.0.1:{port}", f"http://127.0.0.1:{admin_port}"
    args = ["serve", "--port", str(port), "--admin-port", str(admin_port), "--workers", str(workers)]
    with _running(args, env, f"{admin}/readyz", tmp_path / "serve.log"):
        assert httpx.get(f"{admin}/metrics").status_code == 200
        assert httpx.get(f"{public}/metrics").status_code == 404
        assert (
            httpx.get(
                f"{public}/admin/tenants", headers={"Authorization": "Bearer demo-admin-token"}
            ).status_code
            == 404
        )
        login = httpx.post(
            f"{public}/products/v1/authentication", json={"Username": "demo-dt", "Password": "demo-dt-secret"}
        )
        assert login.status_code == 200
        assert httpx.post(f"{admin}/products/v1/authentication", json={}).status_code == 404

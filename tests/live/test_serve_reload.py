"""A real ``pdt-proxy serve``: SIGHUP (and --watch) reload the set instead of ending it."""

from __future__ import annotations

import os
import signal
import time
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.live.support import ADMIN, clone_tenant, editable_settings
from tests.test_cli import _free_port, _running


def _config(base: str) -> dict[str, Any]:
    answer = httpx.get(f"{base}/admin/config", headers=ADMIN, timeout=5)
    assert answer.status_code == 200
    body: dict[str, Any] = answer.json()
    return body


def _wait_for_version_other_than(base: str, version: str) -> dict[str, Any]:
    deadline = time.monotonic() + 30
    while True:
        body = _config(base)
        # The swap lands before the reload's record: wait for both.
        if body["version"] != version and body["last_reload"] is not None:
            return body
        assert time.monotonic() < deadline, "the set was never reloaded"
        time.sleep(0.1)


@pytest.mark.parametrize("how", ["sighup", "watch"])
def test_a_running_serve_reloads_on_sighup_or_a_watched_change(tmp_path: Path, how: str) -> None:
    settings = editable_settings(tmp_path)
    assert settings.tenants_file is not None
    port = _free_port()
    env = {
        **os.environ,
        "PROXY_DATA_DIR": str(tmp_path / "data"),
        "PROXY_MAPPINGS_DIR": str(settings.mappings_dir),
        "PROXY_TENANTS_FILE": str(settings.tenants_file),
    }
    base = f"http://127.0.0.1:{port}"
    args = ["serve", "--port", str(port), *(["--watch"] if how == "watch" else [])]
    log = tmp_path / "serve.log"
    with _running(args, env, f"{base}/healthz", log) as process:
        before = _config(base)["version"]
        clone_tenant(settings, "demo-dt", "demo-dt2")
        if how == "sighup":
            process.send_signal(signal.SIGHUP)
        after = _wait_for_version_other_than(base, before)
        assert process.poll() is None, log.read_text()
        login = httpx.post(
            f"{base}/products/v1/authentication", json={"Username": "demo-dt2", "Password": "demo-dt-secret"}
        )
        assert login.status_code == 200
    assert after["last_reload"]["trigger"] == ("signal" if how == "sighup" else "watch")
    assert after["last_reload"]["outcome"] == "ok"
    assert "Traceback" not in log.read_text()

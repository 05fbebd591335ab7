"""The real servers over TCP: `readerpass serve` (gunicorn) and `readerpass demo`."""

from __future__ import annotations

import json
import os
import re
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from idp.config_file import render_config

ROOT = Path(__file__).resolve().parents[2]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def http(url: str, token: str | None = None) -> tuple[int, Any]:
    request = urllib.request.Request(url)
    if token:
        request.add_header("Authorization", f"Bearer {token}")
    try:
        with urllib.request.urlopen(request, timeout=5) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as exc:
        return exc.code, json.loads(exc.read())


def wait_for(url: str, process: subprocess.Popen[str], seconds: float = 60) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise AssertionError(f"server exited with {process.returncode}")
        try:
            urllib.request.urlopen(url, timeout=1).close()
            return
        except urllib.error.HTTPError:
            return
        except OSError:
            time.sleep(0.2)  # polling a starting process, not timing the code under test
    raise AssertionError(f"{url} did not answer in {seconds} s")


@contextmanager
def running(args: list[str], cwd: Path, env: dict[str, str]) -> Iterator[subprocess.Popen[str]]:
    process = subprocess.Popen(
        [sys.executable, "-m", "idp", *args], cwd=cwd, text=True,
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
        env={**os.environ, "PYTHONPATH": str(ROOT), **env}, start_new_session=True,
    )
    try:
        yield process
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()
        if process.stdout:
            process.stdout.close()


def test_serve_runs_gunicorn_and_refuses_an_unmigrated_database(database_url: str,
                                                                 tmp_path: Path):
    config = tmp_path / "readerpass.toml"
    config.write_text(render_config(province_code="TEST", province_name="T",
                                    database_url=database_url), encoding="utf-8")
    env = {"READERPASS_CONFIG": str(config)}
    port = free_port()
    from idp import migrate
    from idp.db import make_engine

    engine = make_engine(database_url)
    migrate.downgrade(engine, "base")
    engine.dispose()
    refused = subprocess.run(
        [sys.executable, "-m", "idp", "serve", "--bind", f"127.0.0.1:{port}"], cwd=tmp_path,
        env={**os.environ, "PYTHONPATH": str(ROOT), **env}, capture_output=True, text=True,
        timeout=60,
    )
    assert refused.returncode == 1 and "readerpass db upgrade" in refused.stderr

    engine = make_engine(database_url)
    migrate.upgrade(engine)
    engine.dispose()
    with running(["serve", "--bind", f"127.0.0.1:{port}", "--workers", "2"], tmp_path, env) as p:
        wait_for(f"http://127.0.0.1:{port}/healthz", p)
        status, body = http(f"http://127.0.0.1:{port}/healthz")
        assert status == 200 and body["database"] == "ok"
        status, body = http(f"http://127.0.0.1:{port}/api/readers")
        assert status == 401 and body["code"] == "unauthorized"


def test_demo_serves_a_ready_province(tmp_path: Path):
    port = free_port()
    with running(["demo", "--port", str(port), "--readers", "12"], tmp_path, {}) as process:
        wait_for(f"http://127.0.0.1:{port}/healthz", process)
        assert process.stdout is not None
        printed = ""
        while "demo reader" not in printed:
            printed += process.stdout.readline()
        token = re.search(r"admin token\s+(\S+)", printed)
        card = re.search(r"demo reader\s+card (\d{13})", printed)
        assert token and card, printed
        status, body = http(f"http://127.0.0.1:{port}/api/readers?limit=500", token.group(1))
        assert status == 200 and len(body["items"]) == 15  # 12 adults and 3 children
        assert {r["home_library"] for r in body["items"]} == {"PROV", "CITY", "UNIV"}
        status, reader = http(f"http://127.0.0.1:{port}/api/readers/{card.group(1)}",
                              token.group(1))
        assert status == 200 and reader["card_number"] == card.group(1)
        assert sum(1 for r in body["items"] if r["guardian_id"]) == 3
        status, jwks = http(f"http://127.0.0.1:{port}/oauth/jwks")
        assert status == 200 and len(jwks["keys"]) == 2  # the signing key and the next one
        status, cards = http(f"http://127.0.0.1:{port}/.well-known/reader-card-configuration")
        assert status == 200 and cards["issuer"] == f"http://127.0.0.1:{port}"
    # A second run reuses the instance and issues a fresh admin token.
    again = subprocess.run(
        [sys.executable, "-m", "idp", "demo", "--no-serve"], cwd=tmp_path, text=True,
        capture_output=True, timeout=120, env={**os.environ, "PYTHONPATH": str(ROOT)},
    )
    assert again.returncode == 0 and "(reused)" in again.stdout
    assert token.group(1) not in again.stdout

"""Benchmark of the OpenID Connect provider under ``readerpass serve`` (gunicorn)
on PostgreSQL, driven by ``wrk``; complete logins by a Python driver.

Not a test. Run ``python bench/oidc.py`` (PostgreSQL from
``READERPASS_TEST_POSTGRES_URL``; ``--help`` for options). It creates a scratch
database, serves it, prints req/s and p50/p99 per endpoint and the machine, and
drops the database. wrk and the server share the machine's cores.
"""

from __future__ import annotations

import argparse
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

_ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(_ROOT))

import requests  # noqa: E402
from sqlalchemy import create_engine, text  # noqa: E402
from sqlalchemy.engine import make_url  # noqa: E402

from bench.oidc_setup import Fixture, prepare  # noqa: E402

LUA = """wrk.method = "{method}"
wrk.body = "{body}"
wrk.headers["Content-Type"] = "application/x-www-form-urlencoded"
{headers}
"""


def cpu_model() -> str:
    for line in Path("/proc/cpuinfo").read_text().splitlines():
        if line.startswith("model name"):
            return line.split(":", 1)[1].strip()
    return platform.processor() or platform.machine()


def _ms(value: str) -> float:
    for unit, factor in (("us", 0.001), ("ms", 1.0), ("s", 1000.0)):
        if value.endswith(unit):
            return float(value[: -len(unit)]) * factor
    raise ValueError(value)


def run_wrk(url: str, *, seconds: int, connections: int, threads: int, method: str = "GET",
            body: str = "", headers: dict[str, str] | None = None) -> tuple[float, float, float]:
    """req/s, p50 ms, p99 ms of one wrk run (non-2xx answers abort the benchmark)."""
    lines = "\n".join(f'wrk.headers["{k}"] = "{v}"' for k, v in (headers or {}).items())
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as script:
        script.write(LUA.format(method=method, body=body, headers=lines))
    out = subprocess.run(["wrk", f"-t{threads}", f"-c{connections}", f"-d{seconds}s",
                          "--latency", "-s", script.name, url],
                         capture_output=True, text=True, check=True).stdout
    os.unlink(script.name)
    if "Non-2xx" in out:
        raise SystemExit(f"errors from {url}:\n{out}")
    rate = float(next(line.split()[1] for line in out.splitlines()
                      if line.startswith("Requests/sec")))
    percent = {line.split()[0]: _ms(line.split()[1]) for line in out.splitlines()
               if line.strip().startswith(("50%", "99%"))}
    return rate, percent["50%"], percent["99%"]


def login_once(base: str, fx: Fixture) -> None:
    """One complete authorization-code login of a fresh browser: sign-in page,
    password, authorization (consent remembered), code exchange."""
    http = requests.Session()
    params = {"response_type": "code", "client_id": fx.web_id, "redirect_uri": fx.redirect,
              "scope": "openid profile", "state": "s", "code_challenge": fx.challenge,
              "code_challenge_method": "S256"}
    page = http.get(f"{base}/login", timeout=30).text
    marker = 'name="csrf_token" value="'
    csrf = page.split(marker, 1)[1].split('"', 1)[0]
    next_url = "/oauth/authorize?" + urlencode(params)
    signed = http.post(f"{base}/login", allow_redirects=False, timeout=30, data={
        "csrf_token": csrf, "identifier": fx.card_number, "password": fx.password,
        "next": next_url})
    assert signed.status_code == 302, signed.text
    back = http.get(base + signed.headers["Location"], allow_redirects=False, timeout=30)
    if back.status_code == 200:  # the first login asks for consent
        csrf = back.text.split(marker, 1)[1].split('"', 1)[0]
        back = http.post(back.url, data={"csrf_token": csrf, "decision": "allow"},
                         allow_redirects=False, timeout=30)
    code = parse_qs(urlsplit(back.headers["Location"]).query)["code"][0]
    tokens = requests.post(f"{base}/oauth/token", auth=(fx.web_id, fx.web_secret), timeout=30,
                           data={"grant_type": "authorization_code", "code": code,
                                 "redirect_uri": fx.redirect, "code_verifier": fx.verifier})
    assert tokens.status_code == 200, tokens.text


def run_logins(base: str, fx: Fixture, *, seconds: int, workers: int) -> tuple[float, float, float]:
    latencies: list[float] = []
    stop = time.perf_counter() + seconds
    lock = threading.Lock()

    def loop() -> None:
        while time.perf_counter() < stop:
            start = time.perf_counter()
            login_once(base, fx)
            with lock:
                latencies.append((time.perf_counter() - start) * 1000)

    started = time.perf_counter()
    pool = [threading.Thread(target=loop) for _ in range(workers)]
    for thread in pool:
        thread.start()
    for thread in pool:
        thread.join()
    elapsed = time.perf_counter() - started
    cuts = statistics.quantiles(latencies, n=100)
    return len(latencies) / elapsed, cuts[49], cuts[98]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--postgres-url", default=os.environ.get("READERPASS_TEST_POSTGRES_URL"))
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 2)
    parser.add_argument("--threads", type=int, default=4)
    parser.add_argument("--seconds", type=int, default=10)
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--port", type=int, default=8791)
    args = parser.parse_args()
    if shutil.which("wrk") is None:
        raise SystemExit("wrk is not installed: `apt-get install wrk` (Debian), then run again")
    if not args.postgres_url:
        raise SystemExit("give --postgres-url or set READERPASS_TEST_POSTGRES_URL")
    name = f"rp_bench_{uuid.uuid4().hex[:8]}"
    admin = create_engine(args.postgres_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    url = make_url(args.postgres_url).set(database=name).render_as_string(hide_password=False)
    workdir = Path(tempfile.mkdtemp(prefix="rp-bench-"))
    base = f"http://127.0.0.1:{args.port}"
    server = None
    try:
        fx = prepare(workdir, url, base)
        command = [str(Path(sys.executable).with_name("readerpass")), "--config",
                   str(fx.config), "serve", "--bind", f"127.0.0.1:{args.port}",
                   "--workers", str(args.workers), "--threads", str(args.threads),
                   "--no-access-log"]
        server = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                                  env={**os.environ, "PYTHONPATH": str(_ROOT)})
        _wait(base)
        report(base, fx, args)
    finally:
        if server is not None:
            server.terminate()
            server.wait(30)
        shutil.rmtree(workdir, ignore_errors=True)
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def _wait(base: str) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            if requests.get(f"{base}/healthz", timeout=1).status_code == 200:
                return
        except requests.ConnectionError:
            pass
        time.sleep(0.2)  # polling a starting server
    raise SystemExit("the server did not start within 60 s")


def report(base: str, fx: Fixture, args: Any) -> None:
    cc = f"grant_type=client_credentials&scope=reader_card&client_id={fx.backend_id}" \
         f"&client_secret={fx.backend_secret}"
    token = requests.post(f"{base}/oauth/token", data=dict(parse_qs(cc)), timeout=10).json()
    login_once(base, fx)  # the reader's consent, and a warm server
    reader_token = fx.reader_token(base)
    auth = f"client_id={fx.backend_id}&client_secret={fx.backend_secret}"
    cases: list[tuple[str, str, dict[str, Any]]] = [
        ("discovery", "/.well-known/openid-configuration", {}),
        ("jwks", "/oauth/jwks", {}),
        ("client_credentials token", "/oauth/token", {"method": "POST", "body": cc}),
        ("introspection", "/oauth/introspect",
         {"method": "POST", "body": f"token={token['access_token']}&{auth}"}),
        ("userinfo", "/oauth/userinfo",
         {"headers": {"Authorization": f"Bearer {reader_token}"}}),
    ]
    print(f"machine: {cpu_model()}, {os.cpu_count()} cores, {platform.system()} "
          f"{platform.release()}, python {platform.python_version()}")
    print(f"server: readerpass serve, gunicorn gthread, {args.workers} workers x "
          f"{args.threads} threads, PostgreSQL; wrk -t2 -c{args.connections} "
          f"-d{args.seconds}s on the same cores")
    print(f"{'endpoint':28} {'req/s':>9} {'p50 ms':>8} {'p99 ms':>8}")
    for label, path, options in cases:
        rate, p50, p99 = run_wrk(base + path, seconds=args.seconds,
                                 connections=args.connections, threads=2, **options)
        print(f"{label:28} {rate:9.0f} {p50:8.2f} {p99:8.2f}")
    rate, p50, p99 = run_logins(base, fx, seconds=args.seconds, workers=args.workers * 2)
    print(f"{'complete code logins':28} {rate:9.1f} {p50:8.2f} {p99:8.2f}")
    print("logins are bound by Argon2id password hashing ([security] argon2_*), the rest "
          "by Python CPU per request (the server and wrk share the cores)")


if __name__ == "__main__":
    main()

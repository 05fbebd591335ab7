"""Benchmark of the OpenID Connect provider under ``readerpass serve`` (gunicorn)
on PostgreSQL, driven by ``wrk``; complete logins by a Python driver.

Not a test. Run ``python bench/oidc.py`` (PostgreSQL from
``READERPASS_TEST_POSTGRES_URL``; ``--help`` for options). It creates a scratch
database, serves it, prints req/s, p50/p99 and where the CPU went per endpoint,
and the machine, then drops the database. wrk, the server and PostgreSQL share
the machine's cores, so the table says how much of them each took.

``--baseline DIR`` serves a second source tree (e.g. ``git archive REV | tar -x
-C DIR``) on the same database and alternates the two, endpoint by endpoint, so
the ratio holds on a shared machine whose absolute figures drift.
"""

from __future__ import annotations

import argparse
import os
import platform
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from dataclasses import dataclass, field
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


def _cpu_seconds(pid: int) -> float:
    """User + system CPU of a process and its threads."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _children(pid: int) -> list[int]:
    try:
        found = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
    except OSError:
        return []
    return [int(child) for child in found]


def _postgres_pids() -> list[int]:
    pids = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                if (entry / "comm").read_text().strip() in ("postgres", "postmaster"):
                    pids.append(int(entry.name))
            except OSError:
                continue
    return pids


@dataclass
class CpuMeter:
    """CPU taken during a run by the server's workers, wrk, PostgreSQL and
    everything else, as a share of the machine (all cores over the wall time)."""

    server_pid: int
    marks: dict[str, float] = field(default_factory=dict)

    def _read(self) -> dict[str, float]:
        def total(pids: list[int]) -> float:
            seconds = 0.0
            for pid in pids:
                try:
                    seconds += _cpu_seconds(pid)
                except OSError:
                    continue  # a backend that ended meanwhile
            return seconds

        own = resource.getrusage(resource.RUSAGE_CHILDREN)
        ticks = [int(n) for n in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
        busy = sum(ticks) - ticks[3] - ticks[4]  # all but idle and iowait
        return {"server": total([self.server_pid, *_children(self.server_pid)]),
                "postgres": total(_postgres_pids()),
                "wrk": own.ru_utime + own.ru_stime,  # finished children: wrk runs
                "busy": busy / os.sysconf("SC_CLK_TCK"),
                "wall": time.perf_counter()}

    def start(self) -> None:
        self.marks = self._read()

    def shares(self) -> dict[str, float]:
        now = self._read()
        capacity = (now["wall"] - self.marks["wall"]) * (os.cpu_count() or 1)
        shares = {key: 100 * (now[key] - self.marks[key]) / capacity
                  for key in ("server", "wrk", "postgres", "busy")}
        for key in ("postgres", "busy"):  # processes that ended meanwhile took theirs along
            shares[key] = max(0.0, shares[key])
        shares["other"] = max(0.0, shares["busy"] - shares["server"] - shares["wrk"]
                              - shares["postgres"])
        return shares


@dataclass
class Served:
    label: str
    root: Path
    base: str
    process: subprocess.Popen[bytes]
    results: dict[str, list[tuple[float, float, float, dict[str, float]]]] = field(
        default_factory=dict)


def _serve(label: str, root: Path, fx: Fixture, args: Any, port: int) -> Served:
    command = [sys.executable, "-m", "idp", "--config", str(fx.config), "serve",
               "--bind", f"127.0.0.1:{port}", "--workers", str(args.workers),
               "--threads", str(args.threads), "--no-access-log"]
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                               cwd=root, env={**os.environ, "PYTHONPATH": str(root)})
    return Served(label, root, f"http://127.0.0.1:{port}", process)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--postgres-url", default=os.environ.get("READERPASS_TEST_POSTGRES_URL"))
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 2)
    parser.add_argument("--threads", type=int, default=1,
                        help="per worker; 1 = requests on the worker's own thread")
    parser.add_argument("--seconds", type=int, default=10)
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--port", type=int, default=8791)
    parser.add_argument("--rounds", type=int, default=1,
                        help="runs per endpoint (and per tree); the median is shown")
    parser.add_argument("--baseline", type=Path,
                        help="another source tree to serve in turn and compare with")
    parser.add_argument("--only", help="comma-separated endpoint names (default: all)")
    parser.add_argument("--no-logins", action="store_true", help="skip the complete logins")
    args = parser.parse_args()
    if shutil.which("wrk") is None:
        raise SystemExit("wrk is not installed: `apt-get install wrk` (Debian), then run again")
    if not args.postgres_url:
        raise SystemExit("give --postgres-url or set READERPASS_TEST_POSTGRES_URL")
    if args.baseline is not None and not (args.baseline / "idp" / "app.py").is_file():
        raise SystemExit(f"--baseline {args.baseline}: not a source tree (no idp/app.py)")
    name = f"rp_bench_{uuid.uuid4().hex[:8]}"
    admin = create_engine(args.postgres_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    url = make_url(args.postgres_url).set(database=name).render_as_string(hide_password=False)
    workdir = Path(tempfile.mkdtemp(prefix="rp-bench-"))
    servers: list[Served] = []
    try:
        fx = prepare(workdir, url, f"http://127.0.0.1:{args.port}")
        if args.baseline is not None:
            servers.append(_serve("before", args.baseline.resolve(), fx, args, args.port + 1))
        servers.append(_serve("after" if servers else "this tree", _ROOT, fx, args, args.port))
        for served in servers:
            _wait(served.base)
            if served.process.poll() is not None:  # another server answered on the port
                raise SystemExit(f"{served.label}: the server exited; is {served.base} in use?")
        report(servers, fx, args)
    finally:
        for served in servers:
            served.process.terminate()
            served.process.wait(30)
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
        except requests.RequestException:  # not listening yet, or too busy starting
            pass
        time.sleep(0.2)  # polling a starting server
    raise SystemExit("the server did not start within 60 s")


def _cases(base: str, fx: Fixture) -> list[tuple[str, str, dict[str, Any]]]:
    cc = f"grant_type=client_credentials&scope=reader_card&client_id={fx.backend_id}" \
         f"&client_secret={fx.backend_secret}"
    token = requests.post(f"{base}/oauth/token", data=dict(parse_qs(cc)), timeout=10).json()
    login_once(base, fx)  # the reader's consent, and a warm server
    reader_token = fx.reader_token(base)
    auth = f"client_id={fx.backend_id}&client_secret={fx.backend_secret}"
    return [
        ("discovery", "/.well-known/openid-configuration", {}),
        ("jwks", "/oauth/jwks", {}),
        ("client_credentials token", "/oauth/token", {"method": "POST", "body": cc}),
        ("introspection", "/oauth/introspect",
         {"method": "POST", "body": f"token={token['access_token']}&{auth}"}),
        ("userinfo", "/oauth/userinfo",
         {"headers": {"Authorization": f"Bearer {reader_token}"}}),
    ]


def _median(runs: list[tuple[float, float, float, dict[str, float]]]
            ) -> tuple[float, float, float, dict[str, float]]:
    """The run with the median rate (its latencies and CPU shares go with it)."""
    return sorted(runs, key=lambda run: run[0])[len(runs) // 2]


def report(servers: list[Served], fx: Fixture, args: Any) -> None:
    cases = _cases(servers[-1].base, fx)
    wanted = set(args.only.split(",")) if args.only else None
    print(f"machine: {cpu_model()}, {os.cpu_count()} cores, {platform.system()} "
          f"{platform.release()}, python {platform.python_version()}")
    mode = "requests on the worker's own thread" if args.threads == 1 else "thread pool"
    print(f"server: readerpass serve, {args.workers} workers x {args.threads} thread(s) "
          f"({mode}), PostgreSQL on the same machine; wrk -t2 "
          f"-c{args.connections} -d{args.seconds}s on the same cores; "
          f"median of {args.rounds} run(s)")
    print("cpu: share of all cores taken by the server's workers / wrk / PostgreSQL / "
          "other processes")
    width = max(len(served.label) for served in servers)
    print("srv ms/req: the server's CPU time per request (steadier than req/s when other "
          "processes take cores)")
    print(f"{'endpoint':26} {'tree':{width}} {'req/s':>8} {'p50 ms':>8} {'p99 ms':>8} "
          f"{'cpu srv/wrk/pg/other %':>22} {'srv ms/req':>10} {'ratio':>6}")
    for label, path, options in cases:
        if wanted is not None and label not in wanted:
            continue
        for _round in range(args.rounds):
            for served in servers:  # alternate, so drift hits both alike
                meter = CpuMeter(served.process.pid)
                meter.start()
                rate, p50, p99 = run_wrk(served.base + path, seconds=args.seconds,
                                         connections=args.connections, threads=2, **options)
                served.results.setdefault(label, []).append((rate, p50, p99, meter.shares()))
        first = _median(servers[0].results[label])[0]
        for served in servers:
            rate, p50, p99, cpu = _median(served.results[label])
            ratio = f"{rate / first:5.2f}x" if served is not servers[0] else ""
            shares = "/".join(f"{cpu[key]:.0f}" for key in ("server", "wrk", "postgres", "other"))
            per_request = cpu["server"] / 100 * (os.cpu_count() or 1) * 1000 / rate
            print(f"{label:26} {served.label:{width}} {rate:8.0f} {p50:8.2f} {p99:8.2f} "
                  f"{shares:>22} {per_request:10.2f} {ratio:>6}", flush=True)
    if args.no_logins:
        return
    for served in servers:
        rate, p50, p99 = run_logins(served.base, fx, seconds=args.seconds,
                                    workers=args.workers * 2)
        print(f"{'complete code logins':26} {served.label:{width}} {rate:8.1f} {p50:8.2f} "
              f"{p99:8.2f}")
    print("logins are bound by Argon2id password hashing ([security] argon2_*)")


if __name__ == "__main__":
    main()

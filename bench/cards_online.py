"""Benchmark of the online verification endpoint under gunicorn, measured with wrk.

Not a test. Needs PostgreSQL (``READERPASS_TEST_POSTGRES_URL``), optionally Redis
(``READERPASS_TEST_REDIS_URL``, for the shared replay cache) and ``wrk`` on the PATH.
Run ``python bench/cards_online.py [--workers 2] [--seconds 15]``; it prints req/s,
latency, the server's CPU per request and the machine. Every request carries a
different card token (distinct serial and issue time, fresh for every run), so each is
a full verification ending in an admission.

``--gate-tokens N`` spreads the requests over N gate access tokens (as N gates would
send them; one by default). ``--compare-cache`` serves the same database twice, with
``cards.gate_token_cache_seconds = 0`` (every request checks its gate token) and with
the default, and alternates the two run by run so the ratio holds on a shared machine.
"""

from __future__ import annotations

import argparse
import base64
import json
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.request
import uuid
from dataclasses import dataclass, field
from pathlib import Path

_ROOT = Path(__file__).resolve().parents[1]
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != _ROOT / "bench"]
sys.path.insert(0, str(_ROOT))

from sqlalchemy import create_engine, text  # noqa: E402
from sqlalchemy.engine import make_url  # noqa: E402

from bench.oidc import CpuMeter, cpu_model  # noqa: E402
from cards import TokenSigner, new_serial  # noqa: E402
from idp import migrate  # noqa: E402
from idp.cardsvc import keys  # noqa: E402
from idp.config_file import render_config  # noqa: E402
from idp.context import Context  # noqa: E402
from idp.db import make_engine  # noqa: E402
from idp.models import OAuthClient  # noqa: E402
from idp.oidc import clients  # noqa: E402
from idp.oidc import keys as oidc_keys  # noqa: E402
from idp.schemas import LibraryIn  # noqa: E402
from idp.services import libraries  # noqa: E402
from idp.services.actor import Actor  # noqa: E402
from idp.settings import load_settings  # noqa: E402

LUA = """
local tokens = {}
for line in io.lines("%(tokens)s") do tokens[#tokens + 1] = line end
local bearers = {}
for line in io.lines("%(bearers)s") do bearers[#bearers + 1] = line end
local counter = 0
local offset = 0
setup = function(thread) thread:set("offset", math.random(#tokens)) end
init = function() offset = tonumber(wrk.thread:get("offset")) or 0 end
request = function()
  counter = counter + 1
  local token = tokens[((counter * 7919 + offset) %% #tokens) + 1]
  local bearer = bearers[((counter + offset) %% #bearers) + 1]
  return wrk.format("POST", "/cards/verify",
    {["Content-Type"] = "application/json", ["Authorization"] = "Bearer " .. bearer},
    '{"token":"' .. token .. '"}')
end
"""


def machine() -> str:
    load = ", ".join(f"{value:.1f}" for value in os.getloadavg())
    return (f"{cpu_model()}; {os.cpu_count()} CPUs visible (shared with wrk); load average "
            f"{load}; Python {platform.python_version()}; {platform.system()} "
            f"{platform.release()}")


def prepare(directory: Path, server_url: str, port: int) -> tuple[Path, Context, str]:
    name = f"rp_bench_{uuid.uuid4().hex[:8]}"
    admin = create_engine(server_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    admin.dispose()
    url = make_url(server_url).set(database=name).render_as_string(hide_password=False)
    config = directory / "readerpass.toml"
    config.write_text(render_config(province_code="BENCH", province_name="Bench",
                                    instance_dir=str(directory), database_url=url,
                                    public_url=f"http://127.0.0.1:{port}",
                                    argon2_memory_kib=1024), encoding="utf-8")
    engine = make_engine(url)
    migrate.upgrade(engine)
    engine.dispose()
    ctx = Context.build(load_settings(config, environ={}))
    with ctx.transaction() as session:
        libraries.add_library(session, LibraryIn(code="CITY", name="City Library"),
                              actor=Actor.cli(), now=ctx.now())
        oidc_keys.rotate(session, ctx, actor=Actor.cli())
        keys.rotate(session, ctx, actor=Actor.cli())
        _, secret = clients.add_client(
            session, ctx, name="gates", library="CITY", kind="confidential",
            redirect_uris=[], grant_types=["client_credentials"], scopes=[],
            actor=Actor.cli())
        client_id = session.query(OAuthClient).one().client_id
    return config, ctx, f"{client_id}:{secret}"


def make_tokens(ctx: Context, path: Path, count: int) -> None:
    with ctx.sessions() as session:
        row = keys.signing_row(session)
        assert row is not None
        signer = TokenSigner(keys.load_card_key(ctx, row))
    now = int(time.time())
    # Distinct (serial, issued_at), so every request is admitted; issue times after the
    # key's birth (it was just created) and not in the future.
    serials = [new_serial() for _ in range(count // 50 + 1)]
    with path.open("w") as out:
        for i in range(count):
            out.write(signer.sign(serials[i // 50], i % 1000, now - 50 + i % 50, 7200) + "\n")


@dataclass
class Served:
    label: str
    base: str
    process: subprocess.Popen[bytes]
    runs: list[tuple[float, float, float, float]] = field(default_factory=list)


def serve(label: str, env: dict[str, str], port: int, args: argparse.Namespace) -> Served:
    process = subprocess.Popen(
        [sys.executable, "-m", "idp", "serve", "--bind", f"127.0.0.1:{port}", "--workers",
         str(args.workers), "--threads", str(args.threads), "--no-access-log"],
        env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    base = f"http://127.0.0.1:{port}"
    for _ in range(300):
        try:
            urllib.request.urlopen(base + "/healthz", timeout=1).close()
            break
        except OSError:
            if process.poll() is not None:
                sys.exit(f"{label}: the server exited; is port {port} in use?")
            time.sleep(0.1)  # polling a starting server
    return Served(label, base, process)


def gate_tokens(base: str, credentials: str, count: int) -> list[str]:
    basic = base64.b64encode(credentials.encode()).decode()
    tokens = []
    for _ in range(count):
        request = urllib.request.Request(
            base + "/oauth/token", data=b"grant_type=client_credentials",
            headers={"Content-Type": "application/x-www-form-urlencoded",
                     "Authorization": f"Basic {basic}"})
        with urllib.request.urlopen(request) as response:
            tokens.append(json.loads(response.read())["access_token"])
    return tokens


def _ms(value: str) -> float:
    for unit, factor in (("us", 0.001), ("ms", 1.0), ("s", 1000.0)):
        if value.endswith(unit):
            return float(value[: -len(unit)]) * factor
    raise ValueError(value)


def measure(served: Served, ctx: Context, directory: Path, args: argparse.Namespace) -> None:
    """One warm-up and one measured wrk run, each on card tokens of its own."""
    for seconds, keep in ((2, False), (args.seconds, True)):
        make_tokens(ctx, directory / "tokens.txt", 60_000)
        meter = CpuMeter(served.process.pid)
        meter.start()
        out = subprocess.run(
            ["wrk", "-t2", f"-c{args.connections}", f"-d{seconds}s", "--latency", "-s",
             str(directory / "verify.lua"), served.base],
            capture_output=True, text=True, check=True).stdout
        if not keep:
            continue
        if "Non-2xx" in out:
            sys.exit(f"{served.label}: errors from the server:\n{out}")
        rate = float(next(line.split()[1] for line in out.splitlines()
                          if line.startswith("Requests/sec")))
        cuts = {line.split()[0]: _ms(line.split()[1]) for line in out.splitlines()
                if line.strip().startswith(("50%", "99%"))}
        per_request = meter.shares()["server"] / 100 * (os.cpu_count() or 1) * 1000 / rate
        served.runs.append((rate, cuts["50%"], cuts["99%"], per_request))


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--seconds", type=int, default=15)
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--port", type=int, default=8765)
    parser.add_argument("--gate-tokens", type=int, default=1,
                        help="gate access tokens the requests are spread over")
    parser.add_argument("--compare-cache", action="store_true",
                        help="also serve with cards.gate_token_cache_seconds = 0 and compare")
    parser.add_argument("--rounds", type=int, default=1,
                        help="measured runs per server; the median is shown")
    args = parser.parse_args()
    postgres = os.environ.get("READERPASS_TEST_POSTGRES_URL")
    if not postgres or shutil.which("wrk") is None:
        sys.exit("needs READERPASS_TEST_POSTGRES_URL and wrk (apt-get install -y wrk)")
    redis_url = os.environ.get("READERPASS_TEST_REDIS_URL", "")
    variants: list[tuple[str, dict[str, str]]] = [("this tree", {})]
    if args.compare_cache:
        variants = [("gate-token cache off", {"READERPASS_CARDS_GATE_TOKEN_CACHE_SECONDS": "0"}),
                    ("gate-token cache 30 s", {})]
    servers: list[Served] = []
    with tempfile.TemporaryDirectory() as tmp:
        directory = Path(tmp)
        config, ctx, credentials = prepare(directory, postgres, args.port)
        env = {**os.environ, "PYTHONPATH": str(_ROOT), "READERPASS_CONFIG": str(config),
               "READERPASS_REDIS_URL": redis_url,
               "READERPASS_CARDS_VERIFICATIONS_PER_MINUTE": "10000000"}
        try:
            for offset, (label, extra) in enumerate(variants):
                servers.append(serve(label, {**env, **extra}, args.port + offset, args))
            bearers = directory / "bearers.txt"
            bearers.write_text("\n".join(gate_tokens(servers[0].base, credentials,
                                                      args.gate_tokens)) + "\n")
            (directory / "verify.lua").write_text(
                LUA % {"tokens": directory / "tokens.txt", "bearers": bearers})
            make_tokens(ctx, directory / "tokens.txt", 1)
            sample = subprocess.run(
                ["curl", "-s", "-X", "POST", servers[0].base + "/cards/verify", "-H",
                 f"Authorization: Bearer {bearers.read_text().split()[0]}", "-H",
                 "Content-Type: application/json", "-d",
                 json.dumps({"token": (directory / "tokens.txt").read_text().split()[0]})],
                capture_output=True, text=True)
            print("sample verdict:", sample.stdout.strip())
            for _round in range(args.rounds):
                for served in servers:  # alternate, so drift hits both alike
                    measure(served, ctx, directory, args)
        finally:
            for served in servers:
                served.process.terminate()
                served.process.wait(10)
            ctx.dispose()
    print(f"gunicorn: {args.workers} workers x {args.threads} thread(s) "
          f"({'own thread' if args.threads == 1 else 'thread pool'}); "
          f"replay cache: {'Redis' if redis_url else 'in-process'}; PostgreSQL; "
          f"{args.gate_tokens} gate token(s); wrk -t2 -c{args.connections} -d{args.seconds}s; "
          f"median of {args.rounds} run(s)")
    print(f"{'server':24} {'req/s':>8} {'p50 ms':>8} {'p99 ms':>8} {'srv ms/req':>10} "
          f"{'ratio':>6}")
    first = sorted(servers[0].runs)[len(servers[0].runs) // 2][0]
    for served in servers:
        rate, p50, p99, per_request = sorted(served.runs)[len(served.runs) // 2]
        ratio = f"{rate / first:5.2f}x" if served is not servers[0] else ""
        print(f"{served.label:24} {rate:8.0f} {p50:8.2f} {p99:8.2f} {per_request:10.2f} "
              f"{ratio:>6}")
    print("machine:", machine())


if __name__ == "__main__":
    main()

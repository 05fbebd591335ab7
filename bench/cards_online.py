"""Benchmark of the online verification endpoint under gunicorn, measured with wrk.

Not a test. Needs PostgreSQL (``READERPASS_TEST_POSTGRES_URL``), optionally Redis
(``READERPASS_TEST_REDIS_URL``, for the shared replay cache) and ``wrk`` on the PATH.
Run ``python bench/cards_online.py [--workers 2] [--seconds 15]``; it prints req/s,
latency, the server's CPU per request and the machine.

The gates' library starts with ``--cards`` readers (20,000 by default), brought in by
the onboarding import from a generated file, so each has a stored card and a link
with a local barcode there. Every request carries a different token of one of those
cards (a distinct issue time per card, never reused across runs), so each is a full
verification ending in an admission that answers the reader's local barcode; a
request does not find its card in a worker's memory from an earlier one. With
``--unlinked`` the gates belong to another library, where no reader is linked and no
adapter is configured (an admission answers no barcode).

``--gate-tokens N`` spreads the requests over N gate access tokens (as N gates would
send them; one by default). ``--compare-cache`` serves the same database twice, with
``cards.gate_token_cache_seconds = 0`` (every request checks its gate token) and with
the default, and alternates the two run by run so the ratio holds on a shared machine.
``--baseline DIR`` does the same with another source tree (e.g. ``git archive REV |
tar -x -C DIR``) served against the same database, for a ratio between two versions.
"""

from __future__ import annotations

import argparse
import base64
import csv
import json
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

_ROOT = Path(__file__).resolve().parents[1]
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != _ROOT / "bench"]
sys.path.insert(0, str(_ROOT))

from sqlalchemy import select  # noqa: E402
from sqlalchemy.engine import URL  # noqa: E402

from bench.adapters_setup import scratch  # noqa: E402
from bench.oidc import CpuMeter, cpu_model  # noqa: E402
from cards import TokenSigner, serial_from_text  # noqa: E402
from idp import migrate  # noqa: E402
from idp.cardsvc import keys  # noqa: E402
from idp.config_file import render_config  # noqa: E402
from idp.context import Context  # noqa: E402
from idp.db import make_engine  # noqa: E402
from idp.importer.run import file_source, import_patrons  # noqa: E402
from idp.models import Card, OAuthClient  # noqa: E402
from idp.oidc import clients  # noqa: E402
from idp.oidc import keys as oidc_keys  # noqa: E402
from idp.schemas import LibraryIn  # noqa: E402
from idp.services import libraries  # noqa: E402
from idp.services.actor import Actor  # noqa: E402
from idp.settings import load_settings  # noqa: E402
from idp.synthetic import IdentityGenerator  # noqa: E402

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


def prepare(directory: Path, database: URL, port: int, cards: int, gate_library: str
            ) -> tuple[Path, Context, str]:
    url = database.render_as_string(hide_password=False)
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
        for code, title in (("CITY", "City Library"), ("TOWN", "Town Library")):
            libraries.add_library(session, LibraryIn(code=code, name=title),
                                  actor=Actor.cli(), now=ctx.now())
        oidc_keys.rotate(session, ctx, actor=Actor.cli())
        keys.rotate(session, ctx, actor=Actor.cli())
        _, secret = clients.add_client(
            session, ctx, name="gates", library=gate_library, kind="confidential",
            redirect_uris=[], grant_types=["client_credentials"], scopes=[],
            actor=Actor.cli())
        client_id = session.query(OAuthClient).one().client_id
    patrons = directory / "patrons.csv"
    write_patrons(patrons, cards)
    started = time.perf_counter()
    counts = import_patrons(ctx, "CITY", file_source(patrons, "csv", "utf-8"))
    print(f"imported {counts['created']:,} readers with cards and local barcodes in "
          f"{time.perf_counter() - started:.1f} s")
    return config, ctx, f"{client_id}:{secret}"


def write_patrons(path: Path, count: int) -> None:
    """A library export of ``count`` synthetic patrons (idp.synthetic: never real people)."""
    people = IdentityGenerator(seed=4)
    with path.open("w", encoding="utf-8", newline="") as out:
        writer = csv.writer(out)
        writer.writerow(["local_id", "barcode", "family_name", "given_name", "birth_date",
                         "sex", "document_number", "mobile"])
        for n, person in enumerate(people.readers(count, min_age=18), start=1):
            writer.writerow([f"P{n}", f"2900{n:09d}", person.family_name, person.given_name,
                             person.birth_date.isoformat(), person.sex, person.resident_id,
                             person.mobile])


class Tokens:
    """Card tokens for the stored cards; each (card, issue time) is handed out once."""

    def __init__(self, ctx: Context):
        with ctx.sessions() as session:
            row = keys.signing_row(session)
            assert row is not None
            self.signer = TokenSigner(keys.load_card_key(ctx, row))
            self.born = int(row.created_at.timestamp()) + 1
            self.cards = [(serial_from_text(serial), index) for serial, index in session.execute(
                select(Card.serial, Card.status_index).order_by(Card.id))]
        self.used = 0

    def write(self, path: Path, count: int) -> None:
        # Issue times from the key's birth on (a key covers nothing earlier) and never
        # in the future (the verification allows the clock skew, 30 s by default).
        last = self.born + (self.used + count) // len(self.cards)
        if last > time.time() + 20:
            sys.exit("not enough cards for distinct tokens: raise --cards")
        with path.open("w") as out:
            for n in range(self.used, self.used + count):
                serial, index = self.cards[n % len(self.cards)]
                issued_at = self.born + n // len(self.cards)
                out.write(self.signer.sign(serial, index, issued_at, 7200) + "\n")
        self.used += count


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
        env=env, cwd=env["PYTHONPATH"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
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


def measure(served: Served, tokens: Tokens, directory: Path, args: argparse.Namespace
            ) -> None:
    """One warm-up and one measured wrk run, each on card tokens of its own."""
    for seconds, keep in ((2, False), (args.seconds, True)):
        tokens.write(directory / "tokens.txt", 60_000)
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
    parser.add_argument("--cards", type=int, default=20_000,
                        help="readers with a card and a local barcode at the gates' library")
    parser.add_argument("--unlinked", action="store_true",
                        help="gates of another library, where no reader is linked and "
                             "no adapter is configured")
    parser.add_argument("--gate-tokens", type=int, default=1,
                        help="gate access tokens the requests are spread over")
    parser.add_argument("--compare-cache", action="store_true",
                        help="also serve with cards.gate_token_cache_seconds = 0 and compare")
    parser.add_argument("--rounds", type=int, default=1,
                        help="measured runs per server; the median is shown")
    parser.add_argument("--baseline", type=Path,
                        help="another source tree to serve and compare with this one")
    args = parser.parse_args()
    if args.baseline is not None and args.compare_cache:
        sys.exit("--baseline and --compare-cache each compare two servers; choose one")
    if args.baseline is not None and not (args.baseline / "idp" / "app.py").is_file():
        sys.exit(f"--baseline {args.baseline}: not a source tree (no idp/app.py)")
    postgres = os.environ.get("READERPASS_TEST_POSTGRES_URL")
    if not postgres or shutil.which("wrk") is None:
        sys.exit("needs READERPASS_TEST_POSTGRES_URL and wrk (apt-get install -y wrk)")
    redis_url = os.environ.get("READERPASS_TEST_REDIS_URL", "")
    variants: list[tuple[str, dict[str, str]]] = [("this tree", {})]
    if args.compare_cache:
        variants = [("gate-token cache off", {"READERPASS_CARDS_GATE_TOKEN_CACHE_SECONDS": "0"}),
                    ("gate-token cache 30 s", {})]
    if args.baseline is not None:
        variants = [("baseline", {"PYTHONPATH": str(args.baseline.resolve())}),
                    ("this tree", {})]
    servers: list[Served] = []
    with tempfile.TemporaryDirectory() as tmp, scratch(postgres, "rp_bench") as database:
        directory = Path(tmp)
        config, ctx, credentials = prepare(directory, database, args.port, args.cards,
                                           "TOWN" if args.unlinked else "CITY")
        tokens = Tokens(ctx)
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
            tokens.write(directory / "tokens.txt", 1)
            sample = subprocess.run(
                ["curl", "-s", "-X", "POST", servers[0].base + "/cards/verify", "-H",
                 f"Authorization: Bearer {bearers.read_text().split()[0]}", "-H",
                 "Content-Type: application/json", "-d",
                 json.dumps({"token": (directory / "tokens.txt").read_text().split()[0]})],
                capture_output=True, text=True)
            print("sample verdict:", sample.stdout.strip())
            for _round in range(args.rounds):
                for served in servers:  # alternate, so drift hits both alike
                    measure(served, tokens, directory, args)
        finally:
            for served in servers:
                served.process.terminate()
                served.process.wait(10)
            ctx.dispose()
    print(f"gunicorn: {args.workers} workers x {args.threads} thread(s) "
          f"({'own thread' if args.threads == 1 else 'thread pool'}); "
          f"replay cache: {'Redis' if redis_url else 'in-process'}; PostgreSQL; "
          f"{args.gate_tokens} gate token(s); "
          f"gates at {'TOWN (no links, no adapter)' if args.unlinked else 'CITY (all linked)'}; "
          f"wrk -t2 -c{args.connections} -d{args.seconds}s; "
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

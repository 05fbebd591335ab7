"""Benchmark of the online verification endpoint under gunicorn, measured with wrk.

Not a test. Needs PostgreSQL (``READERPASS_TEST_POSTGRES_URL``), optionally Redis
(``READERPASS_TEST_REDIS_URL``, for the shared replay cache) and ``wrk`` on the PATH.
Run ``python bench/cards_online.py [--workers 2] [--seconds 15]``; it prints req/s,
latency and the machine. Every request carries a different token (distinct serial and
issue time), so each is a full verification ending in an admission.
"""

from __future__ import annotations

import argparse
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
from pathlib import Path

_ROOT = Path(__file__).resolve().parents[1]
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != _ROOT / "bench"]
sys.path.insert(0, str(_ROOT))

from sqlalchemy import create_engine, text  # noqa: E402
from sqlalchemy.engine import make_url  # noqa: E402

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
local counter = 0
local offset = 0
setup = function(thread) thread:set("offset", math.random(#tokens)) end
init = function() offset = tonumber(wrk.thread:get("offset")) or 0 end
request = function()
  counter = counter + 1
  local token = tokens[((counter * 7919 + offset) %% #tokens) + 1]
  return wrk.format("POST", "/cards/verify",
    {["Content-Type"] = "application/json", ["Authorization"] = "Bearer %(bearer)s"},
    '{"token":"' .. token .. '"}')
end
"""


def machine() -> str:
    model = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    load = ", ".join(f"{value:.1f}" for value in os.getloadavg())
    return (f"{model}; {os.cpu_count()} CPUs visible (shared with wrk); load average {load}; "
            f"Python {platform.python_version()}; {platform.system()} {platform.release()}")


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


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--seconds", type=int, default=15)
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--port", type=int, default=8765)
    args = parser.parse_args()
    postgres = os.environ.get("READERPASS_TEST_POSTGRES_URL")
    if not postgres or shutil.which("wrk") is None:
        sys.exit("needs READERPASS_TEST_POSTGRES_URL and wrk (apt-get install -y wrk)")
    redis_url = os.environ.get("READERPASS_TEST_REDIS_URL", "")
    with tempfile.TemporaryDirectory() as tmp:
        directory = Path(tmp)
        config, ctx, credentials = prepare(directory, postgres, args.port)
        tokens = directory / "tokens.txt"
        make_tokens(ctx, tokens, 60_000)
        env = {**os.environ, "PYTHONPATH": str(_ROOT), "READERPASS_CONFIG": str(config),
               "READERPASS_REDIS_URL": redis_url,
               "READERPASS_CARDS_VERIFICATIONS_PER_MINUTE": "10000000"}
        server = subprocess.Popen(
            [sys.executable, "-m", "idp", "serve", "--bind", f"127.0.0.1:{args.port}",
             "--workers", str(args.workers), "--threads", str(args.threads)],
            env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            base = f"http://127.0.0.1:{args.port}"
            for _ in range(100):
                try:
                    urllib.request.urlopen(base + "/healthz", timeout=1).close()
                    break
                except OSError:
                    time.sleep(0.1)
            client_id, secret = credentials.split(":", 1)
            request = urllib.request.Request(
                base + "/oauth/token", data=b"grant_type=client_credentials",
                headers={"Content-Type": "application/x-www-form-urlencoded"})
            import base64

            basic = base64.b64encode(credentials.encode()).decode()
            request.add_header("Authorization", f"Basic {basic}")
            bearer = json.loads(urllib.request.urlopen(request).read())["access_token"]
            script = directory / "verify.lua"
            script.write_text(LUA % {"tokens": tokens, "bearer": bearer})
            first = subprocess.run(["curl", "-s", "-X", "POST", base + "/cards/verify", "-H",
                                    f"Authorization: Bearer {bearer}", "-H",
                                    "Content-Type: application/json", "-d",
                                    json.dumps({"token": tokens.read_text().split()[0]})],
                                   capture_output=True, text=True)
            print("sample verdict:", first.stdout.strip())
            subprocess.run(["wrk", "-t2", f"-c{args.connections}", "-d2s", "-s", str(script),
                            base], capture_output=True)  # warm-up: caches, pools
            result = subprocess.run(
                ["wrk", "-t2", f"-c{args.connections}", f"-d{args.seconds}s", "--latency",
                 "-s", str(script), base], capture_output=True, text=True)
            print(result.stdout)
            del client_id, secret
        finally:
            server.terminate()
            server.wait(10)
            ctx.dispose()
    print(f"gunicorn: {args.workers} workers x {args.threads} threads (gthread); "
          f"replay cache: {'Redis' if redis_url else 'in-process'}; PostgreSQL")
    print("machine:", machine())


if __name__ == "__main__":
    main()

"""Benchmark of the online duplicate check: what a registration pays, at scale.

Not a test. Loads ``--readers N`` synthetic readers (bench/population.py) into a
fresh PostgreSQL database the way an import writes them, then registers ``--probes``
new readers through the ordinary registration service: half of them people already
there registering again (with a passport instead of their resident ID, so the
identity-document rule lets them in), half new people. For each it times the
check alone (storing the keys, the index look-ups, scoring, queueing), and prints
p50/p95/p99 and how many re-registrations were caught::

    source .ci/env && python -m bench.duplicates_online --readers 1000000 --probes 1000
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import tempfile
import time
from pathlib import Path

from bench import population
from bench.duplicates import cpu_model
from bench.duplicates_db import POSTGRES_VARIABLE, installation, library_code, load
from bench.duplicates_prep import prepare
from bench.population import PopulationGenerator, Registration
from idp.context import Context
from idp.duplicates import online
from idp.duplicates.keys import refresh_keys
from idp.schemas import RegistrationIn
from idp.services import registration
from idp.services.actor import Actor
from idp.settings import load_settings
from idp.synthetic import IdentityGenerator


def _again(reg: Registration, rng: random.Random) -> RegistrationIn:
    return RegistrationIn(
        family_name=reg.family_name, given_name=reg.given_name, document_type="passport",
        document_number=f"E{rng.randrange(10**8):08d}", document_country="CHN",
        birth_date=reg.birth_date, sex=reg.sex,
        mobile=reg.mobile or f"+861390{rng.randrange(10**7):07d}",
        home_library=library_code((reg.library + 1) % 10))


def _percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--readers", type=int, default=100_000)
    parser.add_argument("--probes", type=int, default=500)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    server = os.environ.get(POSTGRES_VARIABLE)
    if not server:
        raise SystemExit(f"needs {POSTGRES_VARIABLE} (source .ci/env)")
    print(f"machine: {os.cpu_count()} cores, {cpu_model()}")
    rng = random.Random(args.seed)
    registrations = list(PopulationGenerator(args.seed).registrations(args.readers))
    adult = population.TODAY.replace(year=population.TODAY.year - 18)
    firsts = [reg for reg in registrations if reg.variant == "first" and reg.birth_date <= adult]
    fresh = IdentityGenerator(args.seed + 1)
    with tempfile.TemporaryDirectory(prefix="dup-online-") as workdir, installation(
            server, Path(workdir), max_block=100, threshold=4.0) as config:
        ctx = Context.build(load_settings(config))
        try:
            started = time.perf_counter()
            rows, keys = prepare(registrations, ctx.hasher, args.seed)
            load(ctx, registrations, rows, keys)
            del rows, keys
            print(f"loaded {len(registrations):,} readers in "
                  f"{time.perf_counter() - started:,.1f} s")
            timings: dict[str, list[float]] = {"again": [], "new": []}
            caught = 0
            for probe in range(args.probes):
                kind = "again" if probe % 2 == 0 else "new"
                if kind == "again":
                    data = _again(rng.choice(firsts), rng)
                else:
                    person = fresh.reader(min_age=18)
                    data = RegistrationIn(
                        family_name=person.family_name, given_name=person.given_name,
                        document_type="resident_id", document_number=person.resident_id,
                        mobile=person.mobile, home_library=library_code(probe % 10))
                with ctx.transaction() as session:
                    reader = registration.register_reader(session, ctx, data,
                                                          actor=Actor.cli())
                    begun = time.perf_counter()
                    refresh_keys(session, ctx, reader)
                    found = online.check_ids(session, ctx, [reader.id], source="bench")
                    timings[kind].append((time.perf_counter() - begun) * 1000)
                    caught += kind == "again" and bool(found)
        finally:
            ctx.dispose()
    every = timings["again"] + timings["new"]
    print(f"online check over {args.readers:,} readers, {len(every)} registrations: "
          f"p50 {_percentile(every, 0.5):.1f} ms, p95 {_percentile(every, 0.95):.1f} ms, "
          f"p99 {_percentile(every, 0.99):.1f} ms, max {max(every):.1f} ms "
          f"(mean {statistics.fmean(every):.1f} ms)")
    print(f"re-registrations caught at once: {caught} of {len(timings['again'])}")


if __name__ == "__main__":
    main()

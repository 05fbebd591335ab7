"""Benchmark of the adapters' identity side, end to end on real servers.

Not a test. It fills a Koha-shaped MariaDB database with ``--patrons`` synthetic
patrons (default 1,000,000), imports them through the library's adapter into
province readers on PostgreSQL (rate and memory at intervals), runs the relay
over the back-links the import queued (deliveries per second for one library)
and times just-in-time provisioning of new readers (p50/p99). It prints its
figures and the machine. Servers come from the same variables as the tests::

    source .ci/env && python -m bench.adapters --patrons 100000

``--baseline DIR`` runs the same measurement on a second source tree (e.g. ``git
archive REV | tar -x -C DIR``) in turn with this one, each in its own process, and
prints the ratios, so they hold on a shared machine whose absolute figures drift.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from sqlalchemy import func, select, text

from bench.adapters_setup import fill_koha, identity, scratch
from idp.context import Context
from idp.importer.run import adapter_source, import_patrons
from idp.models import OutboxItem, Reader
from idp.relay.run import run_once
from idp.schemas import RegistrationIn
from idp.services import libraries
from idp.services.actor import Actor
from idp.services.provisioning import provision
from idp.services.registration import register_reader
from idp.synthetic import IdentityGenerator


def cpu_model() -> str:
    for line in Path("/proc/cpuinfo").read_text().splitlines():
        if line.startswith("model name"):
            return line.split(":", 1)[1].strip()
    return platform.processor() or "unknown"


def rss_mib() -> tuple[float, float]:
    """(current, peak) resident set size in MiB."""
    pages = int(Path("/proc/self/statm").read_text().split()[1])
    current = pages * os.sysconf("SC_PAGE_SIZE") / 2**20
    return current, resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def process_cpu() -> float:
    """CPU seconds of this process's threads and of its children that ended."""
    own = resource.getrusage(resource.RUSAGE_SELF)
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


def server_cpu(ctx: Context) -> float | None:
    """CPU seconds the PostgreSQL server's processes have used, those that ended
    included (the postmaster waits for them), or None if it runs elsewhere."""
    if ctx.engine.dialect.name != "postgresql":
        return None
    with ctx.engine.connect() as conn:
        backend = conn.scalar(text("SELECT pg_backend_pid()"))
    tick = os.sysconf("SC_CLK_TCK")

    def stat(pid: int | str) -> list[str] | None:
        try:  # fields after the command, which may hold spaces
            return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except (FileNotFoundError, ProcessLookupError):
            return None

    mine = stat(backend)
    if mine is None:
        return None
    postmaster = int(mine[1])
    master = stat(postmaster)
    if master is None:
        return None
    total = sum(int(x) for x in master[11:15])  # utime, stime, cutime, cstime
    for entry in Path("/proc").iterdir():
        fields = stat(entry.name) if entry.name.isdigit() else None
        if fields is not None and int(fields[1]) == postmaster:
            total += int(fields[11]) + int(fields[12])
    return total / tick


def import_all(ctx: Context, patrons: int, batch: int) -> tuple[float, dict[str, float]]:
    """Import every patron; returns the seconds it took and CPU microseconds a
    patron, by this process (its threads and scan workers) and by PostgreSQL."""
    cpu_started, server_started = process_cpu(), server_cpu(ctx)
    started = last = time.perf_counter()
    done = shown = 0
    step = max(batch, patrons // 10)

    def progress(n: int) -> None:
        nonlocal done, shown, last
        done += n
        if done - shown >= step or done == patrons:
            now = time.perf_counter()
            current, peak = rss_mib()
            print(f"  {done:>9,} imported  {(done - shown) / (now - last):>8,.0f}/s now  "
                  f"rss {current:,.0f} MiB (peak {peak:,.0f})", flush=True)
            shown, last = done, now

    scan_started: list[float] = []

    def scanned(stage: str, count: int, total: int | None) -> None:
        now = time.perf_counter()
        if not scan_started:
            scan_started.append(now)
            print(f"  rows written in {now - started:,.1f} s = {patrons / (now - started):,.0f}"
                  f" patrons/s; then one duplicate scan of the imported readers:", flush=True)
        print(f"    {stage}: {count:,} ({now - scan_started[0]:,.1f} s, "
              f"rss {rss_mib()[0]:,.0f} MiB)", flush=True)

    with ctx.transaction() as session:
        source = adapter_source(ctx, libraries.get_library(session, "CITY"), batch)
    counts = import_patrons(ctx, "CITY", source, batch_size=batch, progress=progress,
                            scan_progress=scanned)
    elapsed = time.perf_counter() - started
    print(f"  counts: {dict(counts)}")
    cpu = {"importer_cpu_us": (process_cpu() - cpu_started) / patrons * 1e6}
    server_ended = server_cpu(ctx)
    if server_started is not None and server_ended is not None:
        cpu["server_cpu_us"] = (server_ended - server_started) / patrons * 1e6
    cores = os.cpu_count() or 1
    print("  CPU a patron: " + ", ".join(f"{name} {cpu[key]:,.0f} µs" for key, name in (
        ("importer_cpu_us", "importer"), ("server_cpu_us", "PostgreSQL")) if key in cpu)
        + f"; the machine's {cores} cores had {cores * elapsed / patrons * 1e6:,.0f} µs")
    return elapsed, cpu


def relay(ctx: Context, wanted: int) -> tuple[int, float]:
    delivered, started = 0, time.perf_counter()
    while delivered < wanted:
        [result] = run_once(ctx, library="CITY", batch_size=min(500, wanted - delivered))
        if not result.delivered:
            break
        delivered += result.delivered
    return delivered, time.perf_counter() - started


def provisioning(ctx: Context, readers: int) -> list[float]:
    people = IdentityGenerator(23, today=ctx.today())
    ids = []
    for person in people.readers(readers, min_age=20, max_age=70):
        data = RegistrationIn.model_validate({
            "family_name": person.family_name, "given_name": person.given_name,
            "document_type": "resident_id", "document_number": person.resident_id,
            "mobile": person.mobile, "home_library": "PROV"})
        with ctx.transaction() as session:
            ids.append(register_reader(session, ctx, data, actor=Actor.cli()).id)
    timings = []
    for reader_id in ids:
        started = time.perf_counter()
        with ctx.transaction() as session:
            reader = session.get(Reader, reader_id)
            assert reader is not None
            link = provision(session, ctx, reader, libraries.get_library(session, "CITY"))
        timings.append(time.perf_counter() - started)
        assert link.state == "linked", link.last_error
    return timings


_ROOT = Path(__file__).resolve().parent.parent
# Runs this file's measurement with another tree's packages first on the path.
_CHILD = ("import runpy, sys; tree, script = sys.argv[1], sys.argv[2]; "
          "sys.path.insert(0, tree); sys.argv = [script, *sys.argv[3:]]; "
          "runpy.run_path(script, run_name='__main__')")
_FIGURES = (("patrons_s", "import patrons/s", "{:,.0f}"), ("peak_rss_mib", "peak RSS MiB",
            "{:,.0f}"), ("relay_s", "relay deliveries/s", "{:,.1f}"),
            ("jit_p50_ms", "JIT p50 ms", "{:.1f}"), ("jit_p99_ms", "JIT p99 ms", "{:.1f}"),
            ("importer_cpu_us", "importer CPU µs/patron", "{:,.0f}"),
            ("server_cpu_us", "PostgreSQL CPU µs/patron", "{:,.0f}"))


def compare(args: argparse.Namespace, passed: list[str]) -> None:
    """Alternate the baseline tree and this one, each run in its own process."""
    if not (args.baseline / "idp" / "importer").is_dir():
        raise SystemExit(f"--baseline {args.baseline}: not a source tree (no idp/importer)")
    trees = (("before", args.baseline.resolve()), ("after", _ROOT))
    results: dict[str, list[dict[str, float]]] = {label: [] for label, _ in trees}
    with tempfile.TemporaryDirectory() as workdir:
        out = Path(workdir) / "figures.json"
        for round_ in range(1, args.rounds + 1):
            for label, tree in trees:
                print(f"-- round {round_}, {label} ({tree})", flush=True)
                subprocess.run([sys.executable, "-c", _CHILD, str(tree), __file__, *passed,
                                "--json", str(out)], cwd=tree, check=True)
                results[label].append(json.loads(out.read_text()))
    print(f"\n{'median of ' + str(args.rounds) + ' rounds':<22}{'before':>12}{'after':>12}"
          f"{'after/before':>14}")
    for key, name, fmt in _FIGURES:
        if not all(key in r for r in results["before"] + results["after"]):
            continue  # a tree that does not measure it
        before = statistics.median(r[key] for r in results["before"])
        after = statistics.median(r[key] for r in results["after"])
        ratios = [a[key] / b[key] for a, b in zip(results["after"], results["before"],
                                                   strict=True) if b[key]]
        ratio = f"{statistics.median(ratios):.2f}x" if ratios else "-"
        print(f"{name:<22}{fmt.format(before):>12}{fmt.format(after):>12}{ratio:>14}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--patrons", type=int, default=1_000_000)
    parser.add_argument("--batch", type=int, default=1000)
    parser.add_argument("--relay-items", type=int, default=5000)
    parser.add_argument("--jit", type=int, default=500, help="readers provisioned at JIT")
    parser.add_argument("--baseline", type=Path,
                        help="another source tree to run in turn and compare with")
    parser.add_argument("--rounds", type=int, default=2, help="rounds with --baseline")
    parser.add_argument("--json", type=Path, help=argparse.SUPPRESS)  # figures, for compare
    args = parser.parse_args()
    if args.baseline is not None:
        passed = [f"--patrons={args.patrons}", f"--batch={args.batch}",
                  f"--relay-items={args.relay_items}", f"--jit={args.jit}"]
        compare(args, passed)
        return
    mariadb = os.environ["READERPASS_TEST_MARIADB_URL"]
    postgres = os.environ["READERPASS_TEST_POSTGRES_URL"]
    print(f"machine: {cpu_model()}, {os.cpu_count()} cores, Python {platform.python_version()}")
    with scratch(mariadb, "rp_bench_koha") as koha_url, \
            scratch(postgres, "rp_bench_idp") as idp_url, \
            tempfile.TemporaryDirectory() as workdir:
        started = time.perf_counter()
        fill_koha(koha_url, args.patrons)
        print(f"filled Koha with {args.patrons:,} patrons in "
              f"{time.perf_counter() - started:,.1f} s")
        ctx = identity(Path(workdir), idp_url.render_as_string(hide_password=False), koha_url)
        try:
            print(f"import (batches of {args.batch:,}):")
            elapsed, cpu = import_all(ctx, args.patrons, args.batch)
            peak = rss_mib()[1]
            print(f"import: {args.patrons:,} patrons in {elapsed:,.1f} s = "
                  f"{args.patrons / elapsed:,.0f} patrons/s end to end, peak RSS {peak:,.0f} MiB")
            workers = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
            if workers:  # the scan's worker processes; pages shared with this one count in both
                print(f"  peak RSS of a scan worker process {workers:,.0f} MiB")
            with ctx.transaction() as session:
                queued = session.scalar(select(func.count()).select_from(OutboxItem)) or 0
            delivered, spent = relay(ctx, min(args.relay_items, queued))
            print(f"relay: {delivered:,} back-link deliveries to one library in {spent:,.1f} s"
                  f" = {delivered / spent:,.0f}/s (of {queued:,} queued)")
            timings = sorted(provisioning(ctx, args.jit))
            p50 = statistics.median(timings) * 1000
            p99 = timings[max(0, int(len(timings) * 0.99) - 1)] * 1000
            print(f"JIT provisioning ({len(timings)} new readers, patron created in Koha): "
                  f"p50 {p50:.1f} ms, p99 {p99:.1f} ms")
            if args.json is not None:
                args.json.write_text(json.dumps({
                    "patrons_s": args.patrons / elapsed, "peak_rss_mib": peak,
                    "relay_s": delivered / spent, "jit_p50_ms": p50, "jit_p99_ms": p99,
                    **cpu}))
        finally:
            ctx.dispose()


if __name__ == "__main__":
    main()

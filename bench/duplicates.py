"""Benchmark of duplicate detection: quality against ground truth, time and memory.

Not a test. For each ``--readers N`` it generates a synthetic population with known
duplicates (bench/population.py), does the registration-time work (keyed hashes,
blocking keys), then runs the scan in a fresh process and scores the pairs it
proposes (bench/duplicates_eval.py explains how pairs and transitive merges are
counted). The scan's wall time and peak resident memory are the fresh process's:
building match records from stored rows, streaming the keys, estimating the model,
scoring. Generation and hashing are registration's work and are timed apart.

``--mode memory`` (the default) runs the engine on the rows as the scan would load
them; ``--mode db`` loads them into a fresh PostgreSQL database with COPY and runs
the database scan (``idp.duplicates.scan.run_scan``)::

    source .ci/env && python -m bench.duplicates --readers 10000 --readers 100000
"""

from __future__ import annotations

import argparse
import os
import pickle
import platform
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path
from typing import Any

from bench import duplicates_eval as evaluation
from bench.duplicates_prep import prepare, write
from bench.population import PopulationGenerator, Registration
from idp.pii import KeyedHasher

#: A benchmark key, never a deployment's: the hashes only need to be consistent.
BENCH_HASH_KEY = bytes(range(32))
DEFAULT_THRESHOLD = 0.0  # more likely one person than two
DEFAULT_MAX_BLOCK = 100
ROOT = Path(__file__).resolve().parents[1]


def cpu_model() -> str:
    for line in Path("/proc/cpuinfo").read_text().splitlines():
        if line.startswith("model name"):
            return line.split(":", 1)[1].strip()
    return platform.processor() or "unknown"


def scan_in_memory(registrations: list[Registration], seed: int, *, max_block: int,
                   threshold: float) -> tuple[dict[str, Any], float]:
    started = time.perf_counter()
    rows, keys = prepare(registrations, KeyedHasher(BENCH_HASH_KEY), seed)
    with tempfile.TemporaryDirectory(prefix="dup-bench-") as workdir:
        prepared, result = Path(workdir) / "prepared.pickle", Path(workdir) / "result.pickle"
        write(prepared, rows, keys)
        prepare_seconds = time.perf_counter() - started
        del rows, keys
        subprocess.run([sys.executable, "-m", "bench.duplicates_scan", str(prepared),
                        str(result), "--max-block", str(max_block),
                        "--threshold", str(threshold)], check=True, stdout=subprocess.DEVNULL,
                       cwd=ROOT)
        with result.open("rb") as source:
            outcome: dict[str, Any] = pickle.load(source)
    return outcome, prepare_seconds


def split(outcome: dict[str, Any], threshold: float
          ) -> tuple[list[tuple[int, int]], list[tuple[int, int]]]:
    """(automatic pairs, review pairs at or above ``threshold``)."""
    auto = [(a, b) for a, b, is_auto, _ in outcome["pairs"] if is_auto]
    review = [(a, b) for a, b, is_auto, weight in outcome["pairs"]
              if not is_auto and weight >= threshold]
    return auto, review


def sweep(person: list[int], outcome: dict[str, Any], thresholds: list[float]) -> None:
    print("  threshold  recall  review/10k  proposals precision")
    for threshold in thresholds:
        s = evaluation.score(person, *split(outcome, threshold))
        print(f"  {threshold:>9.1f}  {s.total_recall:.4f}  {s.review_per_10k:>10.0f}  "
              f"{s.proposed_precision:.4f}")


def report(n: int, registrations: list[Registration], outcome: dict[str, Any],
           timings: dict[str, float], threshold: float, verbose: bool) -> None:
    person = [r.person for r in registrations]
    auto, review = split(outcome, threshold)
    s = evaluation.score(person, auto, review)
    counts = outcome["counts"]
    keys = f" from {counts['keys']:,} keys" if counts.get("keys") else ""
    print(f"readers {n:,}: {s.true_pairs:,} true pairs, "
          f"{counts['candidate_pairs']:,} candidate pairs{keys}")
    print(f"  generate {timings['generate']:.1f} s, hash, key and store "
          f"{timings['prepare']:.1f} s (registration's work, not the scan's)")
    print(f"  scan: {outcome['scan_seconds']:.1f} s wall, peak RSS "
          f"{outcome['peak_rss_mib']:,.0f} MiB; "
          + ", ".join(f"{stage} {seconds:.1f} s" for stage, seconds in outcome["stages"].items()))
    print(f"  auto-merge: {s.auto_pairs:,} pairs, precision {s.auto_precision:.4f} "
          f"(direct pairs {s.auto_precision_direct:.4f}), recall {s.auto_recall:.4f}")
    print(f"  auto + review: recall {s.total_recall:.4f}, proposals precision "
          f"{s.proposed_precision:.4f}; review queue {s.review_pairs:,} pairs "
          f"= {s.review_per_10k:.0f} per 10,000 readers")
    skipped = Counter(kind for kind, _ in outcome["skipped"])
    largest = max((size for _, size in outcome["skipped"]), default=0)
    mobile_only = (f"; {counts['uncorroborated']:,} pairs shared only a mobile"
                   if "uncorroborated" in counts else "")
    print(f"  skipped blocks: {dict(skipped) or 'none'} (largest {largest}){mobile_only}")
    if verbose:
        sweep(person, outcome, [threshold + step for step in (-4.0, -2.0, 0.0, 2.0, 4.0)])
        found = auto + review
        missed = evaluation.missed_by_variant(person, [r.variant for r in registrations], found)
        print(f"  missed true pairs by variant: {dict(missed.most_common(12))}")
        print(f"  parameters: {outcome['parameters']}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--readers", type=int, action="append",
                        help="population size (repeatable; default 10,000 and 100,000)")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--mode", choices=("memory", "db"), default="memory")
    parser.add_argument("--max-block", type=int, default=DEFAULT_MAX_BLOCK)
    parser.add_argument("--threshold", type=float, default=DEFAULT_THRESHOLD,
                        help="review threshold, as a match weight (log2 odds)")
    parser.add_argument("--verbose", action="store_true",
                        help="also recall at other thresholds, misses by kind, parameters")
    args = parser.parse_args()
    print(f"machine: {cpu_model()}, {os.cpu_count()} cores, Python {platform.python_version()}")
    print(f"mode {args.mode}, max block {args.max_block}, review threshold {args.threshold}")
    for n in args.readers or [10_000, 100_000]:
        started = time.perf_counter()
        registrations = list(PopulationGenerator(args.seed).registrations(n))
        timings = {"generate": time.perf_counter() - started}
        # Verbose runs keep pairs down to 4 below the threshold, to show the trade-off.
        floor = args.threshold - 4.0 if args.verbose else args.threshold
        if args.mode == "db":
            from bench.duplicates_db import scan_in_database

            outcome, timings["prepare"] = scan_in_database(registrations, args.seed,
                                                           max_block=args.max_block,
                                                           threshold=floor)
        else:
            outcome, timings["prepare"] = scan_in_memory(registrations, args.seed,
                                                         max_block=args.max_block,
                                                         threshold=floor)
        report(n, registrations, outcome, timings, args.threshold, args.verbose)


if __name__ == "__main__":
    main()

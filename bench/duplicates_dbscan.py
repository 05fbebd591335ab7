"""The database scan of the duplicates benchmark, in a fresh process: builds the
Context from the settings file, runs ``idp.duplicates.scan.run_scan`` and reads back
the pairs it wrote. Usage::

    python -m bench.duplicates_dbscan SETTINGS RESULT --max-block 100 --threshold 4
"""

from __future__ import annotations

import argparse
import importlib
import json
import pickle
import resource
import time
from pathlib import Path
from typing import Any

from sqlalchemy import select

from idp.context import Context
from idp.models import DuplicatePair
from idp.settings import load_settings


def run(config: Path) -> dict[str, Any]:
    try:
        scan = importlib.import_module("idp.duplicates.scan")
    except ModuleNotFoundError:
        raise SystemExit("this tree has no idp.duplicates.scan yet: use --mode memory") from None
    ctx = Context.build(load_settings(config))
    try:
        started = time.perf_counter()
        report = scan.run_scan(ctx)
        finished = time.perf_counter()
        with ctx.sessions() as session:
            pairs = [(p.reader_a, p.reader_b, p.auto_merge, p.score)
                     for p in session.scalars(select(DuplicatePair))]
    finally:
        ctx.dispose()
    return {
        "pairs": pairs,
        "skipped": [(b.kind, b.size) for b in getattr(report, "skipped", [])],
        "counts": _counts(report),
        "parameters": getattr(report, "parameters", None),
        "load_seconds": 0.0,  # the scan's own split, if any, is in its report
        "engine_seconds": finished - started,
        "peak_rss_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
    }


def _counts(report: Any) -> dict[str, int]:
    counts = getattr(report, "counts", None)
    names = ("records", "keys", "blocks", "skipped_blocks", "candidate_pairs", "kept",
             "auto_merge", "uncorroborated")
    return {name: int(getattr(counts, name, 0)) for name in names}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("config", type=Path)
    parser.add_argument("result", type=Path)
    # The scan takes its limits from the settings; accepted for symmetry with the
    # in-memory scan and checked there.
    parser.add_argument("--max-block", type=int, required=True)
    parser.add_argument("--threshold", type=float, required=True)
    args = parser.parse_args()
    outcome = run(args.config)
    with args.result.open("wb") as out:
        pickle.dump(outcome, out, protocol=pickle.HIGHEST_PROTOCOL)
    print(json.dumps({k: v for k, v in outcome.items() if k.endswith(("seconds", "mib"))}))


if __name__ == "__main__":
    main()

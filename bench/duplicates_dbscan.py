"""The database scan of the duplicates benchmark, in a fresh process: builds the
Context from the settings file (whose ``[duplicates]`` section sets the review
threshold and block limit), runs ``idp.duplicates.scan.run_scan`` as
``readerpass duplicates scan`` does, and reads back the pairs it queued. Usage::

    python -m bench.duplicates_dbscan SETTINGS RESULT
"""

from __future__ import annotations

import argparse
import json
import pickle
import resource
import time
from pathlib import Path
from typing import Any

from sqlalchemy import select

from idp.context import Context
from idp.duplicates.scan import run_scan
from idp.models import DuplicatePair
from idp.settings import load_settings


def run(config: Path) -> dict[str, Any]:
    ctx = Context.build(load_settings(config))
    stages: dict[str, float] = {}
    started = last = time.perf_counter()

    def progress(stage: str, done: int, total: int | None) -> None:
        nonlocal last
        if total is not None and done == total:  # the stage is complete
            now = time.perf_counter()
            stages[stage] = now - last
            last = now

    try:
        report = run_scan(ctx, progress=progress)
        finished = time.perf_counter()
        with ctx.sessions() as session:
            pairs = [(p.reader_a, p.reader_b, p.auto_merge, p.score)
                     for p in session.scalars(select(DuplicatePair))]
    finally:
        ctx.dispose()
    stages["scored and queued"] = finished - last
    return {
        "pairs": pairs,
        "skipped": [(b["kind"], b["size"]) for b in report.skipped_blocks],
        "counts": {"records": report.readers, "candidate_pairs": report.compared,
                   "blocks": report.blocks, "found": report.found},
        "parameters": report.parameters,
        "scan_seconds": finished - started,
        "stages": stages,
        "peak_rss_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("config", type=Path)
    parser.add_argument("result", type=Path)
    args = parser.parse_args()
    outcome = run(args.config)
    with args.result.open("wb") as out:
        pickle.dump(outcome, out, protocol=pickle.HIGHEST_PROTOCOL)
    print(json.dumps({k: outcome[k] for k in ("scan_seconds", "stages", "peak_rss_mib")}))


if __name__ == "__main__":
    main()

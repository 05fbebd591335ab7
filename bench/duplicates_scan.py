"""The in-memory scan of the duplicates benchmark, run in a fresh process so that its
wall time and peak memory are the scan's alone (not the generator's).

It does what the database scan does around the engine: builds each reader's match
record from its stored fields (matching name, birth date, hashes) and streams the
blocking keys into :func:`idp.duplicates.engine.find_pairs`. Usage::

    python -m bench.duplicates_scan PREPARED RESULT --max-block 100 --threshold 4
"""

from __future__ import annotations

import argparse
import json
import pickle
import resource
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from bench.duplicates_prep import Row, read_rows, stream_keys
from idp.duplicates.engine import find_pairs, paused_gc
from idp.duplicates.features import Record, match_name, matching_birth_date


def records_of(rows: Sequence[Row]) -> list[Record]:
    empty: frozenset[str] = frozenset()
    with paused_gc():
        return [Record(row.reader_id, match_name(row.family_name, row.given_name),
                       matching_birth_date(row.birth_date), row.sex,
                       frozenset((row.document[0],)) if row.document else empty,
                       row.mobile_hash)
                for row in rows]


def run(prepared: Path, *, max_block: int, threshold: float) -> dict[str, Any]:
    started = time.perf_counter()
    with prepared.open("rb") as source:
        rows = read_rows(source)
        records = records_of(rows)
        del rows
        loaded = last = time.perf_counter()
        stages: dict[str, float] = {}

        def progress(stage: str, count: int) -> None:
            nonlocal last
            now = time.perf_counter()
            stages[stage] = now - last
            last = now

        result = find_pairs(records, stream_keys(source), None, max_block=max_block,
                            review_threshold=threshold, progress=progress)
    finished = time.perf_counter()
    return {
        "pairs": [(c.first, c.second, c.match.auto_merge, c.match.weight) for c in result.pairs],
        "skipped": [(b.kind, b.size) for b in result.skipped],
        "counts": {k: getattr(result.counts, k) for k in result.counts.__slots__},
        "parameters": result.parameters.to_json(),
        "scan_seconds": finished - started,
        "stages": {"load and match records": loaded - started, **stages},
        "peak_rss_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("prepared", type=Path)
    parser.add_argument("result", type=Path)
    parser.add_argument("--max-block", type=int, required=True)
    parser.add_argument("--threshold", type=float, required=True)
    args = parser.parse_args()
    outcome = run(args.prepared, max_block=args.max_block, threshold=args.threshold)
    with args.result.open("wb") as out:
        pickle.dump(outcome, out, protocol=pickle.HIGHEST_PROTOCOL)
    print(json.dumps({k: outcome[k] for k in ("scan_seconds", "stages", "peak_rss_mib")}))


if __name__ == "__main__":
    main()

"""Scoring a scoped scan's groups of blocks, in two worker processes on PostgreSQL.

Each group is loaded and scored on its own (see ``scan._scan_in_chunks``), so the
groups of a large scope can be worked on side by side: the scan process streams
the blocks and hands whole groups to workers, which load their members' records,
score them and send back only what the report and the queue need. Loading and
scoring are Python under one interpreter lock, about four-fifths of a scan, so
two processes use both cores of a small server; each holds one group's records.

The workers are forked from the scan process when a second group exists (a scope
of one group is scored in place, as is any scan on SQLite, which would only
have the workers wait on each other's reads). A fork copies the parent's pooled
connections: each worker first drops its copies unclosed (``dispose(close=False)``,
as SQLAlchemy advises) and opens its own. A scan runs from the command line,
with no other thread running when the workers are forked.
"""

from __future__ import annotations

import multiprocessing
from collections import deque
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ProcessPoolExecutor
from dataclasses import dataclass
from itertools import chain
from typing import Any

from ..context import Context
from . import queue
from .parameters import Parameters

Group = list[tuple[str, str, list[str]]]
WORKERS = 2


@dataclass
class Scored:
    """What scoring one group gives the report and the queue."""

    candidates: list[queue.Candidate]
    reader_ids: list[str]
    compared: int
    skipped: list[dict[str, Any]]
    blocks: int


#: score(ctx, group, parameters): load the group's members and score them.
Score = Callable[[Context, Group, Parameters], Scored]

# In a worker process only: what the scan process gave it when it was forked.
_worker: tuple[Context, Parameters, Score] | None = None


def scored_groups(ctx: Context, groups: Iterator[Group], parameters: Parameters,
                  score: Score) -> Iterator[Scored]:
    """Each group scored, in order."""
    head = [group for group in (next(groups, None), next(groups, None)) if group is not None]
    if len(head) < 2 or ctx.engine.dialect.name != "postgresql":
        for group in chain(head, groups):
            yield score(ctx, group, parameters)
        return
    forked = multiprocessing.get_context("fork")
    with ProcessPoolExecutor(WORKERS, mp_context=forked, initializer=_start,
                             initargs=(ctx, parameters, score)) as pool:
        pending: deque[Future[Scored]] = deque()
        try:
            for group in chain(head, groups):
                pending.append(pool.submit(_score, group))
                if len(pending) > WORKERS:  # one group waiting beside each worker's
                    yield pending.popleft().result()
            while pending:
                yield pending.popleft().result()
        finally:
            for future in pending:
                future.cancel()


def _start(ctx: Context, parameters: Parameters, score: Score) -> None:
    global _worker
    ctx.engine.dispose(close=False)  # the scan process's connections stay its own
    _worker = (ctx, parameters, score)


def _score(group: Group) -> Scored:
    assert _worker is not None, "only in a worker process"
    ctx, parameters, score = _worker
    try:
        return score(ctx, group, parameters)
    finally:
        # A worker ends without closing what it holds: close its connection now
        # rather than leave the server to find it gone (a new one costs ~5 ms a group).
        ctx.engine.dispose()

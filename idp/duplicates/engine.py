"""Batch duplicate detection over plain values: records and their blocking keys in,
scored candidate pairs out. No database here; the scan loads and stores.

Every candidate pair (see :mod:`.blocking`) is compared once, whatever number of
keys found it; pairs are kept as packed ints until the model has weighed them, and
a :class:`Match` is built only for a pair that is kept: an automatic merge, or a
pair at or above the review threshold whose evidence is more than a shared mobile.
"""

from __future__ import annotations

import gc
from array import array
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass

from .blocking import BIT, KIND_SPACES, SPACES, SkippedBlock, candidate_pairs, group_keys
from .comparisons import (
    I_NAME,
    N_EXACT,
    compare,
    decode,
    encode,
)
from .estimate import SESSIONS, estimate_from_patterns
from .features import Record
from .model import Match, MatchModel, NameFrequencies, corroborated, may_merge
from .parameters import DEFAULT_PARAMETERS, Parameters

#: Fewer records than this: default parameters, no name frequencies.
MIN_RECORDS_TO_ESTIMATE = 1000
_KINDS_OF_MASK = [tuple(s for s in SPACES if mask & BIT[s]) for mask in range(1 << len(SPACES))]


@dataclass(frozen=True, slots=True)
class Candidate:
    """Two records (indices into ``records``, ``first < second``) and the model's
    verdict; ordering the readers' ids is the caller's business."""

    first: int
    second: int
    match: Match
    #: The blocking spaces in which the pair shares a key.
    kinds: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class EngineCounts:
    records: int
    keys: int
    blocks: int  # blocks of two or more records that were compared
    skipped_blocks: int
    candidate_pairs: int  # distinct pairs compared
    kept: int
    auto_merge: int
    #: Pairs with nothing but a mobile (or nothing) in common: never kept.
    uncorroborated: int


@dataclass(frozen=True)
class EngineResult:
    #: Kept pairs, highest weight first.
    pairs: list[Candidate]
    skipped: list[SkippedBlock]
    counts: EngineCounts
    parameters: Parameters


@contextmanager
def paused_gc() -> Iterator[None]:
    """Hold the cyclic garbage collector while millions of objects are built.

    Every few hundred allocations of container objects the collector runs, and the
    older generations it then walks hold everything built so far: building a
    million records or blocks spends about half its time collecting garbage that
    does not exist (none of these objects form cycles). Plain reference counting
    still frees everything as usual.
    """
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


def find_pairs(records: Sequence[Record], keys: Iterable[tuple[str, str, int]],
               parameters: Parameters | None, *, max_block: int,
               review_threshold: float, name_frequencies: bool = True,
               progress: Callable[[str, int], None] | None = None) -> EngineResult:
    """Scored candidate pairs of ``records``.

    ``keys`` are ``(kind, digest, index into records)``. With ``parameters`` None they
    are estimated from these records and their candidate pairs. A pair is kept when
    it may be merged automatically, or when its weight is at least
    ``review_threshold`` and something besides a mobile agrees. Without
    ``name_frequencies`` (a handful of records, as in an online check, tell nothing
    about how common a name is) names weigh by level only. ``progress`` hears of
    each stage as it ends: ``("keys", n)``, ``("candidates", n)``, ``("compared", n)``,
    ``("parameters", 0)``, ``("kept", n)``.
    """
    if max_block < 2:
        raise ValueError("max_block must be at least 2")
    with paused_gc():
        return _find_pairs(records, keys, parameters, max_block, review_threshold,
                           name_frequencies, progress or (lambda stage, count: None))


def _find_pairs(records: Sequence[Record], keys: Iterable[tuple[str, str, int]],
                parameters: Parameters | None, max_block: int, review_threshold: float,
                name_frequencies: bool, report: Callable[[str, int], None]) -> EngineResult:
    n = len(records)
    blocks, key_count = group_keys(keys)
    report("keys", key_count)
    pairs, skipped, compared = candidate_pairs(blocks, n, max_block)
    del blocks
    report("candidates", len(pairs))

    codes = array("H")  # comparison vectors, in the order of ``pairs``: 540 patterns
    sessions = [(Counter[int](), sum({BIT[KIND_SPACES[k]] for k in s.kinds}))
                for s in SESSIONS]
    for key, mask in pairs.items():
        i, j = divmod(key, n)
        code = encode(compare(records[i], records[j]))
        codes.append(code)
        for session_counts, bits in sessions:
            if mask & bits:
                session_counts[code] += 1

    report("compared", len(pairs))
    frequencies = NameFrequencies.of(records)
    # A few hundred readers (a new installation, a small library's scan) tell too
    # little about value frequencies: the documented defaults serve instead.
    enough = n >= MIN_RECORDS_TO_ESTIMATE
    if parameters is None:
        patterns = {s.name: c for s, (c, _) in zip(SESSIONS, sessions, strict=True)}
        parameters = (estimate_from_patterns(records, patterns, frequencies) if enough
                      else DEFAULT_PARAMETERS)
    report("parameters", 0)
    model = MatchModel(parameters, frequencies if name_frequencies and enough else None)
    result, uncorroborated = _keep(records, pairs, codes, model, review_threshold)
    report("kept", len(result))
    counts = EngineCounts(records=n, keys=key_count, blocks=compared,
                          skipped_blocks=len(skipped), candidate_pairs=len(pairs),
                          kept=len(result), auto_merge=sum(c.match.auto_merge for c in result),
                          uncorroborated=uncorroborated)
    return EngineResult(pairs=result, skipped=skipped, counts=counts, parameters=parameters)


def _keep(records: Sequence[Record], pairs: dict[int, int], codes: array[int], model: MatchModel,
          threshold: float) -> tuple[list[Candidate], int]:
    """Weigh every pair from its stored comparison vector; build Matches for the kept."""
    weights = model.weights
    # Per pattern: the weight of everything but an exact name (which depends on the
    # name's frequency), whether it can be an automatic merge, and corroboration.
    table: dict[int, tuple[float, bool, bool, bool]] = {}
    n = len(records)
    kept: list[Candidate] = []
    uncorroborated = 0
    for code, (key, mask) in zip(codes, pairs.items(), strict=True):
        entry = table.get(code)
        if entry is None:
            levels = decode(code)
            name = levels[I_NAME]
            rest = model.weight_besides_name(levels)
            entry = table[code] = (
                rest if name == N_EXACT else rest + weights[I_NAME][name],
                may_merge(levels),
                corroborated(levels), name == N_EXACT)
        weight, maybe_auto, corroborates, exact_name = entry
        if not corroborates:
            uncorroborated += 1
            continue
        i, j = divmod(key, n)
        a = records[i]
        if exact_name:
            weight += model.name_weight(N_EXACT, a.name.full)[0]
        if weight >= threshold or maybe_auto:
            match = model.match(a, records[j], decode(code))
            if match.auto_merge or match.weight >= threshold:
                kept.append(Candidate(i, j, match, _KINDS_OF_MASK[mask]))
    kept.sort(key=lambda c: (-c.match.weight, c.first, c.second))
    return kept, uncorroborated


__all__ = ["MIN_RECORDS_TO_ESTIMATE", "Candidate", "EngineCounts", "EngineResult",
           "SkippedBlock", "find_pairs", "paused_gc"]

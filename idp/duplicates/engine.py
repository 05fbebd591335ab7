"""Batch duplicate detection over plain values: records and their blocking keys in,
scored candidate pairs out. No database here; the scan loads and stores.

Blocking: two records are compared only when they share a key of one kind (the two
document kinds form one space, so a number held by one reader meets the same number
claimed by another). A block larger than ``max_block`` (a placeholder birth date, a
library's front-desk phone) would cost its square in comparisons and say little;
it is skipped and reported. Keys are grouped by the built-in hash of their digest,
not the digest itself, which keeps a million readers' keys in a few hundred
megabytes; a hash collision only merges two blocks, so it costs a comparison and
never adds evidence (the comparisons read the records, not the keys).

Every candidate pair is compared once, whatever number of keys found it; pairs are
kept as packed ints until the model has weighed them, and a :class:`Match` is built
only for a pair that is kept: an automatic merge, or a pair at or above the review
threshold whose evidence is more than a shared mobile.
"""

from __future__ import annotations

from array import array
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass

from .comparisons import (
    COMPARISONS,
    I_NAME,
    N_EXACT,
    compare,
    decode,
    encode,
)
from .estimate import SESSIONS, estimate_from_patterns
from .features import Record
from .model import Match, MatchModel, NameFrequencies, corroborated, may_merge
from .parameters import Parameters

#: Key kind -> (blocking space, bit in a pair's "found by" mask).
KIND_SPACES = {"doc": "doc", "doc_claim": "doc", "mobile": "mobile", "py_birth": "py_birth",
               "sn_birth": "sn_birth"}
SPACES = ("doc", "mobile", "py_birth", "sn_birth")
_BIT = {space: 1 << n for n, space in enumerate(SPACES)}
_KINDS_OF_MASK = [tuple(s for s in SPACES if mask & _BIT[s]) for mask in range(1 << len(SPACES))]


@dataclass(frozen=True, slots=True)
class Candidate:
    """Two records (indices, ``first < second``) and the model's verdict."""

    first: int
    second: int
    match: Match
    #: The blocking spaces in which the pair shares a key.
    kinds: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class SkippedBlock:
    kind: str
    size: int


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


def _blocks(keys: Iterable[tuple[str, str, int]]) -> tuple[dict[str, list[list[int]]], int]:
    tables: dict[str, dict[int, int | list[int]]] = {space: {} for space in SPACES}
    by_kind = {kind: tables[space] for kind, space in KIND_SPACES.items()}
    count = 0
    for kind, digest, index in keys:
        table = by_kind.get(kind)
        if table is None:
            raise ValueError(f"unknown blocking-key kind {kind!r}")
        count += 1
        slot = hash(digest)
        seen = table.setdefault(slot, index)
        if seen is index:  # the first reader with this key (or the same one again)
            continue
        if isinstance(seen, int):
            if seen != index:
                table[slot] = [seen, index]
        elif seen[-1] != index:
            seen.append(index)
    blocks = {space: [members for members in table.values() if not isinstance(members, int)]
              for space, table in tables.items()}
    return blocks, count


def _candidates(blocks: dict[str, list[list[int]]], n: int,
                max_block: int) -> tuple[dict[int, int], list[SkippedBlock], int]:
    """Every pair of every block, packed as ``first * n + second``, with the mask of
    the spaces it was found in. A reader listed twice in a block (its keys came
    apart) pairs with nobody twice and never with itself."""
    pairs: dict[int, int] = {}
    skipped: list[SkippedBlock] = []
    compared = 0
    get = pairs.get
    for space, members_list in blocks.items():
        bit = _BIT[space]
        for members in members_list:
            size = len(members)
            if size > max_block:
                skipped.append(SkippedBlock(space, size))
                continue
            compared += 1
            for a in range(size - 1):
                x = members[a]
                for y in members[a + 1:]:
                    if x < y:
                        key = x * n + y
                    elif y < x:
                        key = y * n + x
                    else:
                        continue
                    pairs[key] = get(key, 0) | bit
    skipped.sort(key=lambda block: (-block.size, block.kind))
    return pairs, skipped, compared


def find_pairs(records: Sequence[Record], keys: Iterable[tuple[str, str, int]],
               parameters: Parameters | None, *, max_block: int,
               review_threshold: float,
               progress: Callable[[str, int], None] | None = None) -> EngineResult:
    """Scored candidate pairs of ``records``.

    ``keys`` are ``(kind, digest, index into records)``. With ``parameters`` None they
    are estimated from these records and their candidate pairs. A pair is kept when
    it may be merged automatically, or when its weight is at least
    ``review_threshold`` and something besides a mobile agrees. ``progress`` hears
    of each stage as it ends: ``("keys", n)``, ``("candidates", n)``,
    ``("compared", n)``, ``("parameters", 0)``, ``("kept", n)``.
    """
    report = progress or (lambda stage, count: None)
    if max_block < 2:
        raise ValueError("max_block must be at least 2")
    n = len(records)
    blocks, key_count = _blocks(keys)
    report("keys", key_count)
    pairs, skipped, compared = _candidates(blocks, n, max_block)
    del blocks
    report("candidates", len(pairs))

    codes = array("H")  # comparison vectors, in the order of ``pairs``: 540 patterns
    sessions = [(Counter[int](), sum({_BIT[KIND_SPACES[k]] for k in s.kinds}))
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
    if parameters is None:
        patterns = {s.name: c for s, (c, _) in zip(SESSIONS, sessions, strict=True)}
        parameters = estimate_from_patterns(records, patterns, frequencies)
    report("parameters", 0)
    model = MatchModel(parameters, frequencies)
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


__all__ = ["COMPARISONS", "Candidate", "EngineCounts", "EngineResult", "SkippedBlock",
           "find_pairs"]

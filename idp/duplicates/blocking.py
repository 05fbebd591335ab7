"""Blocking: which pairs of readers are compared at all.

Two records are compared only when they share a key of one kind; the two document
kinds form one space, so a number held by one reader meets the same number claimed
by another. A block larger than ``max_block`` (a placeholder birth date, a
library's front-desk phone) would cost its square in comparisons and say little:
it is skipped and reported.

Keys are grouped by the built-in hash of their digest, not the digest itself,
which keeps a million readers' keys in a few hundred megabytes; a hash collision
only merges two blocks, so it costs a comparison and never adds evidence (the
comparisons read the records, not the keys).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

#: Key kind -> blocking space (each space has a bit in a pair's "found by" mask).
KIND_SPACES = {"doc": "doc", "doc_claim": "doc", "mobile": "mobile", "py_birth": "py_birth",
               "sn_birth": "sn_birth"}
SPACES = ("doc", "mobile", "py_birth", "sn_birth")
BIT = {space: 1 << n for n, space in enumerate(SPACES)}


@dataclass(frozen=True, slots=True)
class SkippedBlock:
    kind: str
    size: int


def group_keys(keys: Iterable[tuple[str, str, int]]) -> tuple[dict[str, list[list[int]]], int]:
    """The blocks of two or more records per space, and how many keys there were.

    A key seen once costs one dict entry holding an int; only a key that recurs
    gets a list. The readers' keys are read once, so they may be streamed.
    """
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


def candidate_pairs(blocks: dict[str, list[list[int]]], n: int,
                    max_block: int) -> tuple[dict[int, int], list[SkippedBlock], int]:
    """Every pair of every block, packed as ``first * n + second``, with the mask of
    the spaces it was found in. A reader listed twice in a block (its keys came
    apart) pairs with nobody twice and never with itself."""
    pairs: dict[int, int] = {}
    skipped: list[SkippedBlock] = []
    compared = 0
    get = pairs.get
    for space, members_list in blocks.items():
        bit = BIT[space]
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

"""What a planned batch takes, so that a batch planned before it commits does not
take it again.

Batches are planned on one thread while the batch before is still being written
on another (``behind``). The look-ups of a batch see only committed rows, so the
planner adds the claims of every batch submitted but not yet committed: the local
ids and barcodes it links, the row keys it records, the identity documents of the
readers it creates, the readers it links here, and the card numbers and serials it
hands out. With them, two batches in flight decide exactly as two batches one
after the other would.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from ..duplicates.features import MatchName


@dataclass
class Claims:
    local_ids: set[str] = field(default_factory=set)
    barcodes: set[str] = field(default_factory=set)
    row_keys: set[str] = field(default_factory=set)
    #: identity-document hash -> (reader id, its name for matching)
    documents: dict[str, tuple[str, MatchName]] = field(default_factory=dict)
    linked: set[str] = field(default_factory=set)  # reader ids linked to this library
    card_numbers: set[str] = field(default_factory=set)
    serials: set[str] = field(default_factory=set)

    @classmethod
    def union(cls, claims: Iterable[Claims]) -> Claims:
        total = cls()
        for one in claims:
            total.local_ids |= one.local_ids
            total.barcodes |= one.barcodes
            total.row_keys |= one.row_keys
            total.documents.update(one.documents)
            total.linked |= one.linked
            total.card_numbers |= one.card_numbers
            total.serials |= one.serials
        return total

"""Contract, part three: merging patrons, for backends declaring ``MERGE``
(rules in ``adapters/merging.py``).

Mixed into :class:`tests.adapters.contract.PatronStoreContract`; see there for
what a backend's test module provides.
"""

from __future__ import annotations

import pytest

from adapters.capabilities import Capability
from adapters.errors import Conflict, PatronNotFound, Rejected
from adapters.port import PatronLister, PatronStore
from adapters.values import LocalPatron, PatronMatch
from tests.adapters.patrons import new_request


def _mergeable(store: PatronStore) -> None:
    if Capability.MERGE not in store.capabilities:
        pytest.skip(f"{store.backend} does not declare MERGE")


class MergeContract:
    absent_id: str

    def block_locally(self, store: PatronStore, local_id: str) -> None:
        raise NotImplementedError

    def _linked(self, store: PatronStore, n: int, reader: str | None) -> LocalPatron:
        patron = store.create(new_request(n), f"k-m{n}")
        return store.write_backlink(patron.local_id, reader) if reader else patron

    def test_merge_keeps_the_first_with_its_backlink(self, store: PatronStore) -> None:
        _mergeable(store)
        kept = self._linked(store, 80, "R-80")
        other = self._linked(store, 81, "R-81")
        self.block_locally(store, other.local_id)
        merged = store.merge([kept.local_id, other.local_id])
        assert merged.local_id == kept.local_id and merged.reader_id == "R-80"
        assert (merged.surname, merged.barcode) == (kept.surname, kept.barcode)
        assert merged.blocked_locally  # the other's block came along
        assert store.get(kept.local_id) == merged
        assert store.get(other.local_id) is None
        assert store.find(PatronMatch(reader_id="R-81")) is None
        found = store.find(PatronMatch(reader_id="R-80"))
        assert found is not None and found.local_id == kept.local_id
        by_card = store.find(PatronMatch(barcode=other.barcode))  # old cards may live on
        assert by_card is None or by_card.local_id == kept.local_id
        if isinstance(store, PatronLister) and Capability.ITERATE in store.capabilities:
            assert [p.local_id for p in store.iter_patrons(None, 10)] == [kept.local_id]
            assert store.count_patrons() == 1
        # Retried (the first answer was lost): nothing changes.
        assert store.merge([kept.local_id, other.local_id]) == merged
        assert store.get(kept.local_id) == merged
        # The freed back-link can name a patron again.
        fresh = self._linked(store, 82, "R-81")
        assert store.find(PatronMatch(reader_id="R-81")) == fresh

    def test_merge_into_an_unlinked_patron_takes_the_others_backlink(
            self, store: PatronStore) -> None:
        _mergeable(store)
        kept = self._linked(store, 83, None)
        first = self._linked(store, 84, None)
        second = self._linked(store, 85, "R-85")
        merged = store.merge([kept.local_id, first.local_id, second.local_id])
        assert merged.reader_id == "R-85"
        found = store.find(PatronMatch(reader_id="R-85"))
        assert found is not None and found.local_id == kept.local_id
        assert store.get(first.local_id) is None and store.get(second.local_id) is None

    def test_merge_bad_input_changes_nothing(self, store: PatronStore) -> None:
        _mergeable(store)
        kept = self._linked(store, 86, None)
        a = self._linked(store, 87, "R-87")
        b = self._linked(store, 88, "R-88")
        for ids in ([kept.local_id], [kept.local_id, kept.local_id], []):
            with pytest.raises(Rejected) as rejected:
                store.merge(ids)
            assert rejected.value.field == "local_ids"
        with pytest.raises(PatronNotFound):
            store.merge([kept.local_id, self.absent_id])
        with pytest.raises(PatronNotFound):
            store.merge([self.absent_id, a.local_id])
        with pytest.raises(Conflict) as conflict:  # which reader would the kept one be?
            store.merge([kept.local_id, a.local_id, b.local_id])
        assert conflict.value.field == "reader_id"
        assert [store.get(p.local_id) for p in (kept, a, b)] == [kept, a, b]

"""Contract, part two: changes to existing patrons (update, blocks, back-link).

Mixed into :class:`tests.adapters.contract.PatronStoreContract`; see there for
what a backend's test module provides.
"""

from __future__ import annotations

from datetime import date

import pytest

from adapters.errors import Conflict, PatronNotFound, VersionConflict
from adapters.port import PatronStore
from adapters.values import LocalPatron, PatronMatch, PatronPatch
from tests.adapters.patrons import RACERS, new_request, race


class ChangeContract:
    #: A well-formed local id of this backend that names no patron.
    absent_id = "999999"

    def block_locally(self, store: PatronStore, local_id: str) -> None:
        """Set a block the way library staff would, behind the port's back."""
        raise NotImplementedError

    # -- update -------------------------------------------------------------

    def test_update_with_current_version(self, store: PatronStore) -> None:
        created = store.create(new_request(10), "k-10")
        patch = PatronPatch(surname="Wang", expiry=date(2032, 1, 31))
        updated = store.update(created.local_id, patch, created.version)
        fetched = store.get(created.local_id)
        assert fetched == updated
        assert (fetched.surname, fetched.first_name, fetched.expiry) == (
            "Wang", "Wei", date(2032, 1, 31)
        )
        assert fetched.version != created.version

    def test_update_with_stale_version_conflicts(self, store: PatronStore) -> None:
        created = store.create(new_request(11), "k-11")
        store.update(created.local_id, PatronPatch(first_name="Fang"), created.version)
        with pytest.raises(VersionConflict) as caught:
            store.update(created.local_id, PatronPatch(surname="Stale"), created.version)
        assert caught.value.expected == created.version
        current = store.get(created.local_id)
        assert current is not None and current.surname == created.surname
        assert caught.value.actual == current.version

    def test_change_to_missing_patron(self, store: PatronStore) -> None:
        with pytest.raises(PatronNotFound):
            store.update(self.absent_id, PatronPatch(surname="X"), "v")
        with pytest.raises(PatronNotFound):
            store.suspend(self.absent_id, "test")

    # -- blocks -------------------------------------------------------------

    def test_suspend_and_reinstate(self, store: PatronStore) -> None:
        created = store.create(new_request(12), "k-12")
        store.suspend(created.local_id, "identity under review")
        store.suspend(created.local_id, "identity under review")  # idempotent
        suspended = store.get(created.local_id)
        assert suspended is not None
        assert suspended.blocked_by_province and not suspended.blocked_locally
        store.reinstate(created.local_id)
        reinstated = store.get(created.local_id)
        assert reinstated is not None and not reinstated.blocked

    def test_reinstate_never_lifts_local_block(self, store: PatronStore) -> None:
        created = store.create(new_request(13), "k-13")
        self.block_locally(store, created.local_id)
        store.suspend(created.local_id, "identity under review")
        both = store.get(created.local_id)
        assert both is not None and both.blocked_locally and both.blocked_by_province
        store.reinstate(created.local_id)
        store.reinstate(created.local_id)
        after = store.get(created.local_id)
        assert after is not None and after.blocked_locally and not after.blocked_by_province

    def test_reinstate_without_province_block_keeps_local_block(self, store: PatronStore) -> None:
        created = store.create(new_request(14), "k-14")
        self.block_locally(store, created.local_id)
        store.reinstate(created.local_id)
        after = store.get(created.local_id)
        assert after is not None and after.blocked_locally

    # -- back-link ----------------------------------------------------------

    def test_backlink_write_and_find(self, store: PatronStore) -> None:
        created = store.create(new_request(15), "k-15")
        written = store.write_backlink(created.local_id, "R-15")
        # What it returns is the patron as stored, version included.
        assert written == store.get(created.local_id) and written.reader_id == "R-15"
        store.write_backlink(created.local_id, "R-15")  # idempotent
        found = store.find(PatronMatch(reader_id="R-15"))
        assert found is not None and found.local_id == created.local_id
        assert found.reader_id == "R-15"

    def test_backlink_is_unique(self, store: PatronStore) -> None:
        a = store.create(new_request(16), "k-16")
        b = store.create(new_request(17), "k-17")
        store.write_backlink(a.local_id, "R-16")
        with pytest.raises(Conflict) as caught:
            store.write_backlink(b.local_id, "R-16")
        assert caught.value.local_id == a.local_id
        with pytest.raises(Conflict):
            store.write_backlink(a.local_id, "R-other")

    def test_backlink_race_links_one_patron(self, store: PatronStore) -> None:
        for round_ in range(3):
            patrons = [store.create(new_request(20 + 10 * round_ + i), f"k-b{round_}-{i}")
                       for i in range(RACERS)]
            reader = f"R-race-{round_}"

            def link(i: int, p: list[LocalPatron] = patrons, r: str = reader) -> LocalPatron:
                return store.write_backlink(p[i].local_id, r)

            results = race(RACERS, link)
            winners = [r for r in results if isinstance(r, LocalPatron)]
            assert len(winners) == 1
            assert all(isinstance(r, Conflict) for r in results if r not in winners)
            found = store.find(PatronMatch(reader_id=reader))
            assert found is not None and found.local_id == winners[0].local_id

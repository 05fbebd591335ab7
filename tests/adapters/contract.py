"""The contract every PatronStore backend passes (STYLE 5).

A backend's test module subclasses :class:`PatronStoreContract` and provides:

* fixture ``store``: a fresh, empty store whose library knows the local
  categories ``CATEGORIES`` and branches ``BRANCHES`` (from ``patrons.py``);
* fixture ``unreachable_store``: the same backend pointed at a system that does
  not answer (closed port, stopped server, fault switch);
* :meth:`block_locally`: set a block the way library staff would, behind the
  port's back.

Tests never sleep: races are started with a barrier and judged on results.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date

import pytest

from adapters.capabilities import Capability
from adapters.errors import (
    AmbiguousMatch,
    CapabilityMissing,
    Conflict,
    PatronNotFound,
    Rejected,
    Unavailable,
)
from adapters.port import PatronLister, PatronStore
from adapters.values import LocalPatron, PatronMatch, PatronPatch
from tests.adapters.contract_changes import ChangeContract
from tests.adapters.contract_merge import MergeContract
from tests.adapters.patrons import BRANCHES, CATEGORIES, RACERS, new_request, race

__all__ = ["BRANCHES", "CATEGORIES", "PatronStoreContract", "new_request", "race"]


class PatronStoreContract(ChangeContract, MergeContract):
    @pytest.fixture
    def store(self) -> PatronStore:
        raise NotImplementedError

    @pytest.fixture
    def unreachable_store(self) -> PatronStore:
        raise NotImplementedError

    # -- health and look-ups ------------------------------------------------

    def test_health(self, store: PatronStore, unreachable_store: PatronStore) -> None:
        assert store.health().ok
        assert not unreachable_store.health().ok

    def test_not_found_is_none(self, store: PatronStore) -> None:
        store.create(new_request(1), "k-1")
        assert store.get(self.absent_id) is None
        assert store.find(PatronMatch(barcode="nope")) is None
        assert store.find(PatronMatch(reader_id="R-none")) is None

    def test_a_local_id_in_other_digits_is_not_the_patron(self, store: PatronStore) -> None:
        """The same number in Arabic-Indic, full-width or superscript digits (which
        Python's ``isdigit`` accepts and ``int`` partly reads) names no patron."""
        created = store.create(new_request(3), "k-3")
        for digits in ("٠١٢٣٤٥٦٧٨٩", "０１２３４５６７８９", "⁰¹²³⁴⁵⁶⁷⁸⁹"):
            other = created.local_id.translate(str.maketrans("0123456789", digits))
            if other == created.local_id:
                other = created.local_id + digits[1]
            assert store.get(other) is None
            with pytest.raises(PatronNotFound):
                store.update(other, PatronPatch(surname="X"), created.version)
            with pytest.raises(PatronNotFound):
                store.write_backlink(other, "R-other-digits")
        assert store.get(created.local_id) == created

    def test_create_get_find_round_trip(self, store: PatronStore) -> None:
        request = new_request(2, birth_date=date(1984, 2, 29))
        created = store.create(request, "k-2")
        fetched = store.get(created.local_id)
        assert fetched == created
        assert (fetched.barcode, fetched.surname, fetched.first_name) == (
            request.barcode, request.surname, request.first_name
        )
        assert (fetched.birth_date, fetched.category, fetched.expiry) == (
            date(1984, 2, 29), "ADULT", date(2031, 6, 30)
        )
        assert not fetched.blocked and fetched.reader_id is None
        assert store.find(PatronMatch(barcode=request.barcode)) == created
        by_name = PatronMatch(surname=request.surname, birth_date=date(1984, 2, 29))
        assert store.find(by_name) == created

    def test_find_ambiguous(self, store: PatronStore) -> None:
        a = store.create(new_request(3, surname="Li", birth_date=date(2001, 5, 4)), "k-3")
        b = store.create(new_request(4, surname="Li", birth_date=date(2001, 5, 4)), "k-4")
        with pytest.raises(AmbiguousMatch) as caught:
            store.find(PatronMatch(surname="Li", birth_date=date(2001, 5, 4)))
        assert sorted(caught.value.local_ids) == sorted([a.local_id, b.local_id])
        narrowed = PatronMatch(surname="Li", birth_date=date(2001, 5, 4), barcode=b.barcode)
        assert store.find(narrowed) == b

    # -- create -------------------------------------------------------------

    def test_create_same_key_returns_same_patron(self, store: PatronStore) -> None:
        first = store.create(new_request(5), "k-5")
        again = store.create(new_request(5), "k-5")
        assert again.local_id == first.local_id
        other = store.create(new_request(6), "k-6")
        assert other.local_id != first.local_id

    def test_create_race_makes_one_patron(self, store: PatronStore) -> None:
        for round_ in range(3):
            n = 100 + round_

            def create(_racer: int, n: int = n) -> LocalPatron:
                return store.create(new_request(n), f"race-{n}")

            results = race(RACERS, create)
            errors = [r for r in results if isinstance(r, Exception)]
            assert errors == []
            ids = {r.local_id for r in results if isinstance(r, LocalPatron)}
            assert len(ids) == 1
            found = store.find(PatronMatch(barcode=new_request(n).barcode))
            assert found is not None and found.local_id in ids

    def test_duplicate_barcode_conflicts(self, store: PatronStore) -> None:
        first = store.create(new_request(7), "k-7")
        with pytest.raises(Conflict) as caught:
            store.create(new_request(8, barcode=first.barcode), "k-8")
        assert caught.value.field == "barcode"
        assert caught.value.local_id in (None, first.local_id)
        assert store.find(PatronMatch(surname=new_request(8).surname,
                                      birth_date=new_request(8).birth_date)) is None

    @pytest.mark.parametrize(("field", "value"), [("category", "NOPE"), ("branch", "NOWHERE")])
    def test_unknown_local_code_rejected(self, store: PatronStore, field: str, value: str) -> None:
        with pytest.raises(Rejected) as caught:
            store.create(new_request(9, **{field: value}), "k-9")
        assert caught.value.field == field
        assert store.find(PatronMatch(barcode=new_request(9).barcode)) is None
        # The key stays usable: a corrected retry creates the patron.
        assert store.create(new_request(9), "k-9").barcode == new_request(9).barcode

    # -- capabilities and outages -------------------------------------------

    def test_merge_only_where_declared(self, store: PatronStore) -> None:
        a = store.create(new_request(30), "k-30")
        b = store.create(new_request(31), "k-31")
        if Capability.MERGE in store.capabilities:
            return  # the merge tests in MergeContract
        with pytest.raises(CapabilityMissing):
            store.merge([a.local_id, b.local_id])
        assert store.get(b.local_id) == b

    def test_unreachable_raises_unavailable(self, unreachable_store: PatronStore) -> None:
        calls: list[Callable[[], object]] = [
            lambda: unreachable_store.get(self.absent_id),
            lambda: unreachable_store.find(PatronMatch(barcode="x")),
            lambda: unreachable_store.create(new_request(40), "k-40"),
            lambda: unreachable_store.update(self.absent_id, PatronPatch(surname="X"), "v"),
            lambda: unreachable_store.suspend(self.absent_id, "r"),
            lambda: unreachable_store.reinstate(self.absent_id),
            lambda: unreachable_store.write_backlink(self.absent_id, "R-40"),
        ]
        for call in calls:
            with pytest.raises(Unavailable) as caught:
                call()
            assert caught.value.retryable
            assert caught.value.backend == unreachable_store.backend

    # -- iterate (optional) ---------------------------------------------------

    def _iterate(self, lister: PatronLister, size: int,
                 between: Callable[[], object] | None = None) -> list[LocalPatron]:
        seen: list[LocalPatron] = []
        after: str | None = None
        while page := lister.iter_patrons(after, size):
            assert len(page) <= size
            seen.extend(page)
            after = page[-1].local_id
            if between is not None:
                between()
                between = None
        return seen

    def test_iter_patrons_pages_in_local_id_order(self, store: PatronStore) -> None:
        if Capability.ITERATE not in store.capabilities:
            pytest.skip(f"{store.backend} does not declare ITERATE")
        assert isinstance(store, PatronLister)
        assert store.iter_patrons(None, 10) == [] and store.count_patrons() == 0
        made = [store.create(new_request(50 + i), f"k-it-{i}") for i in range(5)]
        store.write_backlink(made[2].local_id, "R-it")
        self.block_locally(store, made[3].local_id)
        seen = self._iterate(store, 2)
        ids = [p.local_id for p in seen]
        assert sorted(ids) == sorted(p.local_id for p in made) and len(set(ids)) == 5
        assert seen == [store.get(i) for i in ids]
        assert [p.local_id for p in self._iterate(store, 3)] == ids  # a stable order
        by_id = {p.local_id: p for p in seen}
        assert by_id[made[2].local_id].reader_id == "R-it"
        assert by_id[made[3].local_id].blocked_locally
        assert store.count_patrons() == 5

    def test_iter_patrons_while_patrons_are_added(self, store: PatronStore) -> None:
        """Keyset paging: patrons added between pages never make an old one be read
        twice or skipped (offset paging would shift the pages)."""
        if Capability.ITERATE not in store.capabilities:
            pytest.skip(f"{store.backend} does not declare ITERATE")
        assert isinstance(store, PatronLister)
        made = {store.create(new_request(60 + i), f"k-add-{i}").local_id for i in range(6)}
        added: set[str] = set()

        def add() -> None:
            added.update(store.create(new_request(70 + i), f"k-add2-{i}").local_id
                         for i in range(6))

        ids = [p.local_id for p in self._iterate(store, 2, between=add)]
        assert len(ids) == len(set(ids))
        assert made <= set(ids) <= made | added
        assert store.count_patrons() == 12

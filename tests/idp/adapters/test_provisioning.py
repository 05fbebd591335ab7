"""Just-in-time provisioning: back-link first, then matching rules, else create."""

from __future__ import annotations

from datetime import date

from sqlalchemy import func, select

from adapters.memory import MemoryPatronStore
from adapters.values import CreateRequest, PatronMatch
from idp.context import Context
from idp.models import OutboxItem, Reader
from idp.services.provisioning import local_barcode, provision

from .conftest import RegisterFn, library


def _provision(ctx: Context, reader: Reader, code: str = "CITY"):
    with ctx.transaction() as session:
        fresh = session.get(Reader, reader.id)
        assert fresh is not None
        return provision(session, ctx, fresh, library(session, code))


def _local(store: MemoryPatronStore, reader: Reader, n: int, **over: object) -> str:
    fields: dict[str, object] = {
        "barcode": f"LOC{n:05d}", "surname": reader.family_name,
        "first_name": reader.given_name, "birth_date": reader.birth_date,
        "category": "ADULT", "branch": "MAIN", "expiry": date(2030, 1, 1),
    }
    fields.update(over)
    return store.create(CreateRequest(**fields), f"staff-{n}").local_id  # type: ignore[arg-type]


def test_creates_a_patron_once_and_links_it(ctx, city, store, register: RegisterFn):
    reader = register()
    link = _provision(ctx, reader)
    assert (link.state, link.method, link.local_barcode) == ("linked", "created",
                                                             reader.card_number)
    patron = store.get(link.local_id)
    assert patron is not None and patron.reader_id == reader.id
    assert patron.category == "ADULT" and patron.expiry == reader.expires_on
    again = _provision(ctx, reader)
    assert again.local_id == link.local_id
    assert store.health().detail.startswith("1 patrons")
    with ctx.transaction() as session:
        assert local_barcode(session, reader.id, "city") == reader.card_number
        assert local_barcode(session, reader.id, "PROV") is None


def test_finds_by_back_link_then_by_name_and_birth_date(ctx, city, store, register):
    linked, named = register(), register()
    by_link = _local(store, linked, 1, surname="Someone Else")
    store.write_backlink(by_link, linked.id)
    by_name = _local(store, named, 2)
    first, second = _provision(ctx, linked), _provision(ctx, named)
    assert (first.local_id, first.method) == (by_link, "auto_matched")
    assert (second.local_id, second.method, second.local_barcode) == (by_name, "auto_matched",
                                                                       "LOC00002")
    found = store.find(PatronMatch(reader_id=named.id))
    assert found is not None and found.local_id == by_name


def test_ambiguous_match_is_a_conflict_for_staff(ctx, city, store, register):
    reader = register()
    a, b = _local(store, reader, 3), _local(store, reader, 4)
    link = _provision(ctx, reader)
    assert link.state == "conflict" and sorted(link.candidates) == sorted([a, b])
    assert link.local_id is None and "ambiguous" in (link.last_error or "")
    assert _provision(ctx, reader).state == "conflict"  # waits for staff, no new patron
    assert store.health().detail.startswith("2 patrons")


def test_unreachable_library_leaves_a_pending_link_for_the_relay(ctx, city, store, register):
    reader = register()
    store.faults.go_down()
    link = _provision(ctx, reader)
    assert link.state == "pending" and "unavailable" in (link.last_error or "")
    with ctx.transaction() as session:
        events = session.scalars(select(OutboxItem.event).where(
            OutboxItem.reader_id == reader.id)).all()
        assert "link.provision" in events
    store.faults.come_up()
    assert _provision(ctx, reader).state == "linked"


def test_lost_reply_on_create_never_makes_a_second_patron(ctx, city, store, register):
    reader = register()
    store.faults.lose_next_reply()
    assert _provision(ctx, reader).state == "pending"
    assert _provision(ctx, reader).state == "linked"
    assert store.health().detail.startswith("1 patrons")


def test_patron_linked_to_another_reader_is_a_conflict(ctx, city, store, register):
    first, second = register(), register()
    local = _local(store, second, 5)
    store.write_backlink(local, first.id)  # the library tied it to somebody else
    link = _provision(ctx, second)
    assert link.state == "conflict" and link.candidates == [local]
    with ctx.transaction() as session:
        assert session.scalar(select(func.count()).select_from(OutboxItem).where(
            OutboxItem.event == "link.provision")) == 0

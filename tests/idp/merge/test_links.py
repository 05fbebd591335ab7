"""Links through a merge: moved, taken over, merged by the library's system where
its adapter can (memory store), left to staff where it cannot; the relay skips
the tombstone and delivers the merge to the survivor's libraries."""

from __future__ import annotations

import random
import re

from sqlalchemy import select

from adapters.memory import MemoryPatronStore
from adapters.values import PatronMatch
from idp.context import Context
from idp.models import LinkState, OutboxItem, Reader, ReaderLink
from idp.relay.reconcile import reconcile
from idp.relay.run import run_once
from idp.services import libraries, links, provisioning
from idp.services.actor import Actor, Role
from idp.services.merge import apply_merge
from idp.services.merge_plan import plan_merge

from .conftest import Twins, link_both

ADMIN = Actor(Role.ADMIN, "alice")


def _merge(ctx: Context, twins: Twins) -> int:
    with ctx.transaction() as session:
        return apply_merge(session, ctx, twins.survivor, twins.other, actor=ADMIN).id


def _link(ctx: Context, reader_id: str, code: str) -> ReaderLink | None:
    with ctx.sessions() as session:
        library = libraries.get_library(session, code)
        return session.scalar(select(ReaderLink).where(ReaderLink.reader_id == reader_id,
                                                       ReaderLink.library_id == library.id))


def _relay(ctx: Context, code: str):
    [report] = run_once(ctx, library=code, rng=random.Random(1))
    return report


def _items(ctx: Context, reader_id: str) -> list[OutboxItem]:
    with ctx.sessions() as session:
        return list(session.scalars(select(OutboxItem).where(OutboxItem.reader_id == reader_id)
                                    .order_by(OutboxItem.id)))


def test_the_library_merges_two_local_patrons_of_one_reader(ctx, city, store: MemoryPatronStore,
                                                             twins: Twins, monkeypatch):
    mine = link_both(ctx, twins.survivor, "CITY", store, twins.person.family_name)
    theirs = link_both(ctx, twins.other, "CITY", store, twins.person.family_name + "x")
    with ctx.sessions() as session:
        step = next(s for s in plan_merge(session, ctx, twins.survivor, twins.other).links
                    if s.library == "CITY")
    assert step.action == "merge_local" and step.notified
    _merge(ctx, twins)
    assert [i.event for i in _items(ctx, twins.survivor)][-1] == "reader.merge"
    asked: list[list[str]] = []
    real = store.merge
    monkeypatch.setattr(store, "merge", lambda ids: asked.append(list(ids)) or real(ids))
    report = _relay(ctx, "CITY")
    assert report.dead == 0 and report.errors == []
    assert asked == [[mine, theirs]]
    assert store.get(theirs) is None
    kept = store.get(mine)
    assert kept is not None and kept.reader_id == twins.survivor
    assert kept.surname == twins.person.family_name
    gone = _link(ctx, twins.other, "CITY")
    assert gone is not None and gone.state == LinkState.UNLINKED and gone.local_id is None
    assert f"merged into {mine}" in (gone.last_error or "")
    assert _link(ctx, twins.survivor, "CITY").local_id == mine
    # The delivery is idempotent: again, nothing to merge.
    with ctx.transaction() as session:
        from idp.services import outbox

        outbox.enqueue(session, session.get(Reader, twins.survivor), "reader.merge",
                       now=ctx.now())
    assert _relay(ctx, "CITY").dead == 0 and len(asked) == 1


def test_a_library_that_cannot_merge_gets_a_conflict_for_staff(ctx, univ_store, twins: Twins):
    mine = link_both(ctx, twins.survivor, "UNIV", univ_store, twins.person.family_name)
    theirs = link_both(ctx, twins.other, "UNIV", univ_store, twins.person.family_name + "x")
    with ctx.sessions() as session:
        plan = plan_merge(session, ctx, twins.survivor, twins.other)
    [step] = [s for s in plan.links if s.library == "UNIV"]
    assert step.action == "conflict" and not step.notified
    assert any(c.startswith("UNIV: both readers have a local patron") for c in plan.conflicts())
    _merge(ctx, twins)
    link = _link(ctx, twins.survivor, "UNIV")
    assert link.state == LinkState.CONFLICT and link.candidates == [mine, theirs]
    assert _link(ctx, twins.other, "UNIV").state == LinkState.UNLINKED
    assert not [i for i in _items(ctx, twins.survivor) if i.event == "reader.merge"]
    # Staff choose the other's patron: its back-link names the tombstone, which is fine.
    with ctx.transaction() as session:
        survivor = session.get(Reader, twins.survivor)
        resolved = links.resolve(session, ctx, survivor, libraries.get_library(session, "UNIV"),
                                 actor=Actor.cli(), local_id=theirs, create=False, reason=None)
        assert resolved.state == LinkState.LINKED and resolved.local_id == theirs


def test_a_link_only_the_other_had_moves_and_delivers(ctx, city, store, twins: Twins):
    theirs = link_both(ctx, twins.other, "CITY", store, twins.person.family_name + "x")
    _merge(ctx, twins)
    link = _link(ctx, twins.survivor, "CITY")
    assert link is not None and link.local_id == theirs and link.state == LinkState.LINKED
    report = _relay(ctx, "CITY")
    assert report.dead == 0, report.errors
    patron = store.get(theirs)
    # Province-owned fields follow the survivor; the back-link to the old id stays.
    assert patron.surname == twins.person.family_name and patron.reader_id == twins.other
    assert store.find(PatronMatch(reader_id=twins.survivor)) is None
    with ctx.transaction() as session:  # that back-link is no drift
        assert reconcile(session, ctx, libraries.get_library(session, "CITY"), repair=False,
                         actor=Actor.cli()) == []


def test_the_survivor_takes_the_others_patron_when_its_own_link_has_none(ctx, city, store,
                                                                          twins: Twins):
    theirs = link_both(ctx, twins.other, "CITY", store, twins.person.family_name + "x")
    store.faults.go_down()
    with ctx.transaction() as session:
        provisioning.provision(session, ctx, session.get(Reader, twins.survivor),
                        libraries.get_library(session, "CITY"))
    store.faults.come_up()
    assert _link(ctx, twins.survivor, "CITY").state == LinkState.PENDING
    _merge(ctx, twins)
    link = _link(ctx, twins.survivor, "CITY")
    assert link.state == LinkState.LINKED and link.local_id == theirs
    assert _link(ctx, twins.other, "CITY").state == LinkState.UNLINKED
    assert _relay(ctx, "CITY").dead == 0
    assert store.count_patrons() == 1  # no second patron was created for the survivor


def test_the_relay_skips_a_tombstone_and_makes_no_link_for_it(ctx, city, store, twins: Twins):
    # The other registered at CITY: its registration is still waiting in the outbox.
    assert [i.event for i in _items(ctx, twins.other)] == ["reader.register"]
    _merge(ctx, twins)
    report = _relay(ctx, "CITY")
    assert report.dead == 0
    [item] = _items(ctx, twins.other)
    assert item.state == "done" and re.match(r"skipped: merged into", item.last_error or "")
    assert _link(ctx, twins.other, "CITY") is None
    assert store.find(PatronMatch(reader_id=twins.other)) is None

"""Reconciliation reports missing, unlinked and changed patrons and repairs them
through the relay."""

from __future__ import annotations

from adapters.values import PatronMatch
from idp.relay.reconcile import reconcile
from idp.relay.run import run_once
from idp.services.actor import Actor
from idp.services.provisioning import get_link

from .conftest import RegisterFn, library


def _reconcile(ctx, repair: bool):
    with ctx.transaction() as session:
        return {d.reader_id: d for d in reconcile(session, ctx, library(session, "CITY"),
                                                  repair=repair, actor=Actor.cli())}


def test_drift_is_reported_and_repaired(ctx, city, store, register: RegisterFn):
    gone, cut, renamed, taken, fine = (register(home_library="CITY") for _ in range(5))
    run_once(ctx, library="CITY")
    local = {r.id: store.find(PatronMatch(reader_id=r.id)) for r in (gone, cut, renamed,
                                                                     taken, fine)}
    store.staff_delete(local[gone.id].local_id)
    store.staff_edit(local[cut.id].local_id, reader_id=None)
    store.staff_edit(local[renamed.id].local_id, surname="Typo", barcode="NEWCARD")
    store.staff_edit(local[taken.id].local_id, reader_id="somebody-else")
    report = _reconcile(ctx, repair=False)
    assert {k: (d.kind, d.repair) for k, d in report.items()} == {
        gone.id: ("missing", None), cut.id: ("unlinked", None),
        renamed.id: ("changed", None), taken.id: ("unlinked", None)}
    assert report[renamed.id].detail == "surname, barcode"
    assert _reconcile(ctx, repair=False).keys() == report.keys()  # reporting changes nothing
    repaired = _reconcile(ctx, repair=True)
    assert all(d.repair for d in repaired.values())
    [result] = run_once(ctx, library="CITY")
    assert (result.delivered, result.dead) == (3, 0)
    assert _reconcile(ctx, repair=False) == {}
    with ctx.transaction() as session:
        link = get_link(session, taken.id, library(session, "CITY").id)
        assert link is not None and link.state == "conflict"  # staff decide that one
    again = store.find(PatronMatch(reader_id=gone.id))
    assert again is not None and again.local_id != local[gone.id].local_id
    fixed = store.get(local[renamed.id].local_id)
    assert fixed is not None and fixed.surname == renamed.family_name

"""Unmerge: the other reader comes back as it was, with a new card; the survivor
keeps what changed after the merge; undone and stacked merges are refused."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from sqlalchemy import select

from idp.cardsvc import lifecycle
from idp.context import Context
from idp.duplicates.keys import refresh_keys
from idp.errors import Conflict, Forbidden
from idp.models import (
    Card,
    DuplicatePair,
    IdentityDocument,
    MatchKey,
    OutboxItem,
    Reader,
    ReaderLink,
    ReaderMerge,
)
from idp.schemas import DocumentVerificationIn, ReaderUpdateIn
from idp.services import readers
from idp.services.actor import Actor, Role
from idp.services.merge import apply_merge
from idp.services.unmerge import apply_unmerge

from .conftest import Twins, link_both

ADMIN = Actor(Role.ADMIN, "alice")
CLAIMED = "c" * 64
VOLATILE = ("updated_at", "version")


def _state(ctx: Context, reader_id: str) -> dict[str, Any]:
    """Everything about a reader an unmerge must bring back."""
    with ctx.sessions() as session:
        reader = session.get(Reader, reader_id)
        view = {k: v for k, v in readers.reader_view(reader, ctx).items() if k not in VOLATILE}
        return {
            "reader": view,
            "password_hash": reader.password_hash,
            "documents": sorted(session.scalars(select(IdentityDocument.id).where(
                IdentityDocument.reader_id == reader_id))),
            "keys": sorted(session.execute(select(MatchKey.kind, MatchKey.digest).where(
                MatchKey.reader_id == reader_id)).all()),
            "links": sorted(session.execute(select(
                ReaderLink.id, ReaderLink.library_id, ReaderLink.state, ReaderLink.local_id)
                .where(ReaderLink.reader_id == reader_id)).all()),
        }


@pytest.fixture
def prepared(ctx: Context, city, store, twins: Twins) -> Twins:
    """The survivor is document-verified without a password; the other has a
    verified mobile, a password, a later expiry, a card and a link at CITY."""
    with ctx.transaction() as session:
        survivor = session.get(Reader, twins.survivor)
        readers.verify_document(session, ctx, survivor, DocumentVerificationIn(),
                                actor=Actor.cli())
        survivor.password_hash = None
        other = session.get(Reader, twins.other)
        other.mobile_verified_at = ctx.now()
        other.assurance = "phone_verified"
        other.expires_on = other.expires_on + dt.timedelta(days=400)
        other.password_hash = ctx.passwords.hash("another-secret-1")
        lifecycle.issue(session, ctx, other, actor=Actor.cli())
        # Blocking keys as duplicate detection keeps them, with a claimed number that
        # cannot be recomputed (an imported patron's resident ID held by someone else).
        refresh_keys(session, ctx, survivor)
        refresh_keys(session, ctx, other, claimed_documents=[CLAIMED])
        low, high = sorted((twins.survivor, twins.other))
        session.add(DuplicatePair(reader_a=low, reader_b=high, score=14.5, auto_merge=False,
                                  explanation={"name": "agree"}, source="scan", state="open",
                                  created_at=ctx.now(), updated_at=ctx.now()))
    link_both(ctx, twins.other, "CITY", store, twins.person.family_name)
    return twins


def _merge(ctx: Context, twins: Twins) -> int:
    with ctx.transaction() as session:
        return apply_merge(session, ctx, twins.survivor, twins.other, actor=ADMIN).id


def test_round_trip_restores_the_other_and_keeps_later_changes(ctx: Context, prepared: Twins,
                                                               people):
    other_before = _state(ctx, prepared.other)
    survivor_before = _state(ctx, prepared.survivor)
    with ctx.sessions() as session:
        old_serial = lifecycle.current_card(session, prepared.other).serial
    merge_id = _merge(ctx, prepared)
    with ctx.sessions() as session:
        record = session.get(ReaderMerge, merge_id)
        assert set(record.snapshot["taken"]) == {"mobile", "expires_on", "password"}
        assert record.evidence["pair"]["score"] == 14.5
        assert session.get(DuplicatePair, record.pair_id).state == "merged"
        survivor = session.get(Reader, prepared.survivor)
        assert survivor.mobile_verified_at is not None and survivor.password_hash
        assert session.get(MatchKey, (prepared.survivor, "doc_claim", CLAIMED)) is not None
    new_mobile = people.reader().mobile
    with ctx.transaction() as session:  # a change after the merge: the survivor keeps it
        readers.update_reader(session, ctx, session.get(Reader, prepared.survivor),
                              ReaderUpdateIn(mobile=new_mobile), actor=Actor.cli())
    with ctx.transaction() as session:
        apply_unmerge(session, ctx, merge_id, actor=ADMIN, reason="two people after all")
    other_after = _state(ctx, prepared.other)
    assert other_after == other_before
    survivor_after = _state(ctx, prepared.survivor)
    assert survivor_after["documents"] == survivor_before["documents"]
    assert ("doc_claim", CLAIMED) in other_after["keys"]
    assert ("doc_claim", CLAIMED) not in survivor_after["keys"]
    assert survivor_after["password_hash"] is None  # taken from the other, unchanged: reverted
    assert survivor_after["reader"]["expires_on"] == survivor_before["reader"]["expires_on"]
    assert survivor_after["reader"]["mobile"] != survivor_before["reader"]["mobile"]
    with ctx.sessions() as session:
        record = session.get(ReaderMerge, merge_id)
        assert record.state == "undone" and record.undone_by == "admin:alice"
        assert session.get(DuplicatePair, record.pair_id).state == "unmerged"
        old = session.scalar(select(Card).where(Card.serial == old_serial))
        new = lifecycle.current_card(session, prepared.other)
        assert old.revoked and old.state == "replaced"
        assert new is not None and new.serial != old_serial and not new.revoked
        events = {i.event for i in session.scalars(select(OutboxItem))}
        assert "reader.unmerge" in events


def test_undone_twice_is_refused(ctx: Context, prepared: Twins):
    merge_id = _merge(ctx, prepared)
    with ctx.transaction() as session:
        apply_unmerge(session, ctx, merge_id, actor=ADMIN)
    with ctx.transaction() as session, pytest.raises(Conflict, match="already undone"):
        apply_unmerge(session, ctx, merge_id, actor=ADMIN)


def test_a_survivor_merged_away_later_must_be_unmerged_first(ctx: Context, prepared: Twins,
                                                             people, clock):
    from ..conftest import registration as registration_body
    from .conftest import register

    first = _merge(ctx, prepared)
    person = prepared.person
    clock.advance(days=1)
    third = register(ctx, registration_body(
        person, document_type="passport", document_number="G" + person.resident_id[-8:],
        document_country="CHN", birth_date=person.birth_date.isoformat(), sex=person.sex,
        mobile=people.reader().mobile))
    with ctx.transaction() as session:
        reader = session.get(Reader, third.id)
        readers.verify_document(session, ctx, reader, DocumentVerificationIn(),
                                actor=Actor.cli())
        reader.created_at = reader.created_at - dt.timedelta(days=30)
    with ctx.transaction() as session:
        second = apply_merge(session, ctx, third.id, prepared.survivor, actor=ADMIN).id
    with ctx.transaction() as session, pytest.raises(Conflict) as refused:
        apply_unmerge(session, ctx, first, actor=ADMIN)
    assert refused.value.code == "survivor_merged" and f"merge {second}" in str(refused.value)
    with ctx.transaction() as session:
        apply_unmerge(session, ctx, second, actor=ADMIN)
    with ctx.transaction() as session:
        apply_unmerge(session, ctx, first, actor=ADMIN)
    with ctx.sessions() as session:
        assert session.get(Reader, prepared.other).status == "active"
        assert session.get(Reader, prepared.survivor).status == "active"


def test_staff_cannot_unmerge(ctx: Context, prepared: Twins):
    merge_id = _merge(ctx, prepared)
    with ctx.transaction() as session, pytest.raises(Forbidden):
        apply_unmerge(session, ctx, merge_id, actor=Actor(Role.STAFF, "desk", "CITY"))

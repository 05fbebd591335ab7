"""Merging two readers through the service: the plan, the refusals, what the
survivor and the tombstone look like afterwards."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from idp.context import Context
from idp.errors import Conflict, Forbidden
from idp.models import (
    AuditEvent,
    IdentityDocument,
    MatchKey,
    OutboxItem,
    Reader,
    ReaderMerge,
    Status,
)
from idp.services import readers
from idp.services.actor import Actor, Role
from idp.services.lookup import find_reader
from idp.services.merge import apply_merge
from idp.services.merge_plan import plan_merge
from idp.services.merge_rules import MergeRefused

from ..conftest import registration as registration_body
from .conftest import Twins, register

ADMIN = Actor(Role.ADMIN, "alice")


def _counts(ctx: Context) -> dict[str, int]:
    with ctx.sessions() as session:
        return {model.__tablename__: session.scalar(select(func.count()).select_from(model))
                for model in (AuditEvent, OutboxItem, ReaderMerge, MatchKey)}


def _views(ctx: Context, *ids: str) -> list[dict]:
    with ctx.sessions() as session:
        return [readers.reader_view(session.get(Reader, i), ctx) for i in ids]


def test_the_plan_says_what_moves_and_changes_nothing(ctx: Context, twins: Twins):
    before, counts = _views(ctx, twins.survivor, twins.other), _counts(ctx)
    with ctx.sessions() as session:
        plan = plan_merge(session, ctx, twins.survivor, twins.other)
        session.rollback()
    shown = plan.to_json()
    assert shown["survivor"]["id"] == twins.survivor and shown["other"]["id"] == twins.other
    sources = {a["attribute"]: a["source"] for a in shown["attributes"]}
    assert sources["name"] == "survivor" and sources["home_library"] == "survivor"
    assert [d["type"] for d in shown["documents"]] == ["passport"]
    assert "older account" in shown["why"]
    assert {step["library"] for step in shown["links"]} == {"PROV"}
    assert _views(ctx, twins.survivor, twins.other) == before and _counts(ctx) == counts


def test_named_the_wrong_way_round_is_refused_with_the_right_order(ctx: Context, twins: Twins):
    with ctx.sessions() as session, pytest.raises(MergeRefused) as refused:
        plan_merge(session, ctx, twins.other, twins.survivor)
    message = str(refused.value)
    assert f"reader {twins.survivor} must be the survivor" in message
    assert f"{twins.survivor} then {twins.other}" in message


def test_merge_makes_a_tombstone_that_resolves_to_the_survivor(ctx: Context, twins: Twins):
    with ctx.transaction() as session:
        record = apply_merge(session, ctx, twins.survivor, twins.other, actor=ADMIN,
                             reason="same person, seen at the desk")
        merge_id = record.id
    with ctx.sessions() as session:
        other = session.get(Reader, twins.other)
        survivor = session.get(Reader, twins.survivor)
        assert other.status == Status.MERGED and other.merged_into == twins.survivor
        assert other.mobile_hash is None and other.password_hash is None
        assert find_reader(session, twins.other).id == twins.survivor
        assert find_reader(session, other.card_number).id == twins.survivor
        assert find_reader(session, twins.other, follow=False).id == twins.other
        types = sorted(d.doc_type for d in survivor.documents)
        assert types == ["passport", "resident_id"]
        assert session.scalar(select(func.count()).select_from(IdentityDocument).where(
            IdentityDocument.reader_id == twins.other)) == 0
        assert session.scalar(select(func.count()).select_from(MatchKey).where(
            MatchKey.reader_id == twins.other)) == 0
        assert session.scalar(select(func.count()).select_from(MatchKey).where(
            MatchKey.reader_id == twins.survivor)) > 0
        record = session.get(ReaderMerge, merge_id)
        assert record.state == "applied" and record.applied_by == "admin:alice"
        assert record.evidence["reason"] == "same person, seen at the desk"
        assert record.snapshot["other"]["status"] == "active"
        actions = [e.action for e in session.scalars(select(AuditEvent).where(
            AuditEvent.target_id.in_((twins.survivor, twins.other))))]
        assert "reader.merge" in actions and "reader.merged" in actions


def test_merges_that_make_no_sense_are_refused(ctx: Context, twins: Twins, people):
    with ctx.transaction() as session, pytest.raises(MergeRefused, match="itself"):
        apply_merge(session, ctx, twins.survivor, twins.survivor, actor=ADMIN)
    with ctx.transaction() as session:
        apply_merge(session, ctx, twins.survivor, twins.other, actor=ADMIN)
    for pair in ((twins.survivor, twins.other), (twins.other, twins.survivor)):
        with ctx.transaction() as session, pytest.raises(MergeRefused, match="already merged"):
            apply_merge(session, ctx, *pair, actor=ADMIN)
    child_person = people.reader(min_age=5, max_age=10)
    child = register(ctx, registration_body(child_person, guardian=twins.survivor,
                                            mobile=None, password=None))
    with ctx.transaction() as session, pytest.raises(MergeRefused, match="guardian"):
        apply_merge(session, ctx, twins.survivor, child.id, actor=ADMIN)


def test_only_province_administrators_apply(ctx: Context, twins: Twins):
    for actor in (Actor(Role.STAFF, "desk", "PROV"), Actor.reader(twins.survivor)):
        with ctx.transaction() as session, pytest.raises(Forbidden):
            apply_merge(session, ctx, twins.survivor, twins.other, actor=actor)
    with ctx.sessions() as session:
        assert session.get(Reader, twins.other).status == Status.ACTIVE


def test_refusals_are_conflicts(ctx: Context, twins: Twins):
    assert issubclass(MergeRefused, Conflict)

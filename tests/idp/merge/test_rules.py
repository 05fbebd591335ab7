"""The merge rules on plain values: who survives, where each attribute comes
from, what happens at a library where both readers have a link."""

from __future__ import annotations

import dataclasses
import datetime as dt

import pytest

from idp.services.merge_rules import (
    LinkAction,
    LinkFacts,
    MergeRefused,
    ReaderFacts,
    Side,
    check_mergeable,
    check_order,
    choices,
    link_action,
)

BASE = ReaderFacts(
    id="a" * 26, family_name="王", given_name="芳", sex="F", birth_date=dt.date(1990, 3, 7),
    mobile_hash=None, mobile_verified=False, home_library="PROV", category="adult",
    expires_on=dt.date(2030, 1, 1), has_password=True, guardian_id=None,
    assurance="self_asserted", status="active",
    created_at=dt.datetime(2025, 1, 1, tzinfo=dt.UTC))


def reader(**over: object) -> ReaderFacts:
    return dataclasses.replace(BASE, **over)  # type: ignore[arg-type]


OTHER = reader(id="b" * 26, created_at=dt.datetime(2026, 1, 1, tzinfo=dt.UTC))


def test_assurance_beats_age_and_age_beats_id():
    verified_newcomer = reader(id="z" * 26, assurance="document_verified",
                               created_at=dt.datetime(2026, 6, 1, tzinfo=dt.UTC))
    with pytest.raises(MergeRefused, match=f"reader {'z' * 26} must be the survivor"):
        check_order(BASE, verified_newcomer)
    check_order(verified_newcomer, BASE)
    with pytest.raises(MergeRefused, match="older account"):
        check_order(OTHER, BASE)
    twin = reader(id="c" * 26)  # same assurance and age: the smaller id survives
    check_order(BASE, twin)
    with pytest.raises(MergeRefused, match="id sorts first"):
        check_order(twin, BASE)


@pytest.mark.parametrize(("survivor", "other", "message"), [
    (BASE, BASE, "itself"),
    (BASE, reader(id="b" * 26, status="merged", merged_into="c" * 26), "already merged"),
    (BASE, reader(id="b" * 26, status="cancelled"), "cancelled"),
    (BASE, reader(id="b" * 26, guardian_id="a" * 26), "guardian"),
    (reader(guardian_id="b" * 26), OTHER, "guardian"),
])
def test_refused_pairs(survivor: ReaderFacts, other: ReaderFacts, message: str):
    with pytest.raises(MergeRefused, match=message):
        check_mergeable(survivor, other)


def _sources(survivor: ReaderFacts, other: ReaderFacts) -> dict[str, Side]:
    return {c.attribute: c.source for c in choices(survivor, other)}


def test_survivorship_per_attribute():
    other = reader(id="b" * 26, sex=None, mobile_hash="m2", mobile_verified=True,
                   expires_on=dt.date(2031, 1, 1), home_library="CITY",
                   guardian_id="g" * 26, has_password=True)
    survivor = reader(mobile_hash="m1", has_password=False, sex=None)
    made = {c.attribute: c for c in choices(survivor, other)}
    assert made["name"].source == Side.SURVIVOR
    assert made["mobile"].source == Side.OTHER and made["mobile"].other == "verified"
    assert made["assurance"].source == Side.OTHER
    assert made["assurance"].other == "phone_verified"
    assert made["expires_on"].source == Side.OTHER
    assert made["password"].source == Side.OTHER
    assert made["guardian"].source == Side.OTHER
    assert made["home_library"].source == Side.SURVIVOR and made["home_library"].conflict
    assert made["sex"].source == Side.SURVIVOR and not made["sex"].conflict


def test_values_the_survivor_has_win_and_conflicts_are_flagged():
    other = reader(id="b" * 26, birth_date=dt.date(1990, 3, 8), sex="M", mobile_hash="m2")
    made = {c.attribute: c for c in choices(reader(mobile_hash="m1"), other)}
    assert made["birth_date"].source == Side.SURVIVOR and made["birth_date"].conflict
    assert made["sex"].source == Side.SURVIVOR and made["sex"].conflict
    assert made["mobile"].source == Side.SURVIVOR  # neither verified: the survivor's
    assert made["assurance"].source == Side.SURVIVOR


def test_a_full_category_beats_a_temporary_one_only_for_the_same_birth_date():
    temporary = reader(category="temporary")
    assert _sources(temporary, OTHER)["category"] == Side.OTHER
    older = dataclasses.replace(OTHER, birth_date=dt.date(1980, 1, 1))
    assert _sources(temporary, older)["category"] == Side.SURVIVOR
    assert _sources(BASE, dataclasses.replace(OTHER, category="family"))["category"] == (
        Side.SURVIVOR)


def _link(state: str, local: str | None) -> LinkFacts:
    return LinkFacts(1, "CITY", state, local)


@pytest.mark.parametrize(("mine", "theirs", "merges", "action"), [
    (_link("linked", "1"), None, True, LinkAction.KEEP),
    (None, _link("linked", "2"), True, LinkAction.MOVE),
    (None, _link("pending", None), False, LinkAction.MOVE),
    (_link("linked", "1"), _link("linked", "2"), True, LinkAction.MERGE_LOCAL),
    (_link("linked", "1"), _link("linked", "2"), False, LinkAction.CONFLICT),
    (_link("pending", None), _link("linked", "2"), True, LinkAction.TAKE),
    (_link("conflict", None), _link("linked", "2"), False, LinkAction.TAKE),
    (_link("linked", "1"), _link("unlinked", None), True, LinkAction.DROP),
])
def test_link_actions(mine, theirs, merges, action):
    assert link_action(mine, theirs, merges) is action

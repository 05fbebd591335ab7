"""The staff API for merges: roles, plan, apply, show, undo, proposals, problems."""

from __future__ import annotations

from idp.api.merge_ops import MergeOut, MergePlanOut, PairOut
from idp.services import staff
from idp.services.actor import Actor, Role

from ..conftest import Api
from .conftest import Twins, link_both


def _staff(app, ctx, name: str, library: str) -> Api:
    with ctx.transaction() as session:
        token = staff.create_token(session, ctx.hasher, name, role=Role.STAFF, library=library,
                                   actor=Actor.cli(), now=ctx.now())
    return Api(app.test_client(), token)


def test_staff_propose_for_their_readers_and_administrators_apply(app, ctx, api: Api, city,
                                                                  store, twins: Twins):
    desk = _staff(app, ctx, "desk", "CITY")
    body = {"survivor": twins.survivor, "other": twins.other}
    # The survivor is homed at PROV and not linked to CITY yet: not CITY's reader.
    refused = desk.post("/api/merges/proposals", {"reader_a": twins.survivor,
                                                  "reader_b": twins.other})
    assert refused.status_code == 403 and refused.mimetype == "application/problem+json"
    assert "neither homed at nor linked to CITY" in refused.json["detail"]
    link_both(ctx, twins.survivor, "CITY", store, twins.person.family_name)
    proposed = desk.post("/api/merges/proposals", {"reader_a": twins.other,
                                                   "reader_b": twins.survivor,
                                                   "reason": "same face at the desk"})
    assert proposed.status_code == 201, proposed.json
    pair = PairOut.model_validate(proposed.json)
    assert pair.proposed_by == "staff:desk" and pair.state == "open" and pair.source == "staff"
    plan = desk.post("/api/merges/plan", body)
    assert plan.status_code == 200
    assert MergePlanOut.model_validate(plan.json).pair.id == pair.id
    forbidden = desk.post("/api/merges", {**body, "pair_id": pair.id})
    assert forbidden.status_code == 403 and "administrators" in forbidden.json["detail"]
    elsewhere = _staff(app, ctx, "prov-desk", "PROV")
    assert elsewhere.post("/api/merges/plan", body).status_code == 403

    merged = api.post("/api/merges", {**body, "pair_id": pair.id, "reason": "checked"})
    assert merged.status_code == 201, merged.json
    record = MergeOut.model_validate(merged.json)
    assert merged.headers["Location"].endswith(f"/api/merges/{record.id}")
    assert record.evidence["pair"]["proposed_by"] == "staff:desk"
    assert record.plan.pair.id == pair.id
    assert api.get(f"/api/merges/{record.id}").json == merged.json
    assert desk.get(f"/api/merges/{record.id}").status_code == 200
    assert desk.post(f"/api/merges/{record.id}/undo", {}).status_code == 403

    tomb = api.get(f"/api/readers/{twins.other}")
    assert tomb.status_code == 200 and tomb.json["status"] == "merged"
    assert tomb.json["merged_into"] == twins.survivor
    assert tomb.headers["Link"] == f'</api/readers/{twins.survivor}>; rel="canonical"'
    again = desk.post("/api/merges/proposals", {"reader_a": twins.other,
                                                "reader_b": twins.survivor})
    assert again.status_code == 409 and "already merged" in again.json["detail"]

    undone = api.post(f"/api/merges/{record.id}/undo", {"reason": "two people"})
    assert undone.status_code == 200 and undone.json["state"] == "undone"
    twice = api.post(f"/api/merges/{record.id}/undo", {})
    assert twice.status_code == 409 and twice.json["code"] == "already_undone"
    # An unmerged pair is never proposed again.
    never = desk.post("/api/merges/proposals", {"reader_a": twins.other,
                                                "reader_b": twins.survivor})
    assert never.status_code == 409 and never.json["code"] == "pair_decided"


def test_merge_problems(api: Api, twins: Twins):
    wrong = api.post("/api/merges", {"survivor": twins.other, "other": twins.survivor})
    assert wrong.status_code == 409 and wrong.json["code"] == "merge_refused"
    assert f"reader {twins.survivor} must be the survivor" in wrong.json["detail"]
    missing = api.post("/api/merges", {"survivor": twins.survivor, "other": "9" * 13})
    assert missing.status_code == 404
    extra = api.post("/api/merges/plan", {"survivor": twins.survivor, "other": twins.other,
                                          "pair_id": 1})
    assert extra.status_code == 422
    bad_pair = api.post("/api/merges", {"survivor": twins.survivor, "other": twins.other,
                                        "pair_id": 12345})
    assert bad_pair.status_code == 404 and bad_pair.json["field"] == "pair_id"
    assert api.get("/api/merges/77").status_code == 404
    assert api.get(f"/api/readers/{twins.other}").json["status"] == "active"

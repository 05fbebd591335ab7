"""``/api/merges``: plan, apply, show and undo merges; staff proposals."""

from __future__ import annotations

from flask import Response, jsonify, url_for

from ..app import current_context, db
from ..models import ReaderMerge
from ..schemas import MergeIn, MergePlanIn, ProposalIn, UnmergeIn
from ..services import merge, merge_plan, merge_proposals, unmerge
from ..services.lookup import find_reader
from ..services.merge_roles import require_reach
from . import api
from .auth import current_actor
from .body import parse_json


def _merge_response(record: ReaderMerge, status: int = 200) -> Response:
    # The card service's and the provider's runtimes import this package (for
    # their problem documents).
    from ..cardsvc.runtime import runtime
    from ..oidc import logout
    from ..oidc.runtime import provider

    db().commit()
    runtime().documents.invalidate()  # the other's cards were revoked or a new one issued
    provider().logouts.send(logout.take_after_commit(db()))  # the other's sessions ended
    response = jsonify(merge.merge_view(record))
    response.status_code = status
    return response


@api.post("/merges/plan")
def plan_merge() -> Response:
    data = parse_json(MergePlanIn)
    session = db()
    readers = [find_reader(session, ref, follow=False) for ref in (data.survivor, data.other)]
    require_reach(session, current_actor(), readers)
    plan = merge_plan.plan_for(session, current_context(), *readers)
    return jsonify(plan.to_json())


@api.post("/merges")
def apply_merge() -> Response:
    data = parse_json(MergeIn)
    record = merge.apply_merge(db(), current_context(), data.survivor, data.other,
                               actor=current_actor(), reason=data.reason, pair_id=data.pair_id)
    response = _merge_response(record, 201)
    response.headers["Location"] = url_for("api.show_merge", merge_id=record.id)
    return response


@api.get("/merges/<rowid:merge_id>")
def show_merge(merge_id: int) -> Response:
    session = db()
    record = unmerge.find_merge(session, merge_id)
    readers = [find_reader(session, ref, follow=False)
               for ref in (record.survivor_id, record.other_id)]
    require_reach(session, current_actor(), readers)
    return jsonify(merge.merge_view(record))


@api.post("/merges/<rowid:merge_id>/undo")
def undo_merge(merge_id: int) -> Response:
    data = parse_json(UnmergeIn)
    record = unmerge.apply_unmerge(db(), current_context(), merge_id, actor=current_actor(),
                                   reason=data.reason)
    return _merge_response(record)


@api.post("/merges/proposals")
def propose_merge() -> Response:
    data = parse_json(ProposalIn)
    pair = merge_proposals.propose_merge(db(), current_context(), data.reader_a, data.reader_b,
                                         actor=current_actor(), reason=data.reason)
    db().commit()
    response = jsonify(merge_proposals.pair_view(pair))
    response.status_code = 201
    return response

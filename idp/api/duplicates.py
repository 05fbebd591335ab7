"""``/api/duplicates``: the review queue and "not the same person" decisions."""

from __future__ import annotations

import math
from typing import Any

from flask import Response, jsonify, request

from ..app import current_context, db
from ..duplicates import queue
from ..duplicates.openapi_ops import DismissIn
from ..duplicates.views import pair_detail, pair_row
from ..errors import InvalidInput
from ..models import PairState
from ..services.lookup import find_reader
from . import MAX_ROW_ID, api
from .auth import current_actor
from .body import int_arg, parse_json

_STATES = {*(s.value for s in PairState), "all"}


def _after(text: str | None) -> tuple[float, int] | None:
    """``score,pair_id`` as ``next_after`` spells it: a finite score and a row id."""
    if text is None:
        return None
    score_text, _, id_text = text.partition(",")
    try:
        score = float(score_text)
    except ValueError:
        score = math.nan
    if not (math.isfinite(score) and id_text.isascii() and id_text.isdigit()
            and int(id_text) <= MAX_ROW_ID):
        raise InvalidInput("must be the next_after value of the previous page", field="after")
    return score, int(id_text)


@api.get("/duplicates")
def list_duplicates() -> Response:
    state = request.args.get("state", "open")
    if state not in _STATES:
        raise InvalidInput(f"must be one of {', '.join(sorted(_STATES))}", field="state")
    limit = int_arg("limit", 50, low=1, high=500)
    ref = request.args.get("reader")
    reader = find_reader(db(), ref).id if ref else None
    pairs = queue.list_pairs(db(), state=None if state == "all" else PairState(state),
                             reader=reader, after=_after(request.args.get("after")),
                             limit=limit)
    body: dict[str, Any] = {"items": [pair_row(pair) for pair in pairs]}
    if len(pairs) == limit:
        body["next_after"] = f"{pairs[-1].score},{pairs[-1].id}"
    return jsonify(body)


@api.get("/duplicates/<rowid:pair_id>")
def show_duplicate(pair_id: int) -> Response:
    return jsonify(pair_detail(db(), current_context(), queue.get_pair(db(), pair_id)))


@api.post("/duplicates/<rowid:pair_id>/dismiss")
def dismiss_duplicate(pair_id: int) -> Response:
    data = parse_json(DismissIn)
    ctx = current_context()
    pair = queue.dismiss(db(), queue.get_pair(db(), pair_id), actor=current_actor(),
                         reason=data.reason, now=ctx.now())
    db().commit()
    return jsonify(pair_detail(db(), ctx, pair))

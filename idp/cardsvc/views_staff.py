"""Staff API for cards under ``/api`` (staff bearer tokens, like the rest of /api)."""

from __future__ import annotations

import datetime as dt

from flask import Blueprint, Response, jsonify

from ..api.auth import authenticate_request, current_actor
from ..api.body import int_arg, parse_json
from ..app import current_context, db
from ..models import Card
from ..services.lookup import find_reader
from . import lifecycle, scans
from .openapi_ops import CardActionIn
from .runtime import runtime

bp = Blueprint("cards_api", __name__, url_prefix="/api")


@bp.before_request
def _authenticate() -> None:
    authenticate_request()


def _card_response(card: Card, status: int = 200) -> Response:
    db().commit()
    runtime().documents.invalidate()
    response = jsonify(lifecycle.card_view(card))
    response.status_code = status
    return response


@bp.get("/readers/<ref>/card")
def show_card(ref: str) -> Response:
    return jsonify(lifecycle.card_view(lifecycle.require_card(db(), find_reader(db(), ref))))


@bp.post("/readers/<ref>/card")
def issue_card(ref: str) -> Response:
    reader = find_reader(db(), ref)
    card = lifecycle.issue(db(), current_context(), reader, actor=current_actor())
    return _card_response(card, 201)


@bp.post("/readers/<ref>/card/<action>")
def card_action(ref: str, action: str) -> Response:
    data = parse_json(CardActionIn)
    reader = find_reader(db(), ref)
    card = lifecycle.change(db(), current_context(), reader, action, actor=current_actor(),
                            reason=data.reason)
    return _card_response(card)


@bp.get("/cards/sharing")
def sharing() -> Response:
    ctx = current_context()
    window = int_arg("window", ctx.settings.cards.sharing_window_minutes, low=1, high=10080)
    hours = int_arg("hours", 24, low=1, high=24 * 90)
    since = ctx.now() - dt.timedelta(hours=hours)
    items = scans.shared_cards(db(), since=since, window_minutes=window)
    return jsonify({"window_minutes": window, "since": since.isoformat(),
                    "items": [item.to_json() for item in items]})

"""Readers' card endpoints for apps and the card page: a signed batch for offline
use, the current QR code as PNG or SVG, and reporting the card lost.

GETs accept the page session or an access token with scope ``reader_card``; the one
POST here takes only a token (no cookies, so no CSRF); the page's own form is in
:mod:`views_page`.
"""

from __future__ import annotations

from flask import Blueprint, Response, jsonify

from cards import render_png, render_svg

from ..app import current_context, db
from ..services.actor import Actor
from . import issuance, lifecycle
from .auth import current_reader
from .runtime import runtime

bp = Blueprint("cards_reader", __name__)


def _private(response: Response, max_age: int = 0) -> Response:
    response.headers["Cache-Control"] = f"private, max-age={max_age}" if max_age else "no-store"
    return response


@bp.get("/cards/batch")
def batch() -> Response:
    reader = current_reader()
    card = runtime()
    issued = issuance.batch(db(), current_context(), card.signers, card.limiter, reader)
    db().commit()  # a first card may have been issued
    return _private(jsonify(issued.to_json()))


def _current_text() -> str:
    reader = current_reader()
    card = runtime()
    token = issuance.current_token(db(), current_context(), card.signers, card.limiter, reader)
    db().commit()
    return token.text


@bp.get("/cards/qr.png")
def qr_png() -> Response:
    return _private(Response(render_png(_current_text()), mimetype="image/png"))


@bp.get("/cards/qr.svg")
def qr_svg() -> Response:
    return _private(Response(render_svg(_current_text()), mimetype="image/svg+xml"))


@bp.post("/cards/me/lost")
def report_lost() -> Response:
    reader = current_reader(token_only=True)
    card = lifecycle.change(db(), current_context(), reader, "lost",
                            actor=Actor.reader(reader.id), reason="reported by the reader")
    db().commit()
    runtime().documents.invalidate()
    return _private(jsonify(lifecycle.card_view(card)))

"""Public documents for gates: the configuration, the signed trust list, the signed
status list and its deltas (cards/FORMAT.md §6, §7, §9). No authentication: they
carry no personal data, and gates trust them only through the pinned anchor."""

from __future__ import annotations

from flask import Blueprint, Response, request
from werkzeug.http import unquote_etag

from cards import WELL_KNOWN_PATH, StatusList, status_etag
from cards.anchor_transition import MEDIA_TYPE as ANCHOR_TRANSITIONS_MEDIA_TYPE
from cards.anchor_transition import transition_list
from cards.jws import strong_etag

from . import keys
from .documents import NotPublished
from .runtime import runtime

bp = Blueprint("cards_documents", __name__)

STATUS_MEDIA_TYPE = "application/vnd.readerpass.status-list"


def _cached(body: bytes | str, mimetype: str, max_age: int) -> Response:
    response = Response(body, mimetype=mimetype)
    response.headers["Cache-Control"] = f"public, max-age={max_age}"
    response.headers["Access-Control-Allow-Origin"] = "*"
    return response


def _short() -> int:
    """Caches may keep signed lists briefly; gates decide freshness by the signed iat."""
    return min(60, runtime().ctx.settings.cards.slot_seconds)


def _tagged(body: bytes, etag: str, mimetype: str, max_age: int) -> Response:
    """``body`` with its strong entity tag, or a bodiless 304 when ``If-None-Match``
    names it (weak comparison, RFC 9110 §13.1.2; FORMAT.md §6, §9)."""
    if request.if_none_match.contains_weak(unquote_etag(etag)[0]):
        response = _cached(b"", mimetype, max_age)
        response.status_code = 304
    else:
        response = _cached(body, mimetype, max_age)
    response.headers["ETag"] = etag
    return response


@bp.get(WELL_KNOWN_PATH)
def configuration() -> Response:
    cards = runtime()
    return _tagged(cards.configuration_body, cards.configuration_etag, "application/json", 3600)


@bp.get("/cards/trust-list")
def trust_list() -> Response:
    """``trust_list()`` re-signs first when the list is older than a third of the
    maximum age, so a 304 only ever confirms a recently signed list (FORMAT.md §6)."""
    signed = runtime().documents.trust_list().encode("ascii")
    return _tagged(signed, strong_etag(signed), "application/jwt", _short())


@bp.get("/cards/anchor-transitions")
def anchor_transitions() -> Response:
    """Every anchor transition, oldest first (FORMAT.md §11): gates that pin an older
    anchor follow the chain from it."""
    ctx = runtime().ctx
    with ctx.sessions() as session:
        body = transition_list(ctx.settings.server.public_url, keys.anchor_transitions(session))
    return _tagged(body, strong_etag(body), ANCHOR_TRANSITIONS_MEDIA_TYPE, _short())


def _status_answer(current: StatusList, body: bytes | None) -> Response:
    """The document, or 304 when the gate already holds ``current`` (If-None-Match with
    its entity tag, FORMAT.md §7 "No change"). ``ensure_fresh`` ran first, so a 304
    only ever confirms a list signed less than a third of the maximum age ago."""
    etag = status_etag(current)
    if request.if_none_match.contains_weak(unquote_etag(etag)[0]):
        response = _cached(b"", STATUS_MEDIA_TYPE, _short())
        response.status_code = 304
    elif body is None:  # gates fall back to the full list (FORMAT.md §9)
        return Response("no delta from this version; fetch the full list\n", status=404,
                        mimetype="text/plain")
    else:
        response = _cached(body, STATUS_MEDIA_TYPE, _short())
    response.headers["ETag"] = etag
    return response


@bp.get("/cards/status-list")
def status_list() -> Response:
    return _status_answer(*runtime().documents.status_list())


@bp.get("/cards/status-list/delta")
def status_delta() -> Response:
    since = request.args.get("since", "")
    if not (since.isascii() and since.isdigit()) or len(since) > 18:
        return Response("since must be a status-list version (a whole number)\n", status=400,
                        mimetype="text/plain")
    return _status_answer(*runtime().documents.status_delta(int(since)))


@bp.errorhandler(NotPublished)
def _not_published(error: NotPublished) -> Response:
    return Response(f"{error}\n", status=503, mimetype="text/plain",
                    headers={"Retry-After": "60"})

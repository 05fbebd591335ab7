"""Endpoints for gates, authenticated as a library's client (client_credentials):
online verification and scan-log upload. No cookies, so no CSRF."""

from __future__ import annotations

from flask import Blueprint, Response, jsonify, request

from ..api.body import parse_json
from ..api.problems import BadRequest
from ..app import current_context, db
from . import scans
from .auth import current_gate
from .runtime import runtime
from .verification import MAX_TEXT, scanned_text, verify_online

bp = Blueprint("cards_gate", __name__)


@bp.post("/cards/verify")
def verify() -> Response:
    """Body: ``{"token": "RP1..."}`` (JSON) or the scanned text itself (text/plain)."""
    card = runtime()
    gate = current_gate(card.gates, int(current_context().now().timestamp()))
    if request.is_json:
        data = request.get_json(silent=True)
        text = scanned_text(data.get("token") if isinstance(data, dict) else None)
    else:
        text = scanned_text(request.get_data(as_text=True).strip())
    if text is None:
        raise BadRequest(f"send the scanned text as {{\"token\": ...}} (at most {MAX_TEXT} "
                         "characters)", field="token")
    body = verify_online(db, current_context(), card, gate, text)
    response = jsonify(body)
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.post("/cards/scans")
def upload_scans() -> Response:
    """Body: ``{"events": [{"serial": ..., "at": unix seconds, "verdict": "ok"}, ...]}``."""
    gate = current_gate(runtime().gates, int(current_context().now().timestamp()))
    upload = parse_json(scans.ScanUpload)
    stored = scans.store(db(), current_context(), gate.library_id, upload)
    db().commit()
    response = jsonify({"received": len(upload.events), "stored": stored})
    response.status_code = 202
    return response

"""``GET /healthz``: the process answers and its database is reachable and current."""

from __future__ import annotations

from flask import Blueprint, Response, jsonify
from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError

from .. import migrate
from ..app import current_context

bp = Blueprint("health", __name__)


@bp.get("/healthz")
def healthz() -> Response:
    engine = current_context().engine
    try:
        with engine.connect() as connection:
            connection.execute(text("SELECT 1"))
        revision = migrate.current_revision(engine)
    except SQLAlchemyError as exc:
        response = jsonify({"status": "unavailable", "database": type(exc).__name__})
        response.status_code = 503
        return response
    head = migrate.head_revision(engine)
    healthy = revision == head
    response = jsonify({
        "status": "ok" if healthy else "unavailable",
        "database": "ok",
        "schema": revision,
        "schema_head": head,
    })
    response.status_code = 200 if healthy else 503
    response.headers["Cache-Control"] = "no-store"
    return response

"""``/api/readers``: register, show, list, search, update, status, verification."""

from __future__ import annotations

from typing import Any

from flask import Response, jsonify, request, url_for

from ..app import current_context, db
from ..schemas import (
    DocumentVerificationIn,
    MobileCodeIn,
    ReaderUpdateIn,
    RegistrationIn,
    StatusChangeIn,
)
from ..services import audit, readers, registration, verification
from ..services.lookup import find_reader, search_readers
from . import api
from .auth import current_actor
from .body import int_arg, parse_json


def _reader_response(reader: Any, status: int = 200) -> Response:
    session = db()
    session.commit()
    response = jsonify(readers.reader_view(reader, current_context()))
    response.status_code = status
    response.headers["ETag"] = f'"{reader.version}"'
    return response


@api.post("/readers")
def register_reader() -> Response:
    data = parse_json(RegistrationIn)
    reader = registration.register_reader(db(), current_context(), data, actor=current_actor())
    response = _reader_response(reader, 201)
    response.headers["Location"] = url_for("api.show_reader", ref=reader.id)
    return response


@api.get("/readers")
def list_readers() -> Response:
    limit = int_arg("limit", 50, low=1, high=500)
    query = request.args.get("q")
    if query is not None:
        found = search_readers(db(), current_context(), query, limit=limit)
    else:
        found = readers.list_readers(
            db(),
            library=request.args.get("library"),
            status=request.args.get("status"),
            after=request.args.get("after"),
            limit=limit,
        )
    ctx = current_context()
    items = [readers.reader_view(r, ctx) for r in found]
    body: dict[str, Any] = {"items": items}
    if query is None and len(found) == limit:
        body["next_after"] = found[-1].id
    return jsonify(body)


@api.get("/readers/<ref>")
def show_reader(ref: str) -> Response:
    """A tombstone answers for itself (status merged, ``merged_into``) and points at
    the survivor, which every other route acts on when given the old id."""
    reader = find_reader(db(), ref, follow=False)
    response = _reader_response(reader)
    if reader.merged_into is not None:
        survivor = url_for("api.show_reader", ref=reader.merged_into)
        response.headers["Link"] = f'<{survivor}>; rel="canonical"'
    return response


@api.patch("/readers/<ref>")
def update_reader(ref: str) -> Response:
    data = parse_json(ReaderUpdateIn)
    reader = find_reader(db(), ref)
    readers.update_reader(db(), current_context(), reader, data, actor=current_actor())
    return _reader_response(reader)


@api.post("/readers/<ref>/status")
def change_status(ref: str) -> Response:
    data = parse_json(StatusChangeIn)
    reader = find_reader(db(), ref)
    readers.change_status(db(), current_context(), reader, data, actor=current_actor())
    return _reader_response(reader)


@api.post("/readers/<ref>/document-verification")
def verify_document(ref: str) -> Response:
    data = parse_json(DocumentVerificationIn)
    reader = find_reader(db(), ref)
    readers.verify_document(db(), current_context(), reader, data, actor=current_actor())
    return _reader_response(reader)


@api.post("/readers/<ref>/mobile-verification")
def send_mobile_code(ref: str) -> Response:
    reader = find_reader(db(), ref)
    expires = verification.send_code(db(), current_context(), reader, actor=current_actor())
    db().commit()
    response = jsonify({"sent": True, "expires_at": expires.isoformat()})
    response.status_code = 202
    return response


@api.post("/readers/<ref>/mobile-verification/confirm")
def confirm_mobile_code(ref: str) -> Response:
    data = parse_json(MobileCodeIn)
    reader = find_reader(db(), ref)
    verification.confirm_code(db(), current_context(), reader, data.code, actor=current_actor())
    return _reader_response(reader)


@api.get("/readers/<ref>/audit")
def reader_audit(ref: str) -> Response:
    reader = find_reader(db(), ref)
    events = audit.events_for(db(), "reader", reader.id, limit=int_arg("limit", 100, low=1,
                                                                          high=1000))
    return jsonify({"items": [audit.event_view(e) for e in events]})

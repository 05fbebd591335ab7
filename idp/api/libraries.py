"""``/api/libraries``: the member-library registry."""

from __future__ import annotations

from flask import Response, jsonify, url_for

from ..app import current_context, db
from ..schemas import LibraryIn
from ..services import libraries
from . import api
from .auth import current_actor
from .body import parse_json


@api.get("/libraries")
def list_libraries() -> Response:
    return jsonify({"items": [libraries.library_view(x) for x in libraries.list_libraries(db())]})


@api.get("/libraries/<code>")
def show_library(code: str) -> Response:
    return jsonify(libraries.library_view(libraries.get_library(db(), code)))


@api.post("/libraries")
def add_library() -> Response:
    data = parse_json(LibraryIn)
    library = libraries.add_library(db(), data, actor=current_actor(),
                                    now=current_context().now())
    db().commit()
    response = jsonify(libraries.library_view(library))
    response.status_code = 201
    response.headers["Location"] = url_for("api.show_library", code=library.code)
    return response

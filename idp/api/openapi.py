"""The OpenAPI 3.1 document of the staff API, generated from the same pydantic
classes that validate requests, plus response shapes checked by the tests."""

from __future__ import annotations

import datetime as dt
from typing import Any

from flask import Response, jsonify
from pydantic import BaseModel
from pydantic.json_schema import models_json_schema

from .. import schemas
from ..cardsvc.openapi_ops import CARD_MODELS, CARD_OPERATIONS
from ..duplicates.openapi_ops import DUPLICATE_MODELS, DUPLICATE_OPERATIONS
from . import api
from .merge_ops import MERGE_MODELS, MERGE_OPERATIONS


class DocumentOut(BaseModel):
    type: str
    country: str
    number: str
    verified: bool


class ReaderOut(BaseModel):
    id: str
    card_number: str
    family_name: str
    given_name: str
    sex: str | None
    birth_date: dt.date
    category: str
    status: str
    assurance: str
    home_library: str
    guardian_id: str | None
    #: Set on a tombstone: the reader it was merged into (its ids resolve there).
    merged_into: str | None = None
    mobile: str | None
    mobile_verified: bool
    documents: list[DocumentOut]
    expires_on: dt.date
    created_at: dt.datetime
    updated_at: dt.datetime
    version: int


class ReaderList(BaseModel):
    items: list[ReaderOut]
    next_after: str | None = None


class LibraryOut(BaseModel):
    code: str
    name: str
    kind: str
    created_at: dt.datetime


class LibraryList(BaseModel):
    items: list[LibraryOut]


class AuditEventOut(BaseModel):
    id: int
    at: dt.datetime
    actor: str
    action: str
    target_type: str
    target_id: str
    reason: str | None
    details: dict[str, Any]


class AuditList(BaseModel):
    items: list[AuditEventOut]


class CodeSent(BaseModel):
    sent: bool
    expires_at: dt.datetime


class Problem(BaseModel):
    """RFC 9457 problem details."""

    type: str
    title: str
    status: int
    detail: str
    code: str | None = None
    field: str | None = None


MODELS: list[type[BaseModel]] = [
    schemas.RegistrationIn, schemas.ReaderUpdateIn, schemas.StatusChangeIn,
    schemas.DocumentVerificationIn, schemas.MobileCodeIn, schemas.LibraryIn,
    ReaderOut, ReaderList, LibraryOut, LibraryList, AuditList, CodeSent, Problem,
    *CARD_MODELS, *DUPLICATE_MODELS, *MERGE_MODELS,
]

REF = "#/components/schemas/{model}"
READER = [{"name": "ref", "in": "path", "required": True,
           "description": "reader id or province card number", "schema": {"type": "string"}}]

#: (method, path, summary, request model, success status, response model, path params)
OPERATIONS: list[tuple[str, str, str, str | None, int, str, list[dict[str, Any]]]] = [
    ("get", "/api/readers", "List readers (keyset paging) or search with ?q=", None, 200,
     "ReaderList", [
         {"name": "q", "in": "query", "schema": {"type": "string", "maxLength": 64},
          "description": "card number, reader id, resident-ID number, mobile or name prefix"},
         {"name": "library", "in": "query", "schema": {"type": "string"}},
         {"name": "status", "in": "query", "schema": {"type": "string"}},
         {"name": "after", "in": "query", "schema": {"type": "string"}},
         {"name": "limit", "in": "query", "schema": {"type": "integer", "minimum": 1,
                                                     "maximum": 500}},
     ]),
    ("post", "/api/readers", "Register a reader", "RegistrationIn", 201, "ReaderOut", []),
    ("get", "/api/readers/{ref}", "Show a reader", None, 200, "ReaderOut", READER),
    ("patch", "/api/readers/{ref}", "Update a reader", "ReaderUpdateIn", 200, "ReaderOut",
     READER),
    ("post", "/api/readers/{ref}/status", "Change a reader's status", "StatusChangeIn", 200,
     "ReaderOut", READER),
    ("post", "/api/readers/{ref}/document-verification",
     "Record that staff checked the identity document", "DocumentVerificationIn", 200,
     "ReaderOut", READER),
    ("post", "/api/readers/{ref}/mobile-verification", "Send a one-time code to the mobile",
     None, 202, "CodeSent", READER),
    ("post", "/api/readers/{ref}/mobile-verification/confirm", "Confirm the one-time code",
     "MobileCodeIn", 200, "ReaderOut", READER),
    ("get", "/api/readers/{ref}/audit", "Audit events of a reader", None, 200, "AuditList",
     READER),
    ("get", "/api/libraries", "List member libraries", None, 200, "LibraryList", []),
    ("post", "/api/libraries", "Add a member library (administrators)", "LibraryIn", 201,
     "LibraryOut", []),
    ("get", "/api/libraries/{code}", "Show a member library", None, 200, "LibraryOut",
     [{"name": "code", "in": "path", "required": True, "schema": {"type": "string"}}]),
    *CARD_OPERATIONS,
    *DUPLICATE_OPERATIONS,
    *MERGE_OPERATIONS,
]

ERRORS = {
    "400": "malformed request", "401": "missing or unknown staff token",
    "403": "not allowed for this token's role", "404": "no such object",
    "409": "conflicts with existing data", "413": "body too large",
    "415": "body is not JSON", "422": "a field failed validation", "429": "too many attempts",
}


def build_document(version: str) -> dict[str, Any]:
    _, definitions = models_json_schema(
        [(model, "validation") for model in MODELS], ref_template=REF
    )
    paths: dict[str, dict[str, Any]] = {}
    problem = {"application/problem+json": {"schema": {"$ref": REF.format(model="Problem")}}}
    for method, path, summary, request_model, status, response_model, params in OPERATIONS:
        operation: dict[str, Any] = {
            "summary": summary,
            "operationId": f"{method}_{path.strip('/').replace('/', '_').replace('{', '')}"
            .replace("}", "").replace("-", "_"),
            "parameters": params,
            "responses": {
                str(status): {"description": "success", "content": {"application/json": {
                    "schema": {"$ref": REF.format(model=response_model)}}}},
                **{code: {"description": text, "content": problem}
                   for code, text in ERRORS.items()},
            },
        }
        if request_model:
            operation["requestBody"] = {"required": True, "content": {"application/json": {
                "schema": {"$ref": REF.format(model=request_model)}}}}
        paths.setdefault(path, {})[method] = operation
    return {
        "openapi": "3.1.0",
        "info": {"title": "ReaderPass staff API", "version": version},
        "paths": paths,
        "components": {
            "schemas": definitions["$defs"],
            "securitySchemes": {"staffToken": {"type": "http", "scheme": "bearer"}},
        },
        "security": [{"staffToken": []}],
    }


@api.get("/openapi.json")
def openapi() -> Response:
    from importlib.metadata import version

    return jsonify(build_document(version("readerpass")))

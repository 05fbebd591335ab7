"""The staff API's card operations, for the OpenAPI document (idp/api/openapi.py)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from pydantic import BaseModel, ConfigDict, Field


class CardActionIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    reason: str | None = Field(default=None, max_length=500)


class CardOut(BaseModel):
    serial: str
    reader_id: str
    state: str
    revoked: bool
    status_index: int
    created_at: dt.datetime
    updated_at: dt.datetime


class SharedCard(BaseModel):
    serial: str
    libraries: list[str]
    first_at: dt.datetime
    last_at: dt.datetime
    scans: int


class SharingReport(BaseModel):
    window_minutes: int
    since: dt.datetime
    items: list[SharedCard]


CARD_MODELS: list[type[BaseModel]] = [CardActionIn, CardOut, SharingReport]

_READER = [{"name": "ref", "in": "path", "required": True,
            "description": "reader id or province card number", "schema": {"type": "string"}}]
_ACTION = {"name": "action", "in": "path", "required": True, "schema": {
    "type": "string", "enum": ["lost", "reissue", "suspend", "restore", "expire", "cancel"]}}

CARD_OPERATIONS: list[tuple[str, str, str, str | None, int, str, list[dict[str, Any]]]] = [
    ("get", "/api/readers/{ref}/card", "The reader's current card", None, 200, "CardOut",
     _READER),
    ("post", "/api/readers/{ref}/card", "Issue the reader's card (no-op if there is one)",
     None, 201, "CardOut", _READER),
    ("post", "/api/readers/{ref}/card/{action}",
     "Report lost, reissue, suspend, restore, expire or cancel the card", "CardActionIn", 200,
     "CardOut", [*_READER, _ACTION]),
    ("get", "/api/cards/sharing", "Cards used at two libraries within a window", None, 200,
     "SharingReport", [
         {"name": "window", "in": "query", "schema": {"type": "integer", "minimum": 1},
          "description": "minutes (default cards.sharing_window_minutes)"},
         {"name": "hours", "in": "query", "schema": {"type": "integer", "minimum": 1},
          "description": "look back this many hours (default 24)"}]),
]

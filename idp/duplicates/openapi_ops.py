"""The staff API's duplicate operations, for the OpenAPI document (idp/api/openapi.py)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from pydantic import BaseModel, ConfigDict, Field


class DismissIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    reason: str | None = Field(default=None, max_length=500)


class PairOut(BaseModel):
    id: int
    reader_a: str
    reader_b: str
    score: float
    auto_merge: bool
    state: str
    source: str


class PairList(BaseModel):
    items: list[PairOut]
    #: Pass as ``after`` for the next page: "score,id".
    next_after: str | None = None


class PairDetail(PairOut):
    explanation: dict[str, Any]
    proposed_by: str | None
    decided_by: str | None
    decided_at: dt.datetime | None
    reason: str | None
    created_at: dt.datetime
    readers: list[dict[str, Any]]


DUPLICATE_MODELS: list[type[BaseModel]] = [DismissIn, PairOut, PairList, PairDetail]

_PAIR = [{"name": "pair_id", "in": "path", "required": True, "schema": {"type": "integer"}}]

DUPLICATE_OPERATIONS: list[tuple[str, str, str, str | None, int, str, list[dict[str, Any]]]] = [
    ("get", "/api/duplicates", "The duplicate review queue, highest score first", None, 200,
     "PairList", [
         {"name": "state", "in": "query", "schema": {
             "type": "string", "enum": ["open", "dismissed", "merged", "unmerged", "all"]}},
         {"name": "reader", "in": "query", "schema": {"type": "string"},
          "description": "only pairs with this reader (id or card number)"},
         {"name": "after", "in": "query", "schema": {"type": "string"},
          "description": "next_after of the previous page"},
         {"name": "limit", "in": "query", "schema": {"type": "integer", "minimum": 1,
                                                     "maximum": 500}}]),
    ("get", "/api/duplicates/{pair_id}", "A candidate pair with both readers and the "
     "model's explanation", None, 200, "PairDetail", _PAIR),
    ("post", "/api/duplicates/{pair_id}/dismiss", "Not the same person: never propose again",
     "DismissIn", 200, "PairDetail", _PAIR),
]

"""Response shapes and operations of ``/api/merges`` for the OpenAPI document."""

from __future__ import annotations

import datetime as dt
from typing import Any

from pydantic import BaseModel

from .. import schemas


class ReaderRefOut(BaseModel):
    id: str
    card_number: str


class PlanAttribute(BaseModel):
    attribute: str
    source: str
    survivor: str | None
    other: str | None
    conflict: bool


class PlanDocument(BaseModel):
    id: int
    type: str
    country: str


class PlanLink(BaseModel):
    library: str
    action: str
    survivor_state: str | None
    survivor_local_id: str | None
    other_state: str | None
    other_local_id: str | None
    notified: bool


class PlanPair(BaseModel):
    id: int
    state: str
    score: float
    auto_merge: bool
    proposed_by: str | None


class MergePlanOut(BaseModel):
    """What a merge does: per attribute the reader it comes from, the documents,
    links and wards that move, the libraries told, the conflicts."""

    survivor: ReaderRefOut
    other: ReaderRefOut
    why: str
    attributes: list[PlanAttribute]
    documents: list[PlanDocument]
    links: list[PlanLink]
    libraries: list[str]
    wards: list[str]
    pair: PlanPair | None
    conflicts: list[str]


class MergeOut(BaseModel):
    id: int
    survivor_id: str
    other_id: str
    pair_id: int | None
    state: str
    applied_by: str
    applied_at: dt.datetime
    undone_by: str | None
    undone_at: dt.datetime | None
    plan: MergePlanOut
    evidence: dict[str, Any]


class PairOut(BaseModel):
    id: int
    reader_a: str
    reader_b: str
    score: float
    auto_merge: bool
    source: str
    state: str
    proposed_by: str | None
    reason: str | None
    decided_by: str | None
    decided_at: dt.datetime | None
    created_at: dt.datetime
    updated_at: dt.datetime


MERGE_MODELS: list[type[BaseModel]] = [
    schemas.MergePlanIn, schemas.MergeIn, schemas.UnmergeIn, schemas.ProposalIn,
    MergePlanOut, MergeOut, PairOut,
]

_MERGE = [{"name": "merge_id", "in": "path", "required": True, "schema": {"type": "integer"}}]

MERGE_OPERATIONS: list[tuple[str, str, str, str | None, int, str, list[dict[str, Any]]]] = [
    ("post", "/api/merges/plan", "Plan a merge without changing anything (staff: own readers)",
     "MergePlanIn", 200, "MergePlanOut", []),
    ("post", "/api/merges", "Merge two readers (administrators)", "MergeIn", 201, "MergeOut",
     []),
    ("get", "/api/merges/{merge_id}", "Show a merge", None, 200, "MergeOut", _MERGE),
    ("post", "/api/merges/{merge_id}/undo", "Undo a merge (administrators)", "UnmergeIn", 200,
     "MergeOut", _MERGE),
    ("post", "/api/merges/proposals",
     "Propose two readers for merging (staff: readers homed at or linked to their library)",
     "ProposalIn", 201, "PairOut", []),
]

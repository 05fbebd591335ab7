"""Gate scan logs (no personal data: serial, time, library, verdict) and the
card-sharing report: one card admitted at two libraries within a short window."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from itertools import groupby, pairwise
from typing import Any

from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import select, tuple_
from sqlalchemy.orm import Session

from cards import Reason

from ..context import Context
from ..models import CardScan, Library

MAX_EVENTS = 1000
VERDICTS = tuple(reason.value for reason in Reason)


class ScanIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    serial: str = Field(pattern=r"^[A-Z2-7]{16}$")
    at: int = Field(ge=0, le=2**40 - 1, description="Unix seconds at the gate")
    verdict: str = Field(pattern="^(" + "|".join(VERDICTS) + ")$")


class ScanUpload(BaseModel):
    model_config = ConfigDict(extra="forbid")

    events: list[ScanIn] = Field(min_length=1, max_length=MAX_EVENTS)


def store(session: Session, ctx: Context, library_id: int, upload: ScanUpload) -> int:
    """Store new events; an event uploaded twice (a retry) is stored once. Returns
    the number stored."""
    now = ctx.now()
    wanted = {(e.serial, dt.datetime.fromtimestamp(e.at, dt.UTC)): e.verdict
              for e in upload.events}
    existing = {(row[0], row[1]) for row in session.execute(
        select(CardScan.serial, CardScan.scanned_at).where(
            CardScan.library_id == library_id,
            tuple_(CardScan.serial, CardScan.scanned_at).in_(list(wanted))))}
    fresh = [(key, verdict) for key, verdict in wanted.items() if key not in existing]
    session.add_all(CardScan(serial=serial, library_id=library_id, scanned_at=at,
                             verdict=verdict, received_at=now)
                    for (serial, at), verdict in fresh)
    session.flush()
    return len(fresh)


@dataclass(frozen=True)
class SharedCard:
    serial: str
    libraries: list[str]
    first_at: dt.datetime
    last_at: dt.datetime
    scans: int

    def to_json(self) -> dict[str, Any]:
        return {"serial": self.serial, "libraries": self.libraries,
                "first_at": self.first_at.isoformat(), "last_at": self.last_at.isoformat(),
                "scans": self.scans}


def _shares(events: list[tuple[str, dt.datetime]], window: dt.timedelta) -> bool:
    """Two consecutive admissions at different libraries less than ``window`` apart."""
    return any(b[0] != a[0] and b[1] - a[1] <= window
               for a, b in pairwise(events))


def shared_cards(session: Session, *, since: dt.datetime,
                 window_minutes: int) -> Sequence[SharedCard]:
    """Cards admitted (verdict ok) at two different libraries at most
    ``window_minutes`` apart, among scans since ``since``.

    One ordered pass over the admissions (index on serial, time); portable across
    SQLite and PostgreSQL, where interval arithmetic differs.
    """
    window = dt.timedelta(minutes=window_minutes)
    rows = session.execute(
        select(CardScan.serial, Library.code, CardScan.scanned_at)
        .join(Library, Library.id == CardScan.library_id)
        .where(CardScan.verdict == "ok", CardScan.scanned_at >= since)
        .order_by(CardScan.serial, CardScan.scanned_at)
        .execution_options(yield_per=10_000))
    found: list[SharedCard] = []
    for serial, group in groupby(rows, key=lambda row: row[0]):
        events = [(code, at) for _, code, at in group]
        if _shares(events, window):
            found.append(SharedCard(serial, sorted({code for code, _ in events}),
                                    events[0][1], events[-1][1], len(events)))
    return found

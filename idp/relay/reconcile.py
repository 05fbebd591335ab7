"""Reconciliation: compare a library's links with its patron database.

Drift kinds: ``missing`` (the local patron is gone), ``unlinked`` (its back-link
names neither the reader nor a reader merged into it), ``changed`` (barcode or
province-owned fields differ from what the link and the reader say). Repair never
edits the library directly: it fixes the link and queues a delivery, so the
relay's rules (ownership, idempotency, retries) apply to repairs too.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from ..context import Context
from ..models import Library, LinkState, Reader, ReaderLink
from ..services import audit, outbox
from ..services.actor import Actor
from ..services.lookup import resolves_to
from ..services.provisioning import province_reader
from .deliver import difference

PAGE = 500


@dataclass
class Drift:
    reader_id: str
    local_id: str
    kind: str
    detail: str
    repair: str | None = None

    def view(self) -> dict[str, Any]:
        return {"reader_id": self.reader_id, "local_id": self.local_id, "kind": self.kind,
                "detail": self.detail, "repair": self.repair}


def _linked(session: Session, library: Library) -> Iterator[ReaderLink]:
    after = 0
    while True:
        page = session.scalars(select(ReaderLink).where(
            ReaderLink.library_id == library.id, ReaderLink.state == LinkState.LINKED.value,
            ReaderLink.id > after).order_by(ReaderLink.id).limit(PAGE)).all()
        if not page:
            return
        yield from page
        after = page[-1].id


def reconcile(session: Session, ctx: Context, library: Library, *, repair: bool,
              actor: Actor) -> list[Drift]:
    adapter = ctx.adapters.get(session, library)
    found: list[Drift] = []
    now = ctx.now()
    for link in list(_linked(session, library)):
        assert link.local_id is not None
        reader = session.get(Reader, link.reader_id)
        assert reader is not None
        if reader.merged_into is not None:
            continue  # waits for the relay to fold its patron into the survivor's
        patron = adapter.store.get(link.local_id)
        if patron is None:
            drift = Drift(reader.id, link.local_id, "missing", "no such local patron")
            if repair:
                link.state, link.local_id, link.local_barcode = LinkState.PENDING.value, None, None
                link.local_version, link.updated_at = None, now
                drift.repair = "link pending; the relay provisions a patron again"
        elif not resolves_to(session, patron.reader_id, reader.id):
            other = patron.reader_id
            drift = Drift(reader.id, link.local_id, "unlinked",
                          f"back-link names {other}" if other else "back-link removed")
            if repair and other is None:
                drift.repair = "the relay writes the back-link again"
            elif repair:
                link.state, link.candidates = LinkState.CONFLICT.value, [link.local_id]
                link.last_error, link.updated_at = f"back-link names reader {other}", now
                drift.repair = "link set to conflict for staff"
        else:
            fields = difference(adapter.mapping.patch(province_reader(reader)), patron)
            changed = [name for name in ("surname", "first_name", "birth_date", "expiry")
                       if getattr(fields, name) is not None]
            if patron.barcode != (link.local_barcode or ""):
                changed.append("barcode")
            if not changed:
                continue
            drift = Drift(reader.id, link.local_id, "changed", ", ".join(changed))
            if repair:
                link.local_barcode, link.local_version = patron.barcode or None, patron.version
                link.updated_at = now
                drift.repair = "link updated; the relay pushes the province's fields"
        found.append(drift)
        if repair and drift.repair and link.state != LinkState.CONFLICT:
            outbox.add_item(session, library.id, reader.id, "link.repair", now)
    if repair and found:
        session.flush()
        audit.record(session, actor, "library.reconcile", "library", library.code, now=now,
                     details={"drift": len(found)})
    return found

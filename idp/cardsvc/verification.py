"""Online verification for gates that prefer it: the same checks as offline
(cards.verify) against the service's current lists, with a shared replay cache, and
the reader's local barcode at the gate's library when there is a link."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from sqlalchemy import and_, bindparam, select
from sqlalchemy.orm import Session

from cards import Verdict, verify

from ..context import Context
from ..errors import RateLimited
from ..models import Card, Library, LibraryAdapterConfig, LinkState, Reader, ReaderLink
from ..oidc.ratelimit import retry_after
from ..services.actor import Actor
from ..services.first_use import provision_on_first_use
from ..services.provisioning import local_barcode
from .auth import Gate

if TYPE_CHECKING:
    from .runtime import CardRuntime

MAX_TEXT = 300


def scanned_text(value: object) -> str | None:
    """``value`` when it is text the endpoint verifies (1 to ``MAX_TEXT`` characters)."""
    return value if isinstance(value, str) and 0 < len(value) <= MAX_TEXT else None

_cards, _links = Card.__table__, ReaderLink.__table__
_adapters = LibraryAdapterConfig.__table__
#: What an admission needs, in one statement: the card's reader, their link at the
#: gate's library (state and local barcode) and whether that library has an adapter
#: (the card serial, a reader's link at a library and a library's adapter are unique).
ADMISSION = (
    select(_cards.c.reader_id, _links.c.state, _links.c.local_barcode,
           _adapters.c.library_id)
    .select_from(_cards.outerjoin(_links, and_(
        _links.c.reader_id == _cards.c.reader_id,
        _links.c.library_id == bindparam("library_id")))
        .outerjoin(_adapters, _adapters.c.library_id == bindparam("library_id")))
    .where(_cards.c.serial == bindparam("serial")))


def verify_online(sessions: Callable[[], Session], ctx: Context, runtime: CardRuntime,
                  gate: Gate, text: str) -> dict[str, Any]:
    """The verdict as JSON; an admission carries the reader's local barcode at the
    gate's library when linked there. It reads what it needs in one statement
    (:data:`ADMISSION`, as ``runtime.admission``); ``sessions`` gives the request's
    database session, opened only to link a reader on their first admission at a
    library with an adapter (a link in any other state is left to the relay or staff,
    as at sign-in)."""
    now = ctx.now()
    documents, replay, limiter = runtime.documents, runtime.replay, runtime.verify_limiter
    allowed = ctx.settings.cards.verifications_per_minute
    if limiter.hit(f"card-verify:{gate.client_id}", window=60, now=now) > allowed:
        raise RateLimited("too many verifications from this gate client",
                          retry_after=retry_after(60, now))
    snapshot = documents.snapshot()
    verdict = verify(text[:MAX_TEXT], snapshot.trust_list, snapshot.status_list, replay,
                     int(now.timestamp()), skew=ctx.settings.cards.clock_skew_seconds)
    body = verdict_json(verdict)
    serial = body["serial"]
    if verdict.ok and serial is not None:
        found = runtime.admission.first(serial=serial, library_id=gate.library_id)
        barcode = None
        if found is not None:
            reader_id, state, linked_barcode, adapter = found
            if state == LinkState.LINKED:
                barcode = linked_barcode
            elif state is None and adapter is not None:
                barcode = _first_admission(sessions(), ctx, reader_id, gate)
        body["local_barcode"] = barcode
    return body


def _first_admission(session: Session, ctx: Context, reader_id: str,
                     gate: Gate) -> str | None:
    """No link at the gate's library yet: link the reader there first."""
    reader, library = session.get(Reader, reader_id), session.get(Library, gate.library_id)
    if reader is None or library is None:
        return None
    provision_on_first_use(session, ctx, reader, library,
                           actor=Actor.system(f"gate:{gate.client_id}"))
    session.commit()
    return local_barcode(session, reader_id, gate.library_code)


def verdict_json(verdict: Verdict) -> dict[str, Any]:
    return {"ok": verdict.ok, "reason": verdict.reason.value, "detail": verdict.detail,
            "serial": verdict.serial_text, "status_index": verdict.status_index,
            "key_id": verdict.key_id, "issued_at": verdict.issued_at,
            "expires_at": verdict.expires_at}

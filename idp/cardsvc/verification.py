"""Online verification for gates that prefer it: the same checks as offline
(cards.verify) against the service's current lists, with a shared replay cache, and
the reader's local barcode at the gate's library when there is a link."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from sqlalchemy.orm import Session

from cards import Verdict, verify

from ..context import Context
from ..errors import RateLimited
from ..models import Library, Reader
from ..oidc.ratelimit import retry_after
from ..services.actor import Actor
from ..services.first_use import provision_on_first_use
from ..services.provisioning import local_barcode
from . import lifecycle
from .auth import Gate
from .runtime import CardRuntime, SerialReaders

MAX_TEXT = 300


def reader_of(sessions: Callable[[], Session], readers: SerialReaders,
              serial: str) -> str | None:
    """The card's reader; cached, including "no such card" (only the service signs
    tokens, and it signs them for cards it stores)."""
    known = readers.get(serial)
    if known is None:
        card = lifecycle.card_by_serial(sessions(), serial)
        known = card.reader_id if card is not None else ""
        readers.put(serial, known)
    return known or None


def verify_online(sessions: Callable[[], Session], ctx: Context, runtime: CardRuntime,
                  gate: Gate, text: str) -> dict[str, Any]:
    """The verdict as JSON; ``sessions`` gives the request's database session, which
    is opened only when the card's reader or local barcode must be looked up."""
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
        reader_id = reader_of(sessions, runtime.readers_by_serial, serial)
        body["local_barcode"] = (_barcode(sessions(), ctx, reader_id, gate)
                                 if reader_id is not None else None)
    return body


def _barcode(session: Session, ctx: Context, reader_id: str, gate: Gate) -> str | None:
    """The local barcode; on the reader's first admission there, link them first."""
    barcode = local_barcode(session, reader_id, gate.library_code)
    if barcode is None:
        reader, library = session.get(Reader, reader_id), session.get(Library, gate.library_id)
        if reader is not None and library is not None:
            provision_on_first_use(session, ctx, reader, library,
                                   actor=Actor.system(f"gate:{gate.client_id}"))
            session.commit()
            barcode = local_barcode(session, reader_id, gate.library_code)
    return barcode


def verdict_json(verdict: Verdict) -> dict[str, Any]:
    return {"ok": verdict.ok, "reason": verdict.reason.value, "detail": verdict.detail,
            "serial": verdict.serial_text, "status_index": verdict.status_index,
            "key_id": verdict.key_id, "issued_at": verdict.issued_at,
            "expires_at": verdict.expires_at}

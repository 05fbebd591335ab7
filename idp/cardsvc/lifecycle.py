"""A reader's card: issue, report lost, reissue, suspend/restore, expire, cancel.

A card's status-list bit is 1 when the card itself is not active or its reader's
status keeps them out (lost_reported, suspended, expired, cancelled, merged). Every
change that flips a bit, or grows the list, is one new status-list version, so the
tokens of a lost card die at the gates' next sync (DESIGN "Card lifecycle").
"""

from __future__ import annotations

from collections.abc import Iterable, Set
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from cards import new_serials as new_serial_batch
from cards import serial_to_text

from ..context import Context
from ..db import among
from ..errors import Conflict, InvalidInput, NotFound
from ..models import Card, CardState, Reader, Status
from ..services import audit
from ..services.actor import Actor
from . import status

#: action -> (card states it applies to, resulting state)
ACTIONS: dict[str, tuple[frozenset[CardState], CardState]] = {
    "lost": (frozenset({CardState.ACTIVE}), CardState.LOST),
    "suspend": (frozenset({CardState.ACTIVE}), CardState.SUSPENDED),
    "restore": (frozenset({CardState.LOST, CardState.SUSPENDED, CardState.EXPIRED}),
                CardState.ACTIVE),
    "expire": (frozenset({CardState.ACTIVE}), CardState.EXPIRED),
    "cancel": (frozenset({CardState.ACTIVE, CardState.LOST, CardState.SUSPENDED,
                          CardState.EXPIRED}), CardState.CANCELLED),
}
REISSUE_FROM = frozenset({CardState.ACTIVE, CardState.LOST, CardState.EXPIRED})
REASON_REQUIRED = frozenset({"suspend", "cancel"})
CLOSED_READERS = frozenset({Status.CANCELLED, Status.MERGED})


def _revoked(card: Card, reader: Reader) -> bool:
    return card.state != CardState.ACTIVE or reader.status != Status.ACTIVE


def current_card(session: Session, reader_id: str) -> Card | None:
    """The reader's newest card that has not been replaced by a reissue."""
    return session.scalar(select(Card).where(Card.reader_id == reader_id,
                                             Card.state != CardState.REPLACED.value)
                          .order_by(Card.id.desc()).limit(1))


def require_card(session: Session, reader: Reader) -> Card:
    card = current_card(session, reader.id)
    if card is None:
        raise NotFound("the reader has no card yet", field="card")
    return card


def _publish(session: Session, ctx: Context, revoke: Iterable[int] = (),
             restore: Iterable[int] = (), *, grew: bool = False) -> None:
    revoke, restore = list(revoke), list(restore)
    if revoke or restore or grew:
        status.bump(session, ctx, revoke=revoke, restore=restore)


def new_serials(session: Session, count: int, *, taken: Set[str] = frozenset()) -> list[str]:
    """Fresh card serials, checked against each other, ``taken`` and the database (80
    random bits: a clash practically never happens, but it is checked)."""
    serials: set[str] = set()
    while len(serials) < count:
        wanted = ({serial_to_text(serial) for serial in new_serial_batch(count - len(serials))}
                  - serials - taken)
        serials |= wanted - set(session.scalars(select(Card.serial).where(
            among(session, Card.serial, wanted))))
    return sorted(serials)


def _new_card(session: Session, ctx: Context, reader: Reader) -> tuple[Card, bool]:
    size_before = status.head(session).size
    [serial] = new_serials(session, 1)
    index = status.allocate_index(session)  # last: the head row stays locked until commit
    now = ctx.now()
    card = Card(reader_id=reader.id, serial=serial, status_index=index,
                state=CardState.ACTIVE.value, revoked=False, created_at=now, updated_at=now)
    card.revoked = _revoked(card, reader)
    session.add(card)
    session.flush()
    return card, status.head(session).size != size_before


def issue(session: Session, ctx: Context, reader: Reader, *, actor: Actor) -> Card:
    """The reader's current card, issuing the first one if there is none."""
    card = current_card(session, reader.id)
    if card is not None:
        return card
    if reader.status in CLOSED_READERS:
        raise Conflict(f"a {reader.status} reader gets no card", code="reader_closed")
    card, grew = _new_card(session, ctx, reader)
    _publish(session, ctx, [card.status_index] if card.revoked else (), grew=grew)
    audit.record(session, actor, "card.issue", "card", card.serial, now=ctx.now(),
                 details={"reader": reader.id})
    return card


def new_card_rows(session: Session, ctx: Context,
                  cards: list[tuple[str, str]]) -> list[dict[str, Any]]:
    """Rows of a first, active card for each (reader id, serial from
    :func:`new_serials`) of new, active readers in a bulk import, for the caller to
    insert in bulk. The indices are taken in one lock of the head row (held until
    commit, so call this last) with at most one status-list version (when the list
    grows); the caller's audit events name the serials."""
    if not cards:
        return []
    size_before = status.head(session).size
    indices = status.allocate_indices(session, len(cards))
    if status.head(session).size != size_before:
        status.bump(session, ctx)
    now = ctx.now()
    return [{"reader_id": reader_id, "serial": serial, "status_index": index,
             "state": CardState.ACTIVE.value, "revoked": False, "created_at": now,
             "updated_at": now}
            for (reader_id, serial), index in zip(cards, indices, strict=True)]


def change(session: Session, ctx: Context, reader: Reader, action: str, *, actor: Actor,
           reason: str | None = None) -> Card:
    """Apply a lifecycle action to the reader's current card; return the card now in
    use (the new one after ``reissue``)."""
    if reason is not None and len(reason) > 500:
        raise InvalidInput("must be at most 500 characters", field="reason")
    if action in REASON_REQUIRED and not reason:
        raise InvalidInput(f"a reason is required to {action} a card", field="reason")
    card = require_card(session, reader)
    state = CardState(card.state)
    if action == "reissue":
        return _reissue(session, ctx, reader, card, actor=actor, reason=reason)
    if action not in ACTIONS:
        raise InvalidInput(f"unknown action {action!r}", field="action")
    allowed, target = ACTIONS[action]
    if state not in allowed:
        raise Conflict(f"cannot {action} a card that is {state}", code="invalid_transition")
    card.state, card.updated_at = target.value, ctx.now()
    _sync_bits(session, ctx, [card], reader)
    audit.record(session, actor, f"card.{action}", "card", card.serial, now=ctx.now(),
                 reason=reason, details={"reader": reader.id, "from": state.value,
                                         "to": target.value})
    return card


def _reissue(session: Session, ctx: Context, reader: Reader, old: Card, *, actor: Actor,
             reason: str | None) -> Card:
    state = CardState(old.state)
    if state not in REISSUE_FROM or reader.status in CLOSED_READERS:
        raise Conflict(f"cannot reissue a card that is {state} for a {reader.status} reader",
                       code="invalid_transition")
    revoke = [] if old.revoked else [old.status_index]
    old.state, old.revoked, old.updated_at = CardState.REPLACED.value, True, ctx.now()
    new, grew = _new_card(session, ctx, reader)
    if new.revoked:
        revoke.append(new.status_index)
    _publish(session, ctx, revoke, grew=grew)
    audit.record(session, actor, "card.reissue", "card", new.serial, now=ctx.now(),
                 reason=reason, details={"reader": reader.id, "replaces": old.serial,
                                         "from": state.value})
    return new


def _sync_bits(session: Session, ctx: Context, cards: list[Card], reader: Reader) -> None:
    revoke: list[int] = []
    restore: list[int] = []
    for card in cards:
        wanted = _revoked(card, reader)
        if wanted != card.revoked:
            (revoke if wanted else restore).append(card.status_index)
            card.revoked = wanted
    session.flush()
    _publish(session, ctx, revoke, restore)


def reader_status_changed(session: Session, ctx: Context, reader: Reader) -> None:
    """Hook for ``services.readers.change_status``: set or clear the current card's bit."""
    card = current_card(session, reader.id)
    if card is not None:
        _sync_bits(session, ctx, [card], reader)


def cancel_all(session: Session, ctx: Context, reader: Reader, *, actor: Actor,
               reason: str) -> list[str]:
    """Cancel every card of the reader that is still in use (a merge: the tombstone
    holds no card); one status-list version; returns the serials."""
    cards = list(session.scalars(select(Card).where(
        Card.reader_id == reader.id,
        Card.state.not_in((CardState.REPLACED.value, CardState.CANCELLED.value)))))
    revoke = [card.status_index for card in cards if not card.revoked]
    for card in cards:
        before = card.state
        card.state, card.revoked, card.updated_at = CardState.CANCELLED.value, True, ctx.now()
        audit.record(session, actor, "card.cancel", "card", card.serial, now=ctx.now(),
                     reason=reason, details={"reader": reader.id, "from": before,
                                             "to": CardState.CANCELLED.value})
    session.flush()
    _publish(session, ctx, revoke)
    return [card.serial for card in cards]


def issue_anew(session: Session, ctx: Context, reader: Reader, *, actor: Actor) -> Card:
    """A new card (new serial and index) for a reader whose cards were all closed,
    e.g. one restored by an unmerge: the old serials stay revoked for good."""
    for card in session.scalars(select(Card).where(Card.reader_id == reader.id,
                                                   Card.state != CardState.REPLACED.value)):
        if card.state != CardState.CANCELLED or not card.revoked:
            raise Conflict("the reader still has a card in use", code="card_in_use")
        card.state, card.updated_at = CardState.REPLACED.value, ctx.now()
    session.flush()
    return issue(session, ctx, reader, actor=actor)


def card_view(card: Card) -> dict[str, Any]:
    return {"serial": card.serial, "reader_id": card.reader_id, "state": card.state,
            "revoked": card.revoked, "status_index": card.status_index,
            "created_at": card.created_at.isoformat(), "updated_at": card.updated_at.isoformat()}

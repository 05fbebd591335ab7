"""Issuing signed tokens to a reader: a batch for offline use, or the current slot's.

A batch covers ``cards.batch_slots`` slots of ``cards.slot_seconds`` from the start of
the current slot; each token lives two slots (cards.signing), so a code shown at the
end of its slot still passes a gate a slot later. Batches are rate-limited per
reader: each costs one ECDSA signature per slot.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from typing import Any

from sqlalchemy.orm import Session

from cards import IssuedToken, TokenSigner, serial_from_text

from ..context import Context
from ..errors import Conflict, RateLimited
from ..models import Card, Reader, Status
from ..oidc.ratelimit import RateLimiter, retry_after
from ..services.actor import Actor
from . import keys, lifecycle
from .documents import NotPublished

HOUR = 3600
SINGLE_PER_MINUTE = 30
CAN_HOLD_CARD = frozenset({Status.ACTIVE})


@dataclass(frozen=True)
class Batch:
    serial: str
    start: int
    slot_seconds: int
    tokens: list[IssuedToken]

    def to_json(self) -> dict[str, Any]:
        return {"serial": self.serial, "start": self.start, "slot_seconds": self.slot_seconds,
                "expires_at": self.tokens[-1].expires_at,
                "tokens": [t.text for t in self.tokens]}


class Signers:
    """The active card key as a ready :class:`TokenSigner`, per process, by key id."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._signer: TokenSigner | None = None

    def get(self, session: Session, ctx: Context) -> TokenSigner:
        row = keys.signing_row(session)
        if row is None:
            raise NotPublished("no active card key: run `readerpass cards keys rotate`")
        with self._lock:
            if self._signer is None or self._signer.key.kid != row.kid:
                self._signer = TokenSigner(keys.load_card_key(ctx, row))
            return self._signer


def slot_start(ctx: Context) -> int:
    slot = ctx.settings.cards.slot_seconds
    return int(ctx.now().timestamp()) // slot * slot


def usable_card(session: Session, ctx: Context, reader: Reader) -> Card:
    """The reader's card (issued on first use), refusing one gates would refuse."""
    if reader.status not in CAN_HOLD_CARD:
        raise Conflict(f"the reader is {reader.status}: no card tokens", code="card_revoked")
    card = lifecycle.issue(session, ctx, reader, actor=Actor.reader(reader.id))
    if card.revoked:
        raise Conflict(f"the card is {card.state}; ask for a new card (reissue)",
                       code="card_revoked")
    return card


def _limit(limiter: RateLimiter, ctx: Context, key: str, window: int, allowed: int) -> None:
    now = ctx.now()
    if limiter.hit(key, window=window, now=now) > allowed:
        raise RateLimited("too many card requests; try again later",
                          retry_after=retry_after(window, now))


def batch(session: Session, ctx: Context, signers: Signers, limiter: RateLimiter,
          reader: Reader) -> Batch:
    settings = ctx.settings.cards
    _limit(limiter, ctx, f"card-batch:{reader.id}", HOUR, settings.batches_per_hour)
    card = usable_card(session, ctx, reader)
    signer = signers.get(session, ctx)
    start = slot_start(ctx)
    tokens = signer.batch(serial_from_text(card.serial), card.status_index, start,
                          settings.batch_slots, settings.slot_seconds)
    return Batch(card.serial, start, settings.slot_seconds, tokens)


def current_token(session: Session, ctx: Context, signers: Signers, limiter: RateLimiter,
                  reader: Reader) -> IssuedToken:
    """The token of the current slot (for the PNG/SVG images)."""
    _limit(limiter, ctx, f"card-token:{reader.id}", 60, SINGLE_PER_MINUTE)
    card = usable_card(session, ctx, reader)
    slot = ctx.settings.cards.slot_seconds
    start = slot_start(ctx)
    text = signers.get(session, ctx).sign(serial_from_text(card.serial), card.status_index,
                                          start, 2 * slot)
    return IssuedToken(text, start, start + 2 * slot)

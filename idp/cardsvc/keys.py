"""Card-signing keys and the province trust anchor, stored in the identity database.

Separate from the OIDC keys (STYLE 8: one key per purpose), private parts encrypted
with the PII cipher under their own context strings. A card key is born ``next``
and enters the trust list at once; ``rotate`` lets it sign only after gates have
had ``cards.max_age_seconds`` to fetch that list (they refuse older data, so every
working gate has it). The key it replaces becomes ``retiring``: trusted for tokens
issued up to the end of the longest batch it may already have signed, and kept in
the list until the last of those tokens has expired; ``retire`` then drops it.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from cards import AnchorKey, CardKey, TrustedKey, TrustList, public_key_from_jwk
from cards.anchor_transition import sign_anchor_transition
from cards.token import MAX_ISSUED_AT

from ..context import Context
from ..errors import Conflict
from ..models import CardKeyRole, CardKeyRow, CardStatusHead, KeyState
from ..services import audit
from ..services.actor import Actor
from ..services.key_retirement import keys_to_retire
from . import status

PRIVATE_CONTEXT = {CardKeyRole.CARD: "card-signing-key", CardKeyRole.ANCHOR: "card-anchor-key"}


def _stamp(moment: dt.datetime) -> int:
    return int(moment.timestamp())


def _new_row(ctx: Context, role: CardKeyRole, state: KeyState, now: dt.datetime) -> CardKeyRow:
    key = CardKey.generate() if role is CardKeyRole.CARD else AnchorKey.generate()
    pem = key.to_pem().decode("ascii")
    return CardKeyRow(
        kid=key.kid, role=role.value, public_jwk=key.public_jwk(), state=state.value,
        private_enc=ctx.cipher.encrypt(pem, context=PRIVATE_CONTEXT[role]), created_at=now,
        activated_at=now if state is KeyState.ACTIVE else None,
    )


def load_card_key(ctx: Context, row: CardKeyRow) -> CardKey:
    pem = ctx.cipher.decrypt(row.private_enc, context=PRIVATE_CONTEXT[CardKeyRole.CARD])
    return CardKey.from_pem(pem.encode("ascii"))


def load_anchor(ctx: Context, row: CardKeyRow) -> AnchorKey:
    pem = ctx.cipher.decrypt(row.private_enc, context=PRIVATE_CONTEXT[CardKeyRole.ANCHOR])
    return AnchorKey.from_pem(pem.encode("ascii"))


def _rows(session: Session, role: CardKeyRole, *states: KeyState) -> list[CardKeyRow]:
    return list(session.scalars(
        select(CardKeyRow).where(CardKeyRow.role == role.value,
                                 CardKeyRow.state.in_([s.value for s in states]))
        .order_by(CardKeyRow.id)))


def anchor_row(session: Session) -> CardKeyRow | None:
    found = _rows(session, CardKeyRole.ANCHOR, KeyState.ACTIVE)
    return found[0] if found else None


def signing_row(session: Session) -> CardKeyRow | None:
    found = _rows(session, CardKeyRole.CARD, KeyState.ACTIVE)
    return found[-1] if found else None


def _trust_changed(session: Session, now: dt.datetime) -> None:
    head = status.lock_head(session)
    head.trust_version += 1
    head.trust_issued_at = now


def rotate(session: Session, ctx: Context, *, actor: Actor, force: bool = False) -> list[str]:
    """Advance the card-key cycle one step; return one line per change.

    First run: the anchor (if none), an active card key and its successor. Later
    runs: the successor signs, the active key retires, a new successor is published.
    ``force`` skips the wait for gates (a compromised key: retire it with --force too).
    """
    now = ctx.now()
    cards = ctx.settings.cards
    changes: list[str] = []
    if anchor_row(session) is None:
        anchor = _new_row(ctx, CardKeyRole.ANCHOR, KeyState.ACTIVE, now)
        session.add(anchor)
        changes.append(f"anchor {anchor.kid}")
    active = _rows(session, CardKeyRole.CARD, KeyState.ACTIVE)
    upcoming = _rows(session, CardKeyRole.CARD, KeyState.NEXT)
    if not active:
        key = upcoming.pop(0) if upcoming else _new_row(ctx, CardKeyRole.CARD, KeyState.ACTIVE,
                                                        now)
        key.state, key.activated_at = KeyState.ACTIVE.value, now
        session.add(key)
        changes.append(f"active {key.kid}")
    elif upcoming:
        promoted = upcoming.pop(0)
        ready = promoted.created_at + dt.timedelta(seconds=cards.max_age_seconds)
        if now < ready and not force:
            wait = int((ready - now).total_seconds()) + 1
            raise Conflict(
                f"card key {promoted.kid} entered the trust list less than "
                f"cards.max_age_seconds ago; gates may not have it yet: rotate again in "
                f"{wait} s (or --force)", code="key_not_ready")
        # Batches already handed out carry tokens issued up to a batch length ahead.
        horizon = dt.timedelta(seconds=cards.batch_slots * cards.slot_seconds)
        last_valid = dt.timedelta(seconds=2 * cards.slot_seconds + cards.clock_skew_seconds)
        for old in active:
            old.state = KeyState.RETIRING.value
            old.not_after = now + horizon
            old.retire_after = old.not_after + last_valid
            changes.append(f"retiring {old.kid} (trusted until {old.retire_after.isoformat()})")
        promoted.state, promoted.activated_at = KeyState.ACTIVE.value, now
        changes.append(f"active {promoted.kid}")
    if not upcoming:
        key = _new_row(ctx, CardKeyRole.CARD, KeyState.NEXT, now)
        session.add(key)
        changes.append(f"next {key.kid}")
    session.flush()
    _trust_changed(session, now)
    audit.record(session, actor, "card_key.rotate", "card_key", "trust-list", now=now,
                 details={"changes": changes})
    return changes


def retire(session: Session, ctx: Context, kid: str | None, *, actor: Actor,
           force: bool = False) -> list[str]:
    """Drop retiring card keys from the trust list: every one whose tokens can no
    longer be valid, or the one named ``kid`` (earlier only with ``force``)."""
    now = ctx.now()
    chosen = keys_to_retire(_rows(session, CardKeyRole.CARD, KeyState.RETIRING), kid, now,
                            force=force, noun="card key")
    for row in chosen:
        row.state, row.retired_at = KeyState.RETIRED.value, now
        audit.record(session, actor, "card_key.retire", "card_key", row.kid, now=now)
    if chosen:
        session.flush()
        _trust_changed(session, now)
    return [row.kid for row in chosen]


def rotate_anchor(session: Session, ctx: Context, *, actor: Actor) -> list[str]:
    """A new trust anchor signs from now on; the current one signs the transition to
    it (FORMAT.md §11) and is kept ``retiring`` for ``cards.anchor_overlap_seconds``.

    Both lists get a new version at once, so every worker re-signs them with the new
    anchor; gates follow the transition at their next sync.
    """
    now = ctx.now()
    old = anchor_row(session)
    if old is None:
        raise Conflict("no trust anchor yet: run `readerpass cards keys rotate` first",
                       code="no_anchor")
    row = _new_row(ctx, CardKeyRole.ANCHOR, KeyState.ACTIVE, now)
    sequence = 1 + len([r for r in _rows(session, CardKeyRole.ANCHOR, KeyState.ACTIVE,
                                         KeyState.RETIRING, KeyState.RETIRED)
                        if r.transition_jws])
    row.transition_jws = sign_anchor_transition(
        load_anchor(ctx, old), public_key_from_jwk(row.public_jwk),
        issuer=ctx.settings.server.public_url, sequence=sequence, issued_at=_stamp(now))
    old.state = KeyState.RETIRING.value
    old.retire_after = now + dt.timedelta(seconds=ctx.settings.cards.anchor_overlap_seconds)
    session.add(row)
    session.flush()
    _trust_changed(session, now)
    status.bump(session, ctx)
    changes = [f"anchor {row.kid} (transition {sequence} signed by {old.kid})",
               f"retiring anchor {old.kid} (until {old.retire_after.isoformat()})"]
    audit.record(session, actor, "card_anchor.rotate", "card_key", row.kid, now=now,
                 details={"previous": old.kid, "sequence": sequence})
    return changes


def retire_anchors(session: Session, ctx: Context, kid: str | None, *, actor: Actor,
                   force: bool = False) -> list[str]:
    """Erase the private part of retiring anchors whose overlap has ended (or of the
    one named ``kid``, earlier only with ``force``). Their transitions stay published."""
    now = ctx.now()
    chosen = keys_to_retire(_rows(session, CardKeyRole.ANCHOR, KeyState.RETIRING), kid, now,
                            force=force, noun="anchor")
    for row in chosen:
        row.state, row.retired_at, row.private_enc = KeyState.RETIRED.value, now, ""
        audit.record(session, actor, "card_anchor.retire", "card_key", row.kid, now=now)
    session.flush()
    return [row.kid for row in chosen]


def anchor_transitions(session: Session) -> list[str]:
    """Every anchor transition ever signed, oldest first."""
    return [row.transition_jws for row in session.scalars(
        select(CardKeyRow).where(CardKeyRow.role == CardKeyRole.ANCHOR.value,
                                 CardKeyRow.transition_jws.is_not(None))
        .order_by(CardKeyRow.id)) if row.transition_jws]


def trusted_keys(session: Session, ctx: Context) -> list[TrustedKey]:
    """Card keys in the trust list (next, active, retiring) and their validity."""
    # A batch starts at the current slot boundary, which may precede the key's birth.
    early = ctx.settings.cards.slot_seconds
    rows = _rows(session, CardKeyRole.CARD, KeyState.NEXT, KeyState.ACTIVE, KeyState.RETIRING)
    return [TrustedKey(public_key_from_jwk(row.public_jwk),
                       not_before=max(0, _stamp(row.created_at) - early),
                       not_after=_stamp(row.not_after) if row.not_after else MAX_ISSUED_AT,
                       kid=row.kid)
            for row in rows]


def trust_list(session: Session, ctx: Context, head: CardStatusHead) -> TrustList:
    issued = head.trust_issued_at or ctx.now()
    return TrustList.build(ctx.settings.server.public_url, head.trust_version, _stamp(issued),
                           trusted_keys(session, ctx))


def list_keys(session: Session) -> Sequence[CardKeyRow]:
    return session.scalars(select(CardKeyRow).order_by(CardKeyRow.id)).all()


def key_view(row: CardKeyRow) -> dict[str, Any]:
    def stamp(value: dt.datetime | None) -> str | None:
        return value.isoformat() if value else None

    return {"kid": row.kid, "role": row.role, "state": row.state,
            "transition": bool(row.transition_jws),
            "created_at": stamp(row.created_at), "activated_at": stamp(row.activated_at),
            "not_after": stamp(row.not_after), "retire_after": stamp(row.retire_after),
            "retired_at": stamp(row.retired_at)}

"""Signing keys: generation, rotation and retirement (STYLE 8: keys rotate).

A key is born ``next`` and published in the JWKS at once; ``rotate`` lets it sign
only after relying parties have had ``oidc.jwks_max_age_seconds`` to fetch it,
and keeps the key it replaces published (``retiring``) until the last token it
signed has expired. Private parts are stored encrypted with the PII cipher under
their own context string.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any

from joserfc.jwk import ECKey
from sqlalchemy import select
from sqlalchemy.orm import Session

from ..context import Context
from ..errors import Conflict
from ..models import KeyState, SigningKey
from ..services import audit
from ..services.actor import Actor
from ..services.key_retirement import keys_to_retire

PRIVATE_KEY_CONTEXT = "oidc-signing-key"
CURVES = {"ES256": "P-256"}


def _new_key(ctx: Context, state: KeyState, now: dt.datetime) -> SigningKey:
    alg = ctx.settings.oidc.signing_alg
    key = ECKey.generate_key(CURVES[alg])
    public = dict(key.as_dict(private=False))
    kid = key.thumbprint()
    public.update(kid=kid, alg=alg, use="sig")
    pem = key.as_pem(private=True).decode("ascii")
    return SigningKey(
        kid=kid, alg=alg, public_jwk=public, state=state.value, created_at=now,
        private_enc=ctx.cipher.encrypt(pem, context=PRIVATE_KEY_CONTEXT),
        activated_at=now if state == KeyState.ACTIVE else None,
    )


def load_private(ctx: Context, key: SigningKey) -> ECKey:
    pem = ctx.cipher.decrypt(key.private_enc, context=PRIVATE_KEY_CONTEXT)
    return ECKey.import_key(pem, {"kid": key.kid, "alg": key.alg, "use": "sig"})


def _by_state(session: Session, state: KeyState) -> list[SigningKey]:
    return list(session.scalars(
        select(SigningKey).where(SigningKey.state == state.value).order_by(SigningKey.id)
    ))


def _longest_token_seconds(ctx: Context) -> int:
    oidc = ctx.settings.oidc
    return max(oidc.access_token_seconds, oidc.id_token_seconds)


def rotate(session: Session, ctx: Context, *, actor: Actor, force: bool = False) -> list[str]:
    """Advance the key cycle one step; return what happened, one line per change.

    First run: an active key and a next key. Later runs: the next key signs, the
    active one retires, a fresh next key is published. ``force`` skips the wait
    for caches (for a compromised key; relying parties will refetch on unknown kid).
    """
    now = ctx.now()
    changes: list[str] = []
    active = _by_state(session, KeyState.ACTIVE)
    upcoming = _by_state(session, KeyState.NEXT)
    if not active:
        key = upcoming[0] if upcoming else _new_key(ctx, KeyState.ACTIVE, now)
        key.state, key.activated_at = KeyState.ACTIVE.value, now
        session.add(key)
        changes.append(f"active {key.kid}")
    elif upcoming:
        promoted = upcoming[0]
        ready = promoted.created_at + dt.timedelta(seconds=ctx.settings.oidc.jwks_max_age_seconds)
        if now < ready and not force:
            wait = int((ready - now).total_seconds()) + 1
            raise Conflict(
                f"key {promoted.kid} was published less than oidc.jwks_max_age_seconds ago; "
                f"relying parties may not have it yet: rotate again in {wait} s (or --force)",
                code="key_not_ready",
            )
        for old in active:
            old.state = KeyState.RETIRING.value
            old.retire_after = now + dt.timedelta(seconds=_longest_token_seconds(ctx))
            changes.append(f"retiring {old.kid} (published until {old.retire_after.isoformat()})")
        promoted.state, promoted.activated_at = KeyState.ACTIVE.value, now
        changes.append(f"active {promoted.kid}")
        upcoming = upcoming[1:]
    if not upcoming:
        key = _new_key(ctx, KeyState.NEXT, now)
        session.add(key)
        changes.append(f"next {key.kid}")
    session.flush()
    audit.record(session, actor, "oidc_key.rotate", "oidc_key", "jwks", now=now,
                 details={"changes": changes})
    return changes


def retire(session: Session, ctx: Context, kid: str | None, *, actor: Actor,
           force: bool = False) -> list[str]:
    """Remove retiring keys from the JWKS: all whose tokens have expired, or
    the one named ``kid`` (before then only with ``force``)."""
    now = ctx.now()
    chosen = keys_to_retire(_by_state(session, KeyState.RETIRING), kid, now, force=force)
    for key in chosen:
        key.state, key.retired_at = KeyState.RETIRED.value, now
        audit.record(session, actor, "oidc_key.retire", "oidc_key", key.kid, now=now)
    session.flush()
    return [key.kid for key in chosen]


def published(session: Session) -> Sequence[SigningKey]:
    """Keys in the JWKS: next, active and retiring."""
    return session.scalars(
        select(SigningKey)
        .where(SigningKey.state != KeyState.RETIRED.value)
        .order_by(SigningKey.id)
    ).all()


def list_keys(session: Session) -> Sequence[SigningKey]:
    return session.scalars(select(SigningKey).order_by(SigningKey.id)).all()


def key_view(key: SigningKey) -> dict[str, Any]:
    def stamp(value: dt.datetime | None) -> str | None:
        return value.isoformat() if value else None

    return {
        "kid": key.kid,
        "alg": key.alg,
        "state": key.state,
        "created_at": stamp(key.created_at),
        "activated_at": stamp(key.activated_at),
        "retire_after": stamp(key.retire_after),
        "retired_at": stamp(key.retired_at),
    }

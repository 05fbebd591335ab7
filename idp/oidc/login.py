"""Reader sign-in with a password: lockout per account, rate limit per address.

The reader types a card number, mobile or identity-document number; the same
search the staff use (``services.lookup``) finds the candidates, restricted to
exact identifiers, so a name prefix never signs anyone in. Failures say
nothing about which part was wrong (no account enumeration).
"""

from __future__ import annotations

import re

from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy.orm import Session

from ..context import Context
from ..errors import InvalidInput, RateLimited
from ..models import Reader
from ..services import audit
from ..services.actor import Actor
from ..services.lookup import search_readers
from .ratelimit import RateLimiter, limit_address, retry_after
from .sessions import CAN_SIGN_IN

IDENTIFIER = re.compile(r"^[0-9Xx+\s-]{5,32}$")
WRONG = "the card number, mobile or ID number, or the password, is wrong"


class LoginFailed(InvalidInput):
    code = "login_failed"


def _verify(ctx: Context, stored: str | None, password: str, dummy: str) -> bool:
    """Argon2 verification; with no stored hash, the same work against ``dummy``
    so that timing does not tell whether the account exists."""
    try:
        return ctx.passwords.verify(stored or dummy, password) and stored is not None
    except (VerificationError, InvalidHashError):
        return False


def authenticate(session: Session, ctx: Context, limiter: RateLimiter, identifier: str,
                 password: str, *, address: str, dummy_hash: str) -> Reader:
    rules = ctx.settings.oidc
    now = ctx.now()
    limit_address(limiter, "login", address, limit=rules.login_attempts_per_address, now=now)
    identifier = identifier.strip()
    if not IDENTIFIER.match(identifier) or not 1 <= len(password) <= 128:
        _verify(ctx, None, password[:128], dummy_hash)
        raise LoginFailed(WRONG)
    candidates = [r for r in search_readers(session, ctx, identifier, limit=5)
                  if r.status in CAN_SIGN_IN]
    for reader in candidates:
        key = f"login-fail:{reader.id}"
        if limiter.count(key, window=rules.lockout_seconds, now=now) >= rules.login_max_failures:
            wait = retry_after(rules.lockout_seconds, now)
            raise RateLimited("this account is locked after repeated failed sign-ins; "
                              "try again later", retry_after=wait)
    matched = [r for r in candidates if _verify(ctx, r.password_hash, password, dummy_hash)]
    if not candidates:
        _verify(ctx, None, password, dummy_hash)
    if len(matched) != 1:
        for reader in candidates:
            limiter.hit(f"login-fail:{reader.id}", window=rules.lockout_seconds, now=now)
            audit.record(session, Actor.system("login"), "reader.login_failed", "reader",
                         reader.id, now=now)
        raise LoginFailed(WRONG)
    reader = matched[0]
    limiter.reset(f"login-fail:{reader.id}", window=rules.lockout_seconds, now=now)
    return reader

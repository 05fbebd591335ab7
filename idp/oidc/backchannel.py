"""Back-channel logout delivery (OpenID Connect Back-Channel Logout 1.0).

Each owed logout is a row (queued by ``logout.end_session`` in the same
transaction that ends the session), so a client that is down loses nothing:
a failed POST is retried with exponential backoff (``oidc.logout_retry_seconds``
doubling per attempt, capped at a day) until ``oidc.logout_max_attempts``. The
logout token is signed at each attempt, so it is always fresh.

An attempt holds no database connection or lock while it waits for the client:
it claims the row in one short transaction (moving its next attempt past the
POST's timeout, so other runners leave it alone and a runner that dies mid-POST
leaves it due again), posts, then records the outcome in another.
"""

from __future__ import annotations

import datetime as dt
import secrets
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select

from ..context import Context
from ..models import LogoutDelivery, OAuthClient
from .keyring import Keyring
from .tokens import timestamp

LOGOUT_TOKEN_TYPE = "logout+jwt"  # Back-Channel Logout 2.4
EVENT = "http://schemas.openid.net/event/backchannel-logout"
TOKEN_SECONDS = 120
MAX_DELAY = dt.timedelta(days=1)
#: A claimed delivery is due again this long after its POST would have timed out.
CLAIM_MARGIN = dt.timedelta(seconds=30)

#: POSTs a form to a URL within a timeout; returns the HTTP status (raises OSError).
Poster = Callable[[str, dict[str, str], float], int]


def logout_token(ctx: Context, keyring: Keyring, client: OAuthClient,
                 delivery: LogoutDelivery) -> str:
    """Back-Channel Logout 2.4: ``iss``, ``aud``, ``iat``, ``exp``, ``jti``,
    ``events``, ``sub`` and ``sid``; never a ``nonce``."""
    now = timestamp(ctx.now())
    claims: dict[str, Any] = {
        "iss": ctx.settings.issuer, "aud": client.client_id, "iat": now,
        "exp": now + TOKEN_SECONDS, "jti": secrets.token_urlsafe(16),
        "sub": delivery.subject, "sid": delivery.sid, "events": {EVENT: {}},
    }
    return keyring.sign(claims, typ=LOGOUT_TOKEN_TYPE)


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args: Any, **kwargs: Any) -> None:
        return None  # a redirect is not a 200 (Back-Channel Logout 2.8)


_OPENER = urllib.request.build_opener(_NoRedirect)


def http_post(url: str, form: dict[str, str], timeout: float) -> int:
    data = urllib.parse.urlencode(form).encode()
    request = urllib.request.Request(url, data=data, method="POST", headers={
        "Content-Type": "application/x-www-form-urlencoded"})
    try:
        with _OPENER.open(request, timeout=timeout) as response:
            return int(response.status)
    except urllib.error.HTTPError as exc:
        return int(exc.code)


@dataclass
class Outcome:
    delivered: int = 0
    retrying: int = 0
    gave_up: int = 0


def backoff(ctx: Context, attempts: int) -> dt.timedelta:
    """The wait after the ``attempts``-th failure: the first retry delay, doubled each time."""
    delay = dt.timedelta(seconds=ctx.settings.oidc.logout_retry_seconds * 2 ** (attempts - 1))
    return min(delay, MAX_DELAY)


def deliver_due(ctx: Context, keyring: Keyring, *, post: Poster = http_post,
                only: Iterable[int] | None = None, ignore_backoff: bool = False,
                limit: int = 1000) -> Outcome:
    """Attempt every due delivery (or only the ids in ``only``; with
    ``ignore_backoff`` every pending one). Rows another runner holds or has just
    claimed are skipped (FOR UPDATE SKIP LOCKED, then the claim itself)."""
    outcome = Outcome()
    query = select(LogoutDelivery.id).where(
        LogoutDelivery.delivered_at.is_(None), LogoutDelivery.gave_up_at.is_(None),
    ).order_by(LogoutDelivery.next_attempt_at)
    if not ignore_backoff:
        query = query.where(LogoutDelivery.next_attempt_at <= ctx.now())
    if only is not None:
        query = query.where(LogoutDelivery.id.in_(list(only)))
    with ctx.sessions() as session:
        ids = list(session.scalars(query.limit(limit)))
    for delivery_id in ids:
        claim = _claim(ctx, keyring, delivery_id, ignore_backoff, outcome)
        if claim is None:
            continue
        try:
            status = post(claim.uri, {"logout_token": claim.token},
                          ctx.settings.oidc.logout_timeout_seconds)
            error = None if 200 <= status < 300 else f"HTTP {status}"
        except (OSError, ValueError) as exc:  # refused, timed out, bad URL
            error = f"{type(exc).__name__}: {exc}"
        _record(ctx, delivery_id, error, outcome)
    return outcome


@dataclass(frozen=True)
class _Claim:
    uri: str
    token: str


def _claim(ctx: Context, keyring: Keyring, delivery_id: int, ignore_backoff: bool,
           outcome: Outcome) -> _Claim | None:
    """Take the delivery for one attempt, or settle it when it cannot be sent."""
    now = ctx.now()
    with ctx.transaction() as session:
        query = select(LogoutDelivery).where(
            LogoutDelivery.id == delivery_id, LogoutDelivery.delivered_at.is_(None),
            LogoutDelivery.gave_up_at.is_(None))
        if not ignore_backoff:
            query = query.where(LogoutDelivery.next_attempt_at <= now)
        row = session.scalar(query.with_for_update(skip_locked=True))
        client = session.get(OAuthClient, row.client_pk) if row is not None else None
        if row is None or client is None:
            return None
        row.attempts += 1
        uri = client.backchannel_logout_uri
        if not uri or client.removed_at is not None:
            row.last_error = "the client was removed or has no back-channel logout URI"
            row.gave_up_at = now
            outcome.gave_up += 1
            return None
        timeout = dt.timedelta(seconds=ctx.settings.oidc.logout_timeout_seconds)
        row.next_attempt_at = now + timeout + CLAIM_MARGIN
        return _Claim(uri, logout_token(ctx, keyring, client, row))


def _record(ctx: Context, delivery_id: int, error: str | None, outcome: Outcome) -> None:
    now = ctx.now()
    with ctx.transaction() as session:
        row = session.get(LogoutDelivery, delivery_id, with_for_update=True)
        if row is None or row.delivered_at is not None or row.gave_up_at is not None:
            return  # another runner settled it meanwhile (``ignore_backoff``)
        if error is None:
            row.delivered_at, row.last_error = now, None
            outcome.delivered += 1
        elif row.attempts >= ctx.settings.oidc.logout_max_attempts:
            row.last_error, row.gave_up_at = error[:200], now
            outcome.gave_up += 1
        else:
            row.last_error = error[:200]
            row.next_attempt_at = now + backoff(ctx, row.attempts)
            outcome.retrying += 1

"""Back-channel logout delivery (OpenID Connect Back-Channel Logout 1.0).

Each owed logout is a row (queued by ``logout.end_session`` in the same
transaction that ends the session), so a client that is down loses nothing:
a failed POST is retried with exponential backoff (``oidc.logout_retry_seconds``
doubling per attempt, capped at a day) until ``oidc.logout_max_attempts``. The
logout token is signed at each attempt, so it is always fresh.
"""

from __future__ import annotations

import datetime as dt
import secrets
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable, Iterable, Sequence
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
    ``ignore_backoff`` every pending one), one transaction each; rows another
    worker holds are skipped (FOR UPDATE SKIP LOCKED)."""
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
        with ctx.transaction() as session:
            row = session.scalar(select(LogoutDelivery).where(
                LogoutDelivery.id == delivery_id, LogoutDelivery.delivered_at.is_(None),
                LogoutDelivery.gave_up_at.is_(None)).with_for_update(skip_locked=True))
            client = session.get(OAuthClient, row.client_pk) if row is not None else None
            if row is not None and client is not None:
                _attempt(ctx, keyring, client, row, post, outcome)
    return outcome


def _attempt(ctx: Context, keyring: Keyring, client: OAuthClient, row: LogoutDelivery,
             post: Poster, outcome: Outcome) -> None:
    now = ctx.now()
    row.attempts += 1
    error: str | None = None
    uri = client.backchannel_logout_uri
    final = not uri or client.removed_at is not None
    if not uri or final:
        error = "the client was removed or has no back-channel logout URI"
    else:
        token = logout_token(ctx, keyring, client, row)
        try:
            status = post(uri, {"logout_token": token},
                          ctx.settings.oidc.logout_timeout_seconds)
            if not 200 <= status < 300:
                error = f"HTTP {status}"
        except (OSError, ValueError) as exc:  # refused, timed out, bad URL
            error = f"{type(exc).__name__}: {exc}"
    if error is None:
        row.delivered_at, row.last_error = now, None
        outcome.delivered += 1
        return
    row.last_error = error[:200]
    if final or row.attempts >= ctx.settings.oidc.logout_max_attempts:
        row.gave_up_at = now
        outcome.gave_up += 1
    else:
        row.next_attempt_at = now + backoff(ctx, row.attempts)
        outcome.retrying += 1


def deliver_queued(ctx: Context, keyring: Keyring, queued: Sequence[LogoutDelivery]) -> Outcome:
    """The first attempt, right after the commit that queued them."""
    if not queued:
        return Outcome()
    return deliver_due(ctx, keyring, only=[row.id for row in queued])

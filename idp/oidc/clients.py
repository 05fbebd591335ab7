"""Relying parties of member libraries: registration and secrets.

Secrets are 256-bit random values shown once; only a keyed hash is stored and
compared in constant time (DESIGN: a fast keyed hash, not bcrypt — the secret
has full entropy, so slow hashing buys nothing and costs every token request).
"""

from __future__ import annotations

import datetime as dt
import hmac
import secrets
from collections.abc import Sequence
from typing import Any
from urllib.parse import urlsplit

from sqlalchemy import select
from sqlalchemy.orm import Session

from ..context import Context
from ..errors import Conflict, InvalidInput, NotFound
from ..models import Library, OAuthClient
from ..pii import KeyedHasher
from ..services import audit
from ..services.actor import Actor
from .scopes import SCOPES

SECRET_PREFIX = "rpcs_"
SECRET_PURPOSE = "oidc-client-secret"
DEVICE_GRANT = "urn:ietf:params:oauth:grant-type:device_code"
GRANTS = ("authorization_code", "refresh_token", "client_credentials", DEVICE_GRANT)
KINDS = ("confidential", "public")


def plausible_client_id(value: object) -> bool:
    """Whether ``value`` could be a client id (RFC 6749 A.1: VSCHAR, printable
    ASCII; ours are at most 64 characters), before any query: PostgreSQL refuses a
    NUL in text with an error rather than finding nothing."""
    return (isinstance(value, str) and 0 < len(value) <= 64
            and value.isascii() and value.isprintable())


def secret_hash(hasher: KeyedHasher, secret: str) -> str:
    return hasher.digest(SECRET_PURPOSE, secret)


def check_secret(hasher: KeyedHasher, stored_hash: str | None, secret: str) -> bool:
    """Constant-time comparison of keyed hashes (a removed client has none)."""
    if stored_hash is None or not secret.startswith(SECRET_PREFIX) or len(secret) > 128:
        return False
    return hmac.compare_digest(secret_hash(hasher, secret), stored_hash)


def _check_uri(uri: str, field: str) -> str:
    """Exact redirect URIs: absolute, no fragment; https except on loopback (RFC 8252 7.3)."""
    parts = urlsplit(uri)
    if parts.scheme not in ("https", "http") or not parts.netloc or parts.fragment:
        raise InvalidInput(f"{uri!r} must be an absolute http(s) URI without a fragment",
                           field=field)
    if parts.scheme == "http" and parts.hostname not in ("127.0.0.1", "localhost", "::1"):
        raise InvalidInput(f"{uri!r} must use https (http only on loopback)", field=field)
    return uri


def add_client(
    session: Session, ctx: Context, *, name: str, library: str, kind: str,
    redirect_uris: Sequence[str], grant_types: Sequence[str], scopes: Sequence[str],
    post_logout_redirect_uris: Sequence[str] = (), backchannel_logout_uri: str | None = None,
    actor: Actor,
) -> tuple[OAuthClient, str | None]:
    """Register a client; return it and its secret (None for a public client)."""
    name = name.strip()
    if not 1 <= len(name) <= 200:
        raise InvalidInput("must be 1-200 characters", field="name")
    if kind not in KINDS:
        raise InvalidInput(f"must be one of {', '.join(KINDS)}", field="kind")
    owner = session.scalar(select(Library).where(Library.code == library.strip().upper()))
    if owner is None:
        raise NotFound(f"no member library with code {library!r}", field="library")
    for grant in grant_types:
        if grant not in GRANTS:
            raise InvalidInput(f"unknown grant {grant!r}; choose from {', '.join(GRANTS)}",
                               field="grant")
    if not grant_types:
        raise InvalidInput("give at least one grant", field="grant")
    if kind == "public" and "client_credentials" in grant_types:
        raise InvalidInput("a public client has no secret, so no client_credentials",
                           field="grant")
    for scope in scopes:
        if scope not in SCOPES:
            raise InvalidInput(f"unknown scope {scope!r}; choose from {', '.join(SCOPES)}",
                               field="scope")
    if "authorization_code" in grant_types and not redirect_uris:
        raise InvalidInput("the authorization_code grant needs a redirect URI",
                           field="redirect_uri")
    uris = [_check_uri(u, "redirect_uri") for u in redirect_uris]
    logout_uris = [_check_uri(u, "post_logout_redirect_uri") for u in post_logout_redirect_uris]
    if backchannel_logout_uri:
        _check_uri(backchannel_logout_uri, "backchannel_logout_uri")
    now = ctx.now()
    secret = SECRET_PREFIX + secrets.token_urlsafe(32) if kind == "confidential" else None
    client = OAuthClient(
        client_id=f"{owner.code.lower()}-{secrets.token_hex(8)}", name=name, library=owner,
        kind=kind, secret_hash=secret_hash(ctx.hasher, secret) if secret else None,
        redirect_uris=uris, post_logout_redirect_uris=logout_uris,
        grant_types=list(dict.fromkeys(grant_types)), scopes=list(dict.fromkeys(scopes)),
        backchannel_logout_uri=backchannel_logout_uri or None, created_at=now,
    )
    session.add(client)
    session.flush()
    audit.record(session, actor, "oidc_client.add", "oidc_client", client.client_id, now=now,
                 details={"library": owner.code, "kind": kind, "grants": client.grant_types})
    return client, secret


def get_client(session: Session, client_id: str) -> OAuthClient:
    client = session.scalar(select(OAuthClient).where(
        OAuthClient.client_id == client_id, OAuthClient.removed_at.is_(None)))
    if client is None:
        raise NotFound(f"no client {client_id!r}", field="client_id")
    return client


def list_clients(session: Session, library: str | None = None) -> Sequence[OAuthClient]:
    query = select(OAuthClient).where(OAuthClient.removed_at.is_(None)).order_by(
        OAuthClient.client_id)
    if library:
        query = query.join(Library).where(Library.code == library.strip().upper())
    return session.scalars(query).all()


def rotate_secret(session: Session, ctx: Context, client_id: str, *, actor: Actor) -> str:
    client = get_client(session, client_id)
    if client.kind != "confidential":
        raise Conflict("a public client has no secret", code="public_client")
    secret = SECRET_PREFIX + secrets.token_urlsafe(32)
    client.secret_hash = secret_hash(ctx.hasher, secret)
    client.secret_rotated_at = ctx.now()
    audit.record(session, actor, "oidc_client.rotate_secret", "oidc_client", client_id,
                 now=ctx.now())
    return secret


def remove_client(session: Session, ctx: Context, client_id: str, *, actor: Actor) -> None:
    """Revoke a client: it can no longer authenticate and its tokens stop working."""
    client = get_client(session, client_id)
    client.removed_at = ctx.now()
    client.secret_hash = None
    audit.record(session, actor, "oidc_client.remove", "oidc_client", client_id, now=ctx.now())


def client_view(client: OAuthClient) -> dict[str, Any]:
    def stamp(value: dt.datetime | None) -> str | None:
        return value.isoformat() if value else None

    return {
        "client_id": client.client_id,
        "name": client.name,
        "library": client.library.code,
        "kind": client.kind,
        "grant_types": client.grant_types,
        "scopes": client.scopes,
        "redirect_uris": client.redirect_uris,
        "post_logout_redirect_uris": client.post_logout_redirect_uris,
        "backchannel_logout_uri": client.backchannel_logout_uri,
        "created_at": stamp(client.created_at),
        "secret_rotated_at": stamp(client.secret_rotated_at),
    }

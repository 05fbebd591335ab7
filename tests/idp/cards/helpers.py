"""Helpers shared by the card-service tests: tokens as the issuer signs them, a gate
client's and a reader's access tokens, staff API calls."""

from __future__ import annotations

import base64
from typing import Any

from cards import serial_from_text
from idp.cardsvc import issuance, lifecycle
from idp.context import Context
from idp.models import OAuthClient, Reader
from idp.oidc import sessions
from idp.oidc.runtime import provider
from idp.services import staff
from idp.services.actor import Actor


def token_for(ctx: Context, reader_id: str, issued_at: int | None = None,
              lifetime: int = 120) -> str:
    """A token of the reader's card signed with the active key, as the issuer does."""
    with ctx.transaction() as session:
        reader = session.get(Reader, reader_id)
        assert reader is not None
        card = lifecycle.issue(session, ctx, reader, actor=Actor.cli())
        signer = issuance.Signers().get(session, ctx)
        at = issuance.slot_start(ctx) if issued_at is None else issued_at
        return signer.sign(serial_from_text(card.serial), card.status_index, at, lifetime)


def gate_token(app: Any, client_id: str, secret: str) -> str:
    basic = base64.b64encode(f"{client_id}:{secret}".encode()).decode()
    response = app.test_client().post("/oauth/token", data={"grant_type": "client_credentials"},
                                      headers={"Authorization": f"Basic {basic}"})
    assert response.status_code == 200, response.json
    token: str = response.json["access_token"]
    return token


def reader_token(app: Any, ctx: Context, reader_id: str, client_id: str,
                 scope: str = "openid reader_card") -> str:
    """An access token issued to a reader inside a sign-in session, as after the code flow."""
    with app.app_context(), ctx.transaction() as session:
        reader = session.get(Reader, reader_id)
        client = session.query(OAuthClient).filter_by(client_id=client_id).one()
        login = sessions.start(session, ctx, reader)
        sid = sessions.grant_sid(session, ctx, login, client)
        token, _ = provider().tokens.access_token(client_id=client_id, subject="s",
                                                  scope=scope, sid=sid)
        return token


def redis_workers(ctx: Context, settings: Any, redis_url: str, count: int = 2) -> list[Any]:
    """``count`` apps on one database, sharing the Redis replay cache (as workers do)."""
    import dataclasses

    from idp.app import create_app

    shared = settings.model_copy(update={
        "redis": settings.redis.model_copy(update={"url": redis_url})})
    return [create_app(context=dataclasses.replace(ctx, settings=shared))
            for _ in range(count)]


def staff_token(ctx: Context) -> str:
    with ctx.transaction() as session:
        return staff.create_token(session, ctx.hasher, "desk", actor=Actor.cli(), now=ctx.now())


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}

"""Staff bearer-token authentication for the JSON API."""

from __future__ import annotations

from flask import g, request

from ..app import current_context, db
from ..services import staff
from ..services.actor import Actor
from .problems import Unauthorized


def authenticate_request() -> None:
    header = request.headers.get("Authorization", "")
    scheme, _, secret = header.partition(" ")
    if scheme.lower() != "bearer" or not secret.strip():
        raise Unauthorized("send a staff token as 'Authorization: Bearer TOKEN' "
                           "(create one with `readerpass tokens create`)")
    actor = staff.authenticate(db(), current_context().hasher, secret.strip())
    if actor is None:
        raise Unauthorized("the staff token is unknown or revoked")
    g.actor = actor


def current_actor() -> Actor:
    actor: Actor = g.actor
    return actor

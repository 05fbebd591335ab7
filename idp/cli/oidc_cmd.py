"""``readerpass oidc deliver-logouts|logouts|purge``: back-channel logout deliveries
and the provider's housekeeping."""

from __future__ import annotations

import dataclasses
import datetime as dt

import click
from sqlalchemy import select

from ..models import LogoutDelivery, OAuthClient
from ..oidc import backchannel
from ..oidc.keyring import Keyring
from ..oidc.purge import purge_device_codes
from ..services.actor import Actor
from .common import context, domain_errors, emit, emit_record, json_option


@click.group("oidc")
def command() -> None:
    """OpenID Connect provider housekeeping."""


@command.command("deliver-logouts")
@click.option("--all-pending", is_flag=True,
              help="Also retry deliveries still waiting out their backoff (after an RP "
                   "came back).")
@json_option
@domain_errors
def deliver_logouts(all_pending: bool, as_json: bool) -> None:
    """Send due back-channel logout tokens; run it every minute (cron, timer)."""
    ctx = context()
    outcome = backchannel.deliver_due(ctx, Keyring(ctx), ignore_backoff=all_pending)
    emit_record(dataclasses.asdict(outcome), as_json=as_json)


@command.command("logouts")
@json_option
@domain_errors
def logouts(as_json: bool) -> None:
    """List back-channel logouts not yet delivered (pending or given up)."""
    ctx = context()
    with ctx.transaction() as session:
        rows = session.execute(
            select(LogoutDelivery, OAuthClient.client_id)
            .join(OAuthClient, OAuthClient.id == LogoutDelivery.client_pk)
            .where(LogoutDelivery.delivered_at.is_(None))
            .order_by(LogoutDelivery.next_attempt_at))
        views = [{
            "id": row.id, "client_id": client_id, "attempts": row.attempts,
            "next_attempt_at": row.next_attempt_at.isoformat(),
            "state": "gave up" if row.gave_up_at else "pending",
            "last_error": row.last_error or "",
        } for row, client_id in rows]
    emit(views, ("id", "client_id", "state", "attempts", "next_attempt_at", "last_error"),
         as_json=as_json)


@command.command("purge")
@click.option("--older-than", "hours", type=click.IntRange(1),
              help="Delete device codes that finished more than HOURS hours ago "
                   "[default: oidc.device_code_retention_hours].")
@json_option
@domain_errors
def purge(hours: int | None, as_json: bool) -> None:
    """Delete device codes (RFC 8628) that expired or were used long enough ago; run it
    daily (cron, timer)."""
    ctx = context()
    hours = hours or ctx.settings.oidc.device_code_retention_hours
    removed = purge_device_codes(ctx, older_than=dt.timedelta(hours=hours), actor=Actor.cli())
    emit_record({"device_codes": removed, "older_than_hours": hours}, as_json=as_json)

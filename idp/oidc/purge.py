"""Deleting what the provider no longer needs: finished device authorization requests.

A device code (RFC 8628) is finished once it has expired or been exchanged for tokens
(§3.5: it is good for one exchange). After that its row only answers "did that kiosk
sign-in go through?", and its user code still counts against the codes a new request
may draw (:func:`idp.oidc.device.create` keeps them unique among stored rows). Rows
are kept ``oidc.device_code_retention_hours`` after they finish, then deleted oldest
first in short transactions, so a large backlog never holds locks for long. The
session a device code opened is a row of its own and stays.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import delete, or_, select

from ..context import Context
from ..models import DeviceCode
from ..services import audit
from ..services.actor import Actor

BATCH = 5_000


def purge_device_codes(ctx: Context, *, older_than: dt.timedelta, actor: Actor) -> int:
    """Delete device codes that expired or were used before ``now - older_than``;
    return how many went. One audit event records the purge."""
    now = ctx.now()
    cutoff = now - older_than
    finished = or_(DeviceCode.expires_at < cutoff, DeviceCode.consumed_at < cutoff)
    removed = 0
    while True:
        with ctx.transaction() as session:
            ids = list(session.scalars(select(DeviceCode.id).where(finished)
                                       .order_by(DeviceCode.id).limit(BATCH)))
            if ids:
                session.execute(delete(DeviceCode).where(DeviceCode.id.in_(ids))
                                .execution_options(synchronize_session=False))
                removed += len(ids)
            if len(ids) < BATCH:
                audit.record(session, actor, "oidc_device_code.purge", "oidc_device_code", "*",
                             now=now, details={"removed": removed, "older_than_seconds":
                                               int(older_than.total_seconds())})
                return removed

"""Verifying a reader's mobile with a one-time code.

Six random digits, valid for ``messaging.code_ttl_seconds``, at most
``messaging.code_max_attempts`` tries; resends are spaced and capped per day.
Only a keyed hash of the code is stored. A successful check raises the reader's
assurance to phone-verified (never lowers a document-verified reader).
"""

from __future__ import annotations

import datetime as dt
import hmac
import secrets

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from ..context import Context
from ..errors import Conflict, InvalidInput, RateLimited
from ..models import Assurance, MobileVerification, Reader, Status
from . import audit
from .actor import Actor
from .registration import MOBILE_CONTEXT


def _code_hash(ctx: Context, reader: Reader, code: str) -> str:
    return ctx.hasher.digest("mobile-code", f"{reader.id}:{reader.mobile_hash}:{code}")


def _usable(reader: Reader) -> None:
    if reader.status in (Status.CANCELLED, Status.MERGED):
        raise Conflict(f"a {reader.status} reader cannot verify a mobile", code="reader_closed")
    if not reader.mobile_enc or not reader.mobile_hash:
        raise InvalidInput("the reader has no mobile number to verify", field="mobile")


def send_code(session: Session, ctx: Context, reader: Reader, *, actor: Actor) -> dt.datetime:
    """Send a new code; return when it expires. Raises RateLimited when too soon."""
    _usable(reader)
    rules = ctx.settings.messaging
    now = ctx.now()
    last = session.scalar(
        select(func.max(MobileVerification.created_at)).where(
            MobileVerification.reader_id == reader.id
        )
    )
    if last is not None and (now - last).total_seconds() < rules.resend_interval_seconds:
        wait = rules.resend_interval_seconds - int((now - last).total_seconds())
        raise RateLimited(f"a code was sent moments ago; wait {wait} s", retry_after=wait)
    sent_today = session.scalar(
        select(func.count()).select_from(MobileVerification).where(
            MobileVerification.reader_id == reader.id,
            MobileVerification.created_at > now - dt.timedelta(days=1),
        )
    ) or 0
    if sent_today >= rules.max_sends_per_day:
        raise RateLimited("too many codes sent in the last 24 hours", retry_after=3600)

    code = f"{secrets.randbelow(10**6):06d}"
    expires = now + dt.timedelta(seconds=rules.code_ttl_seconds)
    session.add(
        MobileVerification(
            reader_id=reader.id,
            mobile_hash=reader.mobile_hash,
            code_hash=_code_hash(ctx, reader, code),
            attempts=0,
            created_at=now,
            expires_at=expires,
        )
    )
    audit.record(session, actor, "reader.mobile_code_sent", "reader", reader.id, now=now)
    session.flush()
    mobile = ctx.cipher.decrypt(reader.mobile_enc or "", context=MOBILE_CONTEXT)
    minutes = rules.code_ttl_seconds // 60
    ctx.sender.send(
        mobile,
        f"ReaderPass verification code {code}, valid for {minutes} minutes. "
        "Library staff will never ask you for it.",
        purpose="mobile_verification",
    )
    return expires


def confirm_code(
    session: Session, ctx: Context, reader: Reader, code: str, *, actor: Actor
) -> Reader:
    """Check ``code``. A wrong code is counted (and committed) before the error."""
    _usable(reader)
    now = ctx.now()
    pending = session.scalar(
        select(MobileVerification)
        .where(
            MobileVerification.reader_id == reader.id,
            MobileVerification.mobile_hash == reader.mobile_hash,
            MobileVerification.consumed_at.is_(None),
        )
        .order_by(MobileVerification.id.desc())
        .limit(1)
    )
    if pending is None:
        raise InvalidInput("no code is pending for this mobile; request a new one", field="code")
    if pending.expires_at <= now:
        raise InvalidInput("the code has expired; request a new one", field="code")
    limit = ctx.settings.messaging.code_max_attempts
    if pending.attempts >= limit:
        raise InvalidInput("too many wrong codes; request a new one", field="code")
    if not hmac.compare_digest(pending.code_hash, _code_hash(ctx, reader, code)):
        pending.attempts += 1
        left = limit - pending.attempts
        # The count must survive the error the caller will roll back on.
        session.commit()
        raise InvalidInput(f"the code is wrong ({left} tries left)", field="code")
    pending.consumed_at = now
    reader.mobile_verified_at = now
    if Assurance(reader.assurance).rank < Assurance.PHONE_VERIFIED.rank:
        reader.assurance = Assurance.PHONE_VERIFIED.value
    reader.updated_at = now
    session.flush()
    audit.record(session, actor, "reader.mobile_verified", "reader", reader.id, now=now,
                 details={"assurance": reader.assurance})
    return reader

"""What a client learns about a reader: pairwise subjects and scoped claims.

Subjects are pairwise per member library (OIDC Core 8.1, sector = library): a
keyed hash of (library code, reader id), so two libraries cannot correlate a
reader through ``sub`` and no personal number ever reaches a client.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from ..context import Context
from ..models import Reader
from ..services.provisioning import local_barcode
from ..services.registration import MOBILE_CONTEXT

SUBJECT_PURPOSE = "oidc-pairwise-subject"


def pairwise_subject(ctx: Context, library_code: str, reader_id: str) -> str:
    return ctx.hasher.digest(SUBJECT_PURPOSE, f"{library_code}\x00{reader_id}")


def user_claims(session: Session, ctx: Context, reader: Reader, *, library_id: int,
                library_code: str, scopes: set[str]) -> dict[str, Any]:
    """Userinfo claims for ``scopes`` (OIDC Core 5.3.2): ``sub`` plus what each scope grants."""
    claims: dict[str, Any] = {"sub": pairwise_subject(ctx, library_code, reader.id)}
    if "profile" in scopes:
        claims.update(name=f"{reader.family_name}{reader.given_name}",
                      family_name=reader.family_name, given_name=reader.given_name)
    if "phone" in scopes and reader.mobile_enc:
        claims.update(
            phone_number=ctx.cipher.decrypt(reader.mobile_enc, context=MOBILE_CONTEXT),
            phone_number_verified=reader.mobile_verified_at is not None,
        )
    if "reader_card" in scopes:
        claims.update(
            card_number=reader.card_number,
            local_barcode=local_barcode(session, reader.id, library_code),
            home_library=reader.home_library.code,
            category=reader.category,
            card_status=reader.status,
            card_expires_on=reader.expires_on.isoformat(),
            assurance_level=reader.assurance,
        )
    return claims

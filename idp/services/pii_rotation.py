"""Re-encrypting stored personal numbers under the newest PII key.

Rotation is two steps: put a new key first in ``security.pii_keys`` (new data is
encrypted with it at once), then run this to re-encrypt old rows, after which
the old key can be removed. Keyed hashes do not change, so look-ups keep working
throughout. Merge records keep the ciphertexts of a merged reader's mobile in
their snapshots (for unmerge); they are re-encrypted too. So are the private
parts of every key the service holds under the same cipher (OIDC signing keys,
card-signing keys and the card trust anchor, in every state) and the source rows
kept with import issues: nothing is left that only a removed key could open.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import ColumnElement, select, true

from ..cardsvc.keys import PRIVATE_CONTEXT as CARD_KEY_CONTEXT
from ..context import Context
from ..importer.records import ROW_CONTEXT
from ..models import (
    CardKeyRole,
    CardKeyRow,
    IdentityDocument,
    ImportIssue,
    Reader,
    ReaderMerge,
    SigningKey,
)
from ..oidc.keys import PRIVATE_KEY_CONTEXT as OIDC_KEY_CONTEXT
from . import audit
from .actor import Actor
from .merge_snapshot import reencrypted
from .registration import DOCUMENT_CONTEXT, MOBILE_CONTEXT


@dataclass
class RotationReport:
    documents: int = 0
    mobiles: int = 0
    snapshots: int = 0
    keys: int = 0  # private parts of OIDC, card-signing and anchor keys
    import_rows: int = 0


def _columns() -> list[tuple[Any, Any, str, str, ColumnElement[bool]]]:
    """(model, encrypted column, cipher context, report field, row filter)."""
    return [
        (IdentityDocument, IdentityDocument.number_enc, DOCUMENT_CONTEXT, "documents", true()),
        (Reader, Reader.mobile_enc, MOBILE_CONTEXT, "mobiles", true()),
        (SigningKey, SigningKey.private_enc, OIDC_KEY_CONTEXT, "keys", true()),
        *((CardKeyRow, CardKeyRow.private_enc, CARD_KEY_CONTEXT[role], "keys",
           CardKeyRow.role == role.value) for role in CardKeyRole),
        (ImportIssue, ImportIssue.row_enc, ROW_CONTEXT, "import_rows", true()),
    ]


def rotate_pii(ctx: Context, *, actor: Actor, batch_size: int = 500,
               progress: Callable[[int], None] | None = None) -> RotationReport:
    """Re-encrypt, one committed batch at a time, every value not under the current key."""
    report = RotationReport()
    cipher = ctx.cipher
    prefix = cipher.current_key_id + "."
    for model, column, context, field, which in _columns():
        while True:
            with ctx.transaction() as session:
                rows = session.scalars(
                    select(model).where(which, column.is_not(None), column != "",
                                        ~column.startswith(prefix))
                    .limit(batch_size).with_for_update()
                ).all()
                for row in rows:
                    stored = getattr(row, column.key)
                    setattr(row, column.key,
                            cipher.encrypt(cipher.decrypt(stored, context=context),
                                           context=context))
            if not rows:
                break
            setattr(report, field, getattr(report, field) + len(rows))
            if progress:
                progress(len(rows))
    report.snapshots = _rotate_snapshots(ctx, batch_size, progress)
    with ctx.transaction() as session:
        audit.record(session, actor, "pii.rotate", "pii_key", cipher.current_key_id,
                     now=ctx.now(), details={"documents": report.documents,
                                             "mobiles": report.mobiles,
                                             "snapshots": report.snapshots,
                                             "keys": report.keys,
                                             "import_rows": report.import_rows})
    return report


def _rotate_snapshots(ctx: Context, batch_size: int,
                      progress: Callable[[int], None] | None) -> int:
    """Merge snapshots are JSON, so they are read in id order and rewritten where a
    ciphertext is under an older key (there are few merges next to readers)."""
    done, after = 0, 0
    while True:
        with ctx.transaction() as session:
            records = session.scalars(
                select(ReaderMerge).where(ReaderMerge.id > after).order_by(ReaderMerge.id)
                .limit(batch_size).with_for_update()).all()
            changed = 0
            for record in records:
                fresh = reencrypted(record.snapshot, ctx.cipher)
                if fresh is not None:
                    record.snapshot = fresh
                    changed += 1
        if not records:
            return done
        after, done = records[-1].id, done + changed
        if progress and changed:
            progress(changed)

"""The rows one import batch inserts, and the bulk statements that insert them."""

from __future__ import annotations

import datetime as dt
import json
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from ..cardsvc import lifecycle
from ..context import Context
from ..db import among
from ..duplicates.features import match_name
from ..duplicates.keys import RESIDENT_ID_TYPES, name_keys
from ..models import (
    AuditEvent,
    Card,
    IdentityDocument,
    ImportedRow,
    ImportIssue,
    KeyKind,
    LinkMethod,
    LinkState,
    MatchKey,
    OutboxItem,
    Reader,
    ReaderLink,
    Status,
)
from ..services.numbers import new_card_numbers
from ..services.registration import DOCUMENT_CONTEXT, MOBILE_CONTEXT, _years_later
from .bulk import bulk_insert
from .claims import Claims
from .prepare import Draft

ROW_CONTEXT = "import_row"


@dataclass
class Batch:
    readers: list[dict[str, Any]] = field(default_factory=list)
    documents: list[dict[str, Any]] = field(default_factory=list)
    links: list[dict[str, Any]] = field(default_factory=list)
    issues: list[dict[str, Any]] = field(default_factory=list)
    outbox: list[dict[str, Any]] = field(default_factory=list)
    audit: list[dict[str, Any]] = field(default_factory=list)
    match_keys: list[dict[str, Any]] = field(default_factory=list)
    rows: list[dict[str, Any]] = field(default_factory=list)  # the import_rows ledger
    #: (reader id, card serial) of every new reader: the card is issued at import
    cards: list[tuple[str, str]] = field(default_factory=list)
    counts: Counter[str] = field(default_factory=Counter)
    claims: Claims = field(default_factory=Claims)
    #: it matched a reader that a batch planned before it creates: its rows wait
    #: until that batch has committed (their foreign keys need the reader)
    follows: bool = False

    def claim_rows(self) -> None:
        """Add what the batch's rows take to its claims (the documents of its new
        readers are claimed as they are made)."""
        claims = self.claims
        claims.local_ids.update(link["local_id"] for link in self.links)
        claims.barcodes.update(link["local_barcode"] for link in self.links
                               if link["local_barcode"])
        claims.linked.update(link["reader_id"] for link in self.links)
        claims.row_keys.update(row["row_key"] for row in self.rows)
        claims.card_numbers.update(reader["card_number"] for reader in self.readers)
        claims.serials.update(serial for _, serial in self.cards)


class BatchRecords:
    def __init__(self, session: Session, ctx: Context, library_id: int, run_id: int, *,
                 enqueue: bool) -> None:
        self.session, self.ctx = session, ctx
        self.library_id, self.run_id, self.enqueue = library_id, run_id, enqueue

    def _card_numbers(self, count: int, *, taken: set[str]) -> list[str]:
        """Fresh province card numbers, checked against each other, ``taken`` and the
        database."""
        cards: set[str] = set()
        while len(cards) < count:
            wanted = set(new_card_numbers(count - len(cards))) - cards - taken
            used = set(self.session.scalars(select(Reader.card_number).where(
                among(self.session, Reader.card_number, wanted))))
            cards |= wanted - used
        return sorted(cards)

    def _new_reader(self, batch: Batch, draft: Draft, reader_id: str, name: str, card: str,
                    serial: str, now: dt.datetime, *, claimed: str | None = None) -> str:
        """Rows for a new reader with card number ``card`` and a reader card with
        ``serial``; ``claimed`` is the hash of a resident ID the row gave but another
        reader holds (kept as a blocking key only)."""
        assert draft.birth_date is not None
        cipher, hasher = self.ctx.cipher, self.ctx.hasher
        validity = self.ctx.settings.registration.card_validity_years
        batch.readers.append({
            "id": reader_id, "card_number": card, "family_name": draft.family_name,
            "given_name": draft.given_name, "search_name": name, "sex": draft.sex,
            "birth_date": draft.birth_date,
            "mobile_enc": cipher.encrypt(draft.mobile, context=MOBILE_CONTEXT)
            if draft.mobile else None,
            "mobile_hash": hasher.digest("mobile", draft.mobile) if draft.mobile else None,
            "mobile_verified_at": None, "category": draft.category,
            "status": Status.ACTIVE.value, "assurance": "self_asserted", "guardian_id": None,
            "home_library_id": self.library_id, "password_hash": None,
            "expires_on": draft.expiry or _years_later(self.ctx.today(), validity),
            "created_at": now, "updated_at": now, "version": 1,
        })
        mobile_hash = batch.readers[-1]["mobile_hash"]
        keys: set[tuple[str, str]] = {(kind.value, digest) for kind, digest in name_keys(
            self.ctx, match_name(draft.family_name, draft.given_name), draft.birth_date)}
        if mobile_hash:
            keys.add((KeyKind.MOBILE.value, mobile_hash))
        if claimed:
            keys.add((KeyKind.CLAIMED_DOCUMENT.value, claimed))
        doc = draft.document
        if doc is not None and doc.doc_type.value in RESIDENT_ID_TYPES:
            keys.add((KeyKind.DOCUMENT.value, hasher.digest("identity-document", doc.match_key)))
        batch.match_keys.extend({"reader_id": reader_id, "kind": kind, "digest": digest}
                                for kind, digest in sorted(keys))
        if doc is not None:
            batch.documents.append({
                "reader_id": reader_id, "doc_type": doc.doc_type.value, "country": doc.country,
                "number_enc": cipher.encrypt(doc.number, context=DOCUMENT_CONTEXT),
                "match_hash": hasher.digest("identity-document", doc.match_key),
                "converted_from_15": doc.converted_from_15, "verified_at": None,
                "created_at": now,
            })
        batch.audit.append({
            "at": now, "actor": "system:import", "action": "reader.import",
            "target_type": "reader", "target_id": reader_id, "reason": None,
            "details": {"library_id": self.library_id, "local_id": draft.row.get("local_id"),
                        "card": serial},
        })
        batch.cards.append((reader_id, serial))
        return reader_id

    def _link(self, batch: Batch, draft: Draft, reader_id: str, method: LinkMethod,
              now: dt.datetime, taken_ids: set[str | None], taken_codes: set[str | None],
              linked_here: set[str]) -> None:
        local_id, barcode = draft.row.get("local_id") or None, draft.row.get("barcode") or None
        if local_id is None:
            self._issue(batch, draft, now, "not_linked", "local_id",
                        "no local patron id: the reader was made but not linked", [],
                        reader_id=reader_id)
            return
        if reader_id in linked_here:
            self._issue(batch, draft, now, "possible_duplicate", "local_id",
                        "the reader is already linked to another patron of this library",
                        [reader_id], reader_id=reader_id)
            return
        if barcode is not None and barcode in taken_codes:
            self._issue(batch, draft, now, "invalid_field", "barcode",
                        "barcode already linked to another patron; linked without it", [],
                        reader_id=reader_id)
            barcode = None
        taken_ids.add(local_id)
        taken_codes.add(barcode)
        linked_here.add(reader_id)
        batch.links.append({
            "reader_id": reader_id, "library_id": self.library_id, "local_id": local_id,
            "local_barcode": barcode, "state": LinkState.LINKED.value, "method": method.value,
            "local_version": draft.row.local_version, "candidates": [], "last_sync_at": now,
            "last_error": None, "created_at": now, "updated_at": now,
        })
        batch.counts["linked"] += 1
        if self.enqueue and draft.row.backlink != reader_id:
            batch.outbox.append({
                "library_id": self.library_id, "reader_id": reader_id, "event": "link.import",
                "state": "pending", "attempts": 0, "next_attempt_at": now, "last_error": None,
                "created_at": now, "delivered_at": None,
            })

    def _issue(self, batch: Batch, draft: Draft, now: dt.datetime, kind: str,
               problem_field: str | None, problem: str, candidates: list[str], *,
               reader_id: str | None = None, keep_row: bool = False) -> None:
        row_enc = None
        if keep_row:
            data = {**draft.row.fields, "backlink": draft.row.backlink}
            row_enc = self.ctx.cipher.encrypt(json.dumps(data, ensure_ascii=False),
                                              context=ROW_CONTEXT)
        batch.issues.append({
            "run_id": self.run_id, "library_id": self.library_id,
            "source_ref": draft.row.ref[:64], "reader_id": reader_id, "kind": kind,
            "field": problem_field[:32] if problem_field else None, "problem": problem,
            "candidates": candidates, "row_enc": row_enc, "status": "open", "created_at": now,
        })
        batch.counts["issues"] += 1

    def _not_imported(self, batch: Batch, draft: Draft, now: dt.datetime) -> None:
        why = "; ".join(f"{f}: {p}" for f, p in draft.problems) or "unusable row"
        self._issue(batch, draft, now, "not_imported", None, why, [], keep_row=True)
        batch.counts["not_imported"] += 1

    def _done(self, batch: Batch, key: str, reader_id: str | None, outcome: str,
              now: dt.datetime) -> None:
        batch.rows.append({"library_id": self.library_id, "row_key": key, "run_id": self.run_id,
                           "reader_id": reader_id, "outcome": outcome, "created_at": now})

    def store(self, batch: Batch, turn: Callable[[], None] = lambda: None) -> None:
        """Insert the batch's rows in the session's transaction. ``turn`` returns
        when the batches before this one are stored: the cards come after it, as
        their status-list indices are taken in one lock held until commit. A batch
        that ``follows`` the ones before it waits for them first."""
        if batch.follows:
            turn()
        self._store_rows(batch)
        turn()
        self._store_cards(batch)

    def _store_rows(self, batch: Batch) -> None:
        for model, rows in ((Reader, batch.readers), (IdentityDocument, batch.documents),
                            (AuditEvent, batch.audit), (ReaderLink, batch.links),
                            (OutboxItem, batch.outbox), (ImportIssue, batch.issues),
                            (MatchKey, batch.match_keys), (ImportedRow, batch.rows)):
            bulk_insert(self.session, model.__table__, rows)  # type: ignore[arg-type]

    def _store_cards(self, batch: Batch) -> None:
        """The new readers' cards, last: their status-list indices lock the list's
        head row until the batch commits."""
        rows = lifecycle.new_card_rows(self.session, self.ctx, batch.cards)
        bulk_insert(self.session, Card.__table__, rows)  # type: ignore[arg-type]

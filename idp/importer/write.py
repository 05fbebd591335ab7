"""Storing one batch of drafts with a handful of bulk statements.

Matching is deliberately cautious (DESIGN "Duplicates"): a row joins an existing
reader only through the library's back-link or an equal identity-document hash
with an agreeing name. A same-name, same-birth-date reader is not enough: the row
becomes a new reader, and the duplicate check queues the pair for review.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence

from ..cardsvc import lifecycle
from ..duplicates.comparisons import name_level, names_agree
from ..duplicates.features import MatchName, match_name
from ..models import LinkMethod
from ..services.names import search_name
from ..services.numbers import new_reader_ids
from .claims import Claims
from .lookups import Asked, ask
from .prepare import Draft
from .records import Batch, BatchRecords


class Writer(BatchRecords):

    def write(self, drafts: Sequence[Draft]) -> Counter[str]:
        """Plan and store one batch in the session's transaction; returns its counts."""
        batch = self.plan(drafts)
        self.store(batch)
        return batch.counts

    def plan(self, drafts: Sequence[Draft], in_flight: Iterable[Claims] = ()) -> Batch:
        """Look up and decide every row of ``drafts`` and build the rows to insert,
        inserting nothing; ``in_flight`` are the claims of batches planned earlier
        whose transactions may not have committed yet."""
        return self.decide(ask(self.session, self.ctx, self.library_id, drafts), in_flight)

    def decide(self, asked: Asked, in_flight: Iterable[Claims] = ()) -> Batch:
        """Decide every row of a looked-up batch and build the rows to insert;
        ``in_flight`` are the claims of the batches planned before it that may
        have committed after its look-ups began."""
        pending = Claims.union(in_flight)
        now, batch = self.ctx.now(), Batch()
        s, found, drafts = self.session, asked.found, asked.drafts
        hashes, keys = asked.hashes, asked.keys
        taken_ids: set[str | None] = {*pending.local_ids, *found.local_ids}
        taken_codes: set[str | None] = {*pending.barcodes, *found.barcodes}
        by_hash: dict[str, tuple[str, MatchName]] = {
            h: (rid, match_name(family, given))
            for h, (rid, family, given) in found.documents.items()}
        unstored: set[str] = set()  # readers of batches that may not have committed
        for value in hashes.values():
            if value in pending.documents and value not in by_hash:
                by_hash[value] = pending.documents[value]
                unstored.add(pending.documents[value][0])
        known = found.known
        linked_here = found.linked | pending.linked
        done = pending.row_keys | found.row_keys
        cards = sorted(asked.cards - found.card_numbers - pending.card_numbers)
        if len(cards) < len(drafts):  # a clash (practically never): draw the rest anew
            cards += self._card_numbers(len(drafts) - len(cards), taken=(
                pending.card_numbers | found.card_numbers | set(cards)))
        serials = sorted(asked.serials - found.serials - pending.serials)
        if len(serials) < len(drafts):
            serials += lifecycle.new_serials(s, len(drafts) - len(serials), taken=(
                pending.serials | found.serials | set(serials)))
        reader_ids = new_reader_ids(len(drafts))
        for draft in drafts:
            local_id, key = draft.row.get("local_id"), keys[id(draft)]
            batch.counts["read"] += 1
            if key in done or (local_id and local_id in taken_ids):
                # Dealt with by an earlier run or row, or linked some other way.
                batch.counts["already_imported"] += 1
                continue
            done.add(key)
            if draft.fatal:
                self._not_imported(batch, draft, now)
                self._done(batch, key, None, "not_imported", now)
                continue
            name = search_name(draft.family_name, draft.given_name)
            wanted = match_name(draft.family_name, draft.given_name)
            reader_id, method = None, LinkMethod.IMPORTED
            if draft.row.backlink in known and known[draft.row.backlink] == name:
                reader_id, method = draft.row.backlink, LinkMethod.AUTO_MATCHED
            digest = hashes.get(id(draft))
            claimed = None
            if digest is not None and digest in by_hash:
                holder, holder_name = by_hash[digest]
                if reader_id is None and names_agree(holder_name, wanted,
                                                     name_level(holder_name, wanted)):
                    reader_id, method = holder, LinkMethod.AUTO_MATCHED
                    # Its rows refer to that reader: stored once the reader is.
                    batch.follows = batch.follows or holder in unstored
                elif holder != reader_id:
                    self._issue(batch, draft, now, "possible_duplicate", "document_number",
                                "the identity document is registered to another reader "
                                "whose name differs; imported without it and queued for "
                                "duplicate review", [holder])
                    claimed = digest
                draft.document = None
            if reader_id is None:
                reader_id = self._new_reader(batch, draft, reader_ids.pop(), name, cards.pop(),
                                             serials.pop(), now, claimed=claimed)
                if digest is not None and draft.document is not None:
                    by_hash[digest] = batch.claims.documents[digest] = (reader_id, wanted)
                batch.counts["created"] += 1
                self._done(batch, key, reader_id, "created", now)
            else:
                batch.counts["matched"] += 1
                self._done(batch, key, reader_id, "matched", now)
            for problem_field, problem in draft.problems:
                self._issue(batch, draft, now, "invalid_field", problem_field, problem, [],
                            reader_id=reader_id)
            self._link(batch, draft, reader_id, method, now, taken_ids, taken_codes,
                       linked_here)
        batch.claim_rows()
        return batch

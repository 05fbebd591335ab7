"""The batch scan: every reader (or a library's, or the newly created) against
every other reader sharing a blocking key, scored by the match model.

The database does the blocking: one grouped query returns the members of every
key shared by two or more readers, so keys held by one reader alone (most of
them) never leave the server. Records are loaded once, the model's parameters
are estimated from them (or configured), and the pairs found go to the review
queue; decided pairs stay decided.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from ..context import Context
from ..db import among
from ..errors import InvalidInput
from ..models import (
    DuplicateScan,
    ImportedRow,
    KeyKind,
    Library,
    MatchKey,
    Reader,
    ReaderLink,
    Status,
)
from ..services.actor import Actor
from ..services.audit import record as audit_record
from . import queue
from .engine import EngineResult, find_pairs, paused_gc
from .features import Record, match_name, matching_birth_date
from .groups import Scored, scored_groups
from .parameters import DEFAULT_PARAMETERS, Parameters

#: Called with (stage, done, total); total is None when unknown.
Progress = Callable[[str, int, int | None], None]
DOCUMENT_KINDS = (KeyKind.DOCUMENT.value, KeyKind.CLAIMED_DOCUMENT.value)
_CHUNK = 5000
#: Member entries of the blocks a scoped scan scores together (see _scan_in_chunks).
CHUNK_MEMBERS = 200_000


@dataclass
class ScanReport:
    scan_id: int
    scope: str
    readers: int = 0
    blocks: int = 0
    compared: int = 0
    skipped_blocks: list[dict[str, Any]] = field(default_factory=list)
    found: int = 0
    auto_merge: int = 0
    queue: dict[str, int] = field(default_factory=dict)
    parameters: dict[str, Any] = field(default_factory=dict)

    def counts(self) -> dict[str, Any]:
        return {"readers": self.readers, "blocks": self.blocks, "compared": self.compared,
                "skipped_blocks": self.skipped_blocks, "found": self.found,
                "auto_merge": self.auto_merge, **self.queue}


def configured_parameters(ctx: Context) -> Parameters | None:
    path = ctx.settings.duplicates.parameters_file
    if not path:
        return None
    try:
        return Parameters.from_json(json.loads(Path(path).read_text(encoding="utf-8")))
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise InvalidInput(f"cannot use the match parameters in {path}: {exc}",
                           field="duplicates.parameters_file") from None


def latest_parameters(session: Session) -> Parameters | None:
    data = session.scalar(select(DuplicateScan.parameters).where(
        DuplicateScan.finished_at.is_not(None), DuplicateScan.scope == "all")
        .order_by(DuplicateScan.id.desc()).limit(1))
    return Parameters.from_json(data) if data else None


def _scope_readers(session: Session, scope: str) -> Any:
    """A subquery of the reader ids a scoped scan starts from."""
    if scope.startswith("import:"):
        run_id = int(scope.split(":", 1)[1])
        return select(ImportedRow.reader_id).where(ImportedRow.run_id == run_id,
                                                   ImportedRow.reader_id.is_not(None))
    if scope.startswith("library:"):
        code = scope.split(":", 1)[1]
        library_id = session.scalar(select(Library.id).where(Library.code == code))
        if library_id is None:
            raise InvalidInput(f"no member library has the code {code!r}", field="library")
        linked = select(ReaderLink.reader_id).where(ReaderLink.library_id == library_id)
        return select(Reader.id).where(or_(Reader.home_library_id == library_id,
                                           Reader.id.in_(linked)))
    # Since the previous scan of everyone or of the new: a library's or an import's
    # scan looked at only some of the readers created before it.
    since = session.scalar(select(DuplicateScan.started_at).where(
        DuplicateScan.finished_at.is_not(None), DuplicateScan.scope.in_(("all", "new")))
        .order_by(DuplicateScan.id.desc()).limit(1))
    query = select(Reader.id)
    return query.where(Reader.created_at >= since) if since is not None else query


def _blocks(session: Session, scope_ids: Any) -> Iterator[tuple[str, str, list[str]]]:
    """(kind, digest, reader ids) of every key shared by two or more readers."""
    digest: Any = MatchKey.digest
    if session.get_bind().dialect.name == "postgresql":
        # Digests are hex: grouped under the byte-order collation PostgreSQL sorts them
        # in parallel instead of walking the digest index in heap order (a million
        # readers: 3 s instead of 16 s).
        digest = digest.collate("C")
    query = (select(func.min(MatchKey.kind), digest,
                    func.aggregate_strings(MatchKey.reader_id, ","))
             .group_by(digest).having(func.count() > 1))
    if scope_ids is not None:
        query = query.where(MatchKey.digest.in_(
            select(MatchKey.digest).where(MatchKey.reader_id.in_(scope_ids))))
    for kind, digest, members in session.execute(query).yield_per(_CHUNK):
        yield kind, digest, members.split(",")


def records_of(session: Session, ids: set[str] | None) -> Iterator[Record]:
    """Match records of the readers ``ids`` (all readers when None), tombstones left out."""
    readers = select(Reader.id, Reader.family_name, Reader.given_name, Reader.birth_date,
                     Reader.sex, Reader.mobile_hash).where(Reader.status != Status.MERGED.value)
    keys = select(MatchKey.reader_id, MatchKey.digest).where(MatchKey.kind.in_(DOCUMENT_KINDS))
    if ids is None:
        yield from _records(session.execute(readers).yield_per(_CHUNK),
                            session.execute(keys).yield_per(_CHUNK))
        return
    # Chunk by chunk, so that only one chunk's rows are held beside the records.
    id_list = sorted(ids)
    for start in range(0, len(id_list), _CHUNK):
        chunk = id_list[start:start + _CHUNK]
        yield from _records(session.execute(readers.where(among(session, Reader.id, chunk))),
                            session.execute(keys.where(among(session, MatchKey.reader_id,
                                                             chunk))))


def _records(rows: Iterable[Any], doc_rows: Iterable[Any]) -> Iterator[Record]:
    documents: dict[str, set[str]] = {}
    for reader_id, digest in doc_rows:
        documents.setdefault(reader_id, set()).add(digest)
    for reader_id, family, given, born, sex, mobile in rows:
        yield Record(reader_id, match_name(family, given), matching_birth_date(born), sex,
                     frozenset(documents.get(reader_id, ())), mobile)


def _score(ctx: Context, records: list[Record], blocks: list[tuple[str, str, list[str]]],
           parameters: Parameters | None, *, name_frequencies: bool
           ) -> tuple[EngineResult, list[queue.Candidate]]:
    """The engine's pairs among ``records`` found through ``blocks``, as queue candidates."""
    settings = ctx.settings.duplicates
    index = {record.reader_id: i for i, record in enumerate(records)}
    keys = ((kind, digest, index[m]) for kind, digest, ids in blocks for m in ids if m in index)
    result = find_pairs(records, keys, parameters, max_block=settings.max_block,
                        review_threshold=settings.review_threshold,
                        name_frequencies=name_frequencies)
    return result, [queue.Candidate.of(records[p.first].reader_id, records[p.second].reader_id,
                                       p.match.weight, p.match.auto_merge, p.match.explanation)
                    for p in result.pairs]


def _scan_at_once(ctx: Context, scope: str, parameters: Parameters | None, report: ScanReport,
                  tell: Progress) -> list[queue.Candidate]:
    """Every record of the scope in memory at once: what estimating the parameters
    (and the province's name frequencies, for a scan of everyone) needs."""
    with ctx.sessions() as session, paused_gc():
        scope_ids = None if scope == "all" else _scope_readers(session, scope)
        blocks = list(_blocks(session, scope_ids))
        tell("blocks", len(blocks), len(blocks))
        members = None if scope == "all" else {m for _, _, ids in blocks for m in ids}
        records: list[Record] = []
        for record in records_of(session, members):
            records.append(record)
            if len(records) % 100_000 == 0:
                tell("readers", len(records), None)
        tell("readers", len(records), len(records))
    # A scoped scan loads only the members of its blocks, who share names by
    # construction: their frequencies are not the province's, so names weigh by level.
    result, candidates = _score(ctx, records, blocks, parameters,
                                name_frequencies=scope == "all")
    report.readers, report.blocks = len(records), len(blocks)
    report.compared = result.counts.candidate_pairs
    report.skipped_blocks = [{"kind": b.kind, "size": b.size} for b in result.skipped]
    report.parameters = result.parameters.to_json()
    return candidates


def _scan_in_chunks(ctx: Context, scope: str, parameters: Parameters, report: ScanReport,
                    tell: Progress) -> list[queue.Candidate]:
    """A scoped scan with known parameters, a group of whole blocks at a time.

    Nothing is estimated from the records and names weigh by level, so a pair
    scores the same in whichever group finds it: the groups' pairs are simply
    merged (a pair sharing keys in two groups is compared in both and kept once). Only
    about ``CHUNK_MEMBERS`` readers are in memory at a time in each process that
    scores (two on PostgreSQL, see :mod:`.groups`), however many the scope holds;
    blocks stream from the server on a connection of their own.
    """
    found: dict[tuple[str, str], queue.Candidate] = {}
    readers: set[str] = set()
    with ctx.sessions() as blocks_session, paused_gc():
        scope_ids = _scope_readers(blocks_session, scope)
        groups = _groups(_blocks(blocks_session, scope_ids), CHUNK_MEMBERS)
        for scored in scored_groups(ctx, groups, parameters, _score_group):
            for candidate in scored.candidates:
                found.setdefault((candidate.reader_a, candidate.reader_b), candidate)
            readers.update(scored.reader_ids)
            report.blocks += scored.blocks
            report.compared += scored.compared
            report.skipped_blocks.extend(scored.skipped)
            tell("blocks", report.blocks, None)
            tell("readers", len(readers), None)
    report.readers = len(readers)
    report.parameters = parameters.to_json()
    tell("blocks", report.blocks, report.blocks)
    tell("readers", report.readers, report.readers)
    return sorted(found.values(), key=lambda c: (-c.score, c.reader_a, c.reader_b))


def _score_group(ctx: Context, group: list[tuple[str, str, list[str]]],
                 parameters: Parameters) -> Scored:
    """Load the members of ``group``'s blocks and score them."""
    members = {m for _, _, ids in group for m in ids}
    with ctx.sessions() as session, paused_gc():
        records = list(records_of(session, members))
    result, candidates = _score(ctx, records, group, parameters, name_frequencies=False)
    return Scored(candidates, [record.reader_id for record in records],
                  result.counts.candidate_pairs,
                  [{"kind": b.kind, "size": b.size} for b in result.skipped], len(group))


def _groups(blocks: Iterator[tuple[str, str, list[str]]], members: int
            ) -> Iterator[list[tuple[str, str, list[str]]]]:
    """Consecutive whole blocks, about ``members`` member entries a group."""
    group: list[tuple[str, str, list[str]]] = []
    size = 0
    for block in blocks:
        group.append(block)
        size += len(block[2])
        if size >= members:
            yield group
            group, size = [], 0
    if group:
        yield group


def run_scan(ctx: Context, *, library: str | None = None, new_only: bool = False,
             import_run: int | None = None, actor: Actor | None = None,
             progress: Progress | None = None) -> ScanReport:
    """Scan for duplicates and fill the review queue; returns what was found.

    The scope is everyone, one library's readers, the readers created since the
    previous scan (``new_only``) or the readers an import run created or matched.
    """
    scope = (f"library:{library}" if library else f"import:{import_run}"
             if import_run is not None else "new" if new_only else "all")
    actor = actor or Actor.cli()
    parameters = configured_parameters(ctx)
    with ctx.transaction() as session:
        scan = DuplicateScan(scope=scope, parameters={}, counts={}, started_at=ctx.now())
        session.add(scan)
        session.flush()
        report = ScanReport(scan.id, scope)
        if parameters is None and scope != "all":
            parameters = latest_parameters(session)
        if parameters is None and import_run is not None:
            # As the checks at registration: an import's readers are scored, not
            # used to estimate the province's parameters.
            parameters = DEFAULT_PARAMETERS
    tell = progress or (lambda stage, done, total: None)
    if parameters is not None and scope != "all":
        candidates = _scan_in_chunks(ctx, scope, parameters, report, tell)
    else:
        candidates = _scan_at_once(ctx, scope, parameters, report, tell)
    report.found = len(candidates)
    report.auto_merge = sum(1 for c in candidates if c.auto_merge)
    tell("scored", report.found, report.found)
    with ctx.transaction() as session:
        report.queue = queue.record(session, candidates,
                                    source="import" if import_run else "scan", now=ctx.now())
        scan_row = session.get(DuplicateScan, report.scan_id)
        assert scan_row is not None
        scan_row.parameters, scan_row.counts = report.parameters, report.counts()
        scan_row.finished_at = ctx.now()
        audit_record(session, actor, "duplicates.scan", "duplicate_scan", str(scan_row.id),
                     now=ctx.now(), details=report.counts())
    return report

"""The in-memory reference store: the executable meaning of the port.

Every other backend must behave like this one under the contract suite in
``tests/adapters``. One lock guards all state, so it is safe across threads.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace

from adapters.capabilities import CORE, Capability
from adapters.errors import (
    AmbiguousMatch,
    Conflict,
    PatronNotFound,
    Rejected,
    Unavailable,
    VersionConflict,
)
from adapters.memory.faults import NAME, FaultSwitch
from adapters.merging import kept_backlink, split_ids
from adapters.port import require
from adapters.values import (
    CreateRequest,
    HealthReport,
    LocalPatron,
    PatronMatch,
    PatronPatch,
)


@dataclass(slots=True)
class _Row:
    patron: LocalPatron
    revision: int
    create_key: str | None


class MemoryPatronStore:
    """Patrons in a dict, guarded by one lock; versions are revision counters."""

    def __init__(
        self,
        categories: Sequence[str],
        branches: Sequence[str],
        *,
        faults: FaultSwitch | None = None,
        capabilities: Capability = CORE | Capability.MERGE | Capability.ITERATE,
    ) -> None:
        self._categories = frozenset(categories)
        self._branches = frozenset(branches)
        self.faults = faults or FaultSwitch()
        self._capabilities = capabilities
        self._lock = threading.Lock()
        self._rows: dict[str, _Row] = {}
        self._gone: set[str] = set()  # merged away: a retried merge skips them
        self._next_id = 1

    @property
    def backend(self) -> str:
        return NAME

    @property
    def capabilities(self) -> Capability:
        return self._capabilities

    def health(self) -> HealthReport:
        try:
            self.faults.before()
        except Unavailable as exc:
            return HealthReport(ok=False, detail=exc.message)
        return HealthReport(ok=True, detail=f"{len(self._rows)} patrons in memory")

    def find(self, match: PatronMatch) -> LocalPatron | None:
        self._enter(Capability.FIND)
        with self._lock:
            found = [r.patron for r in self._rows.values() if _matches(r.patron, match)]
        if len(found) > 1:
            raise AmbiguousMatch("several patrons match", local_ids=[p.local_id for p in found])
        return found[0] if found else None

    def get(self, local_id: str) -> LocalPatron | None:
        self._enter(Capability.GET)
        with self._lock:
            row = self._rows.get(local_id)
            return row.patron if row else None

    def create(self, request: CreateRequest, idempotency_key: str) -> LocalPatron:
        self._enter(Capability.CREATE)
        with self._lock:
            for row in self._rows.values():
                if row.create_key == idempotency_key:
                    return row.patron
            if request.category not in self._categories:
                raise Rejected(f"unknown local category {request.category!r}", field="category")
            if request.branch not in self._branches:
                raise Rejected(f"unknown branch {request.branch!r}", field="branch")
            self._unique_barcode(request.barcode)
            local_id = str(self._next_id)
            self._next_id += 1
            patron = LocalPatron(
                local_id=local_id, barcode=request.barcode, surname=request.surname,
                first_name=request.first_name, birth_date=request.birth_date,
                category=request.category, branch=request.branch, expiry=request.expiry,
                blocked_locally=False, blocked_by_province=False, reader_id=None, version="1",
            )
            self._rows[local_id] = _Row(patron, 1, idempotency_key)
            self.faults.after_change()
            return patron

    def update(self, local_id: str, patch: PatronPatch, expected_version: str) -> LocalPatron:
        self._enter(Capability.UPDATE)
        with self._lock:
            row = self._row(local_id)
            if row.patron.version != expected_version:
                raise VersionConflict(
                    "patron changed since it was read", local_id=local_id,
                    expected=expected_version, actual=row.patron.version,
                )
            p = row.patron
            return self._change(row, replace(
                p,
                surname=patch.surname if patch.surname is not None else p.surname,
                first_name=patch.first_name if patch.first_name is not None else p.first_name,
                birth_date=patch.birth_date if patch.birth_date is not None else p.birth_date,
                expiry=patch.expiry if patch.expiry is not None else p.expiry,
            ))

    def suspend(self, local_id: str, reason: str) -> LocalPatron:
        self._enter(Capability.SUSPEND)
        with self._lock:
            row = self._row(local_id)
            if row.patron.blocked_by_province:
                return row.patron
            return self._change(row, replace(row.patron, blocked_by_province=True))

    def reinstate(self, local_id: str) -> LocalPatron:
        self._enter(Capability.SUSPEND)
        with self._lock:
            row = self._row(local_id)
            if not row.patron.blocked_by_province:
                return row.patron
            return self._change(row, replace(row.patron, blocked_by_province=False))

    def write_backlink(self, local_id: str, reader_id: str) -> LocalPatron:
        self._enter(Capability.BACKLINK)
        with self._lock:
            row = self._row(local_id)
            _check_backlink(self._rows.values(), row, reader_id)
            if row.patron.reader_id == reader_id:
                return row.patron
            return self._change(row, replace(row.patron, reader_id=reader_id))

    def merge(self, local_ids: Sequence[str]) -> LocalPatron:
        """Fold the others into the first (rules: ``adapters.merging``); their
        blocks move to the kept patron."""
        self._enter(Capability.MERGE)
        kept_id, other_ids = split_ids(local_ids)
        with self._lock:
            kept = self._row(kept_id)
            for other in other_ids:
                if other not in self._rows and other not in self._gone:
                    raise PatronNotFound(other)
            others = [self._rows[i] for i in other_ids if i in self._rows]
            if not others:
                return kept.patron
            link = kept_backlink(kept.patron.reader_id, (r.patron.reader_id for r in others))
            for row in others:
                del self._rows[row.patron.local_id]
                self._gone.add(row.patron.local_id)
            rows = [kept, *others]
            return self._change(kept, replace(
                kept.patron, reader_id=link,
                blocked_locally=any(r.patron.blocked_locally for r in rows),
                blocked_by_province=any(r.patron.blocked_by_province for r in rows),
            ))

    def close(self) -> None:
        pass

    def iter_patrons(self, after: str | None, limit: int) -> Sequence[LocalPatron]:
        self._enter(Capability.ITERATE)
        start = int(after) if after is not None else 0
        with self._lock:
            ids = sorted(int(k) for k in self._rows if int(k) > start)[:limit]
            return [self._rows[str(i)].patron for i in ids]

    def count_patrons(self) -> int:
        self._enter(Capability.ITERATE)
        with self._lock:
            return len(self._rows)

    def set_local_block(self, local_id: str, blocked: bool) -> LocalPatron:
        """Act as library staff would in the ILS (not part of the port)."""
        with self._lock:
            row = self._row(local_id)
            return self._change(row, replace(row.patron, blocked_locally=blocked))

    def staff_edit(self, local_id: str, **changes: object) -> LocalPatron:
        """Change any field as library staff could in the ILS (not part of the port)."""
        with self._lock:
            row = self._row(local_id)
            return self._change(row, replace(row.patron, **changes))  # type: ignore[arg-type]

    def staff_delete(self, local_id: str) -> None:
        """Delete a patron as library staff could (not part of the port)."""
        with self._lock:
            del self._rows[self._row(local_id).patron.local_id]

    def _enter(self, capability: Capability) -> None:
        require(self, capability)
        self.faults.before()

    def _row(self, local_id: str) -> _Row:
        row = self._rows.get(local_id)
        if row is None:
            raise PatronNotFound(local_id)
        return row

    def _unique_barcode(self, barcode: str) -> None:
        for row in self._rows.values():
            if row.patron.barcode == barcode:
                raise Conflict("barcode already in use", field="barcode",
                               local_id=row.patron.local_id)

    def _change(self, row: _Row, changed: LocalPatron) -> LocalPatron:
        row.revision += 1
        row.patron = replace(changed, version=str(row.revision))
        self.faults.after_change()
        return row.patron


def _matches(patron: LocalPatron, match: PatronMatch) -> bool:
    wanted: list[tuple[object, object]] = [
        (match.reader_id, patron.reader_id),
        (match.barcode, patron.barcode),
        (match.surname, patron.surname),
        (match.first_name, patron.first_name),
        (match.birth_date, patron.birth_date),
    ]
    return all(want is None or want == have for want, have in wanted)


def _check_backlink(rows: Iterable[_Row], row: _Row, reader_id: str) -> None:
    if row.patron.reader_id not in (None, reader_id):
        raise Conflict("patron is linked to another reader", field="reader_id",
                       local_id=row.patron.local_id)
    for other in rows:
        if other is not row and other.patron.reader_id == reader_id:
            raise Conflict("reader is linked to another patron", field="reader_id",
                           local_id=other.patron.local_id)

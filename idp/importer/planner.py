"""Keeping PostgreSQL's planner statistics in step with a bulk import.

An import grows its tables far faster than autovacuum re-analyses them. With the
statistics of a table a tenth of its size, the planner answers a batch's look-up
of a thousand keys by reading every row of the library (a bitmap scan on the
library id, then a filter) instead of probing the unique index: each batch then
costs more than the one before. PostgreSQL's advice for bulk loads is to run
ANALYZE; the import does so each time the rows it has written double (5,000,
10,000, 20,000, ...), a dozen times for a million patrons.
"""

from __future__ import annotations

from sqlalchemy import text
from sqlalchemy.orm import Session

#: The tables whose look-ups an import batch makes, and the ones the duplicate scan
#: at its end groups.
TABLES = ("readers", "identity_documents", "reader_links", "import_rows", "cards",
          "reader_match_keys")
FIRST = 5000


class Statistics:
    def __init__(self) -> None:
        self.next_at = FIRST
        self.analysed_at = 0

    def written(self, session: Session, rows: int) -> bool:
        """After ``rows`` rows in all were written: analyse if they doubled since the
        last time. Returns whether it did (on PostgreSQL only)."""
        if rows < self.next_at:
            return False
        while self.next_at <= rows:
            self.next_at *= 2
        return self._analyse(session, rows)

    def finished(self, session: Session, rows: int) -> bool:
        """At the end of the import: analyse what the last doubling left out, for the
        duplicate scan and for everything after."""
        if rows < FIRST or rows == self.analysed_at:
            return False
        return self._analyse(session, rows)

    def _analyse(self, session: Session, rows: int) -> bool:
        if session.get_bind().dialect.name != "postgresql":
            return False
        session.execute(text("ANALYZE " + ", ".join(TABLES)))
        self.analysed_at = rows
        return True

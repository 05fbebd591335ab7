"""Inserting an import batch's rows: COPY on PostgreSQL, executemany elsewhere.

A batch inserts a thousand readers with their documents, links, outbox items and
audit events. Through ``executemany`` each row is its own statement (psycopg
pipelines them, but the server still parses and plans each one); ``COPY ... FROM
STDIN`` streams all the rows of a table in one statement, which is what brings an
onboarding import of a whole library to thousands of patrons a second.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from operator import itemgetter
from typing import Any

from sqlalchemy import JSON, Table, insert
from sqlalchemy.orm import Session


def bulk_insert(session: Session, table: Table, rows: Sequence[dict[str, Any]]) -> None:
    if not rows:
        return
    connection = session.connection()
    if connection.dialect.name != "postgresql":
        session.execute(insert(table), list(rows))
        return
    columns = list(rows[0])
    names = ", ".join(connection.dialect.identifier_preparer.quote(c) for c in columns)
    # JSON columns take their text form; COPY hands it to jsonb's input function.
    as_json = [i for i, c in enumerate(columns) if isinstance(table.c[c].type, JSON)]
    values = itemgetter(*columns) if len(columns) > 1 else lambda row: (row[columns[0]],)
    driver = connection.connection.driver_connection
    assert driver is not None
    with driver.cursor() as cursor, cursor.copy(
            f"COPY {table.name} ({names}) FROM STDIN") as copy:
        for row in rows:
            record = values(row)
            if as_json:
                record = list(record)
                for i in as_json:
                    if record[i] is not None:
                        record[i] = json.dumps(record[i], ensure_ascii=False)
            copy.write_row(record)

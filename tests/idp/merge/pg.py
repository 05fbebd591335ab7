"""PostgreSQL helpers for the merge's atomicity and locking tests: what the
table rows are, and which backend waits for a lock."""

from __future__ import annotations

import time
from typing import Any

from sqlalchemy import Engine, inspect, text


def rows(engine: Engine) -> dict[str, list[tuple[Any, ...]]]:
    """Every row of every table, sorted: two equal results mean an equal database."""
    found: dict[str, list[tuple[Any, ...]]] = {}
    with engine.connect() as connection:
        for table in sorted(inspect(connection).get_table_names()):
            found[table] = sorted((tuple(row) for row in connection.execute(
                text(f'SELECT * FROM "{table}"'))), key=repr)
    return found


def waiting_backends(engine: Engine, application: str | None = None) -> list[dict[str, Any]]:
    """Backends waiting for a heavyweight lock (optionally of one application_name)."""
    query = ("SELECT pid, query, backend_xid::text AS xid FROM pg_stat_activity "
             "WHERE wait_event_type = 'Lock' AND datname = current_database()")
    params: dict[str, Any] = {}
    if application is not None:
        query += " AND application_name = :app"
        params["app"] = application
    with engine.connect() as connection:
        return [dict(row._mapping) for row in connection.execute(text(query), params)]


def wait_until(check: Any, seconds: float, what: str) -> Any:
    """Poll ``check`` (another process or thread is working) until it answers."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        answer = check()
        if answer:
            return answer
        time.sleep(0.05)
    raise AssertionError(f"timed out after {seconds} s waiting for {what}")


def backend_alive(engine: Engine, pid: int) -> bool:
    with engine.connect() as connection:
        return bool(connection.execute(
            text("SELECT count(*) FROM pg_stat_activity WHERE pid = :pid"), {"pid": pid}
        ).scalar())

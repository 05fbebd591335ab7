"""The reference rows of a scratch Evergreen-shaped database (branches, profiles,
identification types, standing penalties), shared by the backend and fault tests."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import Connection, insert

from adapters.evergreen_sql import schema as eg

PROVINCE_PENALTY, LOCAL_PENALTY, NOTE_PENALTY = 101, 102, 20
BACKLINK_IDENT_TYPE, DEFAULT_IDENT_TYPE = 101, 3


def seed_evergreen(conn: Connection, branches: Sequence[str],
                   categories: Sequence[str]) -> None:
    """Create the schema and its reference rows."""
    eg.create_all(conn)
    conn.execute(insert(eg.org_unit), [{"id": i, "shortname": b, "name": b}
                                       for i, b in enumerate(branches, 1)])
    conn.execute(insert(eg.grp_tree), [{"id": i, "name": c}
                                       for i, c in enumerate(categories, 1)])
    conn.execute(insert(eg.identification_type), [
        {"id": DEFAULT_IDENT_TYPE, "name": "Other"},
        {"id": BACKLINK_IDENT_TYPE, "name": "Province reader id"}])
    conn.execute(insert(eg.standing_penalty), [
        {"id": NOTE_PENALTY, "name": "ALERT_NOTE", "label": "Note", "block_list": None},
        {"id": PROVINCE_PENALTY, "name": "PROVINCE_SUSPENDED",
         "label": "Suspended by the province", "block_list": "CIRC|HOLD|RENEW"},
        {"id": LOCAL_PENALTY, "name": "LOCAL_BAR", "label": "Barred by the library",
         "block_list": "CIRC"},
    ])

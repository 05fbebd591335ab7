"""A scratch Koha-shaped database on the test MariaDB, and its adapter table."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy import URL, create_engine, delete, insert

from adapters.koha_sql import schema as koha
from tests.adapters.servers import scratch_database

CATEGORIES = ("ADULT", "YA", "CHILD")


@contextmanager
def koha_database(mariadb_url: str) -> Iterator[URL]:
    with scratch_database(mariadb_url, "rp_kohaidp") as url:
        engine = create_engine(url)
        koha.metadata.create_all(engine)
        with engine.begin() as conn:
            conn.execute(insert(koha.branches), [{"branchcode": "MAIN", "branchname": "Main"}])
            conn.execute(insert(koha.categories), [{"categorycode": c} for c in CATEGORIES])
            conn.execute(insert(koha.borrower_attribute_types), [
                {"code": "READERPASS", "description": "Province reader id", "unique_id": 1},
                {"code": "RPCREATE", "description": "Province create key", "unique_id": 1},
            ])
        engine.dispose()
        yield url


def koha_table(url: URL, **extra: Any) -> dict[str, Any]:
    return {
        "backend": "koha_sql",
        "url": url.render_as_string(hide_password=False),
        "mapping": {
            "categories": {"adult": "ADULT", "teen": "YA", "child": "CHILD"},
            "default_branch": "MAIN",
            "expiry": {"policy": "months_from_today", "months": 36},
            "backlink_field": "READERPASS",
        },
        **extra,
    }


def empty_koha(url: URL) -> None:
    engine = create_engine(url)
    with engine.begin() as conn:
        conn.execute(delete(koha.borrowers))  # attributes and debarments cascade
        conn.execute(delete(koha.deletedborrowers))
    engine.dispose()

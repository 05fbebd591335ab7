"""A large import on PostgreSQL refreshes the planner's statistics as its tables grow."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from sqlalchemy import text

from idp.context import Context
from idp.importer.planner import FIRST, TABLES
from idp.importer.run import file_source, import_patrons
from idp.synthetic import IdentityGenerator


def _file(path: Path, people: IdentityGenerator, count: int) -> Path:
    rows = []
    for n in range(count):  # local ids unique per file name
        person = people.reader(min_age=20, max_age=70)
        rows.append({"local_id": f"{path.stem}-{n}", "family_name": person.family_name,
                     "given_name": person.given_name, "document_number": person.resident_id})
    path.write_text("\n".join(json.dumps(r, ensure_ascii=False) for r in rows) + "\n",
                    encoding="utf-8")
    return path


def _manual_analyses(ctx: Context) -> dict[str, int]:
    """ANALYZE commands run on each table (autovacuum's own are counted apart)."""
    with ctx.transaction() as session:
        rows = session.execute(text(
            "SELECT relname, analyze_count FROM pg_stat_user_tables"
            " WHERE relname = ANY(:tables)"), {"tables": list(TABLES)})
        return {name: count for name, count in rows}


@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
def test_an_import_analyses_its_tables_once_it_is_large(
        ctx: Context, people: IdentityGenerator, tmp_path: Path):
    small = import_patrons(ctx, "CITY", file_source(
        _file(tmp_path / "small.jsonl", people, 50), None, "utf-8"))
    assert small["created"] == 50
    assert set(_manual_analyses(ctx).values()) == {0}

    large = import_patrons(ctx, "CITY", file_source(
        _file(tmp_path / "large.jsonl", people, FIRST), None, "utf-8"), batch_size=500)
    assert large["created"] == FIRST
    counts = _manual_analyses(ctx)
    assert set(counts) == set(TABLES)
    assert min(counts.values()) >= 1

"""An import file whose cells hold what no database column takes (a NUL, which
PostgreSQL refuses in text; ids longer than a link keeps): every patron is still
imported, the bad values left out with the reason recorded."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

from sqlalchemy import select

from idp.context import Context
from idp.models import ImportIssue, ReaderLink
from idp.settings import load_settings
from tests.idp.adapters.test_import_rerun import _counts
from tests.idp.test_cli import ROOT, Cmd, cmd  # noqa: F401  (fixture)

FIELDS = ("local_id", "barcode", "family_name", "given_name", "mobile", "document_number",
          "category", "expiry", "sex", "document_country")


def test_values_no_column_takes_are_left_out(cmd: Cmd, people, tmp_path: Path):  # noqa: F811
    rows = []
    for i, name in enumerate(FIELDS * 2):
        person = people.reader(min_age=20, max_age=70)
        row = {"family_name": person.family_name, "given_name": person.given_name,
               "birth_date": person.birth_date.isoformat(), "local_id": f"L{i}",
               "barcode": f"B{i}"}
        row[name] = "X\x00Y" if i < len(FIELDS) else "Z" * 65
        rows.append(row)
    path = tmp_path / "patrons.jsonl"
    path.write_text("\n".join(json.dumps(r) for r in rows) + "\n", encoding="utf-8")
    counts = _counts(cmd("import", "--library", "CITY", "--file", str(path)).stdout)
    assert counts["read"] == len(rows) and counts["created"] == len(rows)
    ctx = Context.build(load_settings(cmd.config))
    try:
        with ctx.sessions() as session:
            issues = Counter(field for field, problem in session.execute(
                select(ImportIssue.field, ImportIssue.problem)) if "left out" in problem)
            links = set(session.scalars(select(ReaderLink.local_id)))
    finally:
        ctx.dispose()
    for name in ("local_id", "barcode"):
        assert issues[name] == 2  # the NUL and the over-long value
    assert not {"L0", "L10"} & links  # their local ids were the bad values
    assert {f"L{i}" for i in range(len(rows))} - {"L0", "L10"} <= links

"""An import file whose cells hold what no database column takes (a NUL, which
PostgreSQL refuses in text; ids longer than a link keeps): every patron is still
imported, the bad values left out with the reason recorded."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import select

from idp.context import Context
from idp.importer.rows import COLUMNS
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


def test_generated_files_import_every_record(cmd: Cmd, people, tmp_path: Path):  # noqa: F811
    """Generated JSON-lines files (any text in any column, with plausible names and
    birth dates mixed in) through ``readerpass import`` on the real database: the
    run finishes and reads every record."""
    person = people.reader(min_age=20, max_age=70)
    text = st.text(st.characters(exclude_categories=("Cs",)), max_size=20)
    value = st.one_of(text, st.sampled_from([person.family_name, person.given_name,
                                             person.birth_date.isoformat(), person.mobile,
                                             person.resident_id, "adult", "F", "\x00"]))
    record = st.dictionaries(st.sampled_from([*COLUMNS, "other"]), value, max_size=8)
    runs = iter(range(10_000))

    @settings(max_examples=25, deadline=None, database=None,
              suppress_health_check=[HealthCheck.function_scoped_fixture,
                                     HealthCheck.too_slow])
    @given(st.lists(record, min_size=1, max_size=8))
    def check(records: list[dict[str, str]]) -> None:
        path = tmp_path / f"generated-{next(runs)}.jsonl"
        path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in records),
                        encoding="utf-8")
        counts = _counts(cmd("import", "--library", "CITY", "--file", str(path)).stdout)
        assert counts["read"] == len(records), counts

    check()

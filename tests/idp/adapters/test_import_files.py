"""Import files: arbitrary content never crashes the parser and never loses a row;
legacy values are repaired or dropped with a reason, never silently."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from idp.errors import InvalidInput
from idp.importer.files import csv_rows, file_format, jsonl_rows, read_rows
from idp.importer.prepare import parse_date
from idp.importer.rows import COLUMNS

# Any text that can be written as UTF-8 (lone surrogates cannot).
TEXT = st.text(st.characters(exclude_categories=("Cs",)), max_size=30)
CELLS = st.lists(TEXT, min_size=1, max_size=len(COLUMNS) + 3)


@settings(max_examples=200, deadline=None)
@given(st.lists(CELLS, max_size=20))
def test_csv_rows_are_never_lost(records):
    buffer = io.StringIO(newline="")
    writer = csv.writer(buffer)
    writer.writerow(COLUMNS)
    writer.writerows(records)
    rows = list(csv_rows(io.StringIO(buffer.getvalue(), newline="")))
    kept = [r for r in records if any(cell != "" for cell in r)]
    assert len(rows) == len(kept)
    for row, record in zip(rows, kept, strict=True):
        expected = {c: v for c, v in zip(COLUMNS, record, strict=False)}
        assert row.fields == expected
        assert bool(row.problems) == (len(record) > len(COLUMNS) or any(
            "\ufffd" in v for v in expected.values()))


LINE = st.one_of(
    TEXT.filter(lambda t: "\n" not in t and "\r" not in t),
    st.dictionaries(st.sampled_from([*COLUMNS, "other"]),
                    st.one_of(TEXT, st.integers(), st.none(), st.lists(st.integers())))
    .map(lambda d: json.dumps(d, ensure_ascii=False)),
)


@settings(max_examples=200, deadline=None)
@given(st.lists(LINE, max_size=20), st.binary(max_size=8))
def test_json_lines_are_never_lost(lines, junk):
    data = "\n".join(lines).encode() + b"\n" + junk
    rows = list(jsonl_rows(io.BytesIO(data)))
    expected = [line for line in data.split(b"\n")
                if line.decode(errors="replace").rstrip("\r").strip()]
    assert len(rows) == len(expected)
    assert [r.cursor for r in rows] == [str(n) for n in range(1, len(rows) + 1)]
    for row in rows:
        assert row.problems or set(row.fields) <= set(COLUMNS)


def test_resume_after_a_record_number(tmp_path: Path):
    path = tmp_path / "p.jsonl"
    path.write_text("\n".join(json.dumps({"local_id": str(n)}) for n in range(1, 6)) + "\n\n",
                    encoding="utf-8")
    assert [r.fields["local_id"] for r in read_rows(path, "jsonl", after=3)] == ["4", "5"]


def test_undecodable_bytes_and_bad_lines_are_flagged(tmp_path: Path):
    path = tmp_path / "p.csv"
    path.write_bytes(b"local_id,family_name\n1,\xff\xfe\n2,x,extra\n")
    rows = list(read_rows(path, "csv"))
    assert rows[0].problems[0][0] == "family_name"
    assert rows[1].problems == [("file", "1 cells more than the header names")]
    with pytest.raises(InvalidInput):
        file_format(tmp_path / "p.xlsx", None)
    headless = tmp_path / "h.csv"
    headless.write_text("1,王\n", encoding="utf-8")
    with pytest.raises(InvalidInput, match="name the columns"):
        list(read_rows(headless, "csv"))


@pytest.mark.parametrize(("text", "expected"), [
    ("1990-01-02", (1990, 1, 2)), ("19900102", (1990, 1, 2)), ("1990/1/2", (1990, 1, 2)),
    ("1990年1月2日", (1990, 1, 2)), ("１９９０－０１－０２", (1990, 1, 2)),
])
def test_legacy_date_forms(text, expected):
    assert parse_date(text).timetuple()[:3] == expected

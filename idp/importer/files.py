"""Reading import files: CSV with a header row, or JSON lines (one object a line).

Reading never stops at a bad record and never drops one: undecodable bytes are
replaced and flagged, a line that is not a JSON object, or a CSV record with
more cells than the header, becomes a row carrying that problem. Only records
with no data at all (blank lines) are not rows. Columns are
:data:`~idp.importer.rows.COLUMNS`; other columns are ignored.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterator
from pathlib import Path

from ..errors import InvalidInput
from .rows import COLUMNS, SourceRow

REPLACEMENT = "\ufffd"
csv.field_size_limit(1 << 24)


def file_format(path: Path, given: str | None) -> str:
    if given:
        return given
    suffix = path.suffix.lower()
    if suffix == ".csv":
        return "csv"
    if suffix in (".jsonl", ".ndjson", ".json"):
        return "jsonl"
    raise InvalidInput("cannot tell the format from the file name; pass --format csv|jsonl",
                       field="format")


def read_rows(path: Path, fmt: str, *, encoding: str = "utf-8",
              after: int = 0) -> Iterator[SourceRow]:
    """Rows after record number ``after`` (records count from 1)."""
    if fmt == "csv":
        with path.open(encoding=encoding, errors="replace", newline="") as handle:
            yield from csv_rows(handle, after=after)
    else:
        with path.open("rb") as handle:
            yield from jsonl_rows(handle, encoding=encoding, after=after)


def csv_header(first: list[str]) -> list[str]:
    header = [cell.strip().lstrip("\ufeff").lower() for cell in first]
    if "local_id" not in header and "family_name" not in header:
        raise InvalidInput("the first CSV row must name the columns (local_id, family_name, "
                           "...)", field="file")
    return header


def csv_rows(handle: io.TextIOBase, *, after: int = 0) -> Iterator[SourceRow]:
    reader = csv.reader(handle)
    try:
        header = csv_header(next(reader))
    except StopIteration:
        return
    number = 0
    for cells in reader:
        if all(cell == "" for cell in cells):
            continue
        number += 1
        if number <= after:
            continue
        row = SourceRow(ref=f"record {number}", cursor=str(number), fields={})
        for name, cell in zip(header, cells, strict=False):
            if name in COLUMNS:
                row.fields[name] = cell
        if len(cells) > len(header):
            row.problems.append(("file", f"{len(cells) - len(header)} cells more than the "
                                         "header names"))
        _flag_undecodable(row)
        yield row


def jsonl_rows(handle: io.BufferedIOBase, *, encoding: str = "utf-8",
               after: int = 0) -> Iterator[SourceRow]:
    number = 0
    for raw in handle:
        text = raw.decode(encoding, errors="replace").rstrip("\r\n")
        if not text.strip():
            continue
        number += 1
        if number <= after:
            continue
        row = SourceRow(ref=f"record {number}", cursor=str(number), fields={})
        try:
            data = json.loads(text)
        except ValueError:
            data = None
        if not isinstance(data, dict):
            row.problems.append(("file", "not a JSON object"))
            row.fields["raw"] = text  # kept for the review list
            yield row
            continue
        for name, value in data.items():
            if name not in COLUMNS:
                continue
            if value is None:
                continue
            if isinstance(value, dict | list):
                row.problems.append((name, "expected text, got a list or object"))
                continue
            row.fields[name] = str(value)
        _flag_undecodable(row)
        yield row


def _flag_undecodable(row: SourceRow) -> None:
    for name, value in row.fields.items():
        if REPLACEMENT in value:
            row.problems.append((name, "holds bytes that are not valid in the file's encoding"))

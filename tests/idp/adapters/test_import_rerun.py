"""``readerpass import`` run again, or resumed, changes nothing that is already done."""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select

from idp.config_file import render_config
from idp.context import Context
from idp.importer.records import Batch
from idp.importer.write import Writer
from idp.models import (
    AuditEvent,
    DuplicatePair,
    IdentityDocument,
    ImportedRow,
    ImportIssue,
    ImportRun,
    MatchKey,
    OutboxItem,
    Reader,
    ReaderLink,
)
from idp.settings import load_settings
from idp.synthetic import IdentityGenerator
from tests.idp.conftest import fresh_database
from tests.idp.test_cli import ROOT, Cmd, cmd  # noqa: F401  (fixture)


def _rows(people: IdentityGenerator) -> list[dict[str, str]]:
    """Every kind of row: linked, linked with a bad value, unlinked with a document,
    unlinked without one (with and without a mobile), unusable, a document held by
    someone else, and the same unlinked person twice."""
    p = [people.reader(min_age=20, max_age=70) for _ in range(6)]

    def person(r: Any, **over: str) -> dict[str, str]:
        return {"family_name": r.family_name, "given_name": r.given_name, **over}

    unlinked = person(p[2], document_number=p[2].resident_id)
    return [
        person(p[0], local_id="L1", barcode="B1", document_number=p[0].resident_id,
               mobile=p[0].mobile),
        person(p[1], local_id="L2", document_number=p[1].resident_id, mobile="12"),
        unlinked,
        person(p[3], birth_date=p[3].birth_date.isoformat(), mobile=p[3].mobile),
        person(p[4], birth_date=p[4].birth_date.isoformat()),
        {"local_id": "L6", "given_name": "NoFamilyName", "birth_date": "1980-01-01"},
        person(p[5], local_id="L8", document_number=p[0].resident_id),
        dict(unlinked),
    ]


def _write(path: Path, rows: list[dict[str, str]]) -> Path:
    lines = [json.dumps(r, ensure_ascii=False) for r in rows] + ["not json"]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def _counts(out: str) -> Counter[str]:
    last = out.strip().splitlines()[-1].removeprefix("dry run: ")
    return Counter({k: int(v) for k, v in (part.rsplit(" ", 1) for part in last.split(", "))})


def state(config: Path) -> dict[str, Any]:
    """What an import leaves behind, without the random ids and times."""
    ctx = Context.build(load_settings(config))
    try:
        with ctx.transaction() as s:
            def count(model: Any) -> int:
                return s.scalar(select(func.count()).select_from(model)) or 0

            names = dict(s.execute(select(Reader.id, Reader.family_name + "|" +
                                          Reader.given_name)).all())
            return {
                "readers": sorted(names.values()),
                "documents": count(IdentityDocument),
                "keys": count(MatchKey),
                "pairs": count(DuplicatePair),
                "links": sorted((link.local_id, link.local_barcode, link.method,
                                 names[link.reader_id]) for link in s.scalars(select(ReaderLink))),
                "issues": sorted((i.source_ref, i.kind, i.field or "", i.problem,
                                  names.get(i.reader_id or "", ""), len(i.candidates))
                                 for i in s.scalars(select(ImportIssue))),
                "outbox": sorted((o.event, names[o.reader_id])
                                 for o in s.scalars(select(OutboxItem))),
                "audit": Counter(s.scalars(select(AuditEvent.action))),
                "ledger": Counter(s.scalars(select(ImportedRow.outcome))),
                "runs": [(r.counts, r.finished_at is not None)
                         for r in s.scalars(select(ImportRun).order_by(ImportRun.id))],
            }
    finally:
        ctx.dispose()


FIRST = Counter(read=9, created=6, linked=3, already_imported=1, not_imported=2, issues=7)
#: A real run then scans its readers: L8 claims the number L1's reader holds.
FIRST_RUN = FIRST + Counter(possible_duplicates=1)


def test_a_second_run_changes_nothing(cmd: Cmd, people, tmp_path: Path):  # noqa: F811
    rows = _rows(people)
    path = _write(tmp_path / "patrons.jsonl", rows)
    dry = cmd("import", "--library", "CITY", "--file", str(path), "--dry-run")
    assert "dry run: " in dry.stdout and _counts(dry.stdout) == FIRST
    assert state(cmd.config)["readers"] == []
    first = cmd("import", "--library", "CITY", "--file", str(path), "--batch-size", "3")
    assert _counts(first.stdout) == FIRST_RUN
    after_first = state(cmd.config)
    assert after_first["ledger"] == Counter(created=6, not_imported=2)
    assert len(after_first["readers"]) == 6 and len(after_first["issues"]) == 7

    again = cmd("import", "--library", "CITY", "--file", str(path))
    assert _counts(again.stdout) == Counter(read=9, already_imported=9)
    assert "already_imported 9" in again.stdout
    after_again = state(cmd.config)
    [(counts, finished)] = after_again.pop("runs")
    assert Counter(counts) == Counter(read=9, already_imported=9) and finished
    after_first.pop("runs")
    assert after_again == after_first

    # Another export of the same patrons (new order, one new row) adds only that row.
    newcomer = people.reader(min_age=20, max_age=70)
    later = _write(tmp_path / "later.jsonl", [rows[3], {
        "family_name": newcomer.family_name, "given_name": newcomer.given_name,
        "document_number": newcomer.resident_id}, rows[0], rows[2], rows[5]])
    third = cmd("import", "--library", "CITY", "--file", str(later))
    assert _counts(third.stdout) == Counter(read=6, created=1, already_imported=5, issues=1)
    assert len(state(cmd.config)["readers"]) == 7


@pytest.fixture
def clean_cmd(request: pytest.FixtureRequest, database_url: str,
              tmp_path: Path) -> Iterator[Cmd]:
    """A second, empty database of the same kind, set up as ``cmd`` is."""
    kind = "sqlite" if database_url.startswith("sqlite") else "postgresql"
    with fresh_database(request, kind, tmp_path / "clean.db") as url:
        config = tmp_path / "clean.toml"
        config.write_text(render_config(province_code="TEST", province_name="Test",
                                        database_url=url, argon2_memory_kib=1024),
                          encoding="utf-8")
        run = Cmd(config)
        run("libraries", "load", str(ROOT / "config" / "libraries.example.toml"))
        yield run


def test_an_interrupted_run_resumed_ends_as_one_clean_run(
        cmd: Cmd, clean_cmd: Cmd, people, tmp_path: Path,  # noqa: F811
        monkeypatch: pytest.MonkeyPatch):
    path = _write(tmp_path / "patrons.jsonl", _rows(people))
    assert _counts(clean_cmd("import", "--library", "CITY", "--file", str(path),
                         "--batch-size", "2").stdout) == FIRST_RUN

    decide, calls = Writer.decide, []

    def interrupted(self: Writer, asked: Any, in_flight: Any = ()) -> Batch:
        calls.append(len(asked.drafts))
        if len(calls) == 3:
            raise KeyboardInterrupt  # Ctrl-C in the third batch
        return decide(self, asked, in_flight)

    monkeypatch.setattr(Writer, "decide", interrupted)
    stopped = cmd("import", "--library", "CITY", "--file", str(path), "--batch-size", "2",
                  code=1)
    assert "Aborted" in stopped.output
    partial = state(cmd.config)
    assert len(partial["readers"]) == 4 and partial["runs"][0][1] is False
    monkeypatch.setattr(Writer, "decide", decide)
    rest = cmd("import", "--library", "CITY", "--file", str(path), "--batch-size", "2")
    assert _counts(rest.stdout)["read"] == 5  # after the two committed batches
    assert state(cmd.config) == state(clean_cmd.config)
    again = cmd("import", "--library", "CITY", "--file", str(path))
    assert _counts(again.stdout) == Counter(read=9, already_imported=9)

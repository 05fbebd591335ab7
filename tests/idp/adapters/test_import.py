"""Onboarding import through the adapter and from a file: every patron kept,
problems recorded with reasons, resumable, dry runs change nothing."""

from __future__ import annotations

import json
import threading
from collections import Counter
from datetime import date
from pathlib import Path

import pytest
from sqlalchemy import func, select

from adapters.memory import MemoryPatronStore
from adapters.values import CreateRequest
from idp.context import Context
from idp.importer.lookups import ask
from idp.importer.prepare import prepare
from idp.importer.records import Batch, BatchRecords
from idp.importer.rows import SourceRow
from idp.importer.run import adapter_source, file_source, import_patrons
from idp.importer.write import Writer
from idp.models import IdentityDocument, ImportIssue, ImportRun, OutboxItem, Reader, ReaderLink
from idp.relay.run import run_once
from idp.synthetic import IdentityGenerator

from .conftest import RegisterFn, library


def _patron(store: MemoryPatronStore, n: int, surname: str, first: str,
            born: date | None, category: str = "ADULT") -> str:
    request = CreateRequest(f"B{n:06d}", surname, first, born, category, "MAIN",
                            date(2028, 1, 1))
    return store.create(request, f"legacy-{n}").local_id


def _source(ctx: Context, batch: int = 2):
    with ctx.transaction() as session:
        return adapter_source(ctx, library(session, "CITY"), batch)


def _count(ctx: Context, model) -> int:
    with ctx.transaction() as session:
        return session.scalar(select(func.count()).select_from(model)) or 0


def _lines(tmp_path: Path, rows: list[dict[str, str]]) -> Path:
    path = tmp_path / "patrons.jsonl"
    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows),
                    encoding="utf-8")
    return path


def _issues(ctx: Context) -> list[ImportIssue]:
    with ctx.transaction() as session:
        return list(session.scalars(select(ImportIssue).order_by(ImportIssue.id)))


def test_import_from_the_adapter(ctx, city, store, register: RegisterFn,
                                 people: IdentityGenerator):
    known = register()
    linked = _patron(store, 1, known.family_name, known.given_name, known.birth_date)
    store.write_backlink(linked, known.id)
    _patron(store, 2, "陳", "大文", date(1970, 5, 6))  # traditional characters kept
    _patron(store, 3, "No", "Birthday", None)
    _patron(store, 4, "Young", "Reader", date(2016, 1, 1), category="CHILD")
    counts = import_patrons(ctx, "CITY", _source(ctx), batch_size=2)
    assert counts == Counter(read=4, created=2, matched=1, linked=3, not_imported=1,
                             issues=2)
    [lost, child] = _issues(ctx)
    assert (lost.kind, lost.source_ref, lost.row_enc is not None) == ("not_imported", "3",
                                                                      True)
    assert "birth_date: is missing" in lost.problem
    assert ctx.cipher.decrypt(lost.row_enc, context="import_row").find("Birthday") > 0
    assert (child.kind, child.field) == ("invalid_field", "guardian")
    with ctx.transaction() as session:
        chen = session.scalar(select(Reader).where(Reader.family_name == "陳"))
        assert chen is not None and chen.home_library.code == "CITY"
        kinds = dict(session.execute(select(ReaderLink.local_id, ReaderLink.method)).all())
        assert kinds == {linked: "auto_matched", "2": "imported", "4": "imported"}
    # The relay writes the back-links the library does not have yet.
    assert _count(ctx, OutboxItem) == 2 + 0  # known's back-link is already there
    [result] = run_once(ctx, library="CITY")
    assert result.delivered == 2
    patron = store.get("2")
    assert patron is not None and patron.reader_id == chen.id and patron.surname == "陳"
    again = import_patrons(ctx, "CITY", _source(ctx), batch_size=2)
    assert again == Counter(read=4, already_imported=4)


def test_interrupted_import_resumes_without_doing_anything_twice(ctx, city, store):
    for n in range(1, 8):
        _patron(store, n, f"Surname{n}", "Given", date(1980, 1, n))

    class Stop(Exception):
        pass

    calls = []

    def stop_after_two(n: int) -> None:
        calls.append(n)
        if len(calls) == 2:
            raise Stop

    with pytest.raises(Stop):
        import_patrons(ctx, "CITY", _source(ctx), batch_size=3, progress=stop_after_two)
    assert _count(ctx, ReaderLink) == 6
    rest = import_patrons(ctx, "CITY", _source(ctx), batch_size=3)
    assert rest == Counter(read=1, created=1, linked=1)
    assert _count(ctx, ReaderLink) == _count(ctx, Reader) == 7


def test_a_batch_failing_beside_the_next_loses_and_skips_nothing(
        ctx, city, store, monkeypatch: pytest.MonkeyPatch):
    """On PostgreSQL two batches are stored at once; when the first fails, the one
    beside it rolls back too and the checkpoint stays before both."""
    for n in range(1, 8):
        _patron(store, n, f"Surname{n}", "Given", date(1980, 1, n))
    store_rows, calls, counting = BatchRecords._store_rows, [], threading.Lock()
    beside = threading.Event()

    def failing_second(self: BatchRecords, batch: Batch) -> None:
        with counting:
            calls.append(batch)
            call = len(calls)
        if call == 3:
            beside.set()
        store_rows(self, batch)
        if call == 2:
            beside.wait(2)  # SQLite stores one batch at a time: the third never comes
            raise RuntimeError("the identity database went away")

    monkeypatch.setattr(BatchRecords, "_store_rows", failing_second)
    with pytest.raises(RuntimeError, match="went away"):
        import_patrons(ctx, "CITY", _source(ctx), batch_size=2)
    postgres = ctx.settings.database_url.startswith("postgresql")
    assert beside.is_set() == postgres
    assert _count(ctx, ReaderLink) == _count(ctx, Reader) == 2
    monkeypatch.setattr(BatchRecords, "_store_rows", store_rows)
    rest = import_patrons(ctx, "CITY", _source(ctx), batch_size=2)
    assert rest == Counter(read=5, created=5, linked=5)
    assert _count(ctx, ReaderLink) == _count(ctx, Reader) == 7


def test_dry_run_changes_nothing(ctx, city, store):
    _patron(store, 1, "Li", "Lei", date(1990, 2, 3))
    counts = import_patrons(ctx, "CITY", _source(ctx), dry_run=True)
    assert counts["created"] == 1
    assert _count(ctx, Reader) == _count(ctx, ReaderLink) == _count(ctx, ImportIssue) == 0


def test_import_file_with_legacy_values(ctx, city, store, register: RegisterFn,
                                        people: IdentityGenerator, tmp_path: Path):
    registered = people.reader(min_age=30)
    existing = register(document_number=registered.resident_id,
                        family_name=registered.family_name, given_name=registered.given_name,
                        mobile=registered.mobile)
    old = people.reader(min_age=40)
    fifteen = people.resident_id_15(old.birth_date, old.sex)
    rows = [
        {"local_id": "L1", "barcode": "B1", "family_name": old.family_name,
         "given_name": old.given_name, "document_number": fifteen,
         "mobile": "+86 " + old.mobile[3:6] + "-" + old.mobile[6:]},
        {"local_id": "L2", "barcode": "B2", "family_name": existing.family_name,
         "given_name": existing.given_name, "document_number": registered.resident_id},
        {"local_id": "L3", "family_name": "Bad", "given_name": "Number",
         "document_number": "110105199913130000", "birth_date": "1999-01-01",
         "mobile": "12", "category": "astronaut"},
        {"local_id": "L4", "family_name": "", "given_name": "NoSurname",
         "birth_date": "1980-01-01"},
    ]
    path = tmp_path / "patrons.jsonl"
    path.write_text("\n".join(json.dumps(r, ensure_ascii=False) for r in rows) + "\nnot json\n",
                    encoding="utf-8")
    counts = import_patrons(ctx, "CITY", file_source(path, None, "utf-8"))
    assert (counts["read"], counts["created"], counts["matched"], counts["not_imported"]) == (
        5, 2, 1, 2)
    issues = {(i.source_ref, i.kind, i.field) for i in _issues(ctx)}
    assert ("record 1", "invalid_field", "document_number") in issues  # 15 -> 18 noted
    assert ("record 3", "invalid_field", "document_number") in issues
    assert ("record 3", "invalid_field", "mobile") in issues
    assert ("record 3", "invalid_field", "category") in issues
    assert ("record 4", "not_imported", None) in issues
    assert ("record 5", "not_imported", None) in issues
    with ctx.transaction() as session:
        link = session.scalar(select(ReaderLink).where(ReaderLink.local_id == "L2"))
        assert link is not None and link.reader_id == existing.id
        old_reader = session.scalar(select(Reader).join(ReaderLink).where(
            ReaderLink.local_id == "L1"))
        assert old_reader is not None and old_reader.mobile_hash is not None
        [doc] = session.scalars(select(IdentityDocument).where(
            IdentityDocument.reader_id == old_reader.id)).all()
        assert doc.converted_from_15 and old_reader.birth_date == old.birth_date


def _plan_and_store(ctx: Context, batches: list[list[dict[str, str]]], *,
                    mode: str) -> list[Counter[str]]:
    """Plan every batch before storing any (as the write-behind may), telling each
    about the batches before it, then store them in order. ``planned``: each batch
    is looked up after the one before was planned; ``asked``: every batch is looked
    up before any is planned (as the look-ups run ahead of the planner)."""
    with ctx.transaction() as session:
        run_id = session.scalar(select(ImportRun.id)) or 0
        lib = library(session, "CITY").id
    drafts = [[prepare(SourceRow(f"record {n}.{i}", "", row), ctx) for i, row in enumerate(rows)]
              for n, rows in enumerate(batches)]
    planned: list[Batch] = []
    if mode == "asked":
        with ctx.transaction() as session:
            questions = [ask(session, ctx, lib, batch) for batch in drafts]
            session.rollback()
        for question in questions:
            with ctx.transaction() as session:
                planned.append(Writer(session, ctx, lib, run_id, enqueue=True).decide(
                    question, [b.claims for b in planned]))
                session.rollback()
    else:
        for batch in drafts:
            with ctx.transaction() as session:
                planned.append(Writer(session, ctx, lib, run_id, enqueue=True).plan(
                    batch, [b.claims for b in planned]))
                session.rollback()
    for batch in planned:
        with ctx.transaction() as session:
            Writer(session, ctx, lib, run_id, enqueue=True).store(batch)
    return [batch.counts for batch in planned]


def test_a_batch_that_matched_a_reader_still_in_flight_is_stored_after_it(
        ctx, city, people: IdentityGenerator, tmp_path: Path,
        monkeypatch: pytest.MonkeyPatch):
    """The first batch is held in its transaction until the second is planned: the
    second then matches the first's reader through its claims, and its rows (which
    refer to that reader) must not reach the database before the first commits."""
    person = people.reader(min_age=20)
    rows = [{"local_id": local, "family_name": person.family_name,
             "given_name": person.given_name, "document_number": person.resident_id}
            for local in ("A1", "A2")]
    planned_twice, calls = threading.Event(), []
    plan, store = Writer.plan, Writer.store

    def counted_plan(self, drafts, in_flight=()):
        batch = plan(self, drafts, in_flight)
        calls.append(batch)
        if len(calls) == 2:
            planned_twice.set()
        return batch

    def held_store(self, batch, turn=lambda: None):
        assert planned_twice.wait(10), "the second batch was not planned meanwhile"
        store(self, batch, turn)

    monkeypatch.setattr(Writer, "plan", counted_plan)
    monkeypatch.setattr(Writer, "store", held_store)
    counts = import_patrons(ctx, "CITY", file_source(_lines(tmp_path, rows), None, "utf-8"),
                            batch_size=1)
    assert counts == Counter(read=2, created=1, matched=1, linked=1, issues=1)
    with ctx.transaction() as session:
        assert session.scalar(select(func.count()).select_from(Reader)) == 1
        assert [link.local_id for link in session.scalars(select(ReaderLink))] == ["A1"]
    [issue] = _issues(ctx)
    assert issue.kind == "possible_duplicate" and issue.field == "local_id"


@pytest.mark.parametrize("mode", ["sequence", "planned", "asked"])
def test_a_batch_planned_before_the_last_one_committed_decides_as_if_it_had(
        ctx, city, people: IdentityGenerator, tmp_path: Path, mode: str):
    import_patrons(ctx, "CITY", file_source(_lines(tmp_path, []), None, "utf-8"))  # a run
    person, other = people.reader(min_age=20), people.reader(min_age=20)

    def row(who, local_id: str, barcode: str) -> dict[str, str]:
        return {"local_id": local_id, "barcode": barcode, "family_name": who.family_name,
                "given_name": who.given_name, "document_number": who.resident_id}

    first = [row(person, "A1", "BA1")]
    second = [row(person, "A2", "BA2"), row(other, "A1", "BA3"), row(other, "A3", "BA1")]
    if mode == "sequence":  # one after the other, as a reference
        [first_counts] = _plan_and_store(ctx, [first], mode="planned")
        [second_counts] = _plan_and_store(ctx, [second], mode="planned")
    else:
        first_counts, second_counts = _plan_and_store(ctx, [first, second], mode=mode)
    assert first_counts == Counter(read=1, created=1, linked=1)
    # The same person (document and name) is the first batch's reader, already linked
    # here; A1 is the first batch's; BA1 is linked to the first batch's patron.
    assert second_counts == Counter(read=3, matched=1, already_imported=1, created=1,
                                    linked=1, issues=2)
    with ctx.transaction() as session:
        documents = session.scalar(select(func.count()).select_from(IdentityDocument))
        links = {local: code for local, code in session.execute(
            select(ReaderLink.local_id, ReaderLink.local_barcode))}
    assert documents == 2
    assert links == {"A1": "BA1", "A3": None}

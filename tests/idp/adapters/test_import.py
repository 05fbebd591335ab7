"""Onboarding import through the adapter and from a file: every patron kept,
problems recorded with reasons, resumable, dry runs change nothing."""

from __future__ import annotations

import json
from collections import Counter
from datetime import date
from pathlib import Path

import pytest
from sqlalchemy import func, select

from adapters.memory import MemoryPatronStore
from adapters.values import CreateRequest
from idp.context import Context
from idp.importer.run import adapter_source, file_source, import_patrons
from idp.models import IdentityDocument, ImportIssue, OutboxItem, Reader, ReaderLink
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

"""The review queue end to end: online checks at registration, the batch scan,
`readerpass duplicates` and /api/duplicates, decisions that stick."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select

from idp.context import Context
from idp.duplicates import groups
from idp.duplicates.scan import run_scan
from idp.importer.run import file_source, import_patrons
from idp.models import DuplicatePair, DuplicateScan, MatchKey, PairState, Reader
from idp.schemas import RegistrationIn
from idp.services import registration
from idp.services.actor import Actor
from idp.synthetic import GIVEN_NAME_CHARACTERS, SURNAMES, IdentityGenerator, SyntheticReader

from ..conftest import registration as registration_body


def traditional(text: str) -> str:
    table = {**SURNAMES, **GIVEN_NAME_CHARACTERS}
    return "".join(table.get(char, char) for char in text)


def register(ctx: Context, person: SyntheticReader, **over: Any) -> Reader:
    body = registration_body(person, password=None, **over)
    with ctx.transaction() as session:
        reader = registration.register_reader(session, ctx, RegistrationIn(**body),
                                              actor=Actor.cli())
        session.expunge(reader)
        return reader


def passport(person: SyntheticReader, number: str) -> dict[str, Any]:
    """The same person registering again with a passport instead of the resident ID."""
    return {"document_type": "passport", "document_number": number, "document_country": "CHN",
            "birth_date": person.birth_date.isoformat(), "sex": person.sex}


def pairs(ctx: Context) -> list[DuplicatePair]:
    with ctx.transaction() as session:
        found = list(session.scalars(select(DuplicatePair).order_by(DuplicatePair.id)))
        session.expunge_all()
        return found


def test_second_registration_in_traditional_script_is_queued(ctx, people: IdentityGenerator):
    person = people.reader(min_age=25)
    first = register(ctx, person)
    second = register(ctx, person, family_name=traditional(person.family_name),
                      given_name=traditional(person.given_name), **passport(person, "E1234567"))
    [pair] = pairs(ctx)
    assert {pair.reader_a, pair.reader_b} == {first.id, second.id}
    assert pair.source == "registration" and pair.state == PairState.OPEN
    assert pair.score >= ctx.settings.duplicates.review_threshold
    assert not pair.auto_merge  # no shared resident ID
    text = json.dumps(pair.explanation, ensure_ascii=False)
    assert person.family_name not in text and person.mobile not in text


def test_a_shared_phone_alone_is_never_a_candidate(ctx, people: IdentityGenerator):
    parent, child_age_adult = people.reader(min_age=40), people.reader(min_age=20, max_age=30)
    register(ctx, parent)
    register(ctx, child_age_adult, mobile=parent.mobile)
    with ctx.transaction() as session:
        shared = session.scalar(select(func.count()).select_from(MatchKey)
                                .where(MatchKey.kind == "mobile"))
    assert shared == 2
    assert pairs(ctx) == []
    assert run_scan(ctx).found == 0


def test_unrelated_readers_make_no_pairs(ctx, people: IdentityGenerator):
    for person in people.readers(12, min_age=18):
        register(ctx, person)
    report = run_scan(ctx)
    assert report.readers == 12 and report.found == 0 and pairs(ctx) == []


def test_import_claims_a_document_held_by_a_differently_named_reader(
        ctx, people: IdentityGenerator, tmp_path: Path):
    holder, other = people.reader(min_age=30), people.reader(min_age=30)
    same = people.reader(min_age=30)
    held = register(ctx, holder)
    twin_spelling = register(ctx, same)
    rows = [
        # Same number, traditional spelling of the same name: joins the holder.
        {"local_id": "L1", "family_name": traditional(same.family_name),
         "given_name": traditional(same.given_name), "document_number": same.resident_id},
        # Same number, another person's name: a new reader claiming the number.
        {"local_id": "L2", "family_name": other.family_name, "given_name": other.given_name,
         "document_number": holder.resident_id, "birth_date": holder.birth_date.isoformat()},
    ]
    path = tmp_path / "patrons.jsonl"
    path.write_text("\n".join(json.dumps(r, ensure_ascii=False) for r in rows) + "\n",
                    encoding="utf-8")
    counts = import_patrons(ctx, "CITY", file_source(path, None, "utf-8"))
    assert (counts["matched"], counts["created"]) == (1, 1)
    with ctx.transaction() as session:
        claimant = session.scalar(select(Reader).where(Reader.given_name == other.given_name,
                                                       Reader.id != twin_spelling.id))
        assert claimant is not None and claimant.documents == []
        kinds = set(session.scalars(select(MatchKey.kind).where(
            MatchKey.reader_id == claimant.id)))
        claimant_id = claimant.id
    assert "doc_claim" in kinds
    report = run_scan(ctx)
    assert report.found >= 1
    [pair] = [p for p in pairs(ctx) if claimant_id in (p.reader_a, p.reader_b)]
    assert {pair.reader_a, pair.reader_b} == {claimant_id, held.id}
    assert not pair.auto_merge  # equal resident ID, but the names disagree


@pytest.fixture
def two_of_one(ctx, people: IdentityGenerator) -> DuplicatePair:
    person = people.reader(min_age=25)
    register(ctx, person)
    register(ctx, person, given_name=traditional(person.given_name),
             **passport(person, "G7654321"))
    [pair] = pairs(ctx)
    return pair


def test_dismissed_pairs_are_never_proposed_again(ctx, two_of_one: DuplicatePair, api):
    answer = api.post(f"/api/duplicates/{two_of_one.id}/dismiss", {"reason": "twins"})
    assert answer.status_code == 200, answer.json
    assert answer.json["state"] == "dismissed" and answer.json["reason"] == "twins"
    report = run_scan(ctx)
    assert report.found == 1 and report.queue["decided_before"] == 1
    [pair] = pairs(ctx)
    assert pair.state == PairState.DISMISSED
    again = api.post(f"/api/duplicates/{two_of_one.id}/dismiss", {})
    assert again.status_code == 409 and again.json["code"] == "pair_decided"
    audit = api.get(f"/api/readers/{two_of_one.reader_a}/audit").json["items"]
    assert not any(e["action"] == "duplicates.dismiss" for e in audit)  # the pair's, not hers


def test_api_lists_and_shows_pairs(ctx, two_of_one: DuplicatePair, api):
    listing = api.get("/api/duplicates").json
    assert [item["id"] for item in listing["items"]] == [two_of_one.id]
    shown = api.get(f"/api/duplicates/{two_of_one.id}").json
    assert [r["id"] for r in shown["readers"]] == [two_of_one.reader_a, two_of_one.reader_b]
    assert all("*" in r["mobile"] for r in shown["readers"])  # masked
    assert shown["explanation"] == two_of_one.explanation
    assert api.get("/api/duplicates?state=merged").json["items"] == []
    assert api.get("/api/duplicates?state=bogus").status_code == 422
    assert api.get("/api/duplicates?after=nonsense").status_code == 422
    assert api.get("/api/duplicates/999999").status_code == 404


def test_over_large_blocks_are_skipped_and_reported(settings, clock, people: IdentityGenerator):
    small = settings.model_copy(update={"duplicates": settings.duplicates.model_copy(
        update={"max_block": 2})})
    ctx = Context.build(small, clock=clock)
    try:
        from idp.schemas import LibraryIn
        from idp.services import libraries
        with ctx.transaction() as session:
            libraries.add_library(session, LibraryIn(code="PROV", name="Provincial"),
                                  actor=Actor.cli(), now=clock())
        shared = people.reader(min_age=40).mobile
        for person in people.readers(3, min_age=18):
            register(ctx, person, mobile=shared)
        report = run_scan(ctx)
        assert {"kind": "mobile", "size": 3} in report.skipped_blocks
    finally:
        ctx.dispose()


def _import(ctx: Context, path: Path, rows: list[dict[str, Any]]) -> Any:
    path.write_text("\n".join(json.dumps(r, ensure_ascii=False) for r in rows) + "\n",
                    encoding="utf-8")
    return import_patrons(ctx, "CITY", file_source(path, None, "utf-8"))


def test_an_import_queues_the_duplicates_of_the_readers_it_created(
        ctx, clock, people: IdentityGenerator, tmp_path: Path):
    person, stranger = people.reader(min_age=30), people.reader(min_age=30)
    registered = register(ctx, person)
    clock.advance(days=1)
    # No document: the name (in traditional script), the birth date and the mobile
    # tie the patron to the registered reader, and no import rule joins on those.
    rows = [
        {"local_id": "L1", "family_name": traditional(person.family_name),
         "given_name": traditional(person.given_name),
         "birth_date": person.birth_date.isoformat(), "mobile": person.mobile},
        {"local_id": "L2", "family_name": stranger.family_name,
         "given_name": stranger.given_name, "birth_date": stranger.birth_date.isoformat()}]
    counts = _import(ctx, tmp_path / "patrons.jsonl", rows)
    assert (counts["created"], counts["possible_duplicates"]) == (2, 1)
    [pair] = pairs(ctx)
    with ctx.transaction() as session:
        imported = session.scalar(select(Reader.id).where(Reader.id != registered.id,
                                                          Reader.birth_date == person.birth_date))
    assert {pair.reader_a, pair.reader_b} == {registered.id, imported}
    assert pair.source == "import" and pair.state == PairState.OPEN
    # The same file again stores nothing, so there is nothing to scan or count.
    again = _import(ctx, tmp_path / "patrons.jsonl", rows)
    assert again["already_imported"] == 2 and again["possible_duplicates"] == 0
    assert len(pairs(ctx)) == 1


def test_a_scan_of_the_new_covers_readers_from_before_an_import_scan(
        ctx, clock, people: IdentityGenerator, tmp_path: Path):
    run_scan(ctx)
    clock.advance(days=1)
    person = people.reader(min_age=30)
    register(ctx, person)
    register(ctx, person, given_name=traditional(person.given_name),
             **passport(person, "E7654321"))
    clock.advance(days=1)
    other = people.reader(min_age=30)
    _import(ctx, tmp_path / "patrons.jsonl", [{
        "local_id": "L1", "family_name": other.family_name, "given_name": other.given_name,
        "document_number": other.resident_id}])
    clock.advance(days=1)
    # The import's scan looked only at its own reader: the two registrations are
    # still new to a scan of the new.
    assert run_scan(ctx, new_only=True).found == 1


@pytest.mark.parametrize("group", [2, 200_000], ids=["block-by-block", "all-at-once"])
def test_an_import_scan_in_groups_of_blocks_finds_each_pair_once(
        ctx, clock, people: IdentityGenerator, tmp_path: Path, monkeypatch, group: int):
    # Groups of about two member entries put each block in a group of its own, so a
    # pair sharing three keys (pinyin + birth, surname + birth, mobile) is found
    # in three groups; the scan still queues it once.
    monkeypatch.setattr("idp.duplicates.scan.CHUNK_MEMBERS", group)
    twins = list(people.readers(4, min_age=30))
    registered = {register(ctx, person).id for person in twins}
    clock.advance(days=1)
    rows = [{"local_id": f"L{i}", "family_name": traditional(p.family_name),
             "given_name": traditional(p.given_name), "birth_date": p.birth_date.isoformat(),
             "mobile": p.mobile} for i, p in enumerate(twins)]
    rows += [{"local_id": f"S{i}", "family_name": p.family_name, "given_name": p.given_name,
              "document_number": p.resident_id}
             for i, p in enumerate(people.readers(3, min_age=30))]
    counts = _import(ctx, tmp_path / "patrons.jsonl", rows)
    assert (counts["created"], counts["possible_duplicates"]) == (7, 4), counts
    found = pairs(ctx)
    assert len(found) == 4
    assert len({(p.reader_a, p.reader_b) for p in found}) == 4
    assert all(len({p.reader_a, p.reader_b} & registered) == 1 for p in found)
    with ctx.transaction() as session:
        scan = session.scalars(select(DuplicateScan).order_by(DuplicateScan.id.desc())).first()
        assert scan is not None
        assert scan.counts["found"] == 4 and scan.counts["readers"] == 8


def _twins_then_import(ctx: Context, clock, people: IdentityGenerator, path: Path) -> Any:
    twins = list(people.readers(4, min_age=30))
    for person in twins:
        register(ctx, person)
    clock.advance(days=1)
    return _import(ctx, path, [
        {"local_id": f"L{i}", "family_name": traditional(p.family_name),
         "given_name": traditional(p.given_name), "birth_date": p.birth_date.isoformat(),
         "mobile": p.mobile} for i, p in enumerate(twins)])


def test_groups_are_scored_in_worker_processes_on_postgresql(
        ctx, clock, people: IdentityGenerator, tmp_path: Path, monkeypatch):
    monkeypatch.setattr("idp.duplicates.scan.CHUNK_MEMBERS", 2)
    pools: list[object] = []

    class Counted(groups.ProcessPoolExecutor):
        def __init__(self, *args: Any, **kwargs: Any):
            pools.append(self)
            super().__init__(*args, **kwargs)

    monkeypatch.setattr(groups, "ProcessPoolExecutor", Counted)
    counts = _twins_then_import(ctx, clock, people, tmp_path / "patrons.jsonl")
    assert counts["possible_duplicates"] == 4 and len(pairs(ctx)) == 4
    assert len(pools) == (1 if ctx.engine.dialect.name == "postgresql" else 0)
    assert ctx.engine.pool.checkedout() == 0  # the workers used connections of their own


def test_a_group_that_fails_stops_the_scan_with_its_error(
        ctx, clock, people: IdentityGenerator, tmp_path: Path, monkeypatch):
    monkeypatch.setattr("idp.duplicates.scan.CHUNK_MEMBERS", 2)

    def broken(*args: Any, **kwargs: Any) -> Any:
        raise RuntimeError("the match model failed")

    monkeypatch.setattr("idp.duplicates.scan._score", broken)  # in the workers too
    with pytest.raises(RuntimeError, match="the match model failed"):
        _twins_then_import(ctx, clock, people, tmp_path / "patrons.jsonl")
    assert pairs(ctx) == []
    with ctx.transaction() as session:
        scan = session.scalars(select(DuplicateScan)).one()
        assert scan.finished_at is None

"""A reader's card is issued in the registration's own transaction, on every path that
creates a reader (registration page, staff API, bulk import): it has a status-list
index at once and a gate synced afterwards admits it. Readers from before this (no
card) still get one on first use."""

from __future__ import annotations

import json
from pathlib import Path

from sqlalchemy import delete, func, select

from cards import Reason
from idp.cardsvc import lifecycle, status
from idp.importer.run import file_source, import_patrons
from idp.models import AuditEvent, Card, Reader
from idp.services.actor import Actor
from tests.idp.conftest import registration
from tests.idp.test_pages import _csrf, _form

from .helpers import bearer, reader_token, token_for


def _cards(ctx, reader_id: str) -> list[Card]:
    with ctx.sessions() as session:
        return list(session.scalars(select(Card).where(Card.reader_id == reader_id)))


def _next_index(ctx) -> int:
    with ctx.sessions() as session:
        return status.head(session).next_index


def test_registration_page_issues_the_card(live, gate, people):
    client = live.app.test_client()
    page = client.get("/register")
    person = people.reader(min_age=25)
    posted = client.post("/register", data=_form(person, _csrf(page.get_data(as_text=True))))
    assert posted.status_code == 302
    with live.ctx.sessions() as session:
        reader = session.scalar(select(Reader).where(Reader.mobile_hash == live.ctx.hasher.digest(
            "mobile", person.mobile)))
        assert reader is not None
        reader_id = reader.id
        [event] = session.scalars(select(AuditEvent).where(AuditEvent.action == "card.issue"))
        assert event.actor == "system:registration-page"
        assert event.details == {"reader": reader_id}
    [card] = _cards(live.ctx, reader_id)
    assert card.state == "active" and card.revoked is False and card.status_index == 0
    gate.sync()
    text = token_for(live.ctx, reader_id)  # signs the existing card; issues nothing
    assert [c.serial for c in _cards(live.ctx, reader_id)] == [card.serial]
    assert gate.verify(text).ok


def test_staff_api_registration_issues_the_card(live, gate, people, admin_token):
    client = live.app.test_client()
    ids = []
    for _ in range(3):
        response = client.post("/api/readers", json=registration(people.reader(min_age=30)),
                               headers=bearer(admin_token))
        assert response.status_code == 201, response.json
        ids.append(response.json["id"])
    cards = [client.get(f"/api/readers/{reader_id}/card", headers=bearer(admin_token))
             for reader_id in ids]
    assert [c.status_code for c in cards] == [200] * 3
    assert [c.json["status_index"] for c in cards] == [0, 1, 2]
    assert len({c.json["serial"] for c in cards}) == 3
    gate.sync()
    assert all(gate.verify(token_for(live.ctx, reader_id)).ok for reader_id in ids)


def test_a_refused_registration_takes_no_index(live, people, admin_token):
    client = live.app.test_client()
    person = people.reader(min_age=30)
    assert client.post("/api/readers", json=registration(person),
                       headers=bearer(admin_token)).status_code == 201
    before = _next_index(live.ctx)
    again = client.post("/api/readers", json=registration(people.reader(min_age=30),
                                                          document_number=person.resident_id),
                        headers=bearer(admin_token))
    assert again.status_code == 409
    assert _next_index(live.ctx) == before
    with live.ctx.sessions() as session:
        assert session.scalar(select(func.count()).select_from(Card)) == 1


def _import_file(path: Path, people, count: int) -> Path:
    """``count`` new patrons with resident IDs, as JSON lines."""
    rows = [{"local_id": f"L{n}", "family_name": p.family_name, "given_name": p.given_name,
             "document_number": p.resident_id}
            for n, p in enumerate(people.readers(count, min_age=20, max_age=70))]
    path.write_text("\n".join(json.dumps(r, ensure_ascii=False) for r in rows) + "\n",
                    encoding="utf-8")
    return path


def test_an_import_of_many_batches_grows_the_list_once_ahead(live, gate, people,
                                                            tmp_path: Path):
    # Four batches, each over half a growth step: growing just enough each time
    # would publish three versions.
    batch = status.GROWTH // 2 + 100
    path = _import_file(tmp_path / "patrons.jsonl", people, 4 * batch)
    version_before = status.head_version(live.ctx)
    counts = import_patrons(live.ctx, "CITY", file_source(path, None, "utf-8"),
                            batch_size=batch)
    assert counts["created"] == 4 * batch
    assert status.head_version(live.ctx) == version_before + 1
    with live.ctx.sessions() as session:
        head = status.head(session)
        last = session.scalar(select(Card).order_by(Card.status_index.desc()).limit(1))
        assert last is not None and head.next_index == 4 * batch and head.size % status.GROWTH == 0
    gate.sync()
    assert gate.verify(token_for(live.ctx, last.reader_id)).ok  # the last index is listed


def test_import_issues_cards_in_bulk(live, gate, people, tmp_path: Path):
    # More readers than one growth step of the list: the batch grows it once.
    count = status.GROWTH + 10
    path = _import_file(tmp_path / "patrons.jsonl", people, count)
    version_before = status.head_version(live.ctx)
    counts = import_patrons(live.ctx, "CITY", file_source(path, None, "utf-8"),
                            batch_size=count)
    assert counts["created"] == count
    with live.ctx.sessions() as session:
        cards = list(session.scalars(select(Card).order_by(Card.status_index)))
        head = status.head(session)
        serials = {e.target_id: e.details["card"] for e in session.scalars(
            select(AuditEvent).where(AuditEvent.action == "reader.import"))}
        assert head.size >= count and head.next_index == count
    assert [c.status_index for c in cards] == list(range(count))
    assert len({c.reader_id for c in cards}) == count and not any(c.revoked for c in cards)
    assert serials == {c.reader_id: c.serial for c in cards}  # audit names each card
    assert status.head_version(live.ctx) == version_before + 1  # one version: the growth
    gate.sync()
    for card in (cards[0], cards[-1]):
        assert gate.verify(token_for(live.ctx, card.reader_id)).ok
    with live.ctx.transaction() as session:
        lifecycle.change(session, live.ctx, session.get(Reader, cards[-1].reader_id), "lost",
                         actor=Actor.cli())
    gate.sync()
    assert gate.verify(token_for(live.ctx, cards[-1].reader_id, gate.now() + 1)).reason is (
        Reason.REVOKED)


def test_an_older_reader_without_a_card_gets_one_on_first_use(live, gate, reader, make_client,
                                                             signing_keys, admin_token):
    with live.ctx.transaction() as session:  # as registered before cards came with it
        session.execute(delete(Card).where(Card.reader_id == reader.reader_id))
    http = live.app.test_client()
    assert http.get(f"/api/readers/{reader.reader_id}/card",
                    headers=bearer(admin_token)).status_code == 404
    token = reader_token(live.app, live.ctx, reader.reader_id, make_client().client_id)
    batch = http.get("/cards/batch", headers=bearer(token))
    assert batch.status_code == 200
    [card] = _cards(live.ctx, reader.reader_id)
    assert batch.json["serial"] == card.serial and card.status_index == 1
    gate.sync()
    assert gate.verify(batch.json["tokens"][0]).ok


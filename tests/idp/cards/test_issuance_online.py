"""Issuing batches and QR images to readers, and the online verification endpoint for
gates (client_credentials): every image decoded back with zxing-cpp and verified."""

from __future__ import annotations

import io

import pytest
from PIL import Image

from cards import CardKey, MemoryReplayCache, TokenSigner, new_serial, verify
from tests.cards.test_qr import decode_qr, rasterise_svg
from tests.idp.adapters.conftest import city, store  # noqa: F401  (fixtures)

from .helpers import bearer, gate_token, reader_token, redis_workers, staff_token, token_for


@pytest.fixture
def gate_client(make_client, signing_keys, card_keys):
    return make_client(library="CITY", grant_types=["client_credentials"], scopes=[],
                       redirect_uris=[])


@pytest.fixture
def app_token(app, ctx, reader, make_client, signing_keys, card_keys):
    client = make_client()
    return reader_token(app, ctx, reader.reader_id, client.client_id)


def _snapshot(app):
    from idp.cardsvc.runtime import EXTENSION

    return app.extensions[EXTENSION].documents.snapshot()


def _decode(image: Image.Image) -> str:
    found = decode_qr(image)
    assert found.symbology_identifier == "]Q1"
    return found.text


def test_batch_for_an_app_token(app, ctx, app_token, clock):
    client = app.test_client()
    assert client.get("/cards/batch").status_code == 401
    response = client.get("/cards/batch", headers=bearer(app_token))
    assert response.status_code == 200 and response.headers["Cache-Control"] == "no-store"
    batch = response.json
    cards = ctx.settings.cards
    assert len(batch["tokens"]) == cards.batch_slots
    assert batch["start"] == int(clock().timestamp()) // cards.slot_seconds * cards.slot_seconds
    snap = _snapshot(app)
    cache = MemoryReplayCache()
    for slot in (0, 1, 700, cards.batch_slots - 1):
        now = batch["start"] + slot * cards.slot_seconds + 5
        verdict = verify(batch["tokens"][slot], snap.trust_list, snap.status_list, cache, now)
        assert verdict.ok and verdict.serial_text == batch["serial"]
    late = batch["start"] + cards.batch_slots * cards.slot_seconds + 200
    assert not verify(batch["tokens"][-1], snap.trust_list, snap.status_list, cache, late).ok


def test_batches_are_rate_limited_per_reader(app, ctx, app_token):
    client = app.test_client()
    for _ in range(ctx.settings.cards.batches_per_hour):
        assert client.get("/cards/batch", headers=bearer(app_token)).status_code == 200
    limited = client.get("/cards/batch", headers=bearer(app_token))
    assert limited.status_code == 429 and int(limited.headers["Retry-After"]) > 0


def test_png_and_svg_decode_to_tokens_that_verify(app, ctx, app_token, clock):
    client = app.test_client()
    png = client.get("/cards/qr.png", headers=bearer(app_token))
    assert png.status_code == 200 and png.mimetype == "image/png"
    svg = client.get("/cards/qr.svg", headers=bearer(app_token))
    assert svg.status_code == 200 and svg.mimetype == "image/svg+xml"
    image = Image.open(io.BytesIO(png.data))
    assert image.size == ((41 + 8) * 8,) * 2  # version 6, quiet zone of 4 modules
    texts = [_decode(image), _decode(rasterise_svg(svg.data))]
    snap = _snapshot(app)
    now = int(clock().timestamp())
    verdicts = [verify(t, snap.trust_list, snap.status_list, MemoryReplayCache(), now)
                for t in texts]
    assert all(v.ok for v in verdicts)
    # Both images show the current slot: one (serial, issued_at), so one admission.
    assert verdicts[0].serial == verdicts[1].serial
    assert verdicts[0].issued_at == verdicts[1].issued_at
    shared = MemoryReplayCache()
    assert [verify(t, snap.trust_list, snap.status_list, shared, now).reason.value
            for t in texts] == ["ok", "replayed"]


def test_images_need_a_usable_card(app, ctx, reader, app_token):
    client = app.test_client()
    assert client.get("/cards/qr.png").status_code == 401
    assert client.get("/cards/qr.png", headers=bearer(app_token)).status_code == 200
    from idp.cardsvc import lifecycle
    from idp.models import Reader
    from idp.services.actor import Actor

    with ctx.transaction() as session:
        lifecycle.change(session, ctx, session.get(Reader, reader.reader_id), "lost",
                         actor=Actor.cli())
    refused = client.get("/cards/qr.svg", headers=bearer(app_token))
    assert refused.status_code == 409 and refused.json["code"] == "card_revoked"


def test_online_endpoint_needs_a_gate_token(app, ctx, gate_client, app_token, reader):
    client = app.test_client()
    text = token_for(ctx, reader.reader_id)
    assert client.post("/cards/verify", json={"token": text}).status_code == 401
    assert client.post("/cards/verify", json={"token": text},
                       headers=bearer("not-a-token")).status_code == 401
    reader_call = client.post("/cards/verify", json={"token": text}, headers=bearer(app_token))
    assert reader_call.status_code == 403
    token = gate_token(app, gate_client.client_id, gate_client.secret)
    assert client.post("/cards/verify", json={}, headers=bearer(token)).status_code == 400
    ok = client.post("/cards/verify", json={"token": text}, headers=bearer(token))
    assert ok.status_code == 200 and ok.json["ok"] is True
    assert "local_barcode" in ok.json and ok.json["local_barcode"] is None


def test_online_verdicts(app, ctx, gate_client, reader, clock):
    client = app.test_client()
    token = gate_token(app, gate_client.client_id, gate_client.secret)

    def check(text: str) -> str:
        response = client.post("/cards/verify", json={"token": text}, headers=bearer(token))
        assert response.status_code == 200
        reason: str = response.json["reason"]
        return reason

    now = int(clock().timestamp())
    good = token_for(ctx, reader.reader_id)
    assert check(good) == "ok"
    assert check(good) == "replayed"
    clock.advance(seconds=300)  # lifetime 120 s + skew 30 s are over
    assert check(good) == "expired"
    now = int(clock().timestamp())
    assert check(token_for(ctx, reader.reader_id, now + 600)) == "not_yet_valid"
    foreign = TokenSigner(CardKey.generate()).sign(new_serial(), 0, now, 120)
    assert check(foreign) == "unknown_key"
    assert check("RP1" + "A" * 144) in ("malformed", "unknown_key")
    assert check("hello") == "malformed"
    lost = client.post(f"/api/readers/{reader.reader_id}/card/lost",
                       headers=bearer(staff_token(ctx)), json={})
    assert lost.status_code == 200
    assert check(token_for(ctx, reader.reader_id, now + 1)) == "revoked"


def test_online_endpoint_with_the_redis_replay_cache(app, ctx, gate_client, reader, redis_url,
                                                     settings):
    shared = redis_workers(ctx, settings, redis_url)
    token = gate_token(shared[0], gate_client.client_id, gate_client.secret)
    text = token_for(ctx, reader.reader_id)
    answers = [one.test_client().post("/cards/verify", json={"token": text},
                                      headers=bearer(token)).json["reason"] for one in shared]
    assert answers == ["ok", "replayed"]  # two workers, one replay cache


def test_first_online_admission_links_the_patron_and_returns_its_barcode(
        app, ctx, gate_client, reader, city, store):  # noqa: F811
    from sqlalchemy import select

    from adapters import PatronMatch
    from idp.models import ReaderLink

    client = app.test_client()
    token = gate_token(app, gate_client.client_id, gate_client.secret)
    first = client.post("/cards/verify", json={"token": token_for(ctx, reader.reader_id)},
                        headers=bearer(token))
    assert first.status_code == 200 and first.json["ok"] is True
    patron = store.find(PatronMatch(reader_id=reader.reader_id))
    assert patron is not None and first.json["local_barcode"] == patron.barcode
    with ctx.sessions() as session:
        links = session.scalars(select(ReaderLink)).all()
    assert [(link.reader_id, link.state) for link in links] == [(reader.reader_id, "linked")]


def test_an_admission_answers_the_barcode_at_the_gate_s_own_library_only(
        app, ctx, gate_client, make_client, reader, city, store, clock):  # noqa: F811
    import itertools

    from sqlalchemy import event

    from adapters import PatronMatch
    from idp.models import LinkState, ReaderLink
    from idp.services.libraries import get_library

    client = app.test_client()
    city_gate = gate_token(app, gate_client.client_id, gate_client.secret)
    prov = make_client(library="PROV", grant_types=["client_credentials"], scopes=[],
                       redirect_uris=[])
    prov_gate = gate_token(app, prov.client_id, prov.secret)

    seconds = itertools.count(int(clock().timestamp()))  # a new issue time, no replay

    def barcode(gate: str) -> str | None:
        text = token_for(ctx, reader.reader_id, next(seconds))
        response = client.post("/cards/verify", json={"token": text}, headers=bearer(gate))
        assert response.status_code == 200 and response.json["ok"] is True
        found: str | None = response.json["local_barcode"]
        return found

    statements: list[str] = []
    listen = ("before_cursor_execute", lambda *args: statements.append(args[2]))
    event.listen(ctx.engine, *listen)
    try:
        assert barcode(prov_gate) is None  # no link there, and no adapter to make one
    finally:
        event.remove(ctx.engine, *listen)
    # Only the card token's own fixture statements ran: no session for the admission.
    assert not [sql for sql in statements if "reader_links" in sql or "library_adapters" in sql]
    at_city = barcode(city_gate)
    patron = store.find(PatronMatch(reader_id=reader.reader_id))
    assert patron is not None and at_city == patron.barcode
    with ctx.transaction() as session:
        session.add(ReaderLink(
            reader_id=reader.reader_id, library_id=get_library(session, "PROV").id,
            local_id="P-7", local_barcode="PROV-0007", state=LinkState.LINKED.value,
            method="staff_matched", candidates=[], created_at=ctx.now(), updated_at=ctx.now()))
    assert barcode(prov_gate) == "PROV-0007"
    assert barcode(city_gate) == at_city  # linked there already: the same patron
    assert store.count_patrons() == 1
    with ctx.transaction() as session:
        link = session.query(ReaderLink).filter_by(local_id="P-7").one()
        link.state = LinkState.UNLINKED.value
    assert barcode(prov_gate) is None  # only a live link answers
    assert barcode(city_gate) == at_city

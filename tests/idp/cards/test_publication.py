"""Keys, the status list and publication, checked by a real gate syncing from the
real service: configuration, trust list, full status list and deltas."""

from __future__ import annotations

import datetime as dt
import json
import urllib.error
import urllib.request

import pytest

from cards import WELL_KNOWN_PATH, ReaderCardConfiguration, Reason, serial_from_text
from idp.cardsvc import issuance, keys, lifecycle, status
from idp.errors import Conflict
from idp.models import Reader
from idp.services.actor import Actor

from .helpers import token_for


def fetch(url: str) -> tuple[int, bytes]:
    try:
        with urllib.request.urlopen(url, timeout=10) as response:
            return response.status, response.read()
    except urllib.error.HTTPError as exc:
        body = exc.read()
        exc.close()
        return exc.code, body


def test_configuration_document_points_at_the_service(live, card_keys):
    code, body = fetch(live.url + WELL_KNOWN_PATH)
    assert code == 200
    document = ReaderCardConfiguration.from_bytes(body)
    assert document.issuer == live.url
    assert document.status_list_delta_uri == f"{live.url}/cards/status-list/delta"
    assert document.verification_endpoint == f"{live.url}/cards/verify"
    assert document.status_list_max_age_seconds == live.ctx.settings.cards.max_age_seconds


def test_nothing_is_served_before_the_first_key(live):
    assert fetch(live.url + "/cards/trust-list")[0] == 503
    assert fetch(live.url + "/cards/status-list")[0] == 503


def test_gate_syncs_verifies_and_follows_deltas(live, gate, reader, clock):
    first = gate.sync()
    assert first["issuer"] == live.url and first["revoked_cards"] == 0
    good = token_for(live.ctx, reader.reader_id)
    # A card issued after the sync: its index is inside the published size already.
    assert gate.verify(good).reason is Reason.OK
    assert gate.verify(good).reason is Reason.REPLAYED

    with live.ctx.transaction() as session:
        lifecycle.change(session, live.ctx, session.get(Reader, reader.reader_id), "lost",
                         actor=Actor.cli())
    version = status.head_version(live.ctx)
    code, _ = fetch(f"{live.url}/cards/status-list/delta?since={first['status_list_version']}")
    assert code == 200
    second = gate.sync()
    assert second["status_list_version"] == version and second["revoked_cards"] == 1
    clock.advance(seconds=1)
    assert gate.verify(token_for(live.ctx, reader.reader_id, issuance.slot_start(live.ctx))
                       ).reason is Reason.REVOKED


def test_delta_answers(live, card_keys):
    fetch(live.url + "/cards/status-list")
    assert fetch(live.url + "/cards/status-list/delta?since=0")[0] == 404
    assert fetch(live.url + "/cards/status-list/delta?since=99")[0] == 404
    assert fetch(live.url + "/cards/status-list/delta?since=x")[0] == 400
    assert fetch(live.url + "/cards/status-list/delta")[0] == 400


def test_lists_are_re_signed_when_they_get_old(live, gate, clock):
    first = gate.sync()
    clock.advance(seconds=live.ctx.settings.cards.max_age_seconds // 3 + 1)
    second = gate.sync()
    assert second["status_list_version"] == first["status_list_version"] + 1
    assert gate.bundle.status_list.issued_at == gate.now()
    assert gate.bundle.trust_list.issued_at == gate.now()
    # Old history goes after cards.delta_history_seconds: that gate gets the full list.
    since = second["status_list_version"]
    assert fetch(f"{live.url}/cards/status-list/delta?since={since - 1}")[0] == 200
    clock.advance(seconds=live.ctx.settings.cards.delta_history_seconds + 1)
    assert fetch(f"{live.url}/cards/status-list/delta?since={since}")[0] == 404
    assert gate.sync()["status_list_version"] > since


def test_key_rotation_overlap(live, gate, reader, clock):
    ctx = live.ctx
    gate.sync()
    old_token = token_for(ctx, reader.reader_id)
    with ctx.transaction() as session, pytest.raises(Conflict, match="may not have it yet"):
        keys.rotate(session, ctx, actor=Actor.cli())
    clock.advance(seconds=ctx.settings.cards.max_age_seconds)
    with ctx.transaction() as session:
        changes = keys.rotate(session, ctx, actor=Actor.cli())
    assert [c.split()[0] for c in changes] == ["retiring", "active", "next"]
    gate.sync()
    assert len(gate.bundle.trust_list.keys) == 3
    new_token = token_for(ctx, reader.reader_id)
    assert new_token[3:10] != old_token[3:10]  # another key id
    assert gate.verify(new_token).ok
    # Tokens the old key signed ahead (a batch) stay good until their own expiry.
    with ctx.transaction() as session:
        retiring = next(r for r in keys.list_keys(session) if r.state == "retiring")
        signer = issuance.TokenSigner(keys.load_card_key(ctx, retiring))
        card = lifecycle.current_card(session, reader.reader_id)
        ahead = int(retiring.not_after.timestamp())
        within = signer.sign(serial_from_text(card.serial), card.status_index, ahead, 120)
        beyond = signer.sign(serial_from_text(card.serial), card.status_index, ahead + 1, 120)
        with pytest.raises(Conflict, match="retire it then"):
            keys.retire(session, ctx, retiring.kid, actor=Actor.cli())
        assert keys.retire(session, ctx, None, actor=Actor.cli()) == []
    clock.current = dt.datetime.fromtimestamp(ahead, dt.UTC)
    gate.sync()
    assert gate.verify(within).ok
    assert gate.verify(beyond).reason is Reason.UNKNOWN_KEY
    clock.current = retiring.retire_after
    with ctx.transaction() as session:
        assert keys.retire(session, ctx, None, actor=Actor.cli()) == [retiring.kid]
    gate.sync()
    assert len(gate.bundle.trust_list.keys) == 2


def test_anchor_export_and_publish_commands(tmp_path, database_url):
    from tests.idp.test_cli import Cmd, render_config

    config = tmp_path / "readerpass.toml"
    config.write_text(render_config(province_code="TEST", province_name="Test",
                                    database_url=database_url, argon2_memory_kib=1024),
                      encoding="utf-8")
    cmd = Cmd(config)
    assert "no trust anchor" in cmd("cards", "anchor", "export", code=1).stderr
    assert "no trust anchor" in cmd("cards", "publish", code=1).stderr
    rotated = cmd("cards", "keys", "rotate").stdout.split("\n")
    assert [line.split()[0] for line in rotated if line] == ["anchor", "active", "next"]
    jwk = json.loads(cmd("cards", "anchor", "export").stdout)
    assert jwk["crv"] == "P-256" and "d" not in jwk and len(jwk["kid"]) == 8
    assert "status list version 1" in cmd("cards", "publish").stdout
    assert "nothing to re-sign" in cmd("cards", "publish").stdout
    assert "status list version 2" in cmd("cards", "publish", "--force").stdout
    rows = cmd.json_lines("cards", "keys", "list")
    assert sorted(r["state"] for r in rows) == ["active", "active", "next"]
    assert "gates may not have it yet" in cmd("cards", "keys", "rotate", code=1).stderr
    assert "nothing to retire" in cmd("cards", "keys", "retire").stdout

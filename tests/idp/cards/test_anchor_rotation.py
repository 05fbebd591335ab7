"""Trust-anchor rotation: the old anchor signs a transition to the new one, the lists
are signed by the new anchor at once, and a gate that pinned the old anchor follows
the transition at its next sync (the real `readerpass gate` process against the
service on a socket) and keeps verifying cards; a forged transition is refused."""

from __future__ import annotations

import json
from pathlib import Path

import jwt
import pytest

from cards import AnchorKey, key_id, public_key_from_jwk
from cards.anchor_transition import sign_anchor_transition, transition_list
from idp.cardsvc import keys
from idp.errors import Conflict
from idp.models import CardKeyRow
from idp.services.actor import Actor

from .helpers import token_for
from .test_gate_no_change import anchor_file, gate_sync, gate_verify

TRANSITIONS = "/cards/anchor-transitions"


def _rotate(live) -> str:
    with live.ctx.transaction() as session:
        keys.rotate_anchor(session, live.ctx, actor=Actor.cli())
        row = keys.anchor_row(session)
        assert row is not None
        return row.kid


def _pinned(gate: Path) -> list[str]:
    data = json.loads((gate / "anchors.json").read_text())
    return sorted(jwk_kid(jwk) for jwk in data["keys"])


def jwk_kid(jwk: dict) -> str:
    return key_id(public_key_from_jwk(jwk))


def _ok(gate: Path, text: str) -> None:
    code, out, err = gate_verify(gate, text, max_age=600)
    assert code == 0 and json.loads(out)["ok"] is True, (out, err)


def test_a_gate_follows_the_rotation_and_keeps_verifying(
    wall_clock, live, card_keys, tap, reader, tmp_path
):
    gate = tmp_path / "gate"
    first = gate_sync(live, gate, anchor_file(live, tmp_path))
    old = first["anchors"]
    assert first["anchor_rotations"] == [] and len(old) == 1
    _ok(gate, token_for(live.ctx, reader.reader_id))

    new = _rotate(live)
    trust = live.app.test_client().get("/cards/trust-list").get_data(as_text=True)
    assert jwt.get_unverified_header(trust)["kid"] == new  # signed by the new anchor at once

    synced = gate_sync(live, gate)
    assert synced["anchor_rotations"] == [{"from": old[0], "to": new, "sequence": 1}]
    assert synced["anchors"] == [new] and _pinned(gate) == [new]  # replaced on disk
    assert (synced["trust_list"], synced["status_list"]) == ("full", "full")
    _ok(gate, token_for(live.ctx, reader.reader_id, gate_now(wall_clock) + 1))

    # The transition stays published; the gate passed it and takes no further step.
    again = gate_sync(live, gate)
    assert again["anchor_rotations"] == [] and again["anchors"] == [new]
    assert again["trust_list"] == "unchanged"

    # A gate set up later pins the new anchor (`cards anchor export`) and needs nothing.
    fresh = tmp_path / "fresh"
    assert gate_sync(live, fresh, anchor_file(live, tmp_path))["anchor_rotations"] == []


def test_a_gate_that_missed_two_rotations_follows_the_chain(
    wall_clock, live, card_keys, reader, tmp_path
):
    gate = tmp_path / "gate"
    old = gate_sync(live, gate, anchor_file(live, tmp_path))["anchors"][0]
    middle = _rotate(live)
    newest = _rotate(live)
    synced = gate_sync(live, gate)
    assert [(s["from"], s["to"]) for s in synced["anchor_rotations"]] == [
        (old, middle), (middle, newest)]
    assert _pinned(gate) == [newest]
    _ok(gate, token_for(live.ctx, reader.reader_id))


def test_a_forged_transition_is_refused(wall_clock, live, card_keys, tap, reader, tmp_path):
    gate = tmp_path / "gate"
    old = gate_sync(live, gate, anchor_file(live, tmp_path))["anchors"][0]
    before = {p.name: p.read_bytes() for p in gate.iterdir()}

    # An attacker's mirror: a transition that claims to leave the pinned anchor, signed
    # by the attacker's own key (its header names the pinned anchor's id) ...
    attacker, target = AnchorKey.generate(), AnchorKey.generate()
    attacker.kid = old  # pose as the pinned anchor
    forged = sign_anchor_transition(attacker, target.public_key, issuer=live.url, sequence=1,
                                    issued_at=gate_now(wall_clock))
    tap.forge_body[TRANSITIONS] = transition_list(live.url, [forged])
    failed = gate_sync(live, gate, code=1)
    assert f"claims to hand over from the pinned anchor {old}" in failed["stderr"]
    assert "forged or damaged" in failed["stderr"]
    assert {p.name: p.read_bytes() for p in gate.iterdir()} == before  # nothing changed

    # ... and a list whose JSON is broken is a clear error too.
    tap.forge_body[TRANSITIONS] = b'{"iss": 1'
    assert "anchor transition list" in gate_sync(live, gate, code=1)["stderr"]
    assert _pinned(gate) == [old]
    _ok(gate, token_for(live.ctx, reader.reader_id))

    # Without a transition, lists signed by another anchor are simply not trusted.
    tap.forge_body[TRANSITIONS] = transition_list(live.url, [])
    _rotate(live)
    assert "not pinned" in gate_sync(live, gate, code=1)["stderr"]
    assert _pinned(gate) == [old]


def test_old_anchor_retires_after_the_overlap(live, card_keys, clock, tmp_path):
    with live.ctx.sessions() as session:
        old = keys.anchor_row(session)
        assert old is not None
        old_kid = old.kid
    _rotate(live)
    with live.ctx.transaction() as session, pytest.raises(Conflict):
        keys.retire_anchors(session, live.ctx, old_kid, actor=Actor.cli())
    with live.ctx.transaction() as session:
        assert keys.retire_anchors(session, live.ctx, None, actor=Actor.cli()) == []
    clock.advance(seconds=live.ctx.settings.cards.anchor_overlap_seconds)
    with live.ctx.transaction() as session:
        assert keys.retire_anchors(session, live.ctx, None, actor=Actor.cli()) == [old_kid]
    with live.ctx.sessions() as session:
        row = session.query(CardKeyRow).filter_by(kid=old_kid).one()
        assert (row.state, row.private_enc) == ("retired", "")
    body = live.app.test_client().get(TRANSITIONS).json
    assert len(body["transitions"]) == 1  # still published for gates that were away


def test_cli_anchor_rotate_list_retire(tmp_path, database_url):
    from tests.idp.test_cli import Cmd, render_config

    config = tmp_path / "readerpass.toml"
    config.write_text(render_config(province_code="TEST", province_name="Test",
                                    database_url=database_url, argon2_memory_kib=1024),
                      encoding="utf-8")
    cmd = Cmd(config)
    assert "no trust anchor yet" in cmd("cards", "anchor", "rotate", code=1).stderr
    cmd("cards", "keys", "rotate")
    exported = json.loads(cmd("cards", "anchor", "export").stdout)
    rotated = cmd("cards", "anchor", "rotate").stdout
    assert f"signed by {jwk_kid(exported)}" in rotated
    rows = cmd.json_lines("cards", "anchor", "list")
    assert [(r["state"], r["transition"]) for r in rows] == [("retiring", False),
                                                            ("active", True)]
    assert jwk_kid(json.loads(cmd("cards", "anchor", "export").stdout)) == rows[1]["kid"]
    assert "nothing to retire" in cmd("cards", "anchor", "retire").stdout  # overlap runs
    early = cmd("cards", "anchor", "retire", rows[0]["kid"], code=1)
    assert "--force" in early.stderr
    assert f"retired anchor {rows[0]['kid']}" in cmd(
        "cards", "anchor", "retire", rows[0]["kid"], "--force").stdout


def gate_now(clock) -> int:
    return int(clock().timestamp())

"""The configuration document and the trust list carry strong entity tags; `readerpass
gate sync` (a separate process) sends back the tags it stored and keeps its files on
304, and never believes a 304 for a trust list older than the maximum age: the real
gate command against the real service on a socket, on the wall clock."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from pathlib import Path

from cards import WELL_KNOWN_PATH
from cards.keys import b64url_encode
from idp.app import create_app
from idp.cardsvc import keys
from idp.services.actor import Actor

from .helpers import token_for
from .test_gate_no_change import anchor_file, conditional_get, gate_sync, gate_verify

TRUST = "/cards/trust-list"


def _mtimes(directory: Path) -> dict[str, int]:
    return {p.name: p.stat().st_mtime_ns for p in directory.iterdir()}


def test_a_current_gate_gets_304_for_configuration_and_trust_list(
    wall_clock, live, card_keys, tap, reader, tmp_path
):
    gate = tmp_path / "gate"
    first = gate_sync(live, gate, anchor_file(live, tmp_path))
    assert (first["configuration"], first["trust_list"]) == ("full", "full")
    sent = {s.path: s for s in tap.seen}
    assert sent[WELL_KNOWN_PATH].if_none_match is None and sent[TRUST].if_none_match is None
    stored = json.loads((gate / "etags.json").read_text())
    assert set(stored) == {"configuration", "trust_list"}

    held = _mtimes(gate)
    tap.seen.clear()
    again = gate_sync(live, gate)
    assert (again["configuration"], again["trust_list"], again["status_list"]) == (
        "unchanged", "unchanged", "unchanged")
    sent = {s.path: s for s in tap.seen}
    for path, name in ((WELL_KNOWN_PATH, "configuration"), (TRUST, "trust_list")):
        assert sent[path].if_none_match == stored[name]["etag"]
        assert sent[path].status == 304
    assert {k: v for k, v in _mtimes(gate).items() if k != "etags.json"} == {
        k: v for k, v in held.items() if k != "etags.json"}  # documents untouched
    code, out, err = gate_verify(gate, token_for(live.ctx, reader.reader_id), max_age=600)
    assert code == 0 and json.loads(out)["ok"] is True, err

    # A new card key changes the trust list: the stored tag no longer matches.
    with live.ctx.transaction() as session:
        keys.rotate(session, live.ctx, actor=Actor.cli(), force=True)
    tap.seen.clear()
    changed = gate_sync(live, gate)
    assert (changed["configuration"], changed["trust_list"]) == ("unchanged", "full")
    assert changed["trust_list_version"] == first["trust_list_version"] + 1
    assert {s.path: s.status for s in tap.seen}[TRUST] == 200
    code, out, err = gate_verify(gate, token_for(live.ctx, reader.reader_id), max_age=600)
    assert code == 0 and json.loads(out)["ok"] is True, err  # signed by the new key


def test_a_replayed_304_does_not_keep_an_old_trust_list(
    wall_clock, live, card_keys, tap, reader, tmp_path
):
    real_now = wall_clock.current
    wall_clock.current = real_now - dt.timedelta(hours=2)  # the service signed long ago
    gate = tmp_path / "gate"
    gate_sync(live, gate, anchor_file(live, tmp_path))
    token = token_for(live.ctx, reader.reader_id, int(real_now.timestamp()))
    code, _, err = gate_verify(gate, token, max_age=3600)
    assert code == 1 and " s old, the limit is 3600 s" in err

    # A mirror answers 304 for the trust list: not believed for a list that old, the
    # gate asks again without a condition, and a 304 to that is an error.
    tap.forge_304.add(TRUST)
    tap.seen.clear()
    failed = gate_sync(live, gate, code=1)
    assert "HTTP 304" in failed["stderr"]
    asked = [s for s in tap.seen if s.path == TRUST]
    assert [(s.if_none_match is not None, s.status) for s in asked] == [(True, 304),
                                                                        (False, 304)]
    code, _, err = gate_verify(gate, token, max_age=3600)
    assert code == 1 and "old" in err

    # Only the service's freshly signed list (its clock back to now) restores service.
    tap.forge_304.clear()
    wall_clock.current = real_now
    back = gate_sync(live, gate)
    assert back["trust_list"] == "full"
    code, out, err = gate_verify(gate, token, max_age=3600)
    assert code == 0 and json.loads(out)["ok"] is True, err


def test_documents_carry_strong_entity_tags(live, card_keys):
    code, headers, body = conditional_get(live.url + WELL_KNOWN_PATH)
    assert code == 200
    etag = headers["ETag"]
    assert etag == f'"{b64url_encode(hashlib.sha256(body).digest())}"'  # strong: no W/
    assert conditional_get(live.url + WELL_KNOWN_PATH, etag)[:3:2] == (304, b"")
    assert conditional_get(live.url + WELL_KNOWN_PATH, "W/" + etag)[0] == 304  # weak comparison
    assert conditional_get(live.url + WELL_KNOWN_PATH, '"other"')[0] == 200

    code, headers, body = conditional_get(live.url + TRUST)
    assert code == 200 and headers["ETag"] == f'"{b64url_encode(hashlib.sha256(body).digest())}"'
    code, again, empty = conditional_get(live.url + TRUST, headers["ETag"])
    assert (code, empty, again["ETag"]) == (304, b"", headers["ETag"])
    # Another worker signs the same list to the same bytes (deterministic ECDSA), so
    # its tag agrees and a gate gets 304 from either.
    other = create_app(context=live.ctx).test_client().get(TRUST)
    assert other.data == body and other.headers["ETag"] == headers["ETag"]

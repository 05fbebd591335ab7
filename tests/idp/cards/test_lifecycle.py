"""Card lifecycle through the staff API, the CLI, the reader's own report and reader
status changes: each one refuses the card's tokens at a real gate after its next sync."""

from __future__ import annotations

import pytest

from cards import Reason
from idp.cardsvc import lifecycle
from idp.models import AuditEvent, Reader

from .helpers import bearer, reader_token, token_for


@pytest.fixture
def staff(live, admin_token):
    client = live.app.test_client()

    def call(path: str, body: dict | None = None):
        return client.post(path, json=body or {}, headers=bearer(admin_token))

    return call


def _current(live, reader_id):
    with live.ctx.sessions() as session:
        return lifecycle.current_card(session, reader_id)


@pytest.mark.parametrize("action, body", [
    ("lost", {}), ("suspend", {"reason": "unpaid fines"}), ("expire", {}),
    ("cancel", {"reason": "left the province"}),
])
def test_card_actions_refuse_tokens_after_the_next_sync(live, gate, reader, staff, action,
                                                        body):
    gate.sync()
    before, after = token_for(live.ctx, reader.reader_id), None
    assert gate.verify(before).ok
    response = staff(f"/api/readers/{reader.reader_id}/card/{action}", body)
    assert response.status_code == 200, response.json
    assert response.json["revoked"] is True
    after = token_for(live.ctx, reader.reader_id, gate.now() + 1)
    assert gate.verify(after).ok  # the gate has not synced yet
    gate.sync()
    assert gate.verify(token_for(live.ctx, reader.reader_id, gate.now() + 2)).reason is (
        Reason.REVOKED)
    if action != "cancel":
        restored = staff(f"/api/readers/{reader.reader_id}/card/restore")
        assert restored.status_code == 200 and restored.json["revoked"] is False
        gate.sync()
        assert gate.verify(token_for(live.ctx, reader.reader_id, gate.now() + 3)).ok
    else:
        again = staff(f"/api/readers/{reader.reader_id}/card/restore")
        assert again.status_code == 409


def test_reissue_gives_a_new_serial_and_index(live, gate, reader, staff):
    old = token_for(live.ctx, reader.reader_id)
    first = _current(live, reader.reader_id)
    staff(f"/api/readers/{reader.reader_id}/card/lost")
    response = staff(f"/api/readers/{reader.reader_id}/card/reissue")
    assert response.status_code == 200
    new = response.json
    assert new["serial"] != first.serial and new["status_index"] > first.status_index
    gate.sync()
    assert gate.verify(old).reason is Reason.REVOKED
    assert gate.verify(token_for(live.ctx, reader.reader_id)).ok
    with live.ctx.sessions() as session:
        events = session.query(AuditEvent).filter_by(target_type="card").order_by(
            AuditEvent.id).all()
    assert [e.action for e in events] == ["card.issue", "card.lost", "card.reissue"]
    assert events[-1].details["replaces"] == first.serial


@pytest.mark.parametrize("status", ["lost_reported", "suspended", "expired", "cancelled"])
def test_reader_status_changes_set_the_bit(live, gate, reader, staff, status):
    token_for(live.ctx, reader.reader_id)
    body = {"status": status, "reason": "test"}
    assert staff(f"/api/readers/{reader.reader_id}/status", body).status_code == 200
    gate.sync()
    assert gate.verify(token_for(live.ctx, reader.reader_id)).reason is Reason.REVOKED
    if status == "cancelled":
        return
    assert staff(f"/api/readers/{reader.reader_id}/status", {"status": "active"}
                 ).status_code == 200
    gate.sync()
    assert gate.verify(token_for(live.ctx, reader.reader_id, gate.now() + 1)).ok


def test_back_to_active_keeps_a_lost_card_revoked(live, gate, reader, staff):
    token_for(live.ctx, reader.reader_id)
    staff(f"/api/readers/{reader.reader_id}/card/lost")
    staff(f"/api/readers/{reader.reader_id}/status", {"status": "suspended", "reason": "x"})
    staff(f"/api/readers/{reader.reader_id}/status", {"status": "active"})
    gate.sync()
    assert gate.verify(token_for(live.ctx, reader.reader_id)).reason is Reason.REVOKED
    assert _current(live, reader.reader_id).revoked is True


def test_the_reader_reports_the_card_lost_with_an_app_token(live, gate, reader, make_client,
                                                           signing_keys):
    client = make_client()
    token = reader_token(live.app, live.ctx, reader.reader_id, client.client_id)
    good = token_for(live.ctx, reader.reader_id)
    http = live.app.test_client()
    assert http.post("/cards/me/lost").status_code == 401
    plain = reader_token(live.app, live.ctx, reader.reader_id, client.client_id, "openid")
    assert http.post("/cards/me/lost", headers=bearer(plain)).status_code == 403
    response = http.post("/cards/me/lost", headers=bearer(token))
    assert response.status_code == 200 and response.json["state"] == "lost"
    gate.sync()
    assert gate.verify(good).reason is Reason.REVOKED
    with live.ctx.sessions() as session:
        actions = [e.action for e in session.query(AuditEvent).filter_by(
            target_type="card").order_by(AuditEvent.id)]
    assert actions == ["card.issue", "card.lost"]


def test_staff_api_errors(live, reader, staff, admin_token, card_keys):
    http = live.app.test_client()
    shown = http.get(f"/api/readers/{reader.reader_id}/card", headers=bearer(admin_token))
    assert shown.status_code == 200 and len(shown.json["serial"]) == 16  # from registration
    assert http.post(f"/api/readers/{reader.reader_id}/card/lost").status_code == 401
    created = http.post(f"/api/readers/{reader.reader_id}/card", headers=bearer(admin_token))
    assert created.status_code == 201 and created.json["serial"] == shown.json["serial"]
    assert staff(f"/api/readers/{reader.reader_id}/card/suspend").status_code == 422
    assert staff(f"/api/readers/{reader.reader_id}/card/fly").status_code == 422
    assert staff(f"/api/readers/{reader.reader_id}/card/restore").status_code == 409
    assert staff("/api/readers/nobody/card/lost").status_code == 404
    with live.ctx.sessions() as session:
        assert session.get(Reader, reader.reader_id).status == "active"


def test_cli_lifecycle(tmp_path, database_url, people):
    from tests.idp.test_cli import ROOT, Cmd, _add, render_config

    config = tmp_path / "readerpass.toml"
    config.write_text(render_config(province_code="TEST", province_name="Test",
                                    database_url=database_url, argon2_memory_kib=1024),
                      encoding="utf-8")
    cmd = Cmd(config)
    cmd("libraries", "load", str(ROOT / "config" / "libraries.example.toml"))
    added = _add(cmd, people.reader(min_age=30))
    ref = added["card_number"]
    issued = cmd.json_lines("cards", "show", ref)[0]  # issued at registration
    assert issued["state"] == "active" and issued["revoked"] is False
    assert issued["status_index"] == 0
    assert cmd.json_lines("cards", "issue", ref)[0]["serial"] == issued["serial"]
    assert cmd.json_lines("cards", "lost", ref)[0]["state"] == "lost"
    assert "reason is required" in cmd("cards", "suspend", ref, code=2).stderr
    new = cmd.json_lines("cards", "reissue", ref)[0]
    assert new["serial"] != issued["serial"] and new["status_index"] == 1
    assert cmd.json_lines("cards", "suspend", ref, "--reason", "fines")[0]["revoked"] is True
    assert cmd.json_lines("cards", "restore", ref)[0]["revoked"] is False
    assert cmd.json_lines("cards", "expire", ref)[0]["state"] == "expired"
    assert cmd.json_lines("cards", "cancel", ref, "--reason", "moved")[0]["state"] == (
        "cancelled")
    assert "cannot restore" in cmd("cards", "restore", ref, code=1).stderr

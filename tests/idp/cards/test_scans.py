"""Gate scan logs and the card-sharing report (API and CLI)."""

from __future__ import annotations

import pytest

from .helpers import bearer, gate_token


@pytest.fixture
def gates(app, make_client, signing_keys):
    tokens = {}
    for library in ("PROV", "CITY"):
        client = make_client(library=library, grant_types=["client_credentials"], scopes=[],
                             redirect_uris=[])
        tokens[library] = gate_token(app, client.client_id, client.secret)
    return tokens


def _upload(app, token: str, events: list[dict]) -> object:
    return app.test_client().post("/cards/scans", json={"events": events},
                                  headers=bearer(token))


def test_sharing_report(app, api, gates, clock):
    now = int(clock().timestamp())
    shared, honest, refused = "A" * 16, "B" * 16, "C" * 16
    prov = [{"serial": shared, "at": now - 5400, "verdict": "ok"},
            {"serial": honest, "at": now - 7200, "verdict": "ok"},
            {"serial": refused, "at": now - 600, "verdict": "revoked"}]
    city = [{"serial": shared, "at": now - 4800, "verdict": "ok"},  # 10 minutes later
            {"serial": honest, "at": now - 600, "verdict": "ok"},  # 110 minutes later
            {"serial": refused, "at": now - 500, "verdict": "ok"}]
    first = _upload(app, gates["PROV"], prov)
    assert first.status_code == 202 and first.json == {"received": 3, "stored": 3}
    assert _upload(app, gates["PROV"], prov).json["stored"] == 0  # a retried upload
    assert _upload(app, gates["CITY"], city).json["stored"] == 3
    report = api.get("/api/cards/sharing").json
    assert report["window_minutes"] == 30
    assert [(i["serial"], i["libraries"], i["scans"]) for i in report["items"]] == [
        (shared, ["CITY", "PROV"], 2)]
    wide = api.get("/api/cards/sharing?window=120").json["items"]
    assert [i["serial"] for i in wide] == [shared, honest]
    assert api.get("/api/cards/sharing?window=0").status_code == 400
    assert api.get("/api/cards/sharing?hours=1").json["items"] == []


def test_scan_upload_is_validated_and_authenticated(app, gates):
    client = app.test_client()
    event = {"serial": "A" * 16, "at": 1, "verdict": "ok"}
    assert client.post("/cards/scans", json={"events": [event]}).status_code == 401
    bad = [{**event, "serial": "not a serial"}, {**event, "verdict": "maybe"},
           {**event, "name": "someone"}]
    for item in bad:
        assert _upload(app, gates["CITY"], [item]).status_code == 422
    assert _upload(app, gates["CITY"], []).status_code == 422
    assert _upload(app, gates["CITY"], [event] * 1001).status_code == 422


def test_sharing_cli(tmp_path, database_url):
    import datetime as dt

    from idp.context import Context
    from idp.models import CardScan, Library
    from idp.settings import load_settings
    from tests.idp.test_cli import ROOT, Cmd, render_config

    config = tmp_path / "readerpass.toml"
    config.write_text(render_config(province_code="TEST", province_name="Test",
                                    database_url=database_url, argon2_memory_kib=1024),
                      encoding="utf-8")
    cmd = Cmd(config)
    cmd("libraries", "load", str(ROOT / "config" / "libraries.example.toml"))
    ctx = Context.build(load_settings(config, environ={}))
    now = dt.datetime.now(dt.UTC).replace(microsecond=0)
    with ctx.transaction() as session:
        ids = {lib.code: lib.id for lib in session.query(Library)}
        for code, minutes in (("PROV", 50), ("UNIV", 10)):
            session.add(CardScan(serial="D" * 16, library_id=ids[code], verdict="ok",
                                 scanned_at=now - dt.timedelta(minutes=minutes),
                                 received_at=now))
    ctx.dispose()
    assert cmd.json_lines("cards", "sharing") == []
    found = cmd.json_lines("cards", "sharing", "--window", "45")
    assert [(r["serial"], r["libraries"]) for r in found] == [("D" * 16, ["PROV", "UNIV"])]
    assert "libraries" in cmd("cards", "sharing", "--window", "45").stdout

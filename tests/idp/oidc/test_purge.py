"""`readerpass oidc purge`: finished device codes (RFC 8628) go after the retention
time; pending ones, recent ones and the sessions they opened stay."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

from click.testing import CliRunner
from sqlalchemy import select

from idp.cli import cli
from idp.config_file import render_config
from idp.context import Context
from idp.models import AuditEvent, DeviceCode, LoginSession
from idp.oidc import clients, device
from idp.oidc.clients import DEVICE_GRANT
from idp.oidc.purge import purge_device_codes
from idp.schemas import LibraryIn
from idp.services import libraries
from idp.services.actor import Actor
from idp.settings import load_settings

from ..conftest import Clock
from .test_device import _answer, _kiosk, _phone, _poll, _start


def _codes(ctx: Context) -> dict[str, DeviceCode]:
    with ctx.sessions() as session:
        return {row.user_code: row for row in session.scalars(select(DeviceCode))}


def test_finished_codes_go_after_the_retention_time(live_server, clock, ctx, reader,
                                                    make_client, signing_keys):
    kiosk = _kiosk(make_client)
    used, denied, forgotten = (_start(live_server, kiosk).json() for _ in range(3))
    http, page = _phone(live_server, reader, used["verification_uri_complete"])
    assert _answer(live_server, http, page, used["user_code"], "allow").status_code == 200
    assert "access_token" in _poll(live_server, kiosk, used["device_code"]).json()
    page = http.get(denied["verification_uri_complete"], timeout=5)
    assert _answer(live_server, http, page, denied["user_code"], "deny").status_code == 200
    device_session = _codes(ctx)[used["user_code"]].session_id
    assert device_session is not None

    retention = dt.timedelta(hours=ctx.settings.oidc.device_code_retention_hours)
    clock.advance(seconds=retention.total_seconds() + 1)
    fresh = _start(live_server, kiosk).json()
    # Only the code used more than the retention time ago: the others expired later.
    assert purge_device_codes(ctx, older_than=retention, actor=Actor.cli()) == 1
    assert set(_codes(ctx)) == {denied["user_code"], forgotten["user_code"],
                                fresh["user_code"]}

    clock.advance(seconds=ctx.settings.oidc.device_code_seconds)
    assert purge_device_codes(ctx, older_than=retention, actor=Actor.cli()) == 2
    assert set(_codes(ctx)) == {fresh["user_code"]}
    assert purge_device_codes(ctx, older_than=retention, actor=Actor.cli()) == 0

    # The device's session is a row of its own; a purged code is unknown, a kept one
    # still answers for itself (it has expired meanwhile).
    with ctx.sessions() as session:
        assert session.get(LoginSession, device_session) is not None
        events = session.scalars(select(AuditEvent).where(
            AuditEvent.action == "oidc_device_code.purge").order_by(AuditEvent.id)).all()
    assert [e.details["removed"] for e in events] == [1, 2, 0]
    assert _poll(live_server, kiosk, used["device_code"]).json()["error"] == "invalid_grant"
    assert _poll(live_server, kiosk, fresh["device_code"]).json()["error"] == "expired_token"


def test_purge_deletes_a_backlog_in_batches(ctx, clock, make_client, monkeypatch):
    from idp.oidc import purge

    monkeypatch.setattr(purge, "BATCH", 3)
    kiosk = _kiosk(make_client)
    with ctx.transaction() as session:
        client = clients.get_client(session, kiosk.client_id)
        for n in range(7):
            device.create(session, ctx, client, "openid", f"code-{n}")
    clock.advance(days=3)
    with ctx.transaction() as session:
        device.create(session, ctx, client, "openid", "code-new")
    assert purge_device_codes(ctx, older_than=dt.timedelta(days=1), actor=Actor.cli()) == 7
    assert len(_codes(ctx)) == 1


def test_the_command(database_url: str, tmp_path: Path):
    """Against the wall clock, as cron runs it."""
    config = tmp_path / "readerpass.toml"
    config.write_text(render_config(province_code="TEST", province_name="Test",
                                    database_url=database_url, argon2_memory_kib=1024),
                      encoding="utf-8")
    now = dt.datetime.now(dt.UTC)
    clock = Clock(now - dt.timedelta(days=3))
    ctx = Context.build(load_settings(config, environ={}), clock=clock)
    try:
        with ctx.transaction() as session:
            libraries.add_library(session, LibraryIn(code="CITY", name="City"),
                                  actor=Actor.cli(), now=clock())
            client, _ = clients.add_client(session, ctx, name="kiosk", library="CITY",
                                           kind="public", redirect_uris=[],
                                           grant_types=[DEVICE_GRANT], scopes=["openid"],
                                           actor=Actor.cli())
            old = device.create(session, ctx, client, "openid", "old")
            clock.current = now - dt.timedelta(hours=2)
            used = device.create(session, ctx, client, "openid", "used")
            used.consumed_at = clock() + dt.timedelta(seconds=30)
            recent = device.create(session, ctx, client, "openid", "recent")  # expired
            clock.current = now
            pending = device.create(session, ctx, client, "openid", "pending")
            codes = [row.user_code for row in (old, used, recent, pending)]
    finally:
        ctx.dispose()

    def run(*args: str) -> dict[str, int]:
        result = CliRunner().invoke(cli, ["--config", str(config), "oidc", "purge", "--json",
                                          *args], catch_exceptions=False)
        assert result.exit_code == 0, result.output
        answer: dict[str, int] = json.loads(result.stdout)
        return answer

    assert run() == {"device_codes": 1, "older_than_hours": 24}  # the retention setting
    assert run("--older-than", "1") == {"device_codes": 2, "older_than_hours": 1}
    ctx = Context.build(load_settings(config, environ={}))
    try:
        with ctx.sessions() as session:
            assert list(session.scalars(select(DeviceCode.user_code))) == [codes[3]]
    finally:
        ctx.dispose()
    bad = CliRunner().invoke(cli, ["--config", str(config), "oidc", "purge", "--older-than",
                                   "0"])
    assert bad.exit_code == 2


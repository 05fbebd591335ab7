"""A gate that already holds the current status list gets a bodiless 304, and a 304
never keeps a gate running on old revocation data: the real `readerpass gate` command
(a separate process) against the real service on a socket, on the wall clock, since
`gate verify` checks freshness against the gate's own clock."""

from __future__ import annotations

import datetime as dt
import json
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

from cards import Reason
from idp.cardsvc import keys, lifecycle, status
from idp.models import Reader
from idp.services.actor import Actor
from tests.idp.test_gate_cli import readerpass

from .conftest import Live
from .helpers import token_for


def gate_sync(live: Live, directory: Path, anchor: Path | None = None,
              code: int = 0) -> dict[str, Any]:
    args = ["gate", "sync", "--url", live.url, "--dir", str(directory)]
    if anchor is not None:
        args += ["--anchor", str(anchor)]
    result = readerpass(*args)
    assert result.returncode == code, result.stderr
    return json.loads(result.stdout) if code == 0 else {"stderr": result.stderr}


def gate_verify(directory: Path, text: str, max_age: int) -> tuple[int, str, str]:
    result = readerpass("gate", "verify", "--dir", str(directory), "--max-age", str(max_age),
                        text)
    return result.returncode, result.stdout, result.stderr


def anchor_file(live: Live, tmp_path: Path) -> Path:
    with live.ctx.sessions() as session:
        row = keys.anchor_row(session)
        assert row is not None
        path = tmp_path / "anchor.jwk"
        path.write_text(json.dumps(dict(row.public_jwk)), encoding="utf-8")
    return path


def test_a_current_gate_gets_304_and_stays_in_service(
    wall_clock, live, card_keys, tap, reader, tmp_path
):
    gate = tmp_path / "gate"
    first = gate_sync(live, gate, anchor_file(live, tmp_path))
    assert first["status_list"] == "full"

    tap.seen.clear()
    again = gate_sync(live, gate)
    assert again["status_list"] == "unchanged"
    assert again["status_list_version"] == first["status_list_version"]
    [asked] = tap.status_requests()  # no full download
    assert asked.path == f"/cards/status-list/delta?since={first['status_list_version']}"
    assert asked.status == 304 and asked.if_none_match is not None
    assert asked.if_none_match.startswith(f'W/"{first["status_list_version"]}.')

    good = token_for(live.ctx, reader.reader_id)
    code, out, err = gate_verify(gate, good, max_age=600)
    assert code == 0 and json.loads(out)["reason"] == Reason.OK.value, err

    with live.ctx.transaction() as session:
        lifecycle.change(session, live.ctx, session.get(Reader, reader.reader_id), "lost",
                         actor=Actor.cli())
    tap.seen.clear()
    changed = gate_sync(live, gate)
    assert changed["status_list"] == "delta" and changed["revoked_cards"] == 1
    assert [s.status for s in tap.status_requests()] == [200]
    assert gate_sync(live, gate)["status_list"] == "unchanged"
    code, out, _ = gate_verify(gate, token_for(live.ctx, reader.reader_id), max_age=600)
    assert code == 1 and json.loads(out)["reason"] == Reason.REVOKED.value


def test_a_replayed_no_change_does_not_keep_a_gate_on_stale_data(
    wall_clock, live, card_keys, tap, reader, tmp_path
):
    # The service's lists were signed two hours ago (its clock says so), and the gate
    # allows one hour: it must refuse until it holds something signed more recently.
    real_now = wall_clock.current
    wall_clock.current = real_now - dt.timedelta(hours=2)
    gate = tmp_path / "gate"
    first = gate_sync(live, gate, anchor_file(live, tmp_path))
    token = token_for(live.ctx, reader.reader_id, int(real_now.timestamp()))
    code, _, err = gate_verify(gate, token, max_age=3600)
    assert code == 1 and "status_list is" in err

    # A mirror replays "no change" for the delta: not believed for a list that old, so
    # the gate asks for the full list (unconditionally) and gets the service's own.
    tap.forge_304.add("/cards/status-list/delta")
    tap.seen.clear()
    refetched = gate_sync(live, gate)
    assert refetched["status_list"] == "full"
    assert refetched["status_list_issued_at"] == first["status_list_issued_at"]
    assert [(s.path.split("?")[0], s.if_none_match is not None, s.status)
            for s in tap.status_requests()] == [
        ("/cards/status-list/delta", True, 304), ("/cards/status-list", False, 200)]
    code, _, err = gate_verify(gate, token, max_age=3600)
    assert code == 1 and "status_list is" in err

    # Answering 304 to everything only makes the sync fail.
    tap.forge_304.add("/cards/status-list")
    failed = gate_sync(live, gate, code=1)
    assert "HTTP 304" in failed["stderr"]
    code, _, err = gate_verify(gate, token, max_age=3600)
    assert code == 1 and "status_list is" in err

    # Only a freshly signed list puts the gate back in service: the service, now at the
    # real time, re-signs before it answers (a new, empty version).
    tap.forge_304.clear()
    wall_clock.current = real_now
    back = gate_sync(live, gate)
    assert back["status_list"] == "delta"
    assert back["status_list_version"] == first["status_list_version"] + 1
    code, out, err = gate_verify(gate, token, max_age=3600)
    assert code == 0 and json.loads(out)["ok"] is True, err


def conditional_get(url: str, condition: str | None = None
                    ) -> tuple[int, dict[str, str], bytes]:
    """Status, headers and body of a GET, with ``If-None-Match: condition`` if given."""
    request = urllib.request.Request(url)
    if condition is not None:
        request.add_header("If-None-Match", condition)
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, dict(response.headers), response.read()
    except urllib.error.HTTPError as exc:
        with exc:
            return exc.code, dict(exc.headers), exc.read()


def test_status_documents_carry_entity_tags(live, card_keys, tap):
    def get(path: str, condition: str | None = None) -> tuple[int, dict[str, str], bytes]:
        return conditional_get(live.url + path, condition)

    code, headers, body = get("/cards/status-list")
    assert code == 200 and body
    etag = headers["ETag"]
    version = status.head_version(live.ctx)
    assert etag.startswith(f'W/"{version}.')
    code, headers, body = get("/cards/status-list", etag)
    assert (code, body, headers["ETag"]) == (304, b"", etag)
    assert get("/cards/status-list", "*")[0] == 304
    assert get("/cards/status-list", f'W/"{version}.AAAA"')[0] == 200  # another list

    since = f"/cards/status-list/delta?since={version}"
    assert get(since, etag)[0] == 304
    assert get(since, etag.removeprefix("W/"))[0] == 304  # weak comparison (RFC 9110 §13.1.2)
    assert get(since)[0] == 404  # a gate that sends no tag falls back to the full list

    with live.ctx.transaction() as session:
        status.bump(session, live.ctx)  # a re-signing: a new, empty version
    code, headers, body = get(since, etag)  # the tag of the old version no longer matches
    assert code == 200 and body and headers["ETag"].startswith(f'W/"{version + 1}.')
    assert get(since, headers["ETag"])[0] == 304

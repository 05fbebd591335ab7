"""Fixtures for the card service: card keys, the service on a real socket whose
public URL is its own address, and a gate that syncs from it with `readerpass gate`."""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import threading
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from werkzeug.serving import make_server

from cards import (
    GateBundle,
    MemoryReplayCache,
    PinnedAnchors,
    Verdict,
    load_bundle,
    public_key_from_jwk,
    verify,
)
from idp.app import create_app
from idp.cardsvc import keys
from idp.cli import cli
from idp.context import Context
from idp.services.actor import Actor

from ..conftest import Clock
from ..oidc.conftest import (  # noqa: F401  (fixtures)
    browser,
    make_client,
    reader,
    signed_in,
    signing_keys,
)


@pytest.fixture
def card_keys(ctx: Context) -> None:
    with ctx.transaction() as session:
        keys.rotate(session, ctx, actor=Actor.cli())


@dataclass
class Live:
    url: str
    app: Any
    ctx: Context
    server: Any  # tests may wrap ``server.app`` to watch or tamper with the traffic


@pytest.fixture
def live(ctx: Context) -> Iterator[Live]:
    """The app on 127.0.0.1:<port>, its public URL (the card issuer) that address."""
    server = make_server("127.0.0.1", 0, None, threaded=True)  # type: ignore[arg-type]
    url = f"http://127.0.0.1:{server.server_port}"
    settings = ctx.settings.model_copy(update={
        "server": ctx.settings.server.model_copy(update={"public_url": url}),
        "oidc": ctx.settings.oidc.model_copy(update={"issuer": url})})
    live_ctx = dataclasses.replace(ctx, settings=settings)
    app = create_app(context=live_ctx)
    server.app = app
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield Live(url, app, live_ctx, server)
    server.shutdown()
    server.server_close()
    thread.join(5)


class Gate:
    """A gate's data folder, synced with the real `readerpass gate sync` command and
    checked with cards.verify at the service's frozen time."""

    def __init__(self, live: Live, directory: Path, clock: Clock):
        self.live = live
        self.directory = directory
        self.clock = clock
        self.cache = MemoryReplayCache()
        with live.ctx.sessions() as session:
            row = keys.anchor_row(session)
            assert row is not None
            self.anchor_jwk = dict(row.public_jwk)
        self.anchor_file = directory.parent / f"{directory.name}-anchor.jwk"
        self.anchor_file.write_text(json.dumps(self.anchor_jwk), encoding="utf-8")
        self.bundle: GateBundle | None = None

    def sync(self) -> dict[str, Any]:
        result = CliRunner().invoke(cli, ["gate", "sync", "--url", self.live.url, "--dir",
                                          str(self.directory), "--anchor",
                                          str(self.anchor_file)], catch_exceptions=False)
        assert result.exit_code == 0, result.output
        anchors = PinnedAnchors.of(public_key_from_jwk(self.anchor_jwk))
        self.bundle = load_bundle(self.directory, anchors, self.now(), max_age=900)
        summary: dict[str, Any] = json.loads(result.stdout)
        return summary

    def now(self) -> int:
        return int(self.clock().timestamp())

    def verify(self, text: str) -> Verdict:
        assert self.bundle is not None, "sync first"
        return verify(text, self.bundle.trust_list, self.bundle.status_list, self.cache,
                      self.now())


@pytest.fixture
def gate(live: Live, tmp_path: Path, clock: Clock, card_keys: None) -> Gate:
    return Gate(live, tmp_path / "gate", clock)


StartResponse = Callable[..., Any]


@dataclass
class Seen:
    path: str
    if_none_match: str | None
    status: int


class Wiretap:
    """WSGI middleware in front of the service: records every request and, for paths in
    ``forge_304``, answers 304 itself, as a replaying mirror or a broken cache would;
    for paths in ``forge_body`` it answers 200 with that body (an attacker's mirror)."""

    def __init__(self, app: Any):
        self.app = app
        self.seen: list[Seen] = []
        self.forge_304: set[str] = set()
        self.forge_body: dict[str, bytes] = {}

    def __call__(self, environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        path = environ["PATH_INFO"]
        full = path + ("?" + environ["QUERY_STRING"] if environ.get("QUERY_STRING") else "")
        condition = environ.get("HTTP_IF_NONE_MATCH")
        if path in self.forge_304:
            self.seen.append(Seen(full, condition, 304))
            start_response("304 Not Modified", [])
            return [b""]
        if path in self.forge_body:
            self.seen.append(Seen(full, condition, 200))
            start_response("200 OK", [("Content-Type", "application/json")])
            return [self.forge_body[path]]

        def record(status_line: str, headers: list[tuple[str, str]], *rest: Any) -> Any:
            self.seen.append(Seen(full, condition, int(status_line.split()[0])))
            return start_response(status_line, headers, *rest)

        return self.app(environ, record)

    def status_requests(self) -> list[Seen]:
        return [s for s in self.seen if s.path.startswith("/cards/status-list")]


@pytest.fixture
def wall_clock(clock: Clock) -> Clock:
    clock.current = dt.datetime.now(dt.UTC).replace(microsecond=0)
    return clock


@pytest.fixture
def tap(live: Live) -> Wiretap:
    wiretap = Wiretap(live.server.app)
    live.server.app = wiretap
    return wiretap

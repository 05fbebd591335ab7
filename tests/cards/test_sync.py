"""`gate sync`: configuration, trust list and status list (full, then delta, or "no
change") over HTTP."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from cards import (
    Fetched,
    StaleBundle,
    StatusList,
    SyncError,
    TrustList,
    load_bundle,
    sign_status_delta,
    sign_status_list,
    sign_trust_list,
    status_etag,
    sync_bundle,
)
from cards.configuration import WELL_KNOWN_PATH

from .conftest import NOW, World
from .test_configuration import make


class Service:
    """A loopback HTTP server holding the documents a real service would serve.

    ``not_modified`` maps a path to the entity tag it answers 304 to; ``always_304``
    paths answer 304 to anything, as a forged or replayed answer would; ``etags``
    are sent as the ``ETag`` of a path's document.
    """

    def __init__(self) -> None:
        self.documents: dict[str, bytes] = {}
        self.requests: list[str] = []
        self.conditions: list[str | None] = []
        self.not_modified: dict[str, str] = {}
        self.always_304: set[str] = set()
        self.etags: dict[str, str] = {}
        service = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                service.requests.append(self.path)
                condition = self.headers.get("If-None-Match")
                service.conditions.append(condition)
                if self.path in service.always_304 or (
                    condition is not None and service.not_modified.get(self.path) == condition
                ):
                    self.send_response(304)
                    self.end_headers()
                    return
                body = service.documents.get(self.path)
                self.send_response(404 if body is None else 200)
                if self.path in service.etags:
                    self.send_header("ETag", service.etags[self.path])
                self.end_headers()
                self.wfile.write(body or b"")

            def log_message(self, format: str, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.base = f"http://127.0.0.1:{self.server.server_port}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()


@pytest.fixture
def service(world: World) -> Iterator[Service]:
    running = Service()
    config = make(
        issuer=running.base,
        trust_list_uri=f"{running.base}/trust",
        status_list_uri=f"{running.base}/status",
        status_list_delta_uri=f"{running.base}/status/delta",
    )
    running.documents[WELL_KNOWN_PATH] = config.to_bytes()
    trust = TrustList.build(running.base, 1, NOW, world.trust_list.keys.values())
    running.documents["/trust"] = sign_trust_list(trust, world.anchor).encode()
    yield running
    running.server.shutdown()
    running.server.server_close()


def _publish_status(service: Service, world: World, status: StatusList) -> None:
    service.documents["/status"] = sign_status_list(status, world.anchor, service.base)


def test_first_sync_downloads_the_full_list_then_deltas(
    world: World, service: Service, tmp_path: Path
) -> None:
    v1 = StatusList.from_indices(1000, [1], 1, NOW)
    _publish_status(service, world, v1)
    first = sync_bundle(service.base, tmp_path, world.anchors, now=NOW)
    assert first.status_download == "full"
    bundle = first.bundle
    assert bundle.status_list.revoked_indices() == [1]
    assert "/status" in service.requests

    v2 = v1.with_changes(2, NOW + 60, revoke=[2])
    _publish_status(service, world, v2)
    service.documents["/status/delta?since=1"] = sign_status_delta(
        v1, v2, world.anchor, service.base
    )
    service.requests.clear()
    second = sync_bundle(service.base, tmp_path, world.anchors, now=NOW + 60, current=bundle)
    assert second.status_download == "delta"
    bundle = second.bundle
    assert bundle.status_list.revoked_indices() == [1, 2]
    assert "/status/delta?since=1" in service.requests and "/status" not in service.requests
    reloaded = load_bundle(tmp_path, world.anchors, NOW + 60, max_age=600)
    assert reloaded.status_list.bits == v2.bits


def test_missing_delta_falls_back_to_the_full_list(
    world: World, service: Service, tmp_path: Path
) -> None:
    v1 = StatusList.from_indices(1000, [1], 1, NOW)
    _publish_status(service, world, v1)
    bundle = sync_bundle(service.base, tmp_path, world.anchors, now=NOW).bundle
    _publish_status(service, world, v1.with_changes(5, NOW, revoke=[9]))
    synced = sync_bundle(service.base, tmp_path, world.anchors, now=NOW, current=bundle)
    assert synced.status_download == "full"
    assert synced.bundle.status_list.version == 5 and synced.bundle.status_list.is_revoked(9)


def test_rollback_to_an_older_status_list_is_refused(
    world: World, service: Service, tmp_path: Path
) -> None:
    v3 = StatusList.from_indices(1000, [], 3, NOW)
    _publish_status(service, world, v3)
    bundle = sync_bundle(service.base, tmp_path, world.anchors, now=NOW).bundle
    _publish_status(service, world, StatusList.from_indices(1000, [], 2, NOW))
    with pytest.raises(SyncError, match="older"):
        sync_bundle(service.base, tmp_path, world.anchors, now=NOW, current=bundle)


def test_unreachable_service_and_wrong_issuer(world: World, tmp_path: Path) -> None:
    with pytest.raises(SyncError):
        sync_bundle("http://127.0.0.1:9", tmp_path, world.anchors, now=NOW)
    config = make(issuer="https://other.example.org").to_bytes()

    def fetch(url: str, *, if_none_match: str | None = None) -> Fetched:
        return Fetched(config)

    with pytest.raises(SyncError, match="another issuer"):
        sync_bundle("https://id.example.org", tmp_path, world.anchors, now=NOW, fetch=fetch)
    with pytest.raises(SyncError, match="http and https"):
        sync_bundle("file:///etc", tmp_path, world.anchors, now=NOW)


def test_a_current_gate_gets_no_change_and_keeps_its_list(
    world: World, service: Service, tmp_path: Path
) -> None:
    v1 = StatusList.from_indices(1000, [1], 1, NOW)
    _publish_status(service, world, v1)
    bundle = sync_bundle(service.base, tmp_path, world.anchors, now=NOW).bundle
    stored = (tmp_path / "status-list.bin").stat().st_mtime_ns
    service.not_modified["/status/delta?since=1"] = status_etag(v1)
    service.requests.clear()
    later = NOW + 300
    synced = sync_bundle(service.base, tmp_path, world.anchors, now=later, current=bundle)
    assert synced.status_download == "unchanged"
    assert synced.bundle.status_list is bundle.status_list
    assert service.requests[-1] == "/status/delta?since=1"
    assert service.conditions[-1] == status_etag(v1)
    assert (tmp_path / "status-list.bin").stat().st_mtime_ns == stored
    # "No change" made nothing fresher: the signed iat still decides.
    assert load_bundle(tmp_path, world.anchors, later, max_age=300).status_list.version == 1
    with pytest.raises(StaleBundle, match="status_list is 301 s old"):
        load_bundle(tmp_path, world.anchors, later + 1, max_age=300, max_trust_list_age=10**6)


def test_no_change_for_a_list_older_than_the_service_allows_is_not_believed(
    world: World, service: Service, tmp_path: Path
) -> None:
    """A genuine service re-signs within its maximum age, so a 304 for an older list is
    replayed or forged: the gate asks for the full list without a condition."""
    v1 = StatusList.from_indices(1000, [1], 1, NOW)
    _publish_status(service, world, v1)
    bundle = sync_bundle(service.base, tmp_path, world.anchors, now=NOW).bundle
    service.always_304.add("/status/delta?since=1")
    too_late = NOW + make().status_list_max_age_seconds + 1
    v2 = v1.with_changes(2, too_late, revoke=[3])
    _publish_status(service, world, v2)
    synced = sync_bundle(service.base, tmp_path, world.anchors, now=too_late, current=bundle)
    assert synced.status_download == "full" and synced.bundle.status_list.is_revoked(3)
    assert service.conditions[-1] is None

    # A mirror answering 304 to everything gets nowhere: the unconditional full-list
    # request may not be answered with 304, and the held data stays as old as it is.
    service.always_304.add("/status")
    service.always_304.add("/status/delta?since=2")
    even_later = too_late + make().status_list_max_age_seconds + 1
    with pytest.raises(SyncError, match="HTTP 304"):
        sync_bundle(service.base, tmp_path, world.anchors, now=even_later,
                    current=synced.bundle)
    held = load_bundle(tmp_path, world.anchors, too_late, max_age=60, max_trust_list_age=10**6)
    assert held.status_list.version == 2


def test_stored_entity_tags_go_back_only_with_their_files(
    world: World, service: Service, tmp_path: Path
) -> None:
    _publish_status(service, world, StatusList.from_indices(1000, [1], 1, NOW))
    service.etags = {WELL_KNOWN_PATH: '"c1"', "/trust": '"t1"'}
    bundle = sync_bundle(service.base, tmp_path, world.anchors, now=NOW).bundle
    service.not_modified = {WELL_KNOWN_PATH: '"c1"', "/trust": '"t1"'}
    service.requests.clear()
    service.conditions.clear()
    synced = sync_bundle(service.base, tmp_path, world.anchors, now=NOW + 60, current=bundle)
    assert (synced.configuration_download, synced.trust_list_download) == ("unchanged",
                                                                           "unchanged")
    assert service.conditions[:2] == ['"c1"', '"t1"']

    # A trust-list file that is not the one the tag was stored with gets no condition.
    held = (tmp_path / "trust-list.jws").read_bytes()
    (tmp_path / "trust-list.jws").write_bytes(held.replace(held[-3:], held[-3:].swapcase()))
    service.conditions.clear()
    synced = sync_bundle(service.base, tmp_path, world.anchors, now=NOW + 60, current=bundle)
    assert service.conditions[:2] == ['"c1"', None] and synced.trust_list_download == "full"
    assert (tmp_path / "trust-list.jws").read_bytes() == service.documents["/trust"]

    # A broken etags.json is no tags at all, never an error.
    (tmp_path / "etags.json").write_text("{not json", encoding="utf-8")
    service.conditions.clear()
    sync_bundle(service.base, tmp_path, world.anchors, now=NOW + 60, current=bundle)
    assert service.conditions[:2] == [None, None]

"""`gate sync`: configuration, trust list and status list (full, then delta) over HTTP."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from cards import (
    StatusList,
    SyncError,
    TrustList,
    load_bundle,
    sign_status_delta,
    sign_status_list,
    sign_trust_list,
    sync_bundle,
)
from cards.configuration import WELL_KNOWN_PATH

from .conftest import NOW, World
from .test_configuration import make


class Service:
    """A loopback HTTP server holding the documents a real service would serve."""

    def __init__(self) -> None:
        self.documents: dict[str, bytes] = {}
        self.requests: list[str] = []
        service = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                service.requests.append(self.path)
                body = service.documents.get(self.path)
                self.send_response(404 if body is None else 200)
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
    bundle = sync_bundle(service.base, tmp_path, world.anchors)
    assert bundle.status_list.revoked_indices() == [1]
    assert "/status" in service.requests

    v2 = v1.with_changes(2, NOW + 60, revoke=[2])
    _publish_status(service, world, v2)
    service.documents["/status/delta?since=1"] = sign_status_delta(
        v1, v2, world.anchor, service.base
    )
    service.requests.clear()
    bundle = sync_bundle(service.base, tmp_path, world.anchors, current=bundle)
    assert bundle.status_list.revoked_indices() == [1, 2]
    assert "/status/delta?since=1" in service.requests and "/status" not in service.requests
    reloaded = load_bundle(tmp_path, world.anchors, NOW + 60, max_age=600)
    assert reloaded.status_list.bits == v2.bits


def test_missing_delta_falls_back_to_the_full_list(
    world: World, service: Service, tmp_path: Path
) -> None:
    v1 = StatusList.from_indices(1000, [1], 1, NOW)
    _publish_status(service, world, v1)
    bundle = sync_bundle(service.base, tmp_path, world.anchors)
    _publish_status(service, world, v1.with_changes(5, NOW, revoke=[9]))
    bundle = sync_bundle(service.base, tmp_path, world.anchors, current=bundle)
    assert bundle.status_list.version == 5 and bundle.status_list.is_revoked(9)


def test_rollback_to_an_older_status_list_is_refused(
    world: World, service: Service, tmp_path: Path
) -> None:
    v3 = StatusList.from_indices(1000, [], 3, NOW)
    _publish_status(service, world, v3)
    bundle = sync_bundle(service.base, tmp_path, world.anchors)
    _publish_status(service, world, StatusList.from_indices(1000, [], 2, NOW))
    with pytest.raises(SyncError, match="older"):
        sync_bundle(service.base, tmp_path, world.anchors, current=bundle)


def test_unreachable_service_and_wrong_issuer(world: World, tmp_path: Path) -> None:
    with pytest.raises(SyncError):
        sync_bundle("http://127.0.0.1:9", tmp_path, world.anchors)
    config = make(issuer="https://other.example.org").to_bytes()
    with pytest.raises(SyncError, match="another issuer"):
        sync_bundle("https://id.example.org", tmp_path, world.anchors, fetch=lambda url: config)
    with pytest.raises(SyncError, match="http and https"):
        sync_bundle("file:///etc", tmp_path, world.anchors)

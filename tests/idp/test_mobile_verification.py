"""One-time codes to readers' mobiles: delivery, expiry, attempts, resends, gateways."""

from __future__ import annotations

import json
import re
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, ClassVar

import pytest
from sqlalchemy import func, select

from idp.context import Context
from idp.messaging import DeliveryFailed, HttpSmsSender
from idp.models import MobileVerification

from .conftest import registration


def outbox(ctx: Context) -> list[dict[str, Any]]:
    path = ctx.settings.outbox_path
    if not path.exists():
        return []
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


def code_of(message: dict[str, Any]) -> str:
    match = re.search(r"\b(\d{6})\b", message["text"])
    assert match
    return match.group(1)


@pytest.fixture
def reader(api, people) -> dict[str, Any]:
    person = people.reader(min_age=20)
    body = api.post("/api/readers", registration(person)).json
    body["_mobile"] = person.mobile
    return body


def test_code_goes_to_the_readers_mobile_and_verifies_it(api, ctx, reader):
    sent = api.post(f"/api/readers/{reader['id']}/mobile-verification")
    assert sent.status_code == 202
    messages = outbox(ctx)
    assert [m["to"] for m in messages] == [reader["_mobile"]]
    wrong = "000000" if code_of(messages[0]) != "000000" else "111111"
    assert api.post(f"/api/readers/{reader['id']}/mobile-verification/confirm",
                    {"code": wrong}).status_code == 422
    confirmed = api.post(f"/api/readers/{reader['id']}/mobile-verification/confirm",
                         {"code": code_of(messages[0])})
    assert confirmed.status_code == 200
    assert confirmed.json["assurance"] == "phone_verified"
    assert confirmed.json["mobile_verified"] is True
    reused = api.post(f"/api/readers/{reader['id']}/mobile-verification/confirm",
                      {"code": code_of(messages[0])})
    assert reused.status_code == 422  # a code works once


def test_only_a_keyed_hash_of_the_code_is_stored(api, ctx, reader):
    api.post(f"/api/readers/{reader['id']}/mobile-verification")
    code = code_of(outbox(ctx)[0])
    with ctx.sessions() as session:
        stored = session.scalars(select(MobileVerification)).one()
    assert code not in stored.code_hash and len(stored.code_hash) == 64


def test_wrong_codes_are_counted_even_though_the_request_fails(api, ctx, reader, clock):
    api.post(f"/api/readers/{reader['id']}/mobile-verification")
    code = code_of(outbox(ctx)[0])
    wrong = f"{(int(code) + 1) % 10**6:06d}"
    path = f"/api/readers/{reader['id']}/mobile-verification/confirm"
    details = [api.post(path, {"code": wrong}).json["detail"] for _ in range(5)]
    assert "4 tries left" in details[0] and "0 tries left" in details[4]
    blocked = api.post(path, {"code": code})
    assert blocked.status_code == 422 and "too many" in blocked.json["detail"]


def test_codes_expire(api, ctx, reader, clock):
    api.post(f"/api/readers/{reader['id']}/mobile-verification")
    clock.advance(seconds=ctx.settings.messaging.code_ttl_seconds + 1)
    response = api.post(f"/api/readers/{reader['id']}/mobile-verification/confirm",
                        {"code": code_of(outbox(ctx)[0])})
    assert response.status_code == 422 and "expired" in response.json["detail"]


def test_resends_are_spaced_and_capped(api, ctx, reader, clock):
    path = f"/api/readers/{reader['id']}/mobile-verification"
    assert api.post(path).status_code == 202
    too_soon = api.post(path)
    assert too_soon.status_code == 429
    assert 0 < int(too_soon.headers["Retry-After"]) <= 60
    for _ in range(ctx.settings.messaging.max_sends_per_day - 1):
        clock.advance(seconds=61)
        assert api.post(path).status_code == 202
    clock.advance(seconds=61)
    assert api.post(path).status_code == 429
    assert len(outbox(ctx)) == ctx.settings.messaging.max_sends_per_day


def test_the_newest_code_is_the_one_that_counts(api, ctx, reader, clock):
    path = f"/api/readers/{reader['id']}/mobile-verification"
    api.post(path)
    clock.advance(seconds=61)
    api.post(path)
    first, second = (code_of(m) for m in outbox(ctx))
    if first != second:
        assert api.post(path + "/confirm", {"code": first}).status_code == 422
    assert api.post(path + "/confirm", {"code": second}).status_code == 200


def test_malformed_code_is_refused(api, reader):
    path = f"/api/readers/{reader['id']}/mobile-verification/confirm"
    for bad in ("12345", "abcdef", "1234567", 123456):
        assert api.post(path, {"code": bad}).status_code == 422


class _Gateway(BaseHTTPRequestHandler):
    received: ClassVar[list[dict[str, Any]]] = []
    status = 200

    def do_POST(self) -> None:
        length = int(self.headers["Content-Length"])
        _Gateway.received.append({
            "body": json.loads(self.rfile.read(length)),
            "auth": self.headers.get("Authorization"),
        })
        self.send_response(_Gateway.status)
        self.end_headers()

    def log_message(self, *_args: Any) -> None:
        pass


@pytest.fixture
def gateway():
    _Gateway.received = []
    _Gateway.status = 200
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Gateway)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()


def test_http_sender_posts_to_a_real_gateway(gateway):
    url = f"http://127.0.0.1:{gateway.server_port}/sms"
    HttpSmsSender(url, "gw-token", 5).send("+8613800000000", "hello", purpose="test")
    assert _Gateway.received == [{
        "body": {"to": "+8613800000000", "text": "hello", "purpose": "test"},
        "auth": "Bearer gw-token",
    }]
    _Gateway.status = 500
    with pytest.raises(DeliveryFailed, match="HTTP 500"):
        HttpSmsSender(url, None, 5).send("+8613800000000", "x", purpose="test")


def test_gateway_down_gives_503_and_stores_no_code(api, ctx, reader, gateway):
    port = gateway.server_port
    gateway.shutdown()
    gateway.server_close()
    ctx.sender = HttpSmsSender(f"http://127.0.0.1:{port}/sms", None, 2)
    response = api.post(f"/api/readers/{reader['id']}/mobile-verification")
    assert response.status_code == 503 and response.json["code"] == "delivery_failed"
    with ctx.sessions() as session:
        assert session.scalar(select(func.count()).select_from(MobileVerification)) == 0

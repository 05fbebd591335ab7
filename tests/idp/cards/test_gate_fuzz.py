"""Generated requests to the gate endpoints: whatever a gate (or anything holding a
gate's token) sends, the answer is never a server error; refusals are problem
documents; a verdict is ok only for the one genuine, unused card token."""

from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from cards import Reason
from tests.idp.test_api_fuzz import JSON

from .helpers import bearer, gate_token, token_for


def _mutations(text: str) -> st.SearchStrategy[str]:
    """The genuine token with one character replaced, removed or added, cut short,
    padded, or in lower case."""
    index = st.integers(0, len(text) - 1)
    char = st.characters(min_codepoint=32, max_codepoint=0x2FF)
    return st.one_of(
        st.builds(lambda i, c: text[:i] + c + text[i + 1:], index, char),
        st.builds(lambda i: text[:i] + text[i + 1:], index),
        st.builds(lambda i, c: text[:i] + c + text[i:], index, char),
        st.builds(lambda i: text[:i], index),
        st.just(text.lower()), st.just(f" {text}\n"), st.just(text * 2),
    )


@pytest.fixture
def gate(make_client, signing_keys, card_keys):
    return make_client(library="CITY", grant_types=["client_credentials"], scopes=[],
                       redirect_uris=[])


def test_generated_requests_never_fail_the_gate_endpoints(app, ctx, gate, reader):
    web = app.test_client()
    token = gate_token(app, gate.client_id, gate.secret)
    genuine = token_for(ctx, reader.reader_id)
    seen_ok: list[str] = []
    mutated = st.builds(lambda t: {"token": t}, _mutations(genuine))

    @settings(max_examples=150, deadline=None, database=None,
              suppress_health_check=[HealthCheck.function_scoped_fixture,
                                     HealthCheck.too_slow])
    @given(path=st.sampled_from(["/cards/verify", "/cards/verify", "/cards/scans"]),
           payload=st.one_of(
               mutated, mutated, mutated,
               st.builds(lambda t: {"token": t}, st.text(max_size=200)),
               st.builds(lambda events: {"events": events}, JSON),
               st.builds(lambda e: {"events": [e]}, st.fixed_dictionaries(
                   {"serial": st.text(max_size=20), "at": JSON, "verdict": JSON})),
               JSON),
           as_text=st.booleans(),
           raw=st.one_of(st.none(), st.none(), st.none(), st.binary(max_size=60)),
           authorized=st.sampled_from(["gate", "gate", "gate", "none", "junk"]))
    def check(path: str, payload: Any, as_text: bool, raw: bytes | None,
              authorized: str) -> None:
        headers = {"gate": bearer(token), "none": {}, "junk": bearer(token[:-3] + "abc")}
        if raw is not None:
            data, kind = raw, "application/octet-stream"
        elif as_text and isinstance(payload, dict) and isinstance(payload.get("token"), str):
            data, kind = payload["token"].encode("utf-8", "surrogatepass"), "text/plain"
        else:
            data, kind = json.dumps(payload).encode(), "application/json"
        answer = web.post(path, data=data, content_type=kind, headers=headers[authorized])
        assert answer.status_code < 500, (answer.status_code, answer.get_data()[:300])
        if authorized != "gate":
            assert answer.status_code == 401
        if answer.status_code >= 400:
            assert answer.mimetype == "application/problem+json", answer.get_data()[:300]
            assert answer.json["title"] and answer.json["status"] == answer.status_code
            return
        if path == "/cards/verify":
            verdict = answer.json
            assert verdict["reason"] in {reason.value for reason in Reason}
            assert verdict["ok"] is (verdict["reason"] == Reason.OK)
            if verdict["ok"]:
                seen_ok.append(verdict["serial"])

    check()
    # The genuine token (and only it) verifies, and at most once: replays are refused.
    assert len(seen_ok) <= 1


def test_status_delta_since_only_in_ascii_digits(app, card_keys):
    web = app.test_client()
    for since in ("²", "١٢", "-1", "1.5", "", "9" * 19):
        answer = web.get("/cards/status-list/delta", query_string={"since": since})
        assert answer.status_code == 400, (since, answer.status_code)

"""The /.well-known/reader-card-configuration document."""

from __future__ import annotations

import json

import pytest

from cards import ConfigurationError, ReaderCardConfiguration

BASE = "https://id.example.org"


def make(**changes: object) -> ReaderCardConfiguration:
    fields: dict[str, object] = {
        "issuer": BASE,
        "trust_list_uri": f"{BASE}/cards/trust-list",
        "status_list_uri": f"{BASE}/cards/status-list",
        "status_list_delta_uri": f"{BASE}/cards/status-list/delta",
    }
    fields.update(changes)
    return ReaderCardConfiguration(**fields)  # type: ignore[arg-type]


def test_json_round_trip_and_defaults() -> None:
    config = make(verification_endpoint=f"{BASE}/cards/verify")
    data = json.loads(config.to_bytes())
    assert data["token_format_versions"] == [1] and data["token_prefix"] == "RP1"
    assert data["signing_alg_values_supported"] == ["ES256"]
    assert ReaderCardConfiguration.from_bytes(config.to_bytes()) == config
    assert config.supports_this_library()
    assert "verification_endpoint" not in make().to_json()


def test_unknown_members_are_ignored() -> None:
    data = {**make().to_json(), "x_future_member": 1}
    assert ReaderCardConfiguration.from_json(data) == make()


@pytest.mark.parametrize(
    "changes",
    [
        {"issuer": "http://id.example.org"},
        {"trust_list_uri": "/relative"},
        {"status_list_uri": f"{BASE}/s#frag"},
        {"status_list_delta_uri": 7},
        {"clock_skew_seconds": -1},
        {"token_format_versions": ()},
        {"token_format_versions": ("1",)},
    ],
)
def test_invalid_documents_are_refused(changes: dict[str, object]) -> None:
    with pytest.raises(ConfigurationError):
        make(**changes)


def test_plain_http_is_allowed_on_loopback_only() -> None:
    assert make(issuer="http://127.0.0.1:5000").issuer == "http://127.0.0.1:5000"
    assert make(issuer="http://localhost:5000").issuer == "http://localhost:5000"


@pytest.mark.parametrize(
    "raw",
    [
        b"[]",
        b"{",
        b'{"issuer": "https://a", "issuer": "https://b"}',
        b"\xff",
        b'{"issuer": "https://a"}',
        b'{"issuer": NaN}',
    ],
)
def test_unreadable_documents_are_refused(raw: bytes) -> None:
    with pytest.raises(ConfigurationError):
        ReaderCardConfiguration.from_bytes(raw)


def test_missing_lists_must_be_arrays() -> None:
    data = {**make().to_json(), "token_format_versions": 1}
    with pytest.raises(ConfigurationError):
        ReaderCardConfiguration.from_json(data)

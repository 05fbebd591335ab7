"""OAuth only over TLS (RFC 6749 3.1, 3.2), judged by the address clients use:
``[server] public_url``. Behind the TLS-terminating proxy in front of a
deployment, requests reach the server over plain HTTP with the public host name.
(A public URL over plain HTTP is refused at start-up unless it is loopback.)"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from idp.settings import Settings, parse_settings

from ..conftest import settings_data


@pytest.fixture
def settings(database_url: str, tmp_path: Path) -> Settings:
    data = settings_data(database_url, tmp_path)
    data["server"] = {"public_url": "https://sso.example.org"}
    return parse_settings(data, environ={})


def _token(app: Any, client: Any, base_url: str) -> Any:
    return app.test_client().post(
        "/oauth/token", base_url=base_url, auth=(client.client_id, client.secret),
        data={"grant_type": "client_credentials", "scope": "reader_card"})


def test_requests_forwarded_by_a_tls_proxy_get_tokens(app, make_client, signing_keys):
    backend = make_client(grant_types=["client_credentials"], scopes=["reader_card"])
    # As the proxy forwards it (plain HTTP, the public host), and straight from loopback.
    for base_url in ("http://sso.example.org", "http://127.0.0.1:8000"):
        answer = _token(app, backend, base_url)
        assert answer.status_code == 200, answer.json
        assert answer.json["token_type"] == "Bearer"

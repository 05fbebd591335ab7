"""The discovery document (OpenID Connect Discovery 1.0 section 3, RFC 8414).

It lists only what is served.
"""

from __future__ import annotations

from typing import Any

from .clients import DEVICE_GRANT
from .scopes import SCOPES, claims_supported


def metadata(issuer: str, alg: str) -> dict[str, Any]:
    def url(path: str) -> str:
        return issuer + path

    return {
        "issuer": issuer,
        "authorization_endpoint": url("/oauth/authorize"),
        "token_endpoint": url("/oauth/token"),
        "userinfo_endpoint": url("/oauth/userinfo"),
        "jwks_uri": url("/oauth/jwks"),
        "introspection_endpoint": url("/oauth/introspect"),
        "revocation_endpoint": url("/oauth/revoke"),
        "device_authorization_endpoint": url("/oauth/device_authorization"),
        "scopes_supported": list(SCOPES),
        "response_types_supported": ["code"],
        "response_modes_supported": ["query"],
        "grant_types_supported": ["authorization_code", "refresh_token", "client_credentials",
                                  DEVICE_GRANT],
        "subject_types_supported": ["pairwise"],
        "id_token_signing_alg_values_supported": [alg],
        "userinfo_signing_alg_values_supported": [alg],
        "token_endpoint_auth_methods_supported": ["client_secret_basic", "client_secret_post",
                                                  "none"],
        "introspection_endpoint_auth_methods_supported": ["client_secret_basic",
                                                          "client_secret_post"],
        "revocation_endpoint_auth_methods_supported": ["client_secret_basic",
                                                       "client_secret_post", "none"],
        "code_challenge_methods_supported": ["S256"],
        "claims_supported": claims_supported(),
        "prompt_values_supported": ["none", "login", "consent"],
        "authorization_response_iss_parameter_supported": True,
        "end_session_endpoint": url("/oauth/logout"),
        "backchannel_logout_supported": True,
        "backchannel_logout_session_supported": True,
        "frontchannel_logout_supported": False,
        "request_parameter_supported": False,
        "request_uri_parameter_supported": False,
        "claims_parameter_supported": False,
    }

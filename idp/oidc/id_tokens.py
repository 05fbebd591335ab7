"""ID tokens, as Authlib grant extensions: with the code grant (OIDC Core 3.1.3.6),
on refresh (OIDC Core 12.2) and with the device grant, whenever ``openid`` was
granted. Minimal claims: pairwise ``sub``, ``sid``, ``auth_time``, ``amr``,
``nonce`` (code grant only), ``at_hash``; names and cards only from userinfo."""

from __future__ import annotations

from typing import Any

from authlib.oidc.core import OpenIDCode, OpenIDToken

from . import sessions
from .claims import pairwise_subject
from .runtime import provider
from .tokens import timestamp


class _Signing:
    """Key, algorithm, header and registered claims shared by every ID token."""

    def resolve_client_private_key(self, client: Any) -> Any:
        return provider().keyring.signing_key()

    def get_client_algorithm(self, client: Any) -> str:
        return str(provider().ctx.settings.oidc.signing_alg)

    def get_encode_header(self, client: Any) -> dict[str, str]:
        key = provider().keyring.signing_key()
        return {"alg": self.get_client_algorithm(client), "kid": str(key.kid), "typ": "JWT"}

    def get_client_claims(self, client: Any) -> dict[str, Any]:
        ctx = provider().ctx
        now = timestamp(ctx.now())
        return {"iss": ctx.settings.issuer, "aud": client.get_client_id(), "iat": now,
                "exp": now + ctx.settings.oidc.id_token_seconds}

    def exists_nonce(self, nonce: str, request: Any) -> bool:
        return False  # replay of a nonce is the relying party's to detect (OIDC Core 15.5.2)


def _subject(user: sessions.Principal) -> dict[str, Any]:
    assert user.library_code is not None
    return {"sub": pairwise_subject(provider().ctx, user.library_code, user.reader.id),
            "sid": user.sid}


class ReaderPassOpenIDCode(_Signing, OpenIDCode):  # type: ignore[misc]
    """The code grant: ``auth_time``, ``amr`` and ``nonce`` come from the code."""

    def generate_user_info(self, user: sessions.Principal, scope: str) -> dict[str, Any]:
        return _subject(user)


class SessionIdToken(_Signing, OpenIDToken):  # type: ignore[misc]
    """Refresh and device grants: ``auth_time`` is the original authentication
    (OIDC Core 12.2), taken from the session; no nonce (none was sent)."""

    def generate_user_info(self, user: sessions.Principal, scope: str) -> dict[str, Any]:
        return {**_subject(user), "auth_time": timestamp(user.session.auth_time),
                "amr": [user.session.amr]}

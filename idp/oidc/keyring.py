"""The provider's in-process view of its signing keys, reloaded every few seconds.

Serving the JWKS and signing tokens then costs no database round trip; a key
rotated by the CLI reaches every worker within ``RELOAD_SECONDS``.
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass
from typing import Any

from joserfc import jwt
from joserfc.jwk import ECKey, KeySet

from ..context import Context
from ..models import KeyState
from . import keys

RELOAD_SECONDS = 30


class NoSigningKey(Exception):
    """No active key: the operator has to run ``readerpass keys rotate``."""


@dataclass(frozen=True)
class _Snapshot:
    loaded_at: dt.datetime
    signing: ECKey | None
    verify: KeySet
    jwks_body: bytes


class Keyring:
    def __init__(self, ctx: Context):
        self._ctx = ctx
        self._snapshot: _Snapshot | None = None

    def invalidate(self) -> None:
        self._snapshot = None

    def _current(self) -> _Snapshot:
        now = self._ctx.now()
        snap = self._snapshot
        if snap is None or not (snap.loaded_at <= now < snap.loaded_at + dt.timedelta(
                seconds=RELOAD_SECONDS)):
            snap = self._snapshot = self._load(now)
        return snap

    def _load(self, now: dt.datetime) -> _Snapshot:
        with self._ctx.sessions() as session:
            rows = keys.published(session)
            signing = None
            public: list[dict[str, Any]] = []
            for row in rows:
                public.append(dict(row.public_jwk))
                if row.state == KeyState.ACTIVE:
                    signing = keys.load_private(self._ctx, row)
        verify = KeySet.import_key_set({"keys": public}) if public else KeySet([])
        body = json.dumps({"keys": public}, separators=(",", ":")).encode()
        return _Snapshot(now, signing, verify, body)

    def jwks_body(self) -> bytes:
        return self._current().jwks_body

    def verify_keys(self) -> KeySet:
        return self._current().verify

    def sign(self, claims: dict[str, Any], *, typ: str = "JWT") -> str:
        key = self._current().signing
        if key is None:
            raise NoSigningKey("no active signing key; run `readerpass keys rotate`")
        alg = self._ctx.settings.oidc.signing_alg
        header = {"alg": alg, "kid": str(key.kid), "typ": typ}
        return jwt.encode(header, claims, key, algorithms=[alg])

    def signing_key(self) -> ECKey:
        key = self._current().signing
        if key is None:
            raise NoSigningKey("no active signing key; run `readerpass keys rotate`")
        return key

    def decode(self, token: str, *, typ: str | None = None) -> dict[str, Any]:
        """Verify a token we signed; raises ``joserfc.errors.JoseError`` or ``ValueError``.

        Only the signature and header are checked here; claims (exp, iss, aud)
        are the caller's to check against the frozen-able clock.
        """
        if not isinstance(token, str) or token.count(".") != 2 or len(token) > 8192:
            raise ValueError("not a compact JWS")
        decoded = jwt.decode(token, self.verify_keys(), algorithms=["ES256"])
        if typ is not None and str(decoded.header.get("typ", "")).lower() != typ.lower():
            raise ValueError(f"token type is not {typ}")
        claims: dict[str, Any] = dict(decoded.claims)
        return claims

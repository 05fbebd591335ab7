"""Our rows as the objects Authlib's grants expect (ClientMixin and friends)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from authlib.oauth2.rfc6749 import ClientMixin, InvalidClientError
from authlib.oidc.core import AuthorizationCodeMixin

from ..models import AuthorizationCode, OAuthClient, RefreshToken
from ..pii import KeyedHasher
from .clients import check_secret
from .tokens import timestamp

SECRET_METHODS = ("client_secret_basic", "client_secret_post")


@dataclass(frozen=True)
class ClientRecord:
    """What authenticating a client and checking its grants needs: an immutable
    copy of its row that a worker may keep (``idp.oidc.cache``)."""

    id: int
    client_id: str
    library_id: int
    library_code: str
    kind: str
    secret_hash: str | None
    redirect_uris: tuple[str, ...]
    post_logout_redirect_uris: tuple[str, ...]
    grant_types: tuple[str, ...]
    scopes: frozenset[str]

    @classmethod
    def of(cls, row: Any, library_code: str) -> ClientRecord:
        """From an OAuthClient row or a result row with the same columns."""
        return cls(row.id, row.client_id, row.library_id, library_code, row.kind,
                   row.secret_hash, tuple(row.redirect_uris),
                   tuple(row.post_logout_redirect_uris), tuple(row.grant_types),
                   frozenset(row.scopes))


class ClientAdapter(ClientMixin):  # type: ignore[misc]
    """Authlib's client. Serves from the record; the row, when a flow needs it,
    comes from ``load_row`` (the request's session)."""

    def __init__(self, record: ClientRecord, hasher: KeyedHasher,
                 load_row: Callable[[int], OAuthClient | None]):
        self.record = record
        self._hasher = hasher
        self._load_row = load_row
        self._row: OAuthClient | None = None

    @property
    def row(self) -> OAuthClient:
        if self._row is None:
            row = self._load_row(self.record.id)
            if row is None or row.removed_at is not None:  # removed since it was cached
                raise InvalidClientError()
            self._row = row
        return self._row

    @property
    def client_id(self) -> str:
        return self.record.client_id

    @property
    def library_code(self) -> str:
        return self.record.library_code

    @property
    def is_public(self) -> bool:
        return self.record.kind == "public"

    @property
    def client_metadata(self) -> dict[str, Any]:
        return {"post_logout_redirect_uris": list(self.record.post_logout_redirect_uris)}

    def get_client_id(self) -> str:
        return self.record.client_id

    def get_default_redirect_uri(self) -> str | None:
        return None  # OIDC Core 3.1.2.1: redirect_uri is required, matched exactly

    def get_allowed_scope(self, scope: str | None) -> str | None:
        """The requested scope if the client may have all of it; None otherwise."""
        requested = (scope or "").split()
        if any(item not in self.record.scopes for item in requested):
            return None
        return " ".join(dict.fromkeys(requested))

    def check_redirect_uri(self, redirect_uri: str) -> bool:
        return redirect_uri in self.record.redirect_uris

    def check_client_secret(self, client_secret: str) -> bool:
        return check_secret(self._hasher, self.record.secret_hash, client_secret)

    def check_endpoint_auth_method(self, method: str, endpoint: str) -> bool:
        return method == "none" if self.is_public else method in SECRET_METHODS

    def check_response_type(self, response_type: str) -> bool:
        return response_type == "code" and "authorization_code" in self.record.grant_types

    def check_grant_type(self, grant_type: str) -> bool:
        return grant_type in self.record.grant_types


class CodeAdapter(AuthorizationCodeMixin):  # type: ignore[misc]
    def __init__(self, row: AuthorizationCode, auth_time: int, amr: str):
        self.row = row
        self._auth_time = auth_time
        self._amr = amr
        self.code_challenge = row.code_challenge
        self.code_challenge_method = row.code_challenge_method

    def get_redirect_uri(self) -> str:
        return self.row.redirect_uri

    def get_scope(self) -> str:
        return self.row.scope

    def get_nonce(self) -> str | None:
        return self.row.nonce

    def get_auth_time(self) -> int:
        return self._auth_time

    def get_amr(self) -> list[str]:
        return [self._amr]


class RefreshAdapter:
    """A refresh token row as Authlib's refresh grant and endpoints see it."""

    def __init__(self, row: RefreshToken, now_ts: int):
        self.row = row
        self._now = now_ts

    def check_client(self, client: Any) -> bool:
        return bool(self.row.client_pk == client.record.id)

    def get_scope(self) -> str:
        return self.row.scope

    def get_expires_in(self) -> int:
        return timestamp(self.row.expires_at) - self._now

    def is_expired(self) -> bool:
        return self.get_expires_in() <= 0

    def is_revoked(self) -> bool:
        return self.row.revoked_at is not None or self.row.used_at is not None

"""Each member library's adapter table: validated when loaded, stored per library,
secrets resolved from the environment only when the adapter is opened.

A table is checked with :func:`adapters.registry.parse_adapter` before anything
is written, so a bad entry changes nothing and the error names the dotted key.
Secrets never sit in the registry file or the database: ``password_env`` names
the variable holding the SQL password, ``token_env`` the one holding a FOLIO token.
"""

from __future__ import annotations

import datetime as dt
import os
import re
from collections.abc import Mapping
from typing import Any

from sqlalchemy import make_url
from sqlalchemy.exc import ArgumentError
from sqlalchemy.orm import Session

from adapters.errors import ConfigError
from adapters.registry import ParsedAdapter, parse_adapter

from ..errors import NotFound
from ..models import Library, LibraryAdapterConfig
from . import audit
from .actor import Actor

#: Keys naming an environment variable, and the key of the backend table they fill.
SECRET_KEYS = {"password_env": "url", "token_env": "token"}
_ENV_NAME = re.compile(r"^[A-Z_][A-Z0-9_]{0,127}$")


def _split(table: Mapping[str, Any], path: str) -> tuple[dict[str, Any], dict[str, str]]:
    """The backend's own keys, and the secret references, checked for shape."""
    own = {k: v for k, v in table.items() if k not in SECRET_KEYS}
    refs: dict[str, str] = {}
    for key in SECRET_KEYS:
        if key in table:
            value = table[key]
            if not isinstance(value, str) or not _ENV_NAME.match(value):
                raise ConfigError(f"{path}.{key}",
                                  "must name an environment variable, e.g. KOHA_CITY_PASSWORD")
            refs[key] = value
    if "token" in own:
        raise ConfigError(f"{path}.token", "secrets stay out of the file: use token_env")
    url = own.get("url")
    if isinstance(url, str):
        try:
            parsed = make_url(url) if "://" in url and not url.startswith("http") else None
        except ArgumentError:
            parsed = None
        if parsed is not None and parsed.password is not None:
            raise ConfigError(f"{path}.url", "must not hold a password: use password_env")
    if "token_env" in refs:
        own["token"] = "from-environment"  # validated as present; replaced when opened
    return own, refs


def parse_library_adapter(table: object, path: str) -> ParsedAdapter:
    """Validate a library's adapter table (no connection is made)."""
    if not isinstance(table, Mapping):
        raise ConfigError(path, f"expected a table, got {type(table).__name__}")
    own, _refs = _split(table, path)
    return parse_adapter(own, path)


def resolve_secrets(table: Mapping[str, Any], path: str,
                    environ: Mapping[str, str] | None = None) -> dict[str, Any]:
    """The table with secrets filled in from the environment, ready to open."""
    env = os.environ if environ is None else environ
    own, refs = _split(table, path)
    for key, variable in refs.items():
        if variable not in env:
            raise ConfigError(f"{path}.{key}", f"environment variable {variable} is not set")
        if SECRET_KEYS[key] == "url":
            own["url"] = make_url(own["url"]).set(password=env[variable]).render_as_string(
                hide_password=False)
        else:
            own["token"] = env[variable]
    return own


def set_adapter(session: Session, library: Library, table: Mapping[str, Any], *,
                actor: Actor, now: dt.datetime) -> bool:
    """Store a validated table for ``library``; True when something changed."""
    parsed = parse_library_adapter(table, f"library.{library.code}.adapter")
    row = session.get(LibraryAdapterConfig, library.id)
    config = dict(table)
    if row is not None and row.config == config:
        return False
    if row is None:
        row = LibraryAdapterConfig(library_id=library.id, offline=False, failures=0)
        session.add(row)
    row.backend = parsed.backend.name
    row.config = config
    row.updated_at = now
    session.flush()
    audit.record(session, actor, "library.adapter", "library", library.code, now=now,
                 details={"backend": row.backend})
    return True


def adapter_view(row: LibraryAdapterConfig | None) -> dict[str, Any]:
    if row is None:
        return {"adapter": None}
    return {
        "adapter": row.backend,
        "offline": row.offline,
        "offline_reason": row.offline_reason,
        "failures": row.failures,
        "breaker_open_until": row.breaker_open_until.isoformat() if row.breaker_open_until
        else None,
    }


def set_offline(session: Session, library: Library, offline: bool, *, actor: Actor,
                now: dt.datetime, reason: str | None = None) -> LibraryAdapterConfig:
    """The operator's switch: an offline library gets no deliveries (they queue up).

    Bringing a library online also closes its circuit breaker: the operator has
    just said it works again.
    """
    row = session.get(LibraryAdapterConfig, library.id)
    if row is None:
        raise NotFound(f"library {library.code} has no adapter configured", field="library")
    row.offline, row.offline_reason = offline, reason if offline else None
    if not offline:
        row.failures, row.breaker_open_until = 0, None
    row.updated_at = now
    session.flush()
    audit.record(session, actor, "library.offline" if offline else "library.online", "library",
                 library.code, now=now, reason=reason)
    return row

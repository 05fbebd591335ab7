"""Helpers shared by the SQL backends: version tokens and lock names."""

from __future__ import annotations

import hashlib
from collections.abc import Iterable


def version_token(values: Iterable[object]) -> str:
    """A token that changes whenever any of ``values`` changes.

    ILS tables carry at best a coarse change timestamp (Koha's ``updated_on`` has
    one-second resolution), so the token hashes the whole row: two writes within
    the same second still produce different tokens unless they leave the row
    exactly as it was, in which case there is nothing to conflict with.
    """
    digest = hashlib.sha256()
    for value in values:
        digest.update(repr(value).encode())
        digest.update(b"\x1f")
    return digest.hexdigest()[:24]


def lock_key(purpose: str, value: str) -> str:
    """A short, fixed-length lock name (MariaDB caps GET_LOCK names at 64 chars)."""
    return f"readerpass:{purpose}:{hashlib.sha256(value.encode()).hexdigest()[:40]}"


def lock_ints(purpose: str, value: str) -> tuple[int, int]:
    """Two signed 32-bit keys for PostgreSQL's two-argument advisory locks."""
    digest = hashlib.sha256(f"{purpose}:{value}".encode()).digest()
    return (int.from_bytes(digest[:4], "big", signed=True),
            int.from_bytes(digest[4:8], "big", signed=True))

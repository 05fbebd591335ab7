"""When a retiring signing key may leave its published key set (JWKS or trust list)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Protocol, TypeVar

from ..errors import Conflict, NotFound


class RetiringKey(Protocol):
    kid: str
    retire_after: dt.datetime | None


K = TypeVar("K", bound=RetiringKey)


def keys_to_retire(retiring: Sequence[K], kid: str | None, now: dt.datetime, *,
                   force: bool, noun: str = "key") -> list[K]:
    """Every retiring key whose tokens can no longer be valid, or the one named
    ``kid`` (before its tokens expire only with ``force``)."""
    if kid is None:
        return [key for key in retiring if key.retire_after is None or key.retire_after <= now]
    chosen = [key for key in retiring if key.kid == kid]
    if not chosen:
        raise NotFound(f"no retiring {noun} with kid {kid!r}", field="kid")
    due = chosen[0].retire_after
    if due is not None and due > now and not force:
        raise Conflict(f"tokens signed by {kid} are valid until {due.isoformat()}; "
                       "retire it then (or --force)", code="key_in_use")
    return chosen

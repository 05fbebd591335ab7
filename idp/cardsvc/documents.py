"""Signed documents for gates, cached per version (signing a 20M-bit list takes ~1 s).

One :class:`Documents` per app (each gunicorn worker signs a version at most once).
Two workers may sign the same version differently (ECDSA is randomised); both
documents carry the same claims, so gates cannot tell and need not.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from dataclasses import dataclass

from sqlalchemy.orm import Session

from cards import (
    AnchorKey,
    StatusList,
    TrustList,
    load_trust_list,
    sign_status_delta,
    sign_status_list,
    sign_trust_list,
)
from cards.keys import PinnedAnchors

from ..context import Context
from . import keys, status

_KEEP_DELTAS = 64


class NotPublished(Exception):
    """No anchor key yet: the operator has to run ``readerpass cards keys rotate``."""


@dataclass(frozen=True)
class Snapshot:
    """Verified current lists for the online endpoint, read at ``loaded_at``."""

    loaded_at: int
    trust_list: TrustList
    status_list: StatusList


class Documents:
    def __init__(self, ctx: Context):
        self._ctx = ctx
        self._lock = threading.Lock()
        self._anchor: AnchorKey | None = None
        self._trust: tuple[tuple[int, int], str] | None = None
        self._full: tuple[int, StatusList, bytes] | None = None
        self._deltas: OrderedDict[tuple[int, int], bytes] = OrderedDict()
        self._snapshot: Snapshot | None = None

    @property
    def issuer(self) -> str:
        return self._ctx.settings.server.public_url

    def _anchor_key(self, session: Session) -> AnchorKey:
        row = keys.anchor_row(session)
        if row is None:
            raise NotPublished("no card keys yet: run `readerpass cards keys rotate`")
        if self._anchor is None or self._anchor.kid != row.kid:
            self._anchor = keys.load_anchor(self._ctx, row)
        return self._anchor

    def ensure_fresh(self) -> None:
        """Publish when the newest versions are older than the re-sign interval."""
        with self._ctx.sessions() as session:
            if keys.anchor_row(session) is None or not status.needs_publication(session,
                                                                                self._ctx):
                return
        with self._ctx.transaction() as session:
            status.lock_head(session)
            if status.needs_publication(session, self._ctx):  # another worker may have
                status.publish(session, self._ctx)

    def trust_list(self) -> str:
        self.ensure_fresh()
        with self._ctx.sessions() as session:
            head = status.head(session)
            stamp = (head.trust_version,
                     int(head.trust_issued_at.timestamp()) if head.trust_issued_at else 0)
            with self._lock:
                if self._trust is not None and self._trust[0] == stamp:
                    return self._trust[1]
            signed = sign_trust_list(keys.trust_list(session, self._ctx, head),
                                     self._anchor_key(session))
        with self._lock:
            self._trust = (stamp, signed)
        return signed

    def _current(self, session: Session) -> tuple[StatusList, bytes]:
        anchor = self._anchor_key(session)
        head = status.lock_head(session, shared=True)
        with self._lock:
            if self._full is not None and self._full[0] == head.version:
                return self._full[1], self._full[2]
        current = status.current_list(session, head)
        body = sign_status_list(current, anchor, self.issuer)
        with self._lock:
            self._full = (current.version, current, body)
        return current, body

    def status_list(self) -> tuple[StatusList, bytes]:
        """The current list and its signed full download."""
        self.ensure_fresh()
        with self._ctx.transaction() as session:
            return self._current(session)

    def status_delta(self, since: int) -> tuple[StatusList, bytes | None]:
        """The current list and the delta from ``since`` to it: None when that history
        is gone or ``since`` is the current version (nothing to send)."""
        self.ensure_fresh()
        with self._ctx.transaction() as session:
            current, _ = self._current(session)
            key = (since, current.version)
            with self._lock:
                cached = self._deltas.get(key)
            if cached is not None:
                return current, cached
            old = status.list_at(session, current, since)
            if old is None:
                return current, None
            body = sign_status_delta(old, current, self._anchor_key(session), self.issuer)
        with self._lock:
            self._deltas[key] = body
            while len(self._deltas) > _KEEP_DELTAS:
                self._deltas.popitem(last=False)
        return current, body

    def snapshot(self) -> Snapshot:
        """Current lists for online verification, re-read every
        ``cards.online_refresh_seconds`` of the service clock."""
        now = int(self._ctx.now().timestamp())
        snap = self._snapshot
        refresh = self._ctx.settings.cards.online_refresh_seconds
        if snap is not None and refresh and snap.loaded_at <= now < snap.loaded_at + refresh:
            return snap
        trust_text = self.trust_list()
        anchors = PinnedAnchors.of(self._anchor_or_raise().public_key)
        with self._ctx.transaction() as session:
            current, _ = self._current(session)
        snap = Snapshot(now, load_trust_list(trust_text, anchors), current)
        self._snapshot = snap
        return snap

    def _anchor_or_raise(self) -> AnchorKey:
        if self._anchor is None:
            raise NotPublished("no card keys yet: run `readerpass cards keys rotate`")
        return self._anchor

    def invalidate(self) -> None:
        """Forget the online snapshot (after a change made through this process)."""
        self._snapshot = None

"""Merge snapshots hold personal numbers only as ciphertexts, and `pii rotate`
re-encrypts them, so an unmerge still works once the old key is gone."""

from __future__ import annotations

import json

from idp.config_file import new_key
from idp.context import Context
from idp.models import Reader, ReaderMerge
from idp.services.actor import Actor, Role
from idp.services.merge import apply_merge
from idp.services.pii_rotation import rotate_pii
from idp.services.readers import reader_view
from idp.services.unmerge import apply_unmerge

from .conftest import Twins

ADMIN = Actor(Role.ADMIN, "alice")


def _with_keys(settings, clock, keys: list[str]) -> Context:
    kind = type(settings.security.pii_keys[0])
    return Context.build(settings.model_copy(update={"security": settings.security.model_copy(
        update={"pii_keys": [kind(k) for k in keys]})}), clock=clock)


def test_rotation_reaches_merge_snapshots(ctx: Context, settings, clock, twins: Twins):
    with ctx.sessions() as session:
        before = reader_view(session.get(Reader, twins.other), ctx)
    with ctx.transaction() as session:
        merge_id = apply_merge(session, ctx, twins.survivor, twins.other, actor=ADMIN).id
    with ctx.sessions() as session:
        snapshot = session.get(ReaderMerge, merge_id).snapshot
    stored = json.dumps(snapshot)
    digits = twins.other_mobile.removeprefix("+86")
    assert digits not in stored and snapshot["other"]["mobile_enc"].startswith("k1.")

    old = settings.security.pii_keys[0].get_secret_value()
    newer = f"k2:{new_key()}"
    both = _with_keys(settings, clock, [newer, old])
    report = rotate_pii(both, actor=Actor.cli(), batch_size=1)
    assert report.snapshots == 1
    assert rotate_pii(both, actor=Actor.cli()).snapshots == 0  # nothing left to do
    both.dispose()
    with ctx.sessions() as session:
        assert session.get(ReaderMerge, merge_id).snapshot["other"]["mobile_enc"].startswith(
            "k2.")

    only_new = _with_keys(settings, clock, [newer])
    with only_new.transaction() as session:
        apply_unmerge(session, only_new, merge_id, actor=ADMIN)
    with only_new.sessions() as session:
        after = reader_view(session.get(Reader, twins.other), only_new)
    assert after["mobile"] == before["mobile"] and after["status"] == "active"
    only_new.dispose()

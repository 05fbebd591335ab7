"""Gate bundle: store, reload with full re-verification, refuse stale or tampered data."""

from __future__ import annotations

from pathlib import Path

import pytest

from cards import (
    AnchorKey,
    BundleError,
    GateBundle,
    MemoryReplayCache,
    PinnedAnchors,
    StaleBundle,
    apply_status_delta,
    check_fresh,
    load_bundle,
    save_bundle,
    sign_status_delta,
    verify,
)
from cards.bundle import STATUS_LIST_FILE, TRUST_LIST_FILE

from .conftest import NOW, REVOKED_INDEX, World
from .test_configuration import make

MAX_AGE = 3600


def _bundle(world: World) -> GateBundle:
    return GateBundle(make(), world.trust_list, world.status_list)


def test_saved_bundle_loads_and_verifies_tokens(world: World, tmp_path: Path) -> None:
    save_bundle(tmp_path, _bundle(world))
    loaded = load_bundle(tmp_path, world.anchors, NOW, MAX_AGE)
    assert loaded.configuration == make()
    assert loaded.trust_list.version == world.trust_list.version
    assert loaded.status_list.bits == world.status_list.bits
    text = world.signer.sign(bytes(10), 1, NOW, 60)
    assert verify(text, loaded.trust_list, loaded.status_list, MemoryReplayCache(), NOW).ok


def test_bundle_after_a_delta_reloads_with_the_delta_statement(
    world: World, tmp_path: Path
) -> None:
    newer = world.status_list.with_changes(2, NOW, revoke=[7])
    delta = sign_status_delta(world.status_list, newer, world.anchor, "https://id.example.org")
    updated = apply_status_delta(world.status_list, delta, world.anchors)
    save_bundle(tmp_path, GateBundle(make(), world.trust_list, updated))
    loaded = load_bundle(tmp_path, world.anchors, NOW, MAX_AGE)
    assert loaded.status_list.version == 2
    assert loaded.status_list.revoked_indices() == [7, REVOKED_INDEX]


def test_stale_data_is_refused_with_its_age(world: World, tmp_path: Path) -> None:
    save_bundle(tmp_path, _bundle(world))
    issued = world.status_list.issued_at
    load_bundle(tmp_path, world.anchors, issued + MAX_AGE, MAX_AGE)
    with pytest.raises(StaleBundle) as caught:
        load_bundle(tmp_path, world.anchors, issued + MAX_AGE + 1, MAX_AGE)
    assert (caught.value.part, caught.value.age, caught.value.max_age) == (
        "status_list",
        MAX_AGE + 1,
        MAX_AGE,
    )


def test_trust_list_may_have_its_own_age_limit(world: World) -> None:
    bundle = _bundle(world)
    now = world.trust_list.issued_at + 100
    check_fresh(bundle, now, max_age=1000, max_trust_list_age=100)
    with pytest.raises(StaleBundle) as caught:
        check_fresh(bundle, now + 1, max_age=1000, max_trust_list_age=100)
    assert caught.value.part == "trust_list"


def test_data_from_the_future_means_a_wrong_clock(world: World) -> None:
    with pytest.raises(StaleBundle, match="ahead"):
        check_fresh(_bundle(world), world.status_list.issued_at - 31, MAX_AGE)


def test_edited_files_are_refused(world: World, tmp_path: Path) -> None:
    save_bundle(tmp_path, _bundle(world))
    status = tmp_path / STATUS_LIST_FILE
    original = status.read_bytes()
    status.write_bytes(original[:-3] + bytes(3))
    with pytest.raises(BundleError, match="does not verify"):
        load_bundle(tmp_path, world.anchors, NOW, MAX_AGE)
    status.write_bytes(original)
    trust = tmp_path / TRUST_LIST_FILE
    trust.write_bytes(trust.read_bytes()[:-2] + b"AA")
    with pytest.raises(BundleError):
        load_bundle(tmp_path, world.anchors, NOW, MAX_AGE)


def test_other_anchor_and_missing_files_are_refused(world: World, tmp_path: Path) -> None:
    save_bundle(tmp_path, _bundle(world))
    with pytest.raises(BundleError):
        load_bundle(tmp_path, PinnedAnchors.of(AnchorKey.generate().public_key), NOW, MAX_AGE)
    (tmp_path / TRUST_LIST_FILE).unlink()
    with pytest.raises(BundleError, match="cannot read") as caught:
        load_bundle(tmp_path, world.anchors, NOW, MAX_AGE)
    assert caught.value.path.endswith(TRUST_LIST_FILE)


def test_issuer_must_match_the_configuration(world: World, tmp_path: Path) -> None:
    other = make(issuer="https://elsewhere.example.org")
    save_bundle(tmp_path, GateBundle(other, world.trust_list, world.status_list))
    with pytest.raises(BundleError, match="issuer"):
        load_bundle(tmp_path, world.anchors, NOW, MAX_AGE)

"""Status list: bits, signed full list, delta download and application, snapshots."""

from __future__ import annotations

import random
import zlib

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cards import (
    AnchorKey,
    DeltaMismatch,
    PinnedAnchors,
    SignedDocumentError,
    StatusList,
    StatusListError,
    apply_status_delta,
    diff,
    load_status_list,
    sign_status_delta,
    sign_status_list,
    snapshot,
)
from cards.status_codec import decode_changes, encode_changes, join_container, split_container

from .conftest import ISSUER, NOW, World


def test_bit_layout_follows_the_status_list_draft() -> None:
    # draft-ietf-oauth-status-list §4.1: index 0 is the least significant bit of byte 0.
    status = StatusList.from_indices(20, [0, 9, 19], version=1, issued_at=NOW)
    assert status.bits == bytes([0b0000_0001, 0b0000_0010, 0b0000_1000])
    assert [status.is_revoked(i) for i in (0, 1, 9, 19)] == [True, False, True, True]
    assert status.count() == 3
    assert status.revoked_indices() == [0, 9, 19]


def test_indices_beyond_the_list_fail_closed() -> None:
    status = StatusList.empty(16, version=1, issued_at=NOW)
    assert not status.is_revoked(15)
    assert status.is_revoked(16)
    assert status.is_revoked(-1)


@pytest.mark.parametrize("index", [-1, 16, "3", True])
def test_building_with_bad_indices_is_refused(index: object) -> None:
    with pytest.raises(StatusListError):
        StatusList.from_indices(16, [index], version=1, issued_at=NOW)  # type: ignore[list-item]


def test_padding_bits_must_be_zero() -> None:
    with pytest.raises(StatusListError):
        StatusList(4, 1, NOW, bytes([0b0001_0000]))
    with pytest.raises(StatusListError):
        StatusList(4, 1, NOW, bytes(2))


def test_full_list_round_trip(world: World) -> None:
    status = StatusList.from_indices(100_003, [5, 77_777, 100_002], version=9, issued_at=NOW)
    loaded = load_status_list(sign_status_list(status, world.anchor, ISSUER), world.anchors)
    assert loaded.bits == status.bits
    assert (loaded.size, loaded.version, loaded.issued_at) == (100_003, 9, NOW)
    assert loaded.signed


def _versions() -> tuple[StatusList, StatusList]:
    rng = random.Random(7)
    old = StatusList.from_indices(50_000, rng.sample(range(50_000), 500), 3, NOW - 600)
    new = old.with_changes(4, NOW, revoke=[1, 49_999, 31_337], restore=old.revoked_indices()[:40])
    return old, new


def test_delta_turns_the_old_list_into_the_new_one(world: World) -> None:
    old, new = _versions()
    delta = sign_status_delta(old, new, world.anchor, ISSUER)
    assert len(delta) < 1_000
    result = apply_status_delta(old, delta, world.anchors)
    assert result.bits == new.bits
    assert (result.version, result.issued_at) == (4, NOW)
    # the stored snapshot re-verifies against the anchor through the delta statement
    assert load_status_list(snapshot(result), world.anchors).bits == new.bits


def test_delta_may_grow_the_list(world: World) -> None:
    old = StatusList.from_indices(10, [3], 1, NOW)
    new = old.with_changes(2, NOW, revoke=[12], size=20)
    result = apply_status_delta(
        old, sign_status_delta(old, new, world.anchor, ISSUER), world.anchors
    )
    assert result.size == 20 and result.revoked_indices() == [3, 12]


def test_delta_from_another_version_is_a_mismatch(world: World) -> None:
    old, new = _versions()
    newer = new.with_changes(5, NOW, revoke=[2])
    delta = sign_status_delta(new, newer, world.anchor, ISSUER)
    with pytest.raises(DeltaMismatch) as caught:
        apply_status_delta(old, delta, world.anchors)
    assert (caught.value.have_version, caught.value.delta_base_version) == (3, 4)


def test_delta_onto_a_different_list_of_the_same_version_is_a_mismatch(world: World) -> None:
    old, new = _versions()
    impostor = StatusList.from_indices(old.size, [0], old.version, old.issued_at)
    with pytest.raises(DeltaMismatch):
        apply_status_delta(
            impostor, sign_status_delta(old, new, world.anchor, ISSUER), world.anchors
        )


def test_documents_from_another_anchor_are_refused(world: World) -> None:
    old, new = _versions()
    stranger = AnchorKey.generate()
    with pytest.raises(SignedDocumentError) as caught:
        load_status_list(sign_status_list(new, stranger, ISSUER), world.anchors)
    assert caught.value.reason == "unknown_anchor"
    with pytest.raises(SignedDocumentError):
        apply_status_delta(old, sign_status_delta(old, new, stranger, ISSUER), world.anchors)
    only_stranger = PinnedAnchors.of(stranger.public_key)
    with pytest.raises(SignedDocumentError):
        load_status_list(sign_status_list(new, world.anchor, ISSUER), only_stranger)


def test_tampered_body_is_refused_before_inflating(world: World) -> None:
    _, new = _versions()
    statement, body = split_container(sign_status_list(new, world.anchor, ISSUER), "t")
    flipped = zlib.compress(new.with_changes(5, NOW, revoke=[0]).bits, 9)
    with pytest.raises(SignedDocumentError, match="body does not match"):
        load_status_list(join_container(statement, flipped), world.anchors)
    with pytest.raises(SignedDocumentError, match="body does not match"):
        load_status_list(join_container(statement, body[:-1]), world.anchors)


def test_tampered_statement_signature_is_refused(world: World) -> None:
    _, new = _versions()
    blob = bytearray(sign_status_list(new, world.anchor, ISSUER))
    last_signature_char = blob.index(b"\n") - 1
    blob[last_signature_char - 5] ^= 0x01
    with pytest.raises(SignedDocumentError) as caught:
        load_status_list(bytes(blob), world.anchors)
    assert caught.value.reason in {"signature", "format"}


def test_delta_cannot_pass_as_a_full_download_with_a_forged_body(world: World) -> None:
    old, new = _versions()
    statement, _ = split_container(sign_status_delta(old, new, world.anchor, ISSUER), "t")
    forged = join_container(statement, zlib.compress(old.bits, 9))
    with pytest.raises(SignedDocumentError, match="bits do not match"):
        load_status_list(forged, world.anchors)


@pytest.mark.parametrize("blob", [b"", b"no newline", b"\xff\xfe\n", "text", b"a.b.c\nzz"])
def test_garbage_containers_are_refused(world: World, blob: object) -> None:
    with pytest.raises(SignedDocumentError):
        load_status_list(blob, world.anchors)  # type: ignore[arg-type]


def test_snapshot_of_an_unverified_list_is_refused() -> None:
    with pytest.raises(StatusListError):
        snapshot(StatusList.empty(8, 1, NOW))


def test_versions_only_grow() -> None:
    old, _ = _versions()
    with pytest.raises(StatusListError):
        old.with_changes(old.version, NOW)
    with pytest.raises(StatusListError):
        old.with_changes(old.version + 1, NOW, size=old.size - 1)


@settings(max_examples=60, deadline=None)
@given(
    st.integers(1, 3_000).flatmap(
        lambda size: st.tuples(
            st.just(size),
            st.sets(st.integers(0, size - 1), max_size=50),
            st.sets(st.integers(0, size - 1), max_size=50),
        )
    )
)
def test_diff_and_change_codec_agree_with_set_arithmetic(
    case: tuple[int, set[int], set[int]],
) -> None:
    size, before, after = case
    old = StatusList.from_indices(size, before, 1, NOW)
    new = StatusList.from_indices(size, after, 2, NOW)
    changes = diff(old, new)
    assert set(changes.revoked) == after - before
    assert set(changes.restored) == before - after
    assert list(changes.revoked) == sorted(changes.revoked)
    assert decode_changes(encode_changes(changes.revoked, changes.restored), size, "t") == (
        list(changes.revoked),
        list(changes.restored),
    )
    assert old.with_changes(2, NOW, changes.revoked, changes.restored).bits == new.bits


@pytest.mark.parametrize(
    "raw",
    [
        b"\x02\x05\x00\x00",  # second index gap 0: not ascending
        b"\x01\x90\x4e\x00",  # index 10000 beyond size 100
        b"\x01\x05\x01\x05",  # 5 revoked and restored
        b"\x01\x05\x00\xff",  # trailing byte
        b"\x01\x85",  # truncated varint
    ],
)
def test_malformed_change_bodies_are_refused(raw: bytes) -> None:
    with pytest.raises(SignedDocumentError):
        decode_changes(zlib.compress(raw), 100, "t")

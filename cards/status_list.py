"""The status (lost-card) list: one bit per status-list index, 1 meaning "do not admit".

Bit layout follows the IETF OAuth Token Status List draft (draft-ietf-oauth-status-list,
§4.1, status bits of size 1): index ``i`` is bit ``i % 8`` of byte ``i // 8``, counting from
the least significant bit. The same byte string, zlib-compressed, is what the draft's
``lst`` member carries, so a draft-conformant view of this list is one encoding away.

This module owns the in-memory list and its arithmetic; signing and transport live in
:mod:`cards.status_documents`. Lists are immutable; changes produce a new version.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import cached_property

from cards.errors import CardError

MAX_SIZE = 2**32  # the token's status-list index is a uint32
_DIFF_CHUNK = 4096  # bytes compared at C speed before looking at bits


class StatusListError(CardError):
    """An index or size is out of range for a status list."""

    code = "status_list_invalid"


@dataclass(frozen=True)
class StatusChanges:
    """Indices whose bit went 0 -> 1 (``revoked``) or 1 -> 0 (``restored``), ascending."""

    revoked: tuple[int, ...] = ()
    restored: tuple[int, ...] = ()

    def __len__(self) -> int:
        return len(self.revoked) + len(self.restored)


def _set_bits(bits: bytearray, indices: Iterable[int], size: int, value: bool) -> None:
    for index in indices:
        if isinstance(index, bool) or not isinstance(index, int) or not 0 <= index < size:
            raise StatusListError(f"status index {index!r} is outside [0, {size})")
        if value:
            bits[index >> 3] |= 1 << (index & 7)
        else:
            bits[index >> 3] &= ~(1 << (index & 7)) & 0xFF


@dataclass(frozen=True, eq=False)
class StatusList:
    """``size`` status bits at ``version``, issued at ``issued_at`` (Unix seconds).

    ``signed`` holds the anchor-signed statement this list was verified against (empty
    for a list built locally by the service); a gate stores it to re-verify later.
    """

    size: int
    version: int
    issued_at: int
    bits: bytes
    signed: str = field(default="", repr=False)

    def __post_init__(self) -> None:
        if not 0 < self.size <= MAX_SIZE:
            raise StatusListError(f"status list size {self.size} is outside [1, {MAX_SIZE}]")
        if len(self.bits) != (self.size + 7) // 8:
            raise StatusListError(f"{self.size} status bits need {(self.size + 7) // 8} bytes")
        spare = self.size % 8
        if spare and self.bits[-1] >> spare:
            raise StatusListError("bits beyond the list size are set")
        if self.version < 0 or self.issued_at < 0:
            raise StatusListError("version and issued_at must not be negative")

    @classmethod
    def empty(cls, size: int, version: int, issued_at: int) -> StatusList:
        return cls(size, version, issued_at, bytes((size + 7) // 8))

    @classmethod
    def from_indices(
        cls, size: int, revoked: Iterable[int], version: int, issued_at: int
    ) -> StatusList:
        """Build a list with the given indices set (one pass, bytearray updates)."""
        if not 0 < size <= MAX_SIZE:
            raise StatusListError(f"status list size {size} is outside [1, {MAX_SIZE}]")
        bits = bytearray((size + 7) // 8)
        _set_bits(bits, revoked, size, True)
        return cls(size, version, issued_at, bytes(bits))

    def is_revoked(self, index: int) -> bool:
        """True when the bit is set or the index is beyond the list (fail closed)."""
        if not 0 <= index < self.size:
            return True
        return bool(self.bits[index >> 3] >> (index & 7) & 1)

    @cached_property
    def digest(self) -> bytes:
        """SHA-256 of the uncompressed bit bytes: what signed statements commit to."""
        return hashlib.sha256(self.bits).digest()

    def count(self) -> int:
        """Number of set bits (popcount over the whole list at C speed)."""
        return int.from_bytes(self.bits, "little").bit_count()

    def revoked_indices(self) -> list[int]:
        return _set_positions(self.bits, 0)

    def with_changes(
        self,
        version: int,
        issued_at: int,
        revoke: Iterable[int] = (),
        restore: Iterable[int] = (),
        size: int | None = None,
    ) -> StatusList:
        """A new version with bits set/cleared; ``size`` may grow the list (new bits 0)."""
        new_size = self.size if size is None else size
        if new_size < self.size:
            raise StatusListError("a status list never shrinks")
        if version <= self.version:
            raise StatusListError(f"version {version} does not follow {self.version}")
        bits = bytearray(self.bits)
        bits.extend(bytes((new_size + 7) // 8 - len(bits)))
        _set_bits(bits, restore, new_size, False)
        _set_bits(bits, revoke, new_size, True)
        return StatusList(new_size, version, issued_at, bytes(bits))


def _set_positions(data: bytes, base_index: int) -> list[int]:
    """Indices of the set bits of ``data`` (LSB-first), via big-int bit tricks per chunk."""
    found: list[int] = []
    for start in range(0, len(data), _DIFF_CHUNK):
        value = int.from_bytes(data[start : start + _DIFF_CHUNK], "little")
        offset = base_index + start * 8
        while value:
            low = value & -value
            found.append(offset + low.bit_length() - 1)
            value ^= low
    return found


def diff(old: StatusList, new: StatusList) -> StatusChanges:
    """The changes that turn ``old`` into ``new`` (``new`` may be larger).

    Chunks are compared as byte strings first, so a 20-million-bit list with a handful
    of changes costs a few memcmp calls, not 20 million bit tests.
    """
    if new.size < old.size:
        raise StatusListError("a status list never shrinks")
    old_bits = old.bits + bytes(len(new.bits) - len(old.bits))
    revoked: list[int] = []
    restored: list[int] = []
    view_old, view_new = memoryview(old_bits), memoryview(new.bits)
    for start in range(0, len(new.bits), _DIFF_CHUNK):
        end = start + _DIFF_CHUNK
        if view_old[start:end] == view_new[start:end]:
            continue
        length = len(view_new[start:end])
        a = int.from_bytes(view_old[start:end], "little")
        b = int.from_bytes(view_new[start:end], "little")
        revoked.extend(_set_positions((b & ~a).to_bytes(length, "little"), start * 8))
        restored.extend(_set_positions((a & ~b).to_bytes(length, "little"), start * 8))
    return StatusChanges(tuple(revoked), tuple(restored))

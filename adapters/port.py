"""The port to a member library's patron database.

One small protocol, with capabilities declared rather than discovered (the
shape of Keycloak's user storage SPI). Conventions every backend keeps, and the
contract suite in ``tests/adapters/contract.py`` checks:

* look-ups return ``None`` when nothing matches and raise
  :class:`~adapters.errors.AmbiguousMatch` when more than one does;
* changes to a patron that does not exist raise
  :class:`~adapters.errors.PatronNotFound`;
* ``create`` is idempotent per key, across processes: a retried outbox delivery
  never makes a second patron (DESIGN "Outbox");
* the province may set its own block and lift only that block, never a block the
  library set (DESIGN "Ownership");
* unreachable systems raise :class:`~adapters.errors.Unavailable`, the only
  retryable error.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol, runtime_checkable

from adapters.capabilities import Capability
from adapters.errors import CapabilityMissing
from adapters.values import CreateRequest, HealthReport, LocalPatron, PatronMatch, PatronPatch


@runtime_checkable
class PatronStore(Protocol):
    @property
    def backend(self) -> str:
        """Registry name of the backend, for logs and errors."""
        ...

    @property
    def capabilities(self) -> Capability: ...

    def health(self) -> HealthReport:
        """Probe the library system; never raises for an unreachable system."""
        ...

    def find(self, match: PatronMatch) -> LocalPatron | None: ...

    def get(self, local_id: str) -> LocalPatron | None: ...

    def create(self, request: CreateRequest, idempotency_key: str) -> LocalPatron:
        """Create a patron, or return the one an earlier call with this key created.

        A repeated key returns the patron as it is now, whatever the new request
        says: the key, not the payload, identifies the delivery.
        """
        ...

    def update(self, local_id: str, patch: PatronPatch, expected_version: str) -> LocalPatron:
        """Apply ``patch`` if the patron is still at ``expected_version``."""
        ...

    def suspend(self, local_id: str, reason: str) -> LocalPatron:
        """Set the province's block (idempotent); ``reason`` is shown to staff."""
        ...

    def reinstate(self, local_id: str) -> LocalPatron:
        """Lift the province's block only; local blocks stay (idempotent)."""
        ...

    def write_backlink(self, local_id: str, reader_id: str) -> LocalPatron:
        """Record the province reader id on the patron; one patron per reader id."""
        ...

    def merge(self, local_ids: Sequence[str]) -> LocalPatron:
        """Merge the patrons into the first one, where the ILS supports it.

        The first keeps its own back-link: the province asks for a merge after it
        merged the readers, and the others' back-links name merged readers whose
        ids resolve to the survivor.
        """
        ...

    def close(self) -> None:
        """Release connections; the store is unusable afterwards."""
        ...


@runtime_checkable
class PatronLister(Protocol):
    """Optional capability :attr:`Capability.ITERATE`: read every patron in pages,
    for onboarding imports. Pages are in a stable order of local ids, so a caller
    resumes after the last id it saw (keyset paging, no offsets)."""

    def iter_patrons(self, after: str | None, limit: int) -> Sequence[LocalPatron]:
        """Up to ``limit`` patrons whose local id sorts after ``after`` (None: from the start)."""
        ...

    def count_patrons(self) -> int:
        """How many patrons there are now (for progress; may change meanwhile)."""
        ...


def require(store: PatronStore, capability: Capability) -> None:
    """Raise :class:`CapabilityMissing` unless ``store`` declares ``capability``."""
    if capability not in store.capabilities:
        raise CapabilityMissing(capability, backend=store.backend)

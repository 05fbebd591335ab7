"""What a backend can do, declared up front.

Like Keycloak's user storage SPI (a small base plus optional capability
interfaces), each store states its capabilities so callers can plan (e.g. the
merge screen hides "merge in library" for a library whose ILS cannot) instead of
discovering a gap by catching :class:`~adapters.errors.CapabilityMissing`.
"""

from __future__ import annotations

import enum


class Capability(enum.Flag):
    FIND = enum.auto()
    GET = enum.auto()
    CREATE = enum.auto()
    UPDATE = enum.auto()
    SUSPEND = enum.auto()  # suspend and reinstate, always together
    BACKLINK = enum.auto()
    MERGE = enum.auto()
    ITERATE = enum.auto()  # iter_patrons / count_patrons, for onboarding imports


#: What every backend in this package offers; merge and iterate are optional extras.
CORE = (
    Capability.FIND
    | Capability.GET
    | Capability.CREATE
    | Capability.UPDATE
    | Capability.SUSPEND
    | Capability.BACKLINK
)

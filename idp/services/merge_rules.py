"""The rules of a reader merge, on plain values (no session, no clock).

Which reader survives (DESIGN "Duplicates and merge": assurance, then age of the
account), which merges are refused, where each attribute of the merged reader
comes from, and what happens at a library where both readers have a link. The
planner (``merge_plan``) feeds these functions facts read from the database;
tests feed them facts directly.
"""

from __future__ import annotations

import datetime as dt
import enum
from collections.abc import Callable
from dataclasses import dataclass

from ..errors import Conflict
from ..models import Assurance, Category, LinkState, Status


class Side(enum.StrEnum):
    SURVIVOR = "survivor"
    OTHER = "other"


class LinkAction(enum.StrEnum):
    """What a merge does at one library."""

    KEEP = "keep"  # only the survivor has a link there: unchanged
    MOVE = "move"  # only the other has one: it moves to the survivor
    TAKE = "take"  # the survivor's link has no patron, the other's has: the survivor takes it
    MERGE_LOCAL = "merge_local"  # both linked: the library system merges the two patrons
    CONFLICT = "conflict"  # both linked, the library cannot merge: staff choose a patron
    DROP = "drop"  # the other's link has no patron: it stays with the tombstone


@dataclass(frozen=True, slots=True)
class ReaderFacts:
    """What the rules need to know about one reader."""

    id: str
    family_name: str
    given_name: str
    sex: str | None
    birth_date: dt.date
    mobile_hash: str | None
    mobile_verified: bool
    home_library: str
    category: str
    expires_on: dt.date
    has_password: bool
    guardian_id: str | None
    assurance: str
    status: str
    created_at: dt.datetime
    merged_into: str | None = None


@dataclass(frozen=True, slots=True)
class LinkFacts:
    id: int
    library: str
    state: str
    local_id: str | None

    @property
    def has_patron(self) -> bool:
        return self.state == LinkState.LINKED and self.local_id is not None


@dataclass(frozen=True, slots=True)
class Choice:
    """One attribute of the merged reader, the side it comes from (its provenance)
    and both readers' values as shown to staff."""

    attribute: str
    source: Side
    survivor: str | None
    other: str | None

    @property
    def conflict(self) -> bool:
        """Both readers have a value and they differ: the rule picked one."""
        return self.survivor is not None and self.other is not None and (
            self.survivor != self.other)


class MergeRefused(Conflict):
    """A merge the rules forbid; the message says why, naming the readers."""

    code = "merge_refused"


# -- who survives -----------------------------------------------------------------


def survivor_rank(reader: ReaderFacts) -> tuple[int, dt.datetime, str]:
    """Sort key: stronger assurance first, then the older account, then the id (so
    the order is total and the same on every run)."""
    return (-Assurance(reader.assurance).rank, reader.created_at, reader.id)


def why_survives(survivor: ReaderFacts, other: ReaderFacts) -> str:
    if survivor.assurance != other.assurance:
        return f"its assurance is {survivor.assurance}, the other's {other.assurance}"
    if survivor.created_at != other.created_at:
        return (f"both are {survivor.assurance} and it is the older account "
                f"(registered {survivor.created_at.date().isoformat()}, the other "
                f"{other.created_at.date().isoformat()})")
    return "both are alike and its id sorts first"


def check_order(survivor: ReaderFacts, other: ReaderFacts) -> None:
    """Refuse when the operator named the readers the wrong way round."""
    if survivor_rank(other) < survivor_rank(survivor):
        raise MergeRefused(
            f"reader {other.id} must be the survivor ({why_survives(other, survivor)}): "
            f"name the survivor first, {other.id} then {survivor.id}")


def check_mergeable(survivor: ReaderFacts, other: ReaderFacts) -> None:
    if survivor.id == other.id:
        raise MergeRefused(f"reader {survivor.id} cannot be merged with itself")
    for reader in (survivor, other):
        if reader.status == Status.MERGED or reader.merged_into is not None:
            raise MergeRefused(f"reader {reader.id} is already merged into "
                               f"{reader.merged_into}; merge with that reader instead")
        if reader.status == Status.CANCELLED:
            raise MergeRefused(f"reader {reader.id} is cancelled; a cancelled account "
                               "is not merged")
    for guardian, child in ((survivor, other), (other, survivor)):
        if child.guardian_id == guardian.id:
            raise MergeRefused(f"reader {guardian.id} is the guardian of {child.id}: a "
                               "guardian and their child are two people")


# -- survivorship per attribute -----------------------------------------------------

_FULL_CATEGORIES = frozenset({Category.ADULT, Category.TEEN, Category.CHILD, Category.FAMILY})


def _mobile_shown(reader: ReaderFacts) -> str | None:
    if reader.mobile_hash is None:
        return None
    return "verified" if reader.mobile_verified else "unverified"


def _first_set(survivor: str | None, other: str | None) -> Side:
    return Side.SURVIVOR if survivor is not None or other is None else Side.OTHER


def _mobile(s: ReaderFacts, o: ReaderFacts) -> Side:
    """A verified number beats an unverified one; then the survivor's."""
    if o.mobile_hash is not None and o.mobile_verified and not s.mobile_verified:
        return Side.OTHER
    return _first_set(s.mobile_hash, o.mobile_hash)


def _category(s: ReaderFacts, o: ReaderFacts) -> Side:
    """A full category beats a temporary or e-resource-only one, when both readers
    have the same birth date (the category must fit the survivor's age)."""
    if (Category(s.category) not in _FULL_CATEGORIES
            and Category(o.category) in _FULL_CATEGORIES and s.birth_date == o.birth_date):
        return Side.OTHER
    return Side.SURVIVOR


def _iso(day: dt.date) -> str:
    return day.isoformat()


@dataclass(frozen=True, slots=True)
class _Rule:
    attribute: str
    shown: Callable[[ReaderFacts], str | None]
    side: Callable[[ReaderFacts, ReaderFacts], Side]


RULES: tuple[_Rule, ...] = (
    _Rule("name", lambda r: f"{r.family_name} {r.given_name}", lambda s, o: Side.SURVIVOR),
    _Rule("sex", lambda r: r.sex, lambda s, o: _first_set(s.sex, o.sex)),
    _Rule("birth_date", lambda r: _iso(r.birth_date), lambda s, o: Side.SURVIVOR),
    _Rule("mobile", _mobile_shown, _mobile),
    _Rule("home_library", lambda r: r.home_library, lambda s, o: Side.SURVIVOR),
    _Rule("category", lambda r: r.category, _category),
    _Rule("expires_on", lambda r: _iso(r.expires_on),
          lambda s, o: Side.OTHER if o.expires_on > s.expires_on else Side.SURVIVOR),
    _Rule("password", lambda r: "set" if r.has_password else None,
          lambda s, o: Side.OTHER if o.has_password and not s.has_password else Side.SURVIVOR),
    _Rule("guardian", lambda r: r.guardian_id, lambda s, o: _first_set(s.guardian_id,
                                                                       o.guardian_id)),
)


def choices(survivor: ReaderFacts, other: ReaderFacts) -> list[Choice]:
    """Every attribute of the merged reader with its provenance. Assurance follows
    the others: a verified mobile taken from the other reader raises a
    self-asserted survivor to phone-verified."""
    made = [Choice(rule.attribute, rule.side(survivor, other), rule.shown(survivor),
                   rule.shown(other)) for rule in RULES]
    mobile = next(c for c in made if c.attribute == "mobile")
    assurance = Side.SURVIVOR
    if (mobile.source is Side.OTHER and other.mobile_verified
            and Assurance(survivor.assurance) is Assurance.SELF_ASSERTED):
        assurance = Side.OTHER
    made.append(Choice("assurance", assurance, survivor.assurance,
                       Assurance.PHONE_VERIFIED.value if assurance is Side.OTHER
                       else other.assurance))
    return made


# -- links ---------------------------------------------------------------------------


def link_action(survivor: LinkFacts | None, other: LinkFacts | None,
                library_merges: bool) -> LinkAction:
    """What happens at a library where at least one of the two has a link.

    ``library_merges``: the library's adapter declares ``Capability.MERGE``.
    """
    if other is None:
        return LinkAction.KEEP
    if survivor is None:
        return LinkAction.MOVE
    if not other.has_patron:
        return LinkAction.DROP
    if not survivor.has_patron:
        return LinkAction.TAKE
    return LinkAction.MERGE_LOCAL if library_merges else LinkAction.CONFLICT


def followed_after(action: LinkAction, survivor: LinkFacts | None,
                   other: LinkFacts | None) -> bool:
    """Whether the survivor's link there is pending or linked after the merge, so
    that the library hears about the merge through the outbox."""
    followed = (LinkState.PENDING.value, LinkState.LINKED.value)
    if action in (LinkAction.TAKE, LinkAction.MERGE_LOCAL):
        return True
    if action is LinkAction.CONFLICT:
        return False
    if action is LinkAction.MOVE:
        return other is not None and other.state in followed
    return survivor is not None and survivor.state in followed

"""The plan of a merge: read both readers and everything that hangs on them, and
say what a merge would do, before it does it (``readers merge --dry-run`` and
``POST /api/merges/plan`` show it; ``merge.apply_merge`` carries it out).

Reading only: the rules themselves are in :mod:`merge_rules`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from adapters import Capability

from ..context import Context
from ..errors import ReaderPassError
from ..models import (
    DuplicatePair,
    IdentityDocument,
    Library,
    LibraryAdapterConfig,
    Reader,
    ReaderLink,
    Status,
)
from .lookup import find_reader
from .merge_rules import (
    Choice,
    LinkAction,
    LinkFacts,
    ReaderFacts,
    check_mergeable,
    check_order,
    choices,
    followed_after,
    link_action,
    why_survives,
)


@dataclass(frozen=True, slots=True)
class LibraryStep:
    """What the merge does at one library, and whether the library is told."""

    library: str
    library_id: int
    action: LinkAction
    survivor_link: LinkFacts | None
    other_link: LinkFacts | None
    notified: bool


@dataclass(frozen=True, slots=True)
class DocumentMove:
    id: int
    doc_type: str
    country: str


@dataclass(frozen=True, slots=True)
class PairFacts:
    id: int
    state: str
    score: float
    auto_merge: bool
    explanation: dict[str, Any]
    proposed_by: str | None


@dataclass(frozen=True, slots=True)
class MergePlan:
    survivor: ReaderFacts
    other: ReaderFacts
    survivor_card: str
    other_card: str
    why: str
    choices: tuple[Choice, ...]
    documents: tuple[DocumentMove, ...]
    links: tuple[LibraryStep, ...]
    wards: tuple[str, ...]
    pair: PairFacts | None

    @property
    def notified(self) -> tuple[str, ...]:
        """Libraries that get one outbox event each."""
        return tuple(step.library for step in self.links if step.notified)

    def taken(self) -> list[str]:
        """Attributes the survivor takes from the other reader."""
        return [c.attribute for c in self.choices if c.source == "other"]

    def conflicts(self) -> list[str]:
        found = [f"{c.attribute}: {c.survivor} (kept from {c.source}) / {c.other}"
                 if c.source == "survivor" else
                 f"{c.attribute}: {c.other} (taken from other) / {c.survivor}"
                 for c in self.choices if c.conflict]
        found += [f"{step.library}: both readers have a local patron "
                  f"({_local(step.survivor_link)}, {_local(step.other_link)}); staff choose one"
                  for step in self.links if step.action is LinkAction.CONFLICT]
        return found

    def to_json(self) -> dict[str, Any]:
        return {
            "survivor": {"id": self.survivor.id, "card_number": self.survivor_card},
            "other": {"id": self.other.id, "card_number": self.other_card},
            "why": self.why,
            "attributes": [{"attribute": c.attribute, "source": c.source.value,
                            "survivor": c.survivor, "other": c.other, "conflict": c.conflict}
                           for c in self.choices],
            "documents": [{"id": d.id, "type": d.doc_type, "country": d.country}
                          for d in self.documents],
            "links": [{"library": s.library, "action": s.action.value,
                       "survivor_state": s.survivor_link.state if s.survivor_link else None,
                       "survivor_local_id": _local(s.survivor_link),
                       "other_state": s.other_link.state if s.other_link else None,
                       "other_local_id": _local(s.other_link), "notified": s.notified}
                      for s in self.links],
            "libraries": list(self.notified),
            "wards": list(self.wards),
            "pair": None if self.pair is None else {
                "id": self.pair.id, "state": self.pair.state, "score": self.pair.score,
                "auto_merge": self.pair.auto_merge, "proposed_by": self.pair.proposed_by},
            "conflicts": self.conflicts(),
        }


def _local(link: LinkFacts | None) -> str | None:
    return link.local_id if link is not None else None


def facts(reader: Reader) -> ReaderFacts:
    return ReaderFacts(
        id=reader.id, family_name=reader.family_name, given_name=reader.given_name,
        sex=reader.sex, birth_date=reader.birth_date, mobile_hash=reader.mobile_hash,
        mobile_verified=reader.mobile_verified_at is not None,
        home_library=reader.home_library.code, category=reader.category,
        expires_on=reader.expires_on, has_password=reader.password_hash is not None,
        guardian_id=reader.guardian_id, assurance=reader.assurance, status=reader.status,
        created_at=reader.created_at, merged_into=reader.merged_into)


def plan_merge(session: Session, ctx: Context, survivor_ref: str, other_ref: str) -> MergePlan:
    """What merging ``other_ref`` into ``survivor_ref`` would do; refuses (typed
    errors) what the rules forbid, including the survivor named second."""
    survivor = find_reader(session, survivor_ref, follow=False)
    other = find_reader(session, other_ref, follow=False)
    return plan_for(session, ctx, survivor, other)


def plan_for(session: Session, ctx: Context, survivor: Reader, other: Reader) -> MergePlan:
    s, o = facts(survivor), facts(other)
    check_mergeable(s, o)
    check_order(s, o)
    documents = session.scalars(select(IdentityDocument).where(
        IdentityDocument.reader_id == other.id).order_by(IdentityDocument.id))
    wards = session.scalars(select(Reader.id).where(
        Reader.guardian_id == other.id, Reader.status != Status.MERGED.value).order_by(Reader.id))
    return MergePlan(
        survivor=s, other=o, survivor_card=survivor.card_number, other_card=other.card_number,
        why=why_survives(s, o), choices=tuple(choices(s, o)),
        documents=tuple(DocumentMove(d.id, d.doc_type, d.country) for d in documents),
        links=tuple(_library_steps(session, ctx, survivor, other)), wards=tuple(wards),
        pair=_pair(session, survivor.id, other.id))


def _library_steps(session: Session, ctx: Context, survivor: Reader,
                   other: Reader) -> list[LibraryStep]:
    rows = session.execute(
        select(ReaderLink, Library).join(Library, Library.id == ReaderLink.library_id)
        .where(ReaderLink.reader_id.in_((survivor.id, other.id))))
    found: dict[int, dict[str, LinkFacts]] = {}
    libraries: dict[int, Library] = {survivor.home_library_id: survivor.home_library}
    for link, library in rows:
        side = "survivor" if link.reader_id == survivor.id else "other"
        found.setdefault(library.id, {})[side] = LinkFacts(link.id, library.code, link.state,
                                                           link.local_id)
        libraries[library.id] = library
    with_adapter = set(session.scalars(select(LibraryAdapterConfig.library_id).where(
        LibraryAdapterConfig.library_id.in_(libraries))))
    steps: list[LibraryStep] = []
    for library_id, library in sorted(libraries.items(), key=lambda item: item[1].code):
        pair = found.get(library_id, {})
        s_link, o_link = pair.get("survivor"), pair.get("other")
        if s_link is None and o_link is None:  # the survivor's home library, no links
            steps.append(LibraryStep(library.code, library_id, LinkAction.KEEP, None, None,
                                     library_id in with_adapter))
            continue
        both = s_link is not None and o_link is not None and s_link.has_patron and (
            o_link.has_patron)
        action = link_action(s_link, o_link, both and _merges(session, ctx, library))
        notified = library_id in with_adapter and action is not LinkAction.CONFLICT and (
            followed_after(action, s_link, o_link) or library_id == survivor.home_library_id)
        steps.append(LibraryStep(library.code, library_id, action, s_link, o_link, notified))
    return steps


def _merges(session: Session, ctx: Context, library: Library) -> bool:
    """Whether the library's adapter can merge patrons (declared, no I/O)."""
    try:
        adapter = ctx.adapters.get(session, library)
    except ReaderPassError:  # no adapter, or its stored table no longer validates
        return False
    return Capability.MERGE in adapter.store.capabilities


def _pair(session: Session, a: str, b: str) -> PairFacts | None:
    low, high = sorted((a, b))
    pair = session.scalar(select(DuplicatePair).where(DuplicatePair.reader_a == low,
                                                      DuplicatePair.reader_b == high))
    if pair is None:
        return None
    return PairFacts(pair.id, pair.state, pair.score, pair.auto_merge, dict(pair.explanation),
                     pair.proposed_by)

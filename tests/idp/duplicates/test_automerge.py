"""Automatic merges: only pairs holding one resident ID under agreeing names, each
an ordinary (undoable) merge."""

from __future__ import annotations

import json
from pathlib import Path

from sqlalchemy import select

from idp.duplicates.automerge import apply_auto_merges
from idp.importer.run import file_source, import_patrons
from idp.models import DuplicatePair, PairState, Reader, ReaderMerge, Status
from idp.schemas import ReaderUpdateIn
from idp.services import readers
from idp.services.actor import Actor
from idp.services.unmerge import apply_unmerge
from idp.synthetic import IdentityGenerator

from .test_queue import register, traditional


def _claimant(ctx, clock, people: IdentityGenerator, tmp_path: Path):
    """A reader imported with a resident ID another reader holds, under another name."""
    holder, stranger = people.reader(min_age=30), people.reader(min_age=30)
    held = register(ctx, holder)
    clock.advance(days=3)
    row = {"local_id": "L1", "family_name": stranger.family_name,
           "given_name": stranger.given_name, "document_number": holder.resident_id}
    path = tmp_path / "patrons.jsonl"
    path.write_text(json.dumps(row, ensure_ascii=False) + "\n", encoding="utf-8")
    assert import_patrons(ctx, "CITY", file_source(path, None, "utf-8"))["created"] == 1
    with ctx.transaction() as session:
        claimant = session.scalar(select(Reader.id).where(Reader.id != held.id))
    return holder, held, claimant


def test_a_corrected_name_makes_an_auto_merge_that_can_be_undone(ctx, clock, people,
                                                                tmp_path):
    holder, held, claimant = _claimant(ctx, clock, people, tmp_path)
    with ctx.transaction() as session:
        [pair] = session.scalars(select(DuplicatePair)).all()
        assert not pair.auto_merge  # the names disagree
    # Staff correct the imported name: it is the holder's, written in traditional script.
    with ctx.transaction() as session:
        reader = session.get(Reader, claimant)
        readers.update_reader(session, ctx, reader, ReaderUpdateIn(
            family_name=traditional(holder.family_name),
            given_name=traditional(holder.given_name)), actor=Actor.cli())
    with ctx.transaction() as session:
        [pair] = session.scalars(select(DuplicatePair)).all()
        assert pair.auto_merge and pair.state == PairState.OPEN
        assert pair.explanation["document"]["level"] == "equal"
    report = apply_auto_merges(ctx, actor=Actor.cli())
    assert len(report.merged) == 1 and report.left_open == []
    with ctx.transaction() as session:
        record = session.get(ReaderMerge, report.merged[0])
        assert record is not None and record.pair_id == pair.id
        # The registered reader is older: it survives, the import becomes the tombstone.
        assert (record.survivor_id, record.other_id) == (held.id, claimant)
        assert session.get(Reader, claimant).status == Status.MERGED
        assert session.get(DuplicatePair, pair.id).state == PairState.MERGED
    assert apply_auto_merges(ctx, actor=Actor.cli()).merged == []  # nothing left
    with ctx.transaction() as session:
        apply_unmerge(session, ctx, report.merged[0], actor=Actor.cli())
    with ctx.transaction() as session:
        assert session.get(Reader, claimant).status == Status.ACTIVE
        assert session.get(DuplicatePair, pair.id).state == PairState.UNMERGED
    assert apply_auto_merges(ctx, actor=Actor.cli()).merged == []  # never again


def test_review_pairs_are_not_merged_automatically(ctx, clock, people, tmp_path):
    _claimant(ctx, clock, people, tmp_path)
    assert apply_auto_merges(ctx, actor=Actor.cli()).merged == []
    with ctx.transaction() as session:
        assert session.scalar(select(ReaderMerge.id)) is None

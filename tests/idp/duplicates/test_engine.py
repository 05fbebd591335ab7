"""The batch engine: blocks, candidate pairs, decisions, skipped blocks."""

from __future__ import annotations

import datetime as dt
import random
import subprocess
import sys
from pathlib import Path

import pytest

from idp.duplicates.blocking import KIND_SPACES
from idp.duplicates.engine import MIN_RECORDS_TO_ESTIMATE, find_pairs
from idp.duplicates.features import Record
from idp.duplicates.parameters import DEFAULT_PARAMETERS, Parameters
from idp.models import KeyKind

from .helpers import ID_A, ID_A_15, ID_B, document_hash, mobile_hash, record

THRESHOLD = 4.0
PHONE = "+8613800138000"
ROOT = Path(__file__).resolve().parents[3]


def keys_of(records: list[Record], extra: list[tuple[str, str, int]] | None = None
            ) -> list[tuple[str, str, int]]:
    """Document, mobile and name-and-birth keys, as the key table would hold them."""
    keys: list[tuple[str, str, int]] = []
    held: set[str] = set()
    for index, r in enumerate(records):
        for digest in sorted(r.documents):
            keys.append(("doc" if digest not in held else "doc_claim", digest, index))
            held.add(digest)
        if r.mobile:
            keys.append(("mobile", r.mobile, index))
        if r.birth_date:
            born = r.birth_date.isoformat()
            keys.append(("py_birth", " ".join(r.name.pinyin) + born, index))
            keys.append(("sn_birth", r.name.family + born, index))
    return keys + (extra or [])


#: The prior of a small library: one pair in ten thousand is one person.
SMALL = Parameters(prior=1e-4)


def run(records: list[Record], keys: list[tuple[str, str, int]] | None = None,
        max_block: int = 50):
    return find_pairs(records, keys_of(records) if keys is None else keys, SMALL,
                      max_block=max_block, review_threshold=THRESHOLD)


def test_key_kinds_are_the_stored_ones() -> None:
    assert set(KIND_SPACES) == {kind.value for kind in KeyKind}


def test_a_claimed_number_meets_the_held_one() -> None:
    held = record("张", "伟", documents=(ID_A,), reader_id="a")
    claimed = record("張", "偉", documents=(ID_A_15,), reader_id="b")
    result = run([held, claimed])
    [pair] = result.pairs
    assert (pair.first, pair.second) == (0, 1)
    assert pair.match.auto_merge
    assert pair.kinds == ("doc", "py_birth", "sn_birth")
    assert result.counts.candidate_pairs == 1 and result.counts.auto_merge == 1


def test_pairs_are_ranked_by_weight_and_weak_ones_dropped() -> None:
    records = [
        record("张", "伟", dt.date(1980, 5, 17), reader_id="a"),
        record("张", "伟明", dt.date(1980, 5, 17), reader_id="b"),  # one character apart
        record("欧阳", "明华", dt.date(1971, 2, 3), sex="F", reader_id="c"),
        record("欧阳", "明华", dt.date(1971, 2, 3), sex="F", reader_id="d"),
        record("欧阳", "明", dt.date(1971, 2, 3), sex="M", reader_id="e"),
    ]
    # Other readers, so that a name seen twice is a rare name.
    records += [record("李", chr(0x5000 + n) + chr(0x6000 + n),
                       dt.date(1930, 1, 1) + dt.timedelta(days=37 * n), reader_id=f"f{n}")
                for n in range(500)]
    result = run(records)
    weights = [p.match.weight for p in result.pairs]
    assert weights == sorted(weights, reverse=True)
    assert (result.pairs[0].first, result.pairs[0].second) == (2, 3)
    assert all(p.match.weight >= THRESHOLD for p in result.pairs)
    assert result.counts.candidate_pairs > len(result.pairs)


def test_a_shared_phone_alone_is_compared_but_never_kept() -> None:
    family = [record("王", "强", dt.date(1950, 1, 1), mobile=PHONE, reader_id="a"),
              record("李", "丽", dt.date(1953, 2, 2), sex="F", mobile=PHONE, reader_id="b"),
              record("王", "军", dt.date(1979, 3, 3), mobile=PHONE, reader_id="c")]
    result = run(family)
    assert result.pairs == []
    assert result.counts.candidate_pairs == 3 and result.counts.uncorroborated == 3


def test_over_large_blocks_are_skipped_and_reported() -> None:
    desk = [record("王", chr(0x4E00 + n), dt.date(1950, 1, 1) + dt.timedelta(days=n * 400),
                   mobile=PHONE, reader_id=f"r{n}") for n in range(12)]
    result = run(desk, max_block=10)
    assert [(b.kind, b.size) for b in result.skipped] == [("mobile", 12)]
    assert result.counts.skipped_blocks == 1 and result.counts.candidate_pairs == 0


def test_repeated_keys_and_hash_collisions_cost_comparisons_not_evidence() -> None:
    a = record("张", "伟", documents=(ID_A,), reader_id="a")
    b = record("李", "强", documents=(ID_B,), reader_id="b")  # born the same day
    # Both readers under one document key (as a collision would put them), and the
    # same key twice for one reader.
    keys = [("doc", "same", 0), ("doc", "same", 0), ("doc_claim", "same", 1)]
    result = find_pairs([a, b], keys, DEFAULT_PARAMETERS, max_block=5,
                        review_threshold=-1000.0)
    [pair] = result.pairs
    assert pair.match.explanation["document"]["level"] == "different"
    assert not pair.match.auto_merge


def test_unknown_key_kinds_and_tiny_blocks_are_refused() -> None:
    with pytest.raises(ValueError, match="kind"):
        find_pairs([record("张", "伟")], [("email", "x", 0)], None, max_block=5,
                   review_threshold=THRESHOLD)
    with pytest.raises(ValueError, match="max_block"):
        find_pairs([], [], None, max_block=1, review_threshold=THRESHOLD)


def test_without_parameters_they_are_estimated_and_returned() -> None:
    pair = [record("张", "伟", documents=(ID_A,), mobile=PHONE, reader_id="a"),
            record("张", "伟", documents=(ID_A,), reader_id="b")]
    few = find_pairs(pair, keys_of(pair), None, max_block=5, review_threshold=THRESHOLD)
    assert few.parameters == DEFAULT_PARAMETERS  # too few readers to estimate from
    assert few.pairs[0].match.auto_merge
    filler = [record("李", chr(0x5000 + n % 2000) + chr(0x6000 + n // 2000),
                     dt.date(1930, 1, 1) + dt.timedelta(days=11 * n), reader_id=f"f{n}")
              for n in range(MIN_RECORDS_TO_ESTIMATE)]
    records = pair + filler
    many = find_pairs(records, keys_of(records), None, max_block=5,
                      review_threshold=THRESHOLD)
    assert many.parameters.provenance["session.document"] == "too few pairs"
    assert many.parameters.provenance["m.name"] == "default"
    assert many.parameters.provenance["u"].endswith("random pairs and value frequencies")
    assert many.pairs[0].match.auto_merge


def test_hashes_in_records_are_the_registration_hashes() -> None:
    r = record("张", "伟", documents=(ID_A_15,), mobile=PHONE)
    assert r.documents == {document_hash(ID_A)} and r.mobile == mobile_hash(PHONE)


def test_the_engine_needs_neither_flask_nor_sqlalchemy() -> None:
    code = ("import idp.duplicates.engine, sys; "
            "assert not [m for m in sys.modules if m.split('.')[0] in ('flask', 'sqlalchemy')]")
    result = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True,
                            text=True, check=False)
    assert result.returncode == 0, result.stderr


def test_the_order_of_keys_does_not_matter() -> None:
    rng = random.Random(5)
    records = [record(rng.choice("王李张"), rng.choice(["伟", "玮", "强", "伟明"]),
                      dt.date(1980, 5, rng.randint(16, 18)), sex=rng.choice(["F", "M"]),
                      documents=(rng.choice([ID_A, ID_B]),) if rng.random() < 0.5 else (),
                      mobile=rng.choice([PHONE, None]), reader_id=f"r{n}")
               for n in range(40)]
    keys = keys_of(records)
    first = run(records, keys)
    rng.shuffle(keys)
    again = run(records, keys)
    assert [(p.first, p.second, p.match.weight) for p in first.pairs] == [
        (p.first, p.second, p.match.weight) for p in again.pairs]
    assert first.counts == again.counts

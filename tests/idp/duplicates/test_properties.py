"""Properties of the match model over arbitrary input."""

from __future__ import annotations

import datetime as dt

from hypothesis import given, settings
from hypothesis import strategies as st

from idp.duplicates.comparisons import compare
from idp.duplicates.features import MatchName, Record, match_name, pinyin_of
from idp.duplicates.model import score

HAN = st.characters(min_codepoint=0x4E00, max_codepoint=0x4FFF)
NAME_TEXT = st.one_of(st.text(HAN, max_size=4), st.text(max_size=8),
                      st.sampled_from(["张", "張", "伟", "偉", "欧阳", "Zhang", "wei", ""]))
DIGESTS = st.sampled_from(["d1", "d2", "d3"])


@st.composite
def records(draw: st.DrawFn) -> Record:
    return Record(
        reader_id="r",
        name=match_name(draw(NAME_TEXT), draw(NAME_TEXT)),
        birth_date=draw(st.one_of(st.none(), st.dates(dt.date(1900, 1, 1), dt.date(2026, 1, 1)))),
        sex=draw(st.sampled_from([None, "F", "M"])),
        documents=frozenset(draw(st.lists(DIGESTS, max_size=2))),
        mobile=draw(st.sampled_from([None, "m1", "m2"])),
    )


@given(st.text(), st.text())
@settings(max_examples=300)
def test_matching_form_of_any_text_is_well_formed(family: str, given_name: str) -> None:
    name = match_name(family, given_name)
    assert isinstance(name, MatchName)
    assert not any(ch.isspace() for ch in name.full)
    assert "".join(name.pinyin) == "".join(pinyin_of(name.full))
    # Matching form is idempotent: normalising it again changes nothing.
    assert match_name(name.family, name.given) == name


@given(records(), records())
@settings(max_examples=300)
def test_score_is_symmetric(a: Record, b: Record) -> None:
    ab, ba = score(a, b), score(b, a)
    assert compare(a, b) == compare(b, a)
    assert ab.weight == ba.weight
    assert ab.auto_merge == ba.auto_merge
    assert ab.explanation == ba.explanation


@given(records())
def test_a_record_merges_with_itself_only_when_it_has_a_document(a: Record) -> None:
    match = score(a, a)
    assert match.auto_merge == (bool(a.documents) and bool(a.name.full))


@given(records(), records())
def test_automatic_merges_always_share_a_document(a: Record, b: Record) -> None:
    if score(a, b).auto_merge:
        assert a.documents & b.documents

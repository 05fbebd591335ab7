"""Mobile numbers: E.164 normalisation with phonenumbers, mobiles only."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from idp.errors import InvalidMobileNumber
from idp.identity.phone import mask_mobile, normalise_mobile
from idp.synthetic import IdentityGenerator

E164 = "+8613812345678"


def refused(text: str, *, default_region: str = "CN") -> str:
    with pytest.raises(InvalidMobileNumber) as caught:
        normalise_mobile(text, default_region=default_region)
    error = caught.value
    assert error.field == "mobile"
    assert error.code == "invalid_mobile"
    digits = "".join(c for c in text if c.isdigit())
    if len(digits) >= 5:
        assert digits not in str(error), "the number must never appear in the message"
    return error.message


@pytest.mark.parametrize(
    "written",
    [
        "13812345678",
        " 13812345678 ",
        "138 1234 5678",
        "138-1234-5678",
        "138.1234.5678",
        "(138) 1234 5678",
        "+8613812345678",
        "+86 138 1234 5678",
        "+86-138-1234-5678",
        "(+86) 138 1234 5678",
        "0086 138 1234 5678",
        "008613812345678",
        "(0086) 138-1234-5678",
        "１３８１２３４５６７８",  # full-width digits
        "＋８６ １３８ １２３４ ５６７８",  # full-width plus and digits
        "\u3000138 1234 5678\u3000",  # ideographic spaces
    ],
)
def test_formats_of_one_mobile(written: str) -> None:
    assert normalise_mobile(written) == E164


def test_double_zero_prefix_works_whatever_the_default_region() -> None:
    # The US international prefix is 011, so "00" only works because we read it as "+".
    assert normalise_mobile("0086 138 1234 5678", default_region="US") == E164


def test_other_regions_need_an_international_prefix() -> None:
    assert normalise_mobile("+852 5123 4567") == "+85251234567"
    assert normalise_mobile("00852 5123 4567") == "+85251234567"
    assert normalise_mobile("+44 7911 123456") == "+447911123456"
    assert normalise_mobile("+81 90-1234-5678") == "+819012345678"
    assert refused("5123 4567").startswith("is not a valid phone number")
    assert "+ or 00" in refused("5123 4567")
    assert normalise_mobile("5123 4567", default_region="HK") == "+85251234567"


def test_fixed_line_or_mobile_accepted_where_the_plan_cannot_tell() -> None:
    # North American numbers do not distinguish mobiles from fixed lines.
    assert normalise_mobile("+1 201-555-0123") == "+12015550123"


@pytest.mark.parametrize(
    "fixed",
    [
        "010 6552 9988",  # Beijing
        "010-65529988",
        "+86 21 6123 4567",  # Shanghai
        "021 6123 4567",
        "0755-8888 1234",  # Shenzhen
        "+44 20 7946 0958",  # London
    ],
)
def test_fixed_lines_are_refused(fixed: str) -> None:
    assert refused(fixed) == "is a fixed-line number, not a mobile"


@pytest.mark.parametrize(
    ("number", "kind"),
    [("+86 800 123 4567", "toll-free"), ("+86 400 123 4567", "shared-cost")],
)
def test_other_special_numbers_are_refused(number: str, kind: str) -> None:
    assert refused(number) == f"is a {kind} number, not a mobile"


@pytest.mark.parametrize(
    "number", ["+86 123 4567 8901", "1381234567", "138123456789", "12345", "+86 100 0000 0000"]
)
def test_invalid_numbers(number: str) -> None:
    assert refused(number).startswith("is not a valid phone number")


def test_too_long() -> None:
    assert refused("+86 1381234567890123") == "too long"
    # Over 32 characters is refused before parsing, even if it would parse.
    padded = " " * 30 + "13812345678"
    assert refused(padded) == "too long (more than 32 characters)"
    assert normalise_mobile(" " * 21 + "13812345678") == E164  # exactly 32


def test_too_short() -> None:
    assert refused("+86 138") == "too short"


@pytest.mark.parametrize(
    "text",
    [
        "138 1234 567a",
        "1-800-FLOWERS",
        "13812345678 ext 12",
        "13812345678#1",
        "+86+13812345678",
        "138/1234/5678",
        "١٣٨١٢٣٤٥٦٧٨",  # Arabic-Indic digits
    ],
)
def test_only_digits_and_separators(text: str) -> None:
    assert refused(text).startswith("may contain only digits")


@pytest.mark.parametrize("text", ["", "   ", "\u3000"])
def test_empty(text: str) -> None:
    assert refused(text) == "is empty"


@pytest.mark.parametrize("text", ["-", "()", "+", "1", "+0"])
def test_not_a_number(text: str) -> None:
    assert refused(text).startswith(("is not a phone number", "may contain only"))


def test_unknown_default_region_is_a_programming_error() -> None:
    with pytest.raises(ValueError, match="region"):
        normalise_mobile(E164, default_region="XX")


@pytest.mark.parametrize(
    ("e164", "masked"),
    [
        ("+8613812345678", "+86 138****5678"),
        ("+85251234567", "+852 51****67"),
        ("+12015550123", "+1 201****123"),
        ("+447911123456", "+44 791****456"),
    ],
)
def test_mask_mobile(e164: str, masked: str) -> None:
    assert mask_mobile(e164) == masked


@pytest.mark.parametrize("text", ["13812345678", "", "+", "hello"])
def test_mask_needs_e164(text: str) -> None:
    with pytest.raises(InvalidMobileNumber):
        mask_mobile(text)


# --- properties ----------------------------------------------------------------------

FULL_WIDTH = str.maketrans("0123456789+()-", "０１２３４５６７８９＋（）－")


@st.composite
def written_forms(draw: st.DrawFn) -> tuple[str, str]:
    """A generated mobile and one way a person might write it."""
    e164 = IdentityGenerator(draw(st.integers(0, 2**32))).mobile()
    national = e164[3:]
    prefix = draw(st.sampled_from(["", "+86", "+86 ", "0086", "0086 ", "(+86) ", "+86-"]))
    separator = draw(st.sampled_from(["", " ", "-", ".", "  "]))
    grouping = draw(st.sampled_from([(3, 4, 4), (3, 8), (11,), (4, 3, 4)]))
    parts, start = [], 0
    for size in grouping:
        parts.append(national[start : start + size])
        start += size
    body = separator.join(parts)
    if draw(st.booleans()) and separator in ("", " "):
        body = f"({body[:3]}){body[3:]}"
    text = prefix + body
    if draw(st.booleans()):
        text = text.translate(FULL_WIDTH)
    padding = draw(st.sampled_from(["", " ", "\t", "\u3000"]))
    return e164, padding + text + padding


@given(written_forms())
@settings(deadline=None)
def test_every_written_form_normalises_to_one_value(case: tuple[str, str]) -> None:
    e164, written = case
    assert normalise_mobile(written) == e164
    assert normalise_mobile(e164) == e164


@settings(max_examples=300, deadline=None)
@given(st.text())
def test_arbitrary_text_raises_only_the_typed_error(text: str) -> None:
    try:
        e164 = normalise_mobile(text)
    except InvalidMobileNumber:
        return
    assert e164.startswith("+")


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet="0123456789+-(). ０１８６", max_size=24))
def test_near_miss_text_raises_only_the_typed_error(text: str) -> None:
    try:
        e164 = normalise_mobile(text)
    except InvalidMobileNumber:
        return
    assert e164.startswith("+") and e164[1:].isdigit()
    assert normalise_mobile(e164) == e164

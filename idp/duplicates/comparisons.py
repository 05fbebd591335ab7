"""The five comparisons of the match model and their levels.

Each comparison maps a pair of records to one level, strongest agreement first and
``missing`` (either side has no value) last. A missing level carries no evidence
either way: its weight is 0 and it has no m or u probability (Splink's "null level").
Levels are small integers so that a pair's comparison vector packs into one int
(:func:`encode`) and the estimator can count patterns instead of pairs.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from rapidfuzz.distance import OSA, Levenshtein

from .features import MatchName, Record


@dataclass(frozen=True, slots=True)
class Comparison:
    name: str
    levels: tuple[str, ...]  # the last one is always "missing"

    @property
    def missing(self) -> int:
        return len(self.levels) - 1

    def level(self, label: str) -> int:
        return self.levels.index(label)


NAME = Comparison("name", ("exact", "pinyin", "close", "other", "missing"))
BIRTH_DATE = Comparison("birth_date", ("exact", "close", "other", "missing"))
SEX = Comparison("sex", ("agree", "disagree", "missing"))
DOCUMENT = Comparison("document", ("equal", "different", "missing"))
MOBILE = Comparison("mobile", ("equal", "different", "missing"))

#: In the order of a comparison vector.
COMPARISONS: tuple[Comparison, ...] = (NAME, BIRTH_DATE, SEX, DOCUMENT, MOBILE)
BY_NAME = {c.name: c for c in COMPARISONS}
I_NAME, I_BIRTH, I_SEX, I_DOCUMENT, I_MOBILE = range(len(COMPARISONS))

N_EXACT, N_PINYIN, N_CLOSE, N_OTHER, N_MISSING = range(5)
B_EXACT, B_CLOSE, B_OTHER, B_MISSING = range(4)
S_AGREE, S_DISAGREE, S_MISSING = range(3)
D_EQUAL, D_DIFFERENT, D_MISSING = range(3)
M_EQUAL, M_DIFFERENT, M_MISSING = range(3)

Levels = tuple[int, int, int, int, int]

_RADIX = tuple(len(c.levels) for c in COMPARISONS)
#: How many distinct comparison vectors there are (5 * 4 * 3 * 3 * 3 = 540).
PATTERNS = _RADIX[0] * _RADIX[1] * _RADIX[2] * _RADIX[3] * _RADIX[4]


def encode(levels: Levels) -> int:
    code = 0
    for level, radix in zip(levels, _RADIX, strict=True):
        code = code * radix + level
    return code


def decode(code: int) -> Levels:
    out = [0] * len(_RADIX)
    for position in range(len(_RADIX) - 1, -1, -1):
        code, out[position] = divmod(code, _RADIX[position])
    return (out[0], out[1], out[2], out[3], out[4])


def name_level(a: MatchName, b: MatchName) -> int:
    """exact matching form / same pinyin / one character or syllable apart, or family
    and given name swapped / other.

    Pinyin is compared joined, so a name typed in Latin letters ("Zhang Wei") meets
    its Han form (张伟). "One apart" is an optimal-string-alignment distance of 1 on
    the characters (a typo, a dropped or transposed character) or a Levenshtein
    distance of 1 on the syllables; the longer name must have two units, so two
    different one-character names are not "close".
    """
    fa = a.family + a.given
    fb = b.family + b.given
    if not fa or not fb:
        return N_MISSING
    if fa == fb:
        return N_EXACT
    if "".join(a.pinyin) == "".join(b.pinyin):
        return N_PINYIN
    if a.given and b.given and a.family == b.given and a.given == b.family:
        return N_CLOSE
    if (max(len(fa), len(fb)) >= 2 and abs(len(fa) - len(fb)) <= 1
            and OSA.distance(fa, fb, score_cutoff=1) <= 1):
        return N_CLOSE
    pa, pb = a.pinyin, b.pinyin
    if (max(len(pa), len(pb)) >= 2 and abs(len(pa) - len(pb)) <= 1
            and Levenshtein.distance(pa, pb, score_cutoff=1) <= 1):
        return N_CLOSE
    return N_OTHER


def names_agree(a: MatchName, b: MatchName, level: int) -> bool:
    """The name condition of an automatic merge: the same matching form, or the same
    pinyin under the same family name (a homophone given name, 张伟/张玮)."""
    return level == N_EXACT or (level == N_PINYIN and a.family == b.family)


def birth_level(a: dt.date | None, b: dt.date | None) -> int:
    """exact / one of year, month, day differs, or day and month transposed / other."""
    if a is None or b is None:
        return B_MISSING
    if a == b:
        return B_EXACT
    differing = (a.year != b.year) + (a.month != b.month) + (a.day != b.day)
    if differing == 1 or (a.year == b.year and a.month == b.day and a.day == b.month):
        return B_CLOSE
    return B_OTHER


def compare(a: Record, b: Record) -> Levels:
    """The comparison vector of two records; symmetric in ``a`` and ``b``."""
    sex = S_MISSING if a.sex is None or b.sex is None else (
        S_AGREE if a.sex == b.sex else S_DISAGREE)
    if not a.documents or not b.documents:
        document = D_MISSING
    else:
        document = D_DIFFERENT if a.documents.isdisjoint(b.documents) else D_EQUAL
    if a.mobile is None or b.mobile is None:
        mobile = M_MISSING
    else:
        mobile = M_EQUAL if a.mobile == b.mobile else M_DIFFERENT
    return (name_level(a.name, b.name), birth_level(a.birth_date, b.birth_date), sex,
            document, mobile)

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
_R1, _R2, _R3, _R4 = _RADIX[1:]
#: How many distinct comparison vectors there are (5 * 4 * 3 * 3 * 3 = 540).
PATTERNS = _RADIX[0] * _R1 * _R2 * _R3 * _R4


def encode(levels: Levels) -> int:
    name, birth, sex, document, mobile = levels
    return (((name * _R1 + birth) * _R2 + sex) * _R3 + document) * _R4 + mobile


def decode(code: int) -> Levels:
    code, mobile = divmod(code, _R4)
    code, document = divmod(code, _R3)
    code, sex = divmod(code, _R2)
    name, birth = divmod(code, _R1)
    return (name, birth, sex, document, mobile)


def name_level(a: MatchName, b: MatchName) -> int:
    """exact matching form / same pinyin / one character or syllable apart, or family
    and given name swapped / other.

    Pinyin is compared joined, so a name typed in Latin letters ("Zhang Wei") meets
    its Han form (张伟). "One apart" is an optimal-string-alignment distance of 1 on
    the characters (a typo, a dropped or transposed character) or a Levenshtein
    distance of 1 on the syllables; the longer name must have two units, so two
    different one-character names are not "close".
    """
    fa, fb = a.full, b.full
    if not fa or not fb:
        return N_MISSING
    if fa == fb:
        return N_EXACT
    if a.sound == b.sound:
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
    name_a, name_b = a.name, b.name
    if name_a.full == name_b.full:  # the common case in a block, decided at once
        name = N_EXACT if name_a.full else N_MISSING
    else:
        name = name_level(name_a, name_b)
    born_a, born_b = a.birth_date, b.birth_date
    birth = B_EXACT if born_a == born_b and born_a is not None else birth_level(born_a, born_b)
    sex_a, sex_b = a.sex, b.sex
    sex = S_MISSING if sex_a is None or sex_b is None else (
        S_AGREE if sex_a == sex_b else S_DISAGREE)
    docs_a, docs_b = a.documents, b.documents
    if not docs_a or not docs_b:
        document = D_MISSING
    else:
        document = D_DIFFERENT if docs_a.isdisjoint(docs_b) else D_EQUAL
    mobile_a, mobile_b = a.mobile, b.mobile
    if mobile_a is None or mobile_b is None:
        mobile = M_MISSING
    else:
        mobile = M_EQUAL if mobile_a == mobile_b else M_DIFFERENT
    return (name, birth, sex, document, mobile)

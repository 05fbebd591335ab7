"""What the match model compares, derived from a reader's stored fields.

Names are compared in a matching form only (the stored names stay as written):
NFKC, without spaces or punctuation, traditional characters turned simplified
(OpenCC ``t2s``), plus toneless pinyin per character so homophone spellings
(张伟 / 张玮) meet. Identity documents and mobiles appear only as keyed hashes.
"""

from __future__ import annotations

import datetime as dt
import functools
import unicodedata
from dataclasses import dataclass, field

import opencc
from pypinyin import lazy_pinyin

_T2S = opencc.OpenCC("t2s.json")


@dataclass(frozen=True, slots=True)
class MatchName:
    """A name in matching form: ``full`` = family + given, simplified, compact."""

    family: str
    given: str
    pinyin: tuple[str, ...]  # one toneless syllable (or Latin word) per unit of ``full``
    # Derived once here rather than at every comparison: a batch scan compares a
    # million names several times each.
    full: str = field(init=False, repr=False, compare=False)
    #: The pinyin joined: "Zhang Wei" typed in letters sounds like 张伟.
    sound: str = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "full", self.family + self.given)
        object.__setattr__(self, "sound", "".join(self.pinyin))


@dataclass(frozen=True, slots=True)
class Record:
    """One reader as the match model sees it."""

    reader_id: str
    name: MatchName
    birth_date: dt.date | None
    sex: str | None
    #: Keyed hashes of the reader's valid resident-ID numbers (and ones claimed at import).
    documents: frozenset[str] = field(default_factory=frozenset)
    #: Keyed hash of the E.164 mobile.
    mobile: str | None = None


#: Dates that systems put in when they had no birth date: 1900-01-01 is the first day
#: GB 11643-1999 numbers can carry and the usual filler of library imports. Matching
#: treats them as missing, so two readers are not "born the same day" by filler.
PLACEHOLDER_BIRTH_DATES = frozenset({dt.date(1900, 1, 1)})


def matching_birth_date(birth_date: dt.date | None) -> dt.date | None:
    """The birth date as the match model compares it (a placeholder is no date)."""
    return None if birth_date in PLACEHOLDER_BIRTH_DATES else birth_date


def _compact(text: str) -> str:
    text = unicodedata.normalize("NFKC", text)
    if not text.isalnum():  # most names are letters only: skip the per-character pass
        text = "".join(ch for ch in text if ch.isalnum())
    return text.casefold()


# Sized for a province: given names repeat far more than whole names do.
@functools.lru_cache(maxsize=262144)
def _simplified(text: str) -> str:
    return str(_T2S.convert(text)) if text else ""


@functools.lru_cache(maxsize=65536)
def _syllable(char: str) -> str:
    if not ("\u3400" <= char <= "\u9fff" or "\uf900" <= char <= "\ufaff"):
        return char
    # The first reading of a character on its own: the same character always gives
    # the same syllable, so equal names always agree on pinyin.
    return lazy_pinyin(char)[0]


def pinyin_of(text: str) -> tuple[str, ...]:
    """Toneless pinyin per Han character; runs of other letters and digits stay whole."""
    out: list[str] = []
    latin = ""
    for char in text:
        if "\u3400" <= char <= "\u9fff" or "\uf900" <= char <= "\ufaff":
            if latin:
                out.append(latin)
                latin = ""
            out.append(_syllable(char))
        else:
            latin += char
    if latin:
        out.append(latin)
    return tuple(out)


@functools.lru_cache(maxsize=262144)
def match_name(family_name: str, given_name: str) -> MatchName:
    family = _simplified(_compact(family_name))
    given = _simplified(_compact(given_name))
    return MatchName(family, given, pinyin_of(family + given))

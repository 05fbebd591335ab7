"""The match model: Fellegi-Sunter weights over five comparisons, and the decision.

Fellegi and Sunter ("A Theory for Record Linkage", JASA 64, 1969) score a pair by
the likelihood ratio of its comparison vector under "same person" against
"different people". Assuming the comparisons independent given the class, the log
ratio is a sum: the **match weight** of a pair is

    w = log2(prior / (1 - prior)) + sum over comparisons c of log2(m[c][l] / u[c][l])

where ``l`` is the level the pair shows on ``c`` (see :mod:`.comparisons` for the
levels of name, birth date, sex, resident-ID hash and mobile hash), ``m`` and ``u``
the level's probabilities among pairs of one person and of two people, and
``prior`` the probability that two random readers are one person. A missing value
adds 0. ``2**w / (1 + 2**w)`` is then the probability of a match.

**Term frequencies.** Agreeing on 王伟 says less than agreeing on a rare name. For
exact name agreement, ``u`` is replaced by the frequency ``f`` of that very name
among the records scanned (the chance a random reader carries it), so the name adds
``log2(m[name][exact] / max(f, tf_floor))`` (Winkler's frequency-based matching;
Splink's term-frequency adjustment does the same).

**A phone number alone is never enough** (DESIGN "Duplicates and merge"): families
share phones and carriers reissue numbers. An equal mobile counts only as
corroboration: when neither name (exact or pinyin), nor birth date (exact or close),
nor resident ID agrees, the mobile adds 0 and the pair's explanation says so; the
batch engine does not even keep such a pair.

**Decision.** A pair may be merged without review only when both readers hold the
same valid resident-ID hash *and* their names agree (the same matching form, or the
same pinyin under the same family name) *and* their birth dates do not contradict
the number: a resident-ID number encodes its holder's birth date, so one number with
wholly different birth dates was typed for somebody else (a child registered with a
parent's card, who may well carry a parent's name). Every other pair at or above the review
threshold goes to the review queue, ranked by weight. The weight never overrides the
rule in either direction: a high weight without the document is reviewed, and an
agreeing document with a disagreeing name is reviewed.

Parameters are estimated from the data by :func:`.estimate.estimate` (u from random
pairs and name frequencies, m by expectation maximisation over blocked pairs) or
configured (:class:`.parameters.Parameters`).
"""

from __future__ import annotations

import math
import operator
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from .comparisons import (
    B_CLOSE,
    B_EXACT,
    B_OTHER,
    COMPARISONS,
    D_EQUAL,
    I_BIRTH,
    I_DOCUMENT,
    I_MOBILE,
    I_NAME,
    M_EQUAL,
    N_EXACT,
    N_PINYIN,
    Levels,
    compare,
    names_agree,
)
from .features import Record
from .parameters import DEFAULT_PARAMETERS, Parameters

_FULL_NAME = operator.attrgetter("name.full")


class NameFrequencies:
    """How often each name (matching form) occurs among a set of records."""

    __slots__ = ("_counts", "_total")

    def __init__(self, counts: Counter[str], total: int):
        self._counts = counts
        self._total = total

    @classmethod
    def of(cls, records: Iterable[Record]) -> NameFrequencies:
        counts = Counter(map(_FULL_NAME, records))
        counts.pop("", None)
        return cls(counts, sum(counts.values()))

    @property
    def total(self) -> int:
        return self._total

    def frequency(self, full: str) -> float | None:
        count = self._counts.get(full)
        return count / self._total if count else None

    def agreement(self) -> float:
        """The chance that two random distinct records carry the same name."""
        n = self._total
        if n < 2:
            return 0.0
        return sum(c * (c - 1) for c in self._counts.values()) / (n * (n - 1))


@dataclass(frozen=True, slots=True)
class Match:
    """The model's verdict on one pair; holds no personal data."""

    weight: float
    auto_merge: bool
    levels: Levels
    #: log2(m/u) per comparison, as counted (0 for missing and for a capped mobile).
    contributions: tuple[float, ...]
    prior_weight: float
    #: The name weight used the name's own frequency.
    frequency_adjusted: bool = False
    #: The mobile agreed but nothing else did, so it did not count.
    mobile_capped: bool = False

    @property
    def probability(self) -> float:
        if self.weight > 60:
            return 1.0
        odds = math.pow(2.0, self.weight)
        return odds / (1.0 + odds)

    @property
    def explanation(self) -> dict[str, Any]:
        """Per comparison: the level seen and the weight it added (JSON-ready)."""
        out: dict[str, Any] = {"prior": round(self.prior_weight, 3)}
        for index, comparison in enumerate(COMPARISONS):
            entry: dict[str, Any] = {"level": comparison.levels[self.levels[index]],
                                     "weight": round(self.contributions[index], 3)}
            if index == I_NAME and self.frequency_adjusted:
                entry["frequency_adjusted"] = True
            if index == I_MOBILE and self.mobile_capped:
                entry["capped"] = "nothing else agrees"
            out[comparison.name] = entry
        out["total"] = round(self.weight, 3)
        return out


def corroborated(levels: Levels) -> bool:
    """Something that sets a person apart from their family agrees besides the mobile
    (what lets an equal mobile count). A name one character apart is not enough:
    in a family it is the rule (王强 and his son 王军; siblings 王伟明 and 王伟华)."""
    name, birth, _, document, _ = levels
    return name <= N_PINYIN or birth in (B_EXACT, B_CLOSE) or document == D_EQUAL


def may_merge(levels: Levels) -> bool:
    """The decision rule short of the family-name check of a pinyin match."""
    return (levels[I_DOCUMENT] == D_EQUAL and levels[I_NAME] in (N_EXACT, N_PINYIN)
            and levels[I_BIRTH] != B_OTHER)


class MatchModel:
    """Scores pairs with one set of parameters and, optionally, name frequencies."""

    def __init__(self, parameters: Parameters = DEFAULT_PARAMETERS,
                 frequencies: NameFrequencies | None = None):
        self.parameters = parameters
        self.frequencies = frequencies
        self.weights = parameters.weights()
        self.prior_weight = parameters.prior_weight
        self._m_exact = parameters.m["name"]["exact"]
        self._tf_floor = parameters.tf_floor

    def name_weight(self, level: int, full: str) -> tuple[float, bool]:
        """The name's contribution and whether its own frequency set it."""
        if level == N_EXACT and self.frequencies is not None:
            frequency = self.frequencies.frequency(full)
            if frequency is not None:
                return math.log2(self._m_exact / max(frequency, self._tf_floor)), True
        return self.weights[I_NAME][level], False

    def _contributions(self, levels: Levels) -> tuple[list[float], bool]:
        contributions = [table[level] for table, level in zip(self.weights, levels, strict=True)]
        capped = levels[I_MOBILE] == M_EQUAL and not corroborated(levels)
        if capped:
            contributions[I_MOBILE] = 0.0
        return contributions, capped

    def weight_besides_name(self, levels: Levels) -> float:
        """The prior plus every comparison but the name (for weighing in bulk)."""
        contributions, _ = self._contributions(levels)
        return self.prior_weight + math.fsum(contributions[I_NAME + 1:])

    def match(self, a: Record, b: Record, levels: Levels | None = None) -> Match:
        if levels is None:
            levels = compare(a, b)
        contributions, capped = self._contributions(levels)
        contributions[I_NAME], adjusted = self.name_weight(levels[I_NAME], a.name.full)
        auto = may_merge(levels) and names_agree(a.name, b.name, levels[I_NAME])
        return Match(weight=self.prior_weight + math.fsum(contributions), auto_merge=auto,
                     levels=levels, contributions=tuple(contributions),
                     prior_weight=self.prior_weight, frequency_adjusted=adjusted,
                     mobile_capped=capped)

    score = match


def score(a: Record, b: Record, parameters: Parameters = DEFAULT_PARAMETERS) -> Match:
    """One pair under ``parameters``, without name frequencies (online use)."""
    return MatchModel(parameters).match(a, b)

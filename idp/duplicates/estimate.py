"""Estimating the match model's parameters from the readers themselves.

The recipe is Splink's (Linacre et al., "Splink: Free software for probabilistic
record linkage at scale", IJPDS 7(3), 2022):

* **u** from random pairs of records, which are almost all two different people:
  the share of each level among ``sample_pairs`` uniformly drawn pairs. The
  exact-agreement levels of name, birth date and mobile, and the homophone level of
  the name, are computed instead from value frequencies (the chance two random
  records share a value, sum of c(c-1) / n(n-1)), which is exact and catches what a
  sample is too small to see.
  A level the sample never shows keeps its configured value, and so does a shared
  resident-ID hash: the only random pairs that share one are duplicates.
* **m** by expectation maximisation (Dempster, Laird and Rubin, 1977) over the
  blocked candidate pairs, u held fixed, in two training sessions so that no
  comparison is trained on pairs selected for agreeing on it: pairs found by the
  resident-ID key train name, birth date, sex and mobile; pairs found by the
  pinyin-and-birth-date key train the document, sex and mobile. Where both train a
  comparison the estimates are averaged. One pseudo-pair at the configured m keeps a
  level that never occurs from a probability of zero.
* **prior** from the same sessions: the expected matches among the document pairs,
  divided by the share of matches that share a document (from the name session),
  is the number of matching pairs overall; over n(n-1)/2 pairs, the prior.

A session with too few pairs, too few expected matches, or without convergence is
ignored, and what it would have trained keeps its configured value; the result's
``provenance`` says which values were estimated and how.
"""

from __future__ import annotations

import operator
import random
from collections import Counter
from collections.abc import Collection, Hashable, Iterable, Mapping, Sequence
from dataclasses import dataclass

from .comparisons import (
    B_EXACT,
    COMPARISONS,
    D_EQUAL,
    I_BIRTH,
    I_DOCUMENT,
    I_MOBILE,
    I_NAME,
    I_SEX,
    M_EQUAL,
    N_EXACT,
    N_PINYIN,
    compare,
    encode,
)
from .em import EmResult, Probabilities, expectation_maximisation
from .features import Record
from .model import NameFrequencies
from .parameters import DEFAULT_PARAMETERS, Parameters

DOCUMENT_KINDS = frozenset({"doc", "doc_claim"})
NAME_BIRTH_KINDS = frozenset({"py_birth"})


@dataclass(frozen=True)
class Session:
    """Pairs found by ``kinds`` train the comparisons ``trains``."""

    name: str
    kinds: frozenset[str]
    trains: tuple[int, ...]


DOCUMENT_SESSION = Session("document", DOCUMENT_KINDS, (I_NAME, I_BIRTH, I_SEX, I_MOBILE))
NAME_BIRTH_SESSION = Session("name_birth", NAME_BIRTH_KINDS, (I_SEX, I_DOCUMENT, I_MOBILE))
SESSIONS = (DOCUMENT_SESSION, NAME_BIRTH_SESSION)

MIN_SESSION_PAIRS = 20
#: Enough to see the levels left to sampling (about 1 pair in 200) a few hundred times.
SAMPLE_PAIRS = 100_000
MIN_EXPECTED_MATCHES = 10.0


def _table(parameters: Parameters, which: str) -> Probabilities:
    table = parameters.m if which == "m" else parameters.u
    return [[table[c.name][level] for level in c.levels[:-1]] for c in COMPARISONS]


def _named(values: Probabilities) -> dict[str, dict[str, float]]:
    return {c.name: dict(zip(c.levels[:-1], row, strict=True))
            for c, row in zip(COMPARISONS, values, strict=True)}


def _agreement(values: Iterable[Hashable]) -> float | None:
    """The chance that two distinct random records share a value (None and "" are no
    value): sum of c(c-1) over n(n-1)."""
    counts = Counter(values)
    counts.pop(None, None)
    counts.pop("", None)
    n = counts.total()
    if n < 2:
        return None
    shared = sum(c * (c - 1) for c in counts.values())
    return shared / (n * (n - 1)) if shared else None


def estimate_u(records: Sequence[Record], frequencies: NameFrequencies, defaults: Parameters,
               *, sample_pairs: int, seed: int) -> tuple[Probabilities, dict[str, str]]:
    u = _table(defaults, "u")
    n = len(records)
    if n < 2 or sample_pairs <= 0:
        return u, {"u": "default"}
    rng = random.Random(seed)
    counts = [[0] * len(c.levels) for c in COMPARISONS]
    for _ in range(sample_pairs):
        i = rng.randrange(n)
        j = rng.randrange(n - 1)
        levels = compare(records[i], records[j + (j >= i)])
        for index, level in enumerate(levels):
            counts[index][level] += 1
    same_name = frequencies.agreement() or None
    same_sound = _agreement(map(operator.attrgetter("name.sound"), records))
    homophone = same_sound - same_name if same_sound and same_name else None
    pinned_levels = {
        I_NAME: {N_EXACT: same_name, N_PINYIN: homophone},
        I_BIRTH: {B_EXACT: _agreement(map(operator.attrgetter("birth_date"), records))},
        I_MOBILE: {M_EQUAL: _agreement(map(operator.attrgetter("mobile"), records))},
    }
    # A random sample cannot tell a number shared by two people from a duplicate
    # (the only pairs it finds sharing one are duplicates): that u stays configured.
    counts[I_DOCUMENT][D_EQUAL] = 0
    for index in range(len(COMPARISONS)):
        observed = counts[index][:-1]
        seen = sum(observed)
        if seen == 0:
            continue
        raw = [c / seen if c else default for c, default in zip(observed, u[index], strict=True)]
        pinned = {level: value for level, value in pinned_levels.get(index, {}).items()
                  if value is not None and 0.0 < value < 1.0}
        if sum(pinned.values()) >= 1.0:
            pinned = {}
        rest = sum(v for level, v in enumerate(raw) if level not in pinned)
        scale = (1.0 - sum(pinned.values())) / rest
        u[index] = [pinned.get(level, v * scale) for level, v in enumerate(raw)]
    return u, {"u": f"{sample_pairs} random pairs and value frequencies"}


def estimate_from_patterns(records: Sequence[Record], patterns: Mapping[str, Counter[int]],
                           frequencies: NameFrequencies, *,
                           defaults: Parameters = DEFAULT_PARAMETERS,
                           sample_pairs: int = SAMPLE_PAIRS, seed: int = 0) -> Parameters:
    """Parameters from the comparison-vector counts of each session's pairs."""
    u, provenance = estimate_u(records, frequencies, defaults, sample_pairs=sample_pairs,
                               seed=seed)
    m0 = _table(defaults, "m")
    fits: dict[str, EmResult] = {}
    for session in SESSIONS:
        counts = patterns.get(session.name, Counter())
        if sum(counts.values()) < MIN_SESSION_PAIRS:
            provenance[f"session.{session.name}"] = "too few pairs"
            continue
        fit = expectation_maximisation(counts, session.trains, m0, u)
        if not fit.converged or fit.expected_matches < MIN_EXPECTED_MATCHES:
            provenance[f"session.{session.name}"] = "did not converge"
            continue
        fits[session.name] = fit
        provenance[f"session.{session.name}"] = (
            f"{sum(counts.values())} pairs, {fit.iterations} iterations")
    m = [row[:] for row in m0]
    for index, comparison in enumerate(COMPARISONS):
        trained = [(s.name, fits[s.name].m[index]) for s in SESSIONS
                   if s.name in fits and index in s.trains]
        if not trained:
            provenance[f"m.{comparison.name}"] = "default"
            continue
        m[index] = [sum(values) / len(trained) for values in zip(*(t[1] for t in trained),
                                                                strict=True)]
        provenance[f"m.{comparison.name}"] = "em:" + "+".join(name for name, _ in trained)
    prior = _prior(len(records), fits, defaults.prior)
    provenance["prior"] = "default" if prior == defaults.prior else "em"
    return Parameters(m=_named(m), u=_named(u), prior=prior, tf_floor=defaults.tf_floor,
                      provenance=provenance)


def _prior(n: int, fits: Mapping[str, EmResult], default: float) -> float:
    documents, names = fits.get("document"), fits.get("name_birth")
    if documents is None or names is None or n < 2:
        return default
    sharing = names.by_level[I_DOCUMENT][0] / names.expected_matches
    if sharing <= 0.0:
        return default
    matching_pairs = documents.expected_matches / sharing
    return min(0.5, matching_pairs / (n * (n - 1) / 2))


def session_patterns(records: Sequence[Record],
                     pairs: Iterable[tuple[int, int, Collection[str]]]) -> dict[str, Counter[int]]:
    """Comparison-vector counts of the candidate pairs each session trains on."""
    patterns: dict[str, Counter[int]] = {s.name: Counter() for s in SESSIONS}
    for i, j, kinds in pairs:
        code = -1
        for session in SESSIONS:
            if not session.kinds.isdisjoint(kinds):
                if code < 0:
                    code = encode(compare(records[i], records[j]))
                patterns[session.name][code] += 1
    return patterns


def estimate(records: Sequence[Record], pairs: Iterable[tuple[int, int, Collection[str]]], *,
             defaults: Parameters = DEFAULT_PARAMETERS, sample_pairs: int = SAMPLE_PAIRS,
             seed: int = 0) -> Parameters:
    """Parameters for ``records`` from their candidate pairs: ``(i, j, kinds)`` with
    the indices of two records and the key kinds that brought them together."""
    return estimate_from_patterns(records, session_patterns(records, pairs),
                                  NameFrequencies.of(records), defaults=defaults,
                                  sample_pairs=sample_pairs, seed=seed)

"""Expectation maximisation of m for the match model (Dempster, Laird and Rubin,
"Maximum likelihood from incomplete data via the EM algorithm", JRSS B 39, 1977),
over counts of comparison vectors rather than pairs: there are at most 540
distinct vectors, so an iteration costs the same for a hundred pairs or a million.

u stays fixed (estimated from random pairs, as Splink does by default); only the
comparisons a session trains enter the likelihood, since the others were selected
by its blocking key. One pseudo-pair at the configured m keeps a level that never
occurs from a probability of zero.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from .comparisons import COMPARISONS, decode

MAX_ITERATIONS = 200
TOLERANCE = 1e-6
PSEUDO_PAIRS = 1.0

Probabilities = list[list[float]]  # per comparison, per non-missing level


@dataclass(frozen=True)
class EmResult:
    m: Probabilities
    prior: float  # the share of matches among the session's pairs
    expected_matches: float
    #: Expected matches per level of each comparison, missing levels included.
    by_level: list[list[float]]
    converged: bool
    iterations: int


def expectation_maximisation(counts: Mapping[int, int], trains: Sequence[int],
                             m0: Probabilities, u: Probabilities) -> EmResult:
    """Fit m and the share of matches to pattern counts, u fixed."""
    patterns = [(decode(code), n) for code, n in counts.items()]
    total = sum(counts.values())
    m = [row[:] for row in m0]
    share = 0.5
    for iteration in range(1, MAX_ITERATIONS + 1):
        by_level = [[0.0] * len(c.levels) for c in COMPARISONS]
        matches = 0.0
        for levels, n in patterns:
            likely_match, likely_not = share, 1.0 - share
            for index in trains:
                level = levels[index]
                if level < COMPARISONS[index].missing:
                    likely_match *= m[index][level]
                    likely_not *= u[index][level]
            posterior = n * likely_match / (likely_match + likely_not)
            matches += posterior
            for index in trains:
                by_level[index][levels[index]] += posterior
        new_m = [row[:] for row in m]
        for index in trains:
            seen = by_level[index][:-1]
            weight = sum(seen) + PSEUDO_PAIRS
            new_m[index] = [(s + PSEUDO_PAIRS * prior) / weight
                            for s, prior in zip(seen, m0[index], strict=True)]
        new_share = matches / total
        delta = max([abs(new_share - share)] + [abs(a - b) for index in trains
                                                for a, b in zip(new_m[index], m[index],
                                                                strict=True)])
        m, share = new_m, new_share
        if delta < TOLERANCE:
            return EmResult(m, share, matches, by_level, True, iteration)
    return EmResult(m, share, matches, by_level, False, MAX_ITERATIONS)

"""Parameters of the match model: m and u per comparison level, and the prior.

``m[c][l]`` is the probability that a pair of records of *one* person shows level
``l`` on comparison ``c``; ``u[c][l]`` the same for two *different* people (two
random readers). Both are conditional on the comparison not being missing, so each
sums to 1 over the non-missing levels. ``prior`` is the probability that two random
records are one person. Parameters hold no personal data (no names, no hashes) and
travel as JSON, so a scan records exactly what it scored with.

The defaults are what the estimator finds on a population like a province's
(see :mod:`idp.duplicates.estimate`), rounded; they serve when there is too little
data to estimate, and for scoring a single pair online.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from .comparisons import COMPARISONS

Table = Mapping[str, Mapping[str, float]]

DEFAULT_M: dict[str, dict[str, float]] = {
    # Most re-registrations keep the name as written; the rest are homophones,
    # typos, traditional forms (already equal once simplified) or swapped fields.
    "name": {"exact": 0.85, "pinyin": 0.05, "close": 0.07, "other": 0.03},
    # Birth dates are mostly copied from the resident-ID card; errors are single
    # fields or a day/month transposition.
    "birth_date": {"exact": 0.92, "close": 0.06, "other": 0.02},
    "sex": {"agree": 0.98, "disagree": 0.02},
    # One person has one resident-ID number for life (15-digit numbers are converted
    # before hashing); two valid numbers of one person are a rare entry error.
    "document": {"equal": 0.97, "different": 0.03},
    # People change numbers between registrations years apart.
    "mobile": {"equal": 0.6, "different": 0.4},
}

DEFAULT_U: dict[str, dict[str, float]] = {
    # Two random readers: the sum of squared name frequencies for "exact"; one
    # character apart is mostly the same family name with a one-character given name.
    "name": {"exact": 2e-4, "pinyin": 1e-4, "close": 4e-3, "other": 0.9957},
    # Birth dates spread over ~90 years: 1/33,000 exact; one field apart ~1/250.
    "birth_date": {"exact": 3e-5, "close": 4e-3, "other": 0.99597},
    "sex": {"agree": 0.5, "disagree": 0.5},
    # A resident-ID number shared by two people is an entry error or a borrowed card.
    "document": {"equal": 1e-7, "different": 1 - 1e-7},
    # Families share a phone: more often than 1 in a million, far less than names.
    "mobile": {"equal": 1e-5, "different": 1 - 1e-5},
}

#: Two random readers of a province of a million are one person about once in ten
#: million pairs (5% of readers registered twice).
DEFAULT_PRIOR = 1e-7

#: The smallest name frequency term-frequency adjustment uses: a name seen once in a
#: scan of ten readers is not evidence of one in a million.
DEFAULT_TF_FLOOR = 1e-6


def _check(table: Table, what: str) -> dict[str, dict[str, float]]:
    out: dict[str, dict[str, float]] = {}
    for comparison in COMPARISONS:
        levels = comparison.levels[:-1]
        row = table.get(comparison.name)
        if row is None or set(row) != set(levels):
            raise ValueError(f"{what}[{comparison.name}] must give the levels {levels}")
        values = {level: float(row[level]) for level in levels}
        if not all(0.0 < v <= 1.0 for v in values.values()):
            raise ValueError(f"{what}[{comparison.name}] must lie in (0, 1]")
        if abs(sum(values.values()) - 1.0) > 1e-6:
            raise ValueError(f"{what}[{comparison.name}] must sum to 1")
        out[comparison.name] = values
    return out


@dataclass(frozen=True)
class Parameters:
    m: Table = field(default_factory=lambda: DEFAULT_M)
    u: Table = field(default_factory=lambda: DEFAULT_U)
    prior: float = DEFAULT_PRIOR
    tf_floor: float = DEFAULT_TF_FLOOR
    #: Where each value came from (e.g. ``"m.name": "em:document"``): for the record.
    provenance: Mapping[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        # Validated and copied once, so a bad file fails when loaded, not mid-scan.
        object.__setattr__(self, "m", _check(self.m, "m"))
        object.__setattr__(self, "u", _check(self.u, "u"))
        if not 0.0 < self.prior < 1.0:
            raise ValueError("prior must lie in (0, 1)")
        if not 0.0 < self.tf_floor < 1.0:
            raise ValueError("tf_floor must lie in (0, 1)")
        object.__setattr__(self, "provenance", dict(self.provenance))

    @property
    def prior_weight(self) -> float:
        """log2 of the prior odds: the match weight of a pair before any comparison."""
        return math.log2(self.prior / (1.0 - self.prior))

    def weights(self) -> tuple[tuple[float, ...], ...]:
        """log2(m/u) per comparison and level, in comparison-vector order; 0 for missing."""
        return tuple(
            (*(math.log2(self.m[c.name][level] / self.u[c.name][level])
               for level in c.levels[:-1]), 0.0)
            for c in COMPARISONS)

    def to_json(self) -> dict[str, Any]:
        return {"m": {k: dict(v) for k, v in self.m.items()},
                "u": {k: dict(v) for k, v in self.u.items()},
                "prior": self.prior, "tf_floor": self.tf_floor,
                "provenance": dict(self.provenance)}

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Parameters:
        return cls(m=data["m"], u=data["u"], prior=float(data["prior"]),
                   tf_floor=float(data.get("tf_floor", DEFAULT_TF_FLOOR)),
                   provenance=data.get("provenance", {}))


DEFAULT_PARAMETERS = Parameters(provenance={"all": "default"})

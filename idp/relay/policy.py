"""Retry and circuit-breaker rules of the relay.

Backoff is exponential with "equal jitter" (half the capped delay fixed, half
random): retries of many items spread out, yet none comes back at once. A
library's breaker opens after ``threshold`` consecutive unavailable answers and
stays open for ``cooldown``; the first delivery after that is the probe (half
open) — one more failure opens it again at once.
"""

from __future__ import annotations

import datetime as dt
import random
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class RelayPolicy:
    base_delay: dt.timedelta = dt.timedelta(seconds=30)
    max_delay: dt.timedelta = dt.timedelta(hours=6)
    #: Unavailable answers before an item is given up to the dead letters.
    max_attempts: int = 20
    breaker_threshold: int = 5
    breaker_cooldown: dt.timedelta = dt.timedelta(minutes=5)
    #: How long a relay's hold on a library lasts unless renewed (each chunk of
    #: deliveries renews it); longer than the slowest chunk the adapters' timeouts allow.
    lease: dt.timedelta = dt.timedelta(minutes=2)

    def backoff(self, attempt: int, rng: random.Random) -> dt.timedelta:
        """Delay before retry number ``attempt`` (1 for the first retry)."""
        exponent = min(attempt - 1, 30)
        ceiling: dt.timedelta = min(self.max_delay, self.base_delay * (2 ** exponent))
        half = ceiling / 2
        return half + half * rng.random()

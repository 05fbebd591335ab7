"""Test patrons and a barrier-started race, shared by the contract and backend tests."""

from __future__ import annotations

import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import date
from typing import TypeVar

from adapters.values import CreateRequest

CATEGORIES = ("ADULT", "CHILD")
BRANCHES = ("MAIN", "EAST")
RACERS = 4
T = TypeVar("T")


def new_request(n: int, **changes: object) -> CreateRequest:
    fields: dict[str, object] = {
        "barcode": f"2900{n:08d}",
        "surname": f"Zhang{n}",
        "first_name": "Wei",
        "birth_date": date(1990, 1, 1 + n % 28),
        "category": "ADULT",
        "branch": "MAIN",
        "expiry": date(2031, 6, 30),
    }
    fields.update(changes)
    return CreateRequest(**fields)  # type: ignore[arg-type]


def race(count: int, call: Callable[[int], T]) -> list[T | Exception]:
    """Run ``call(i)`` in ``count`` threads released together by a barrier."""
    barrier = threading.Barrier(count)

    def run(i: int) -> T | Exception:
        barrier.wait()
        try:
            return call(i)
        except Exception as exc:  # judged by the caller
            return exc

    with ThreadPoolExecutor(count) as pool:
        return list(pool.map(run, range(count)))

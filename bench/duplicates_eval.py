"""Scoring the duplicates benchmark against its ground truth, pair by pair.

Every two registrations of one person are one **true pair** (a person registered
three times gives three). What counts as found:

* **Automatic merges** are applied without anyone looking, and merges chain: if
  A-B and B-C are merged, A and C are one reader too. So automatic pairs are
  closed transitively (connected components), and precision and recall are over
  all pairs inside the components. A single wrong automatic pair that joins two
  families counts every pair it wrongly joins.
* **Automatic plus review**: a reviewer accepts the true pairs of the queue and
  rejects the others. What is then merged is the closure of the automatic pairs
  and the accepted review pairs; recall counts the true pairs inside it. Precision
  here is that of the proposals themselves (automatic and review pairs, each
  counted once, no closure): the share of the queue that is real work rather than
  noise.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass


class _Components:
    def __init__(self) -> None:
        self.parent: dict[int, int] = {}

    def find(self, x: int) -> int:
        parent = self.parent
        root = x
        while parent.get(root, root) != root:
            root = parent[root]
        while parent.get(x, x) != root:
            parent[x], x = root, parent[x]
        return root

    def union(self, a: int, b: int) -> None:
        self.parent.setdefault(a, a)
        self.parent.setdefault(b, b)
        ra, rb = self.find(a), self.find(b)
        if ra != rb:
            self.parent[max(ra, rb)] = min(ra, rb)

    def groups(self) -> list[list[int]]:
        out: dict[int, list[int]] = defaultdict(list)
        for x in list(self.parent):
            out[self.find(x)].append(x)
        return list(out.values())


def _pairs(n: int) -> int:
    return n * (n - 1) // 2


def _closure(edges: Iterable[tuple[int, int]], person: Sequence[int]) -> tuple[int, int]:
    """(pairs inside the components, of which true)."""
    components = _Components()
    for a, b in edges:
        components.union(a, b)
    inside = true = 0
    for group in components.groups():
        inside += _pairs(len(group))
        true += sum(_pairs(c) for c in Counter(person[x] for x in group).values())
    return inside, true


@dataclass(frozen=True)
class Scores:
    true_pairs: int
    auto_pairs: int
    auto_precision: float  # over the transitive closure
    auto_precision_direct: float
    auto_recall: float
    review_pairs: int
    proposed_precision: float
    total_recall: float
    review_per_10k: float


def score(person: Sequence[int], auto: Sequence[tuple[int, int]],
          review: Sequence[tuple[int, int]]) -> Scores:
    true_pairs = sum(_pairs(c) for c in Counter(person).values())
    inside, true_inside = _closure(auto, person)
    direct_true = sum(person[a] == person[b] for a, b in auto)
    accepted = [(a, b) for a, b in review if person[a] == person[b]]
    _, reached = _closure([*auto, *accepted], person)
    proposed = len(auto) + len(review)
    return Scores(
        true_pairs=true_pairs,
        auto_pairs=len(auto),
        auto_precision=true_inside / inside if inside else 1.0,
        auto_precision_direct=direct_true / len(auto) if auto else 1.0,
        auto_recall=true_inside / true_pairs if true_pairs else 1.0,
        review_pairs=len(review),
        proposed_precision=(direct_true + len(accepted)) / proposed if proposed else 1.0,
        total_recall=reached / true_pairs if true_pairs else 1.0,
        review_per_10k=len(review) * 10_000 / len(person) if person else 0.0,
    )


def missed_by_variant(person: Sequence[int], variant: Sequence[str],
                      found: Iterable[tuple[int, int]]) -> Counter[str]:
    """True pairs not found, by how the later registration differed (for tuning)."""
    components = _Components()
    for a, b in found:
        if person[a] == person[b]:
            components.union(a, b)
    by_person: dict[int, list[int]] = defaultdict(list)
    for index, p in enumerate(person):
        by_person[p].append(index)
    missed: Counter[str] = Counter()
    for members in by_person.values():
        for n, a in enumerate(members):
            for b in members[n + 1:]:
                if components.find(a) != components.find(b):
                    label = variant[b] if variant[a] == "first" else variant[a]
                    missed[label] += 1
    return missed

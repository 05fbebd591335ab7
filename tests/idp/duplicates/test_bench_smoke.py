"""The duplicates benchmark end to end on a small population (a few seconds): the
pipeline runs, and the quality targets hold there too. Time and memory targets are
the benchmark's business at 1M readers, not this test's."""

from __future__ import annotations

from bench import duplicates_eval as evaluation
from bench.duplicates import DEFAULT_MAX_BLOCK, DEFAULT_THRESHOLD, scan_in_memory, split
from bench.population import PopulationGenerator


def test_small_population_meets_the_quality_targets() -> None:
    registrations = list(PopulationGenerator(3).registrations(5_000))
    outcome, _ = scan_in_memory(registrations, 3, max_block=DEFAULT_MAX_BLOCK,
                                threshold=DEFAULT_THRESHOLD)
    scores = evaluation.score([r.person for r in registrations],
                              *split(outcome, DEFAULT_THRESHOLD))
    assert scores.true_pairs > 500
    assert scores.auto_precision >= 0.999
    assert scores.total_recall >= 0.90
    assert outcome["counts"]["records"] == 5_000


def test_pairwise_scores_count_transitive_merges() -> None:
    person = [1, 1, 1, 2, 2, 3]
    # 0-1 and 1-2 merge 0, 1, 2 (three true pairs); 2-3 wrongly joins person 2's
    # reader 3, and with it the pairs 0-3 and 1-3.
    scores = evaluation.score(person, auto=[(0, 1), (1, 2), (2, 3)], review=[(3, 4), (4, 5)])
    assert scores.true_pairs == 4
    assert scores.auto_recall == 3 / 4
    assert scores.auto_precision == 3 / 6
    assert scores.auto_precision_direct == 2 / 3
    assert scores.total_recall == 1.0  # 3-4 accepted on review: 3 and 4 join 0, 1, 2
    assert scores.proposed_precision == 3 / 5

"""Estimating m, u and the prior on a synthetic population with known duplicates."""

from __future__ import annotations

from collections import Counter

import pytest

from bench.duplicates_prep import prepare
from bench.duplicates_scan import records_of
from bench.population import PopulationGenerator, Registration
from idp.duplicates.engine import EngineResult, find_pairs
from idp.duplicates.estimate import estimate
from idp.duplicates.features import Record
from idp.duplicates.parameters import DEFAULT_PARAMETERS, Parameters

from .helpers import HASHER

READERS = 10_000


@pytest.fixture(scope="module")
def population() -> tuple[list[Registration], list[Record], list[tuple[str, str, int]]]:
    registrations = list(PopulationGenerator(7).registrations(READERS))
    rows, keys = prepare(registrations, HASHER, 7)
    return registrations, records_of(rows), keys


@pytest.fixture(scope="module")
def scanned(population) -> EngineResult:
    _, records, keys = population
    return find_pairs(records, keys, None, max_block=100, review_threshold=4.0)


def test_m_is_recovered_from_the_candidate_pairs(scanned: EngineResult) -> None:
    m = scanned.parameters.m
    # The generator keeps 74% of further registrations' names exact once simplified
    # (62% as written, 12% in traditional characters), 12% homophone or wrong
    # character, ~8% swapped, dropped or added; 92% of birth dates are kept.
    assert 0.62 < m["name"]["exact"] < 0.80
    assert m["name"]["exact"] > m["name"]["close"] > m["name"]["other"]
    assert 0.85 < m["birth_date"]["exact"] < 0.96
    assert 0.90 < m["sex"]["agree"] < 0.99
    assert m["document"]["equal"] > 0.95
    assert 0.5 < m["mobile"]["equal"] < 0.75
    assert scanned.parameters.provenance["m.name"] == "em:document"
    assert scanned.parameters.provenance["m.mobile"] == "em:document+name_birth"


def test_u_matches_what_random_people_share(scanned: EngineResult) -> None:
    u = scanned.parameters.u
    days = 87 * 365.25  # birth dates spread over ages 3 to 90
    assert 0.5 / days < u["birth_date"]["exact"] < 2 / days
    assert u["sex"]["agree"] == pytest.approx(0.5, abs=0.02)
    assert u["name"]["exact"] < u["name"]["close"] < 0.02
    assert u["document"]["equal"] == pytest.approx(DEFAULT_PARAMETERS.u["document"]["equal"])
    assert u["mobile"]["equal"] < 1e-3


def test_the_prior_counts_the_duplicates(population, scanned: EngineResult) -> None:
    registrations = population[0]
    true_pairs = sum(c * (c - 1) // 2 for c in Counter(r.person for r in registrations).values())
    expected = true_pairs / (READERS * (READERS - 1) / 2)
    assert scanned.parameters.prior == pytest.approx(expected, rel=0.25)


def test_estimated_parameters_survive_json(scanned: EngineResult) -> None:
    parameters = scanned.parameters
    assert Parameters.from_json(parameters.to_json()) == parameters


def test_estimate_takes_pairs_with_their_key_kinds(population) -> None:
    _, records, _ = population
    pairs = [(0, 1, {"mobile"})] * 5
    parameters = estimate(records[:100], pairs, sample_pairs=1000)
    assert parameters.provenance["session.document"] == "too few pairs"
    assert parameters.m == DEFAULT_PARAMETERS.m
    assert parameters.prior == DEFAULT_PARAMETERS.prior

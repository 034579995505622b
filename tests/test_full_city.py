"""The full city at 1:1 for a year (2,000,000 residents): every invariant and determinism holds
at the scale of DESIGN §8, not only in the small cities of the fast tests. Slow: `-m slow`."""

import pandas as pd
import pytest

from tests.test_model import check_invariants, run, tables

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def full_city():
    return run(scenario="xining-classified", scale=1.0, days=365, rng=1)


def test_invariants_at_full_scale(full_city):
    assert len(full_city.residents) == 2_000_000
    check_invariants(full_city)


def test_same_seed_same_tables_at_full_scale(full_city):
    again = run(scenario="xining-classified", scale=1.0, days=365, rng=1)
    first, second = tables(full_city), tables(again)
    for name in first:
        pd.testing.assert_frame_equal(first[name], second[name], obj=name)

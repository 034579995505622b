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


# Equivalence margins of 1:100 against 1:1 (DESIGN §7), city-wide and by class: one place,
# analysis/validation.py, whose `shequ check --full-city` reports the same comparison.
from analysis.validation import CITY_MARGINS, CLASS_MARGINS, SCALE_OUTCOMES  # noqa: E402

OUTCOMES = list(SCALE_OUTCOMES)


# Known and open scale gaps (docs/validation.md, "Scale"): none since the small pools look to
# their peers and new cases meet the full city's queue (sim/scaling.py). A gap found later is
# named here, with its diagnosis, and fails as an expected failure.
KNOWN_GAPS: set[tuple[str, str]] = set()


def test_rates_at_1_100_are_those_of_the_full_city(full_city):
    """City and class outcomes of the shipped experiments' scale (1:100, 8 seeds) against the full
    city's: the mean over seeds within the stated margin of the 1:1 value, by class and city-wide.
    A known gap fails as an expected failure (strict: when it closes, the test says so)."""
    from sim.model import GovernanceModel

    full = full_city.summary().set_index("class")[OUTCOMES]
    small = sum(GovernanceModel(scenario="xining-classified", scale=0.01, rng=seed, daily=False)
                .run().summary().set_index("class")[OUTCOMES] for seed in range(1, 9)) / 8
    gap = (small - full).abs()
    outside = {(cls, name) for name in OUTCOMES for cls in gap.index
               if gap.loc[cls, name] > (CITY_MARGINS if cls == "city" else CLASS_MARGINS)[name]}
    assert outside <= KNOWN_GAPS, (outside - KNOWN_GAPS, gap.to_dict())
    for cls, name in sorted(KNOWN_GAPS - outside):
        pytest.fail(f"the known gap {cls} {name} is now within its margin: remove it from "
                    "KNOWN_GAPS and docs/validation.md")
    if outside:
        pytest.xfail(f"known scale gaps {sorted(outside)}: {gap.loc['city'].to_dict()}")


def test_year_one_is_year_three():
    """Under a constant policy the reported year after the warm-up is the steady state: a one-year
    run's rates agree with the third year of a three-year run (its daily flows over days
    730-1094), paired by seed over 8 seeds at 1:100, within the 95 % interval of the paired
    difference (or 0.003, the interval being narrower than the runs' own noise)."""
    import numpy as np
    from scipy import stats

    from sim.metrics import RATES, rate
    from sim.model import GovernanceModel

    names = ["response_rate", "resolution_rate", "satisfaction_rate", "resolved_share"]
    diffs = []
    for seed in range(1, 9):
        one = GovernanceModel(scenario="xining-classified", scale=0.01, rng=seed).run()
        first = one.summary().set_index("class").loc["city"]
        three = GovernanceModel(scenario="xining-classified", scale=0.01, rng=seed,
                                days=1095).run()
        d = three.datacollector.get_table_dataframe("daily")
        year3 = d[(d["class"] == "city") & (d["day"] >= 730)].sum(numeric_only=True)
        diffs.append([float(rate(year3, n)) - first[n] for n in names])
    diffs = np.array(diffs)
    mean = diffs.mean(axis=0)
    half = stats.t.ppf(0.975, len(diffs) - 1) * diffs.std(axis=0, ddof=1) / np.sqrt(len(diffs))
    for name, m, h in zip(names, mean, half):
        assert abs(m) <= max(h, 0.003), (name, m, h)
    assert set(names) <= set(RATES)

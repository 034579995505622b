"""Tests of sim/funding.py on the synthetic Xining (178 communities, classes 70/66/22/20): every
scheme holds the 35.6 M yuan total of the reform (seed 002)."""

import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

from sim import city
from sim.errors import InputError
from sim.funding import allocate, divide, need_weights
from sim.parameters import defaults

TOTAL = 35_600_000  # 178 x 200k = 70 x 150k + 66 x 300k + 22 x 150k + 20 x 100k


@pytest.fixture(scope="module")
def xining():
    """The default synthetic city (city_seed 2024, 2 M people) and its classes."""
    communities = city.synthetic_xining(np.random.default_rng(2024))
    return communities, city.classify(communities, city.PUBLISHED_RULES)


def funding(**kw):
    return defaults()["funding"] | kw


def per_head(amounts, communities, classes, cls):
    mask = classes == cls
    return amounts[mask] / communities["population"].to_numpy()[mask]


def test_the_city(xining):
    communities, classes = xining
    assert len(communities) == 178
    assert {c: int((classes == c).sum()) for c in "ABCD"} == {"A": 70, "B": 66, "C": 22, "D": 20}
    assert communities["population"].sum() == 2_000_000


def test_uniform_holds_the_total(xining):
    amounts = allocate(funding(scheme="uniform", total=TOTAL), *xining, "test")
    assert amounts.dtype == np.int64
    assert (amounts == 200_000).all()
    assert amounts.sum() == TOTAL


def test_by_class_holds_the_total(xining):
    communities, classes = xining
    amounts = allocate(funding(scheme="by_class", total=TOTAL), communities, classes, "test")
    assert amounts.sum() == TOTAL
    for cls, amount in {"A": 150_000, "B": 300_000, "C": 150_000, "D": 100_000}.items():
        assert (amounts[classes == cls] == amount).all()


def test_by_class_without_total_is_unchecked(xining):
    amounts = allocate(funding(scheme="by_class", by_class={"A": 1, "B": 2, "C": 3, "D": 4}),
                       *xining, "test")
    assert amounts.sum() == 70 + 2 * 66 + 3 * 22 + 4 * 20


@pytest.mark.parametrize("scheme", ["per_capita", "needs_based", "class_shares"])
def test_shares_sum_exactly_to_the_total(xining, scheme):
    for total in (TOTAL, TOTAL + 1, 1_000_003, 177, 0 if scheme == "per_capita" else 1):
        amounts = allocate(funding(scheme=scheme, total=total), *xining, "test")
        assert amounts.dtype == np.int64
        assert (amounts >= 0).all()
        if total:
            assert amounts.sum() == total, (scheme, total)


def test_per_capita_is_proportional(xining):
    communities, classes = xining
    pop = communities["population"].to_numpy()
    amounts = allocate(funding(scheme="per_capita", total=TOTAL), communities, classes, "test")
    # 35.6 M / 2 M people = 17.8 yuan a head; largest remainder moves each by under one yuan
    assert np.abs(amounts - 17.8 * pop).max() < 1
    # without a total, per_capita is the rate itself, rounded
    rate = allocate(funding(scheme="per_capita", per_capita=10.0), communities, classes, "test")
    assert (rate == np.rint(10.0 * pop)).all()


def test_needs_based_favours_b(xining):
    """B communities (many old-compound residents, elderly, poor infrastructure) get more per
    head than A on average; every community gets at least its per-capita base share."""
    communities, classes = xining
    amounts = allocate(funding(scheme="needs_based", total=TOTAL), communities, classes, "test")
    assert amounts.sum() == TOTAL
    assert per_head(amounts, *xining, "B").mean() > per_head(amounts, *xining, "A").mean()
    weights = need_weights(communities, funding()["need_weights"])
    assert np.abs(amounts - TOTAL * weights / weights.sum()).max() < 1


def test_needs_based_zero_weights_is_per_capita(xining):
    zero = {k: 0.0 for k in funding()["need_weights"]}
    needs = allocate(funding(scheme="needs_based", total=TOTAL, need_weights=zero), *xining, "t")
    capita = allocate(funding(scheme="per_capita", total=TOTAL), *xining, "t")
    assert (needs == capita).all()


@settings(max_examples=50, deadline=None)
@given(total=st.integers(0, 10**12),
       weights=st.lists(st.floats(1e-3, 1e6), min_size=1, max_size=300))
def test_divide_largest_remainder(total, weights):
    weights = np.array(weights)
    amounts = divide(total, weights)
    assert amounts.sum() == total
    exact = total * weights / weights.sum()
    assert np.abs(amounts - exact).max() < 1 + 1e-6 * max(1, exact.max())


# ---------------------------------------------------------------- errors

@pytest.mark.parametrize("scheme, kw", [
    ("by_class", {}),
    ("by_class", {"by_class": {"A": 200_000, "B": 300_000, "C": 150_000, "D": 100_000}}),
    ("uniform", {"uniform": 100_000}),
])
def test_wrong_total_names_funding_total(xining, scheme, kw):
    with pytest.raises(InputError) as err:
        allocate(funding(scheme=scheme, total=TOTAL + 1, **kw), *xining, "my.toml")
    msg = str(err.value)
    assert msg.startswith("my.toml: ")
    assert '"funding.total"' in msg and "expected" in msg
    assert f"{TOTAL + 1:,}" in msg


@pytest.mark.parametrize("scheme", ["needs_based", "class_shares"])
def test_a_share_scheme_needs_a_total(xining, scheme):
    with pytest.raises(InputError, match=r'my.toml: key "funding.total": expected a positive'):
        allocate(funding(scheme=scheme), *xining, "my.toml")


@pytest.mark.parametrize("scheme", ["per_capita", "needs_based", "class_shares"])
def test_the_minimum_comes_first_and_the_scheme_divides_the_rest(xining, scheme):
    plain = allocate(funding(scheme=scheme, total=TOTAL - 178 * 50_000), *xining, "test")
    floored = allocate(funding(scheme=scheme, total=TOTAL, minimum=50_000), *xining, "test")
    assert floored.sum() == TOTAL and (floored == plain + 50_000).all()
    with pytest.raises(InputError, match=r'"funding.minimum": expected at most 200,000'):
        allocate(funding(scheme=scheme, total=TOTAL, minimum=200_001), *xining, "test")


def test_class_shares_weigh_the_classes_and_split_each_evenly(xining):
    communities, classes = xining
    amounts = allocate(funding(scheme="class_shares", total=TOTAL,
                               class_shares={"A": 1.0, "B": 2.0, "C": 1.0, "D": 0.0}),
                       communities, classes, "test")
    assert amounts[classes == "D"].sum() == 0
    assert amounts[classes == "B"].sum() == TOTAL // 2
    for c in "ABC":
        assert np.ptp(amounts[classes == c]) <= 1
    with pytest.raises(InputError, match="class_shares.*positive weight"):
        allocate(funding(scheme="class_shares", total=TOTAL, class_shares=dict.fromkeys("ABCD", 0.0)),
                 communities, classes, "test")


def test_by_class_needs_classes(xining):
    communities, _ = xining
    none = np.full(len(communities), "none")
    for scheme in ("by_class", "class_shares"):
        with pytest.raises(InputError, match=r'my.toml: key "funding.scheme": expected a class'):
            allocate(funding(scheme=scheme, total=TOTAL), communities, none, "my.toml")
    # uniform funding works without classes
    assert allocate(funding(total=TOTAL), communities, none, "my.toml").sum() == TOTAL

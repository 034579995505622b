"""The paired statistics on synthetic data with known answers."""

import math

import numpy as np
import pytest

from analysis.stats import needed, paired


def test_interval_covers_the_true_difference_at_its_nominal_rate():
    """2,000 synthetic experiments of 20 paired replications with true difference 0.03 and
    shared noise: the 95 % interval must cover 0.03 in 95 % of them. With 2,000 draws the
    binomial sd of the coverage is 0.005, so 0.935-0.965 is a 3-sd band."""
    rng = np.random.default_rng(0)
    covered = 0
    for _ in range(2000):
        shared = rng.normal(0.9, 0.05, 20)  # what common random numbers share
        base = shared + rng.normal(0, 0.01, 20)
        var = shared + 0.03 + rng.normal(0, 0.01, 20)
        p = paired(base, var)
        covered += p.ci_low <= 0.03 <= p.ci_high
    assert 0.935 <= covered / 2000 <= 0.965


def test_pairing_removes_shared_noise():
    rng = np.random.default_rng(1)
    shared = rng.normal(0, 1.0, 30)
    p = paired(shared, shared + 0.1 + rng.normal(0, 0.01, 30))
    assert p.half_width < 0.01 and p.enough
    assert p.difference == pytest.approx(0.1, abs=0.01)
    assert p.effect_size > 5


def test_identical_variant_gives_zero_difference():
    x = np.linspace(0.8, 0.99, 10)
    p = paired(x, x)
    assert p.difference == 0 and p.half_width == 0 and not p.enough
    assert math.isnan(p.effect_size) and math.isnan(p.replications_needed)


def test_replications_needed_makes_the_half_width_smaller_than_the_difference():
    from scipy import stats

    for diff, sd in [(0.01, 0.02), (0.5, 1.0), (0.001, 0.05)]:
        n = int(needed(diff, sd))
        half = lambda k: stats.t.ppf(0.975, k - 1) * sd / math.sqrt(k)  # noqa: E731
        assert half(n) < diff <= half(n - 1) or n == 2


def test_nan_pairs_are_dropped():
    p = paired([1.0, 2.0, np.nan, 4.0], [1.5, np.nan, 3.0, 4.5])
    assert p.n == 2 and p.difference == pytest.approx(0.5)

"""sim/kernels.py: each compiled pass gives the bits of the numpy it replaced (kept here as the
reference), on random columns with empty, small and large buildings."""

import numpy as np
import pytest

from sim import kernels


def city(seed: int):
    rng = np.random.default_rng(seed)
    count = rng.integers(0, 400, 500)
    count[rng.random(len(count)) < 0.1] = 0  # buildings without residents
    start = np.cumsum(count) - count
    n = int(count.sum())
    column = rng.random(n, dtype=np.float32)
    pull = rng.random(len(count)).astype(np.float32) * np.float32(0.05)
    return rng, count, start, column, pull


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_settle_toward_a_level_is_numpy_bit_for_bit(seed):
    _, count, start, column, pull = city(seed)
    a, rate, level = 0.05, 0.02, 0.7
    expected = column.copy()  # the numpy it replaced (sim.phases.settle before the kernels)
    expected *= np.float32(1 - a - rate)
    expected += np.repeat(pull, count)
    expected += np.float32(rate * level)
    kernels.settle_toward_level(column, start, count, pull, np.float32(1 - a - rate),
                                np.float32(rate * level))
    assert np.array_equal(column, expected)


@pytest.mark.parametrize("seed, gap", [(1, 0.1), (2, 0.0), (3, 0.25)])
def test_settle_toward_a_column_is_numpy_bit_for_bit(seed, gap):
    rng, count, start, column, pull = city(seed)
    a, rate = 0.05, 0.03
    target = rng.random(len(column), dtype=np.float32)
    migrant = rng.random(len(column)) < 0.3
    goal = target - np.float32(gap) * migrant if gap else target  # as sim.phases.influence did
    expected = column.copy()
    expected *= np.float32(1 - a - rate)
    expected += np.repeat(pull, count)
    expected += np.float32(rate) * goal
    kernels.settle_toward(column, start, count, pull, np.float32(1 - a - rate), np.float32(rate),
                          target, migrant, np.float32(gap))
    assert np.array_equal(column, expected)


@pytest.mark.parametrize("dtype, fill", [(np.int64, -1), (np.int16, -1), (np.int8, 0),
                                         (np.bool_, False), (np.float32, 0.0)])
def test_compact_column_is_numpy_bit_for_bit(dtype, fill):
    rng = np.random.default_rng(4)
    column = (rng.random(1000) * 100).astype(dtype)
    n, is_open = 900, rng.random(900) < 0.6
    keep = np.flatnonzero(is_open)  # the numpy it replaced (Grievances.compact before)
    expected, expected_closed = column.copy(), column[:n][~is_open]
    expected[: len(keep)] = expected[keep]
    expected[len(keep): n] = fill
    closed = np.empty(n - len(keep), dtype)
    assert kernels.compact_column(column, n, is_open, closed, dtype(fill)) == len(keep)
    assert np.array_equal(column, expected) and np.array_equal(closed, expected_closed)


def test_take_burden_is_numpy_bit_for_bit():
    rng = np.random.default_rng(5)
    satisfaction = rng.random(2000, dtype=np.float32) * np.float32(0.05)
    open_ = rng.integers(0, 2000, 1500).astype(np.int32)  # residents with several grievances
    given_up = rng.integers(0, 2000, 700).astype(np.int32)
    burden = np.float32(0.004)
    expected = satisfaction.copy()  # the numpy it replaced (sim.phases.influence before)
    who = np.concatenate([open_, given_up])
    np.subtract.at(expected, who, burden)
    expected[who] = np.maximum(expected[who], 0)
    kernels.take_burden(satisfaction, open_, given_up, burden)
    assert np.array_equal(satisfaction, expected) and (expected == 0).any()

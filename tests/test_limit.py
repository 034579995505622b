"""benchmarks/limit.py: the limit's day runs on small arrays, passes over every value and takes
a positive time; the benchmark runs on a small city."""

import numpy as np

from benchmarks import limit


def test_limit_day_on_small_arrays():
    columns, keys = limit.limit_data(10_000, 500)
    assert len(columns) == limit.K_PASSES and columns[0].dtype == np.float32
    assert keys.dtype == np.int64 and len(keys) == 500
    before = [c.copy() for c in columns]
    passes, cases = limit.limit_day(columns, keys)
    assert passes > 0 and cases > 0
    assert all(np.array_equal(c, -b) for c, b in zip(columns, before))  # read and written


def test_benchmark_runs_on_a_small_city(capsys):
    r = limit.run(scale=0.001, days=2, start=1)
    assert r["residents"] > 0 and r["limit_ms"] > 0 and r["model_ms"] > 0
    assert r["open_cases"] == round(limit.OPEN_CASES * 0.001)
    limit.report(r)
    assert "ratio" in capsys.readouterr().out

"""Compiled loops (numba) for the passes over the two million residents that numpy would make in
several passes each: one loop reads and writes a column once (DESIGN §4: no Python loop over
residents; a compiled loop is one pass).

Every kernel gives the same bits as the numpy it replaced (tests/test_kernels.py keeps that numpy
and compares; tests/test_reference.py compares whole runs): float32 arithmetic in numpy's order,
never `fastmath` (which would let the compiler reorder or fuse it), never parallel.
"""

import numba
import numpy as np

jit = numba.njit(cache=True, nogil=True)


@jit
def settle_toward_level(column, start, count, pull, keep, level):
    """x <- x · keep + pull[building] + level, in float32 and in that order, for every resident
    (residents sorted by building: building b's are column[start[b]:start[b] + count[b]])."""
    for b in range(len(count)):
        p = pull[b]
        x = column[start[b]:start[b] + count[b]]
        for i in range(len(x)):
            x[i] = x[i] * keep + p + level


@jit
def settle_toward(column, start, count, pull, keep, rate, target, migrant, gap):
    """x <- x · keep + pull[building] + rate · (target - gap · migrant), in float32 and in that
    order, for every resident (as settle_toward_level)."""
    for b in range(len(count)):
        p = pull[b]
        s, e = start[b], start[b] + count[b]
        x, t, m = column[s:e], target[s:e], migrant[s:e]
        for i in range(len(x)):
            x[i] = x[i] * keep + p + rate * (t[i] - gap * np.float32(m[i]))


@jit
def compact_column(column, n, open_, closed, fill):
    """The grievance table's compaction, for one column in one pass: the first n rows' values
    of the open rows (`open_`) move up in order, the others go to `closed` in order, and the
    rows freed take `fill`. Returns the open rows' count."""
    kept = gone = 0
    for i in range(n):
        value = column[i]
        if open_[i]:
            column[kept] = value
            kept += 1
        else:
            closed[gone] = value
            gone += 1
    for i in range(kept, n):
        column[i] = fill
    return kept


@jit
def take_burden(satisfaction, open_residents, given_up_residents, burden):
    """Each grievance open or given up takes `burden` from its resident's satisfaction (one
    subtraction a grievance, in order), then satisfaction is held at 0 or more."""
    for residents in (open_residents, given_up_residents):
        for r in residents:
            satisfaction[r] -= burden
    for residents in (open_residents, given_up_residents):
        for r in residents:
            if satisfaction[r] < 0:
                satisfaction[r] = 0


def warm_up() -> None:
    """Compile (or load from numba's cache) every kernel for the types the model passes, once a
    process: about a second the first time a process calls a kernel, spent here — while a model
    is built — rather than in its first day."""
    f32, i64 = np.float32, np.int64
    x, one = np.zeros(1, f32), np.ones(1, i64)
    settle_toward_level(x, one - 1, one, x, f32(1), f32(0))
    settle_toward(x, one - 1, one, x, f32(1), f32(0), x, np.zeros(1, bool), f32(0))
    take_burden(x, np.zeros(1, np.int32), np.zeros(1, np.int32), f32(0))
    from sim.grievances import COLUMNS

    for dtype in {dtype for dtype, _ in COLUMNS.values()}:
        column = np.zeros(1, dtype)
        compact_column(column, 1, np.ones(1, bool), column[:0], dtype(0))

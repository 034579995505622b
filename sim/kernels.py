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

"""Paired comparison over common-random-number replications.

With common random numbers, replication r of the baseline and of a variant share a seed, so the
per-replication difference d_r = variant_r - baseline_r removes most of the noise both share. The
mean difference gets a Student-t interval; the effect size is Cohen's d_z (mean / sd of the
differences); replications are "enough" when the interval's half-width is below the size of the
difference (the interval excludes zero), and otherwise the number needed is estimated from the
observed spread.
"""

import math
from dataclasses import asdict, dataclass

import numpy as np
from scipy import stats


@dataclass(frozen=True)
class Paired:
    n: int  # replications with both runs
    baseline_mean: float
    variant_mean: float
    difference: float  # mean of variant - baseline
    ci_low: float
    ci_high: float
    half_width: float
    sd: float  # sd of the differences
    effect_size: float  # Cohen's d_z = difference / sd (NaN when sd is 0)
    enough: bool  # half-width < |difference|
    replications_needed: float  # for half-width < |difference| at this sd (NaN if difference 0)

    def as_dict(self) -> dict:
        return asdict(self)


def paired(baseline, variant, confidence: float = 0.95) -> Paired:
    """Paired difference of two equally long arrays of replications (NaN pairs are dropped)."""
    b, v = np.asarray(baseline, float), np.asarray(variant, float)
    keep = ~(np.isnan(b) | np.isnan(v))
    b, v = b[keep], v[keep]
    n = len(b)
    d = v - b
    mean = float(d.mean()) if n else math.nan
    sd = float(d.std(ddof=1)) if n > 1 else math.nan
    t = float(stats.t.ppf(0.5 + confidence / 2, n - 1)) if n > 1 else math.nan
    half = t * sd / math.sqrt(n) if n > 1 else math.nan
    return Paired(n=n, baseline_mean=float(b.mean()) if n else math.nan,
                  variant_mean=float(v.mean()) if n else math.nan, difference=mean,
                  ci_low=mean - half, ci_high=mean + half, half_width=half, sd=sd,
                  effect_size=mean / sd if sd and sd > 0 else math.nan,
                  enough=bool(half < abs(mean)) if n > 1 else False,
                  replications_needed=needed(mean, sd, confidence))


def needed(difference: float, sd: float, confidence: float = 0.95) -> float:
    """Smallest n (at least 2) with t(n-1) * sd / sqrt(n) < |difference|; NaN when the difference
    is zero or unknown (no number of replications resolves it)."""
    if math.isnan(difference) or math.isnan(sd) or difference == 0:
        return math.nan
    q = 0.5 + confidence / 2

    def enough(n: int) -> bool:
        return stats.t.ppf(q, n - 1) * sd / math.sqrt(n) < abs(difference)

    hi = 2
    while not enough(hi):
        hi *= 2
        if hi > 1 << 24:
            return math.inf
    lo = hi // 2  # not enough (or below 2)
    while hi - lo > 1:
        mid = (lo + hi) // 2
        lo, hi = (lo, mid) if enough(mid) else (mid, hi)
    return float(hi)


def harm_bound(p: Paired, harm: int, confidence: float = 0.95) -> float:
    """The one-sided upper `confidence` bound on the harm of a paired difference: the mean harm
    plus t(n-1) x sd / sqrt(n), where the harm of a replication is its difference
    variant - baseline when `harm` is +1 (an increase is worse), or baseline - variant when it is
    -1 (a decrease is worse). A non-inferiority test: the variant is no worse than a margin m
    when the bound lies below m. NaN with fewer than two pairs."""
    if harm not in (1, -1):
        raise ValueError(f"harm: expected +1 (an increase is worse) or -1, got {harm}")
    if p.n < 2 or math.isnan(p.sd):
        return math.nan
    t = float(stats.t.ppf(confidence, p.n - 1))
    return harm * p.difference + t * p.sd / math.sqrt(p.n)

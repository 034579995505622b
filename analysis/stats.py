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
from scipy import special, stats


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


# A share's replications rarely sit exactly at 0 or 1; those that do are moved this far inside
# before the logit (0.1 %, the precision rates are shown with). Values nearer the edge than this
# are taken as at it: an interval there is tighter than it should be, below the shown precision.
EDGE = 1e-3


def mean_interval(values, bounded: bool = False, confidence: float = 0.95
                  ) -> tuple[float, float, float]:
    """Mean over replications and its interval (low, high); NaN bounds with fewer than two.

    The replication is the unit: a Student-t interval over the replications' values (never a
    binomial interval over pooled cases, which is falsely tight). For a share (`bounded`, values
    in [0, 1]) the interval is made on the logit scale and transformed back, so that it stays
    inside [0, 1] and is asymmetric near the edges, as a share's uncertainty is."""
    v = np.asarray(values, float)
    v = v[~np.isnan(v)]
    n = len(v)
    if n == 0:
        return math.nan, math.nan, math.nan
    mean = float(v.mean())
    if n < 2:
        return mean, math.nan, math.nan
    t = float(stats.t.ppf(0.5 + confidence / 2, n - 1))
    if np.all(v == v[0]):  # no spread (every replication at 100 %, say): nothing to transform
        return mean, mean, mean
    if not bounded:
        half = t * float(v.std(ddof=1)) / math.sqrt(n)
        return mean, mean - half, mean + half
    z = special.logit(np.clip(v, EDGE, 1 - EDGE))
    half = t * float(z.std(ddof=1)) / math.sqrt(n)
    centre = float(z.mean())
    low, high = float(special.expit(centre - half)), float(special.expit(centre + half))
    # the back-transformed interval is centred on the logit mean: widen it to hold the mean
    return mean, min(low, mean), max(high, mean)

"""The five stylised facts of SEED-FACTS §7, each as paired comparisons of the variants of
`experiments/stylised-facts.toml`: which variants, which class, which measure, which direction.

A fact "holds" when the 95 % interval of the paired difference lies wholly on the expected side
of zero.
"""

from dataclasses import dataclass
from typing import Callable

import pandas as pd

from analysis.stats import paired

NOTE = ("Each row pairs replication r of two variants (common random numbers); the difference is "
        "variant minus baseline, with its 95 % Student-t interval. Variants: experiments/"
        "stylised-facts.toml.")


def voiced(s: pd.DataFrame) -> pd.Series:
    return (s.cum_voiced_app + s.cum_voiced_hotline + s.cum_voiced_grid) / s.cum_arisen


def found(s: pd.DataFrame) -> pd.Series:
    return s.cum_found / s.cum_silent


def per_community(column: str) -> Callable[[pd.DataFrame], pd.Series]:
    """Money per community in 10k yuan, the unit of every amount in the reports (sim/labels.py)."""
    return lambda s: s[column] / s.communities * 1e-4


def per_thousand(column: str) -> Callable[[pd.DataFrame], pd.Series]:
    return lambda s: s[column] / s.residents * 1000


def mismatch(s: pd.DataFrame) -> pd.Series:
    """Money in the wrong place: shortfall where it ran out plus unspent where it was left over,
    per yuan allocated."""
    return (s.cum_shortfall + s.unspent) / s.funds_allocated


@dataclass(frozen=True)
class Fact:
    fact: str  # "1a", ...
    statement: str
    baseline: str  # variant
    variant: str
    cls: str
    measure: str
    value: Callable[[pd.DataFrame], pd.Series]
    sign: int  # expected sign of variant - baseline


FACTS = [
    Fact("1a", "Uniform funding leaves B communities short; the 15/30/15/10 split lowers that",
         "uniform", "classified", "B", "shortfall per B community (10k yuan)",
         per_community("cum_shortfall"), -1),
    Fact("1b", "Uniform funding leaves D communities money unspent; the split lowers that",
         "uniform", "classified", "D", "unspent per D community (10k yuan)",
         per_community("unspent"), -1),
    Fact("1c", "The budget-neutral split lowers the mismatch of money and need", "uniform",
         "classified", "city", "(shortfall + unspent) / funds", mismatch, -1),
    Fact("1d", "... and raises overall resolution", "uniform", "classified", "city",
         "resolution rate (KPI, of reported cases)", lambda s: s.resolution_rate, +1),
    Fact("1e", "... counting every grievance that arose too", "uniform", "classified", "city",
         "share of arisen grievances resolved", lambda s: s.resolved_share, +1),
    Fact("2", "Smaller grids (400 against 800 households) find problems sooner", "grids-800",
         "classified", "city", "silent grievances found / silent", found, +1),
    Fact("2b", "... and resolve more of all that arises", "grids-800", "classified", "city",
         "share of arisen grievances resolved", lambda s: s.resolved_share, +1),
    Fact("2c", "... while the KPI, of reported cases only, looks worse: the hard cases found "
         "enter its denominator (the KPI rewards finding less)", "grids-800", "classified",
         "city", "resolution rate (KPI, of reported cases)", lambda s: s.resolution_rate, -1),
    Fact("3a", "Red property and four-party linkage lower property complaints in A", "no-red-no-linkage",
         "classified", "A", "property grievances per 1,000 residents",
         per_thousand("cohort_arisen_property"), -1),
    Fact("3b", "... and in B", "no-red-no-linkage", "classified", "B",
         "property grievances per 1,000 residents", per_thousand("cohort_arisen_property"), -1),
    Fact("4", "A self-governance body gets old ('three-no') compounds' problems handled",
         "no-self-governance", "classified", "B", "resolution rate in old compounds",
         lambda s: s.resolution_rate_old, +1),
    Fact("5a", "Neighbour familiarity (B) helps discovery", "no-familiarity", "classified", "B",
         "silent grievances found / silent", found, +1),
    Fact("5b", "A high migrant share (C) hurts reporting", "no-migrant-gap", "classified", "C",
         "grievances voiced / arisen", voiced, -1),
    Fact("5c", "... and trust", "no-migrant-gap", "classified", "C", "mean trust",
         lambda s: s.mean_trust, -1),
]


def evaluate(summary: pd.DataFrame) -> pd.DataFrame | None:
    """Each fact's paired difference and whether it holds; None when the experiment lacks the
    stylised-facts variants."""
    names = set(summary["variant"])
    if not all(f.baseline in names and f.variant in names for f in FACTS):
        return None
    rows = []
    for f in FACTS:
        part = summary[summary["class"] == f.cls]
        values = part.assign(value=f.value(part)).pivot_table(
            index=["point", "replication"], columns="variant", values="value")
        p = paired(values[f.baseline], values[f.variant])
        holds = (p.ci_high < 0) if f.sign < 0 else (p.ci_low > 0)
        rows.append({"fact": f.fact, "statement": f.statement, "baseline": f.baseline,
                     "variant": f.variant, "class": f.cls, "measure": f.measure,
                     "expected": "lower" if f.sign < 0 else "higher", **p.as_dict(),
                     "holds": bool(holds)})
    return pd.DataFrame(rows)

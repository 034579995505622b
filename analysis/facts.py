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
        "stylised-facts.toml.",
        "每行把两个变体的第 r 次重复配对（共同随机数）；差值为变体减基准，附 95 % Student t 区间。"
        "变体见 experiments/stylised-facts.toml。")


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
    zh: tuple[str, str]  # the statement and the measure in Chinese


FACTS = [
    Fact("1a", "Uniform funding leaves B communities short; the 15/30/15/10 split lowers that",
         "uniform", "classified", "B", "shortfall per B community (10k yuan)",
         per_community("cum_shortfall"), -1,
         ("均等拨款使 B 类社区经费不足；15/30/15/10 的分类拨款减少了不足",
          "每个 B 类社区的经费缺口（万元）")),
    Fact("1b", "Uniform funding leaves D communities money unspent; the split lowers that",
         "uniform", "classified", "D", "unspent per D community (10k yuan)",
         per_community("unspent"), -1,
         ("均等拨款使 D 类社区经费花不完；分类拨款减少了结余",
          "每个 D 类社区未花完的经费（万元）")),
    Fact("1c", "The budget-neutral split lowers the mismatch of money and need", "uniform",
         "classified", "city", "(shortfall + unspent) / funds", mismatch, -1,
         ("预算中性的分类拨款减少了经费与需求的错配",
          "（缺口 + 未花完）/ 拨付经费")),
    Fact("1d", "... and raises overall resolution", "uniform", "classified", "city",
         "resolution rate (KPI, of reported cases)", lambda s: s.resolution_rate, +1,
         ("……并提高总体解决率",
          "解决率（考核指标，已受理诉求）")),
    Fact("1e", "... counting every grievance that arose too", "uniform", "classified", "city",
         "share of arisen grievances resolved", lambda s: s.resolved_share, +1,
         ("……计入所有产生的诉求也是如此",
          "已解决占全部产生诉求的比例")),
    Fact("2", "Smaller grids (400 against 800 households) find problems sooner", "grids-800",
         "classified", "city", "silent grievances found / silent", found, +1,
         ("更小的网格（400 户而非 800 户）更早发现问题",
          "被发现的未反映诉求 / 未反映诉求")),
    Fact("2b", "... and resolve more of all that arises", "grids-800", "classified", "city",
         "share of arisen grievances resolved", lambda s: s.resolved_share, +1,
         ("……并解决更多产生的诉求",
          "已解决占全部产生诉求的比例")),
    Fact("2c", "... while the KPI, of reported cases only, looks worse: the hard cases found "
         "enter its denominator (the KPI rewards finding less)", "grids-800", "classified",
         "city", "resolution rate (KPI, of reported cases)", lambda s: s.resolution_rate, -1,
         ("……而只计已受理诉求的考核指标看起来更差：新发现的难办案件进入了它的分母"
          "（考核指标奖励少发现问题）",
          "解决率（考核指标，已受理诉求）")),
    Fact("3a", "Red property and four-party linkage lower property complaints in A", "no-red-no-linkage",
         "classified", "A", "property grievances per 1,000 residents",
         per_thousand("cohort_arisen_property"), -1,
         ("红色物业和四方联动减少 A 类社区的物业投诉",
          "每千居民的物业类诉求")),
    Fact("3b", "... and in B", "no-red-no-linkage", "classified", "B",
         "property grievances per 1,000 residents", per_thousand("cohort_arisen_property"), -1,
         ("……B 类社区也是如此",
          "每千居民的物业类诉求")),
    Fact("4", "A self-governance body gets old ('three-no') compounds' problems handled",
         "no-self-governance", "classified", "B", "resolution rate in old compounds",
         lambda s: s.resolution_rate_old, +1,
         ("自治组织让老旧（“三无”）小区的问题得到处理",
          "老旧小区的解决率")),
    Fact("5a", "Neighbour familiarity (B) helps discovery", "no-familiarity", "classified", "B",
         "silent grievances found / silent", found, +1,
         ("邻里熟悉（B 类）有助于发现问题",
          "被发现的未反映诉求 / 未反映诉求")),
    Fact("5b", "A high migrant share (C) hurts reporting", "no-migrant-gap", "classified", "C",
         "grievances voiced / arisen", voiced, -1,
         ("流动人口比例高（C 类）不利于反映诉求",
          "已反映诉求 / 产生的诉求")),
    Fact("5c", "... and trust", "no-migrant-gap", "classified", "C", "mean trust",
         lambda s: s.mean_trust, -1,
         ("……也降低信任",
          "平均信任度")),
]


def words(row: dict, lang: str) -> tuple[str, str]:
    """A fact's statement and measure, in English or Chinese, from a row of `evaluate`."""
    if lang == "en":
        return row["statement"], row["measure"]
    return next(f.zh for f in FACTS if f.fact == row["fact"])


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

"""Metamorphic properties of the model, as a suite: `shequ check`.

A metamorphic property relates two runs of the model instead of one run to data: more money for
every class is never worse, smaller grids are never worse, more department capacity is never
worse, fewer grievances arising never lower mean satisfaction or the resolved share. Each is
tested as non-inferiority over common-random-number replications (the replication is the unit):
the variant's replication r is paired with the baseline's replication r (they share a seed), and
the property holds for an outcome when the one-sided 95 % upper bound on the harm (Student t over
the paired differences, `analysis.stats.harm_bound`) lies below a stated margin:

- 0.2 percentage points (0.002) for rates and shares,
- 0.005 for mean satisfaction and mean trust (0-1),
- 2 % of the baseline mean for grievance-days of unmet need per 1,000 residents.

The harm is a decrease, except for `unvoiced_share` and `unmet_days_per_1000`, where it is an
increase. Outcomes are city-wide (the `city` rows of the summary table). A KPI that can honestly
move the other way is reported with its interval, not asserted, and the report says why; the
effects of the four-party linkage and of the type measures are reported, not asserted.

`shequ check [EXPERIMENT]` runs the experiment (default `experiments/validation.toml`) through
the batch engine (resumable; `--workers`, `--cluster`), then reads only its result folder and
writes the report (default docs/validation.md); `--lang zh` writes it, and the summary, in
Chinese. Exit code 0 when every asserted property holds, 1 when one fails (named on stderr) or
runs failed, 2 bad input.
"""

import datetime
import functools
import math
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

import pandas as pd

from analysis.stats import harm_bound, paired
from sim import labels
from sim.errors import InputError
from sim.metrics import ICEBERG, KPIS

BASELINE = "reform"
CLASS = "city"
CONFIDENCE = 0.95
OUTCOMES = ICEBERG + KPIS
WORSE_IF_HIGHER = ("unvoiced_share", "unmet_days_per_1000")
RELATIVE_MARGIN = 0.02  # of the baseline mean, for unmet_days_per_1000
MEAN_MARGIN = 0.005  # mean satisfaction, mean trust
RATE_MARGIN = 0.002  # rates and shares
ENOUGH_REPLICATIONS = 20  # below this a run of the suite is a quick check, not the validation
LITTLE = "tests/test_model.py::test_littles_law"


def harm_sign(outcome: str) -> int:
    """+1 when an increase of the outcome is a harm, -1 when a decrease is."""
    return 1 if outcome in WORSE_IF_HIGHER else -1


def margin(outcome: str, baseline_mean: float) -> float:
    """The non-inferiority margin of an outcome (in its own units)."""
    if outcome == "unmet_days_per_1000":
        return RELATIVE_MARGIN * baseline_mean
    return MEAN_MARGIN if outcome.startswith("mean_") else RATE_MARGIN


# ---- the properties -------------------------------------------------------------------------
def flat(params: dict, prefix: str = "") -> dict:
    """Nested parameters as dotted keys ("funding.by_class.B" -> 300000)."""
    out = {}
    for key, value in params.items():
        name = f"{prefix}{key}"
        out |= flat(value, f"{name}.") if isinstance(value, dict) else {name: value}
    return out


def entries(params: dict, prefix: str) -> dict:
    """The values under a dotted prefix, keyed by what follows it."""
    return {k[len(prefix):]: v for k, v in params.items() if k.startswith(prefix)}


def all_at_least(prefix: str, sign: int) -> Callable[[dict, dict], bool]:
    """Every entry under `prefix` moved the `sign` way or stayed, and one moved."""
    def premise(base: dict, variant: dict) -> bool:
        b, v = entries(base, prefix), entries(variant, prefix)
        steps = [sign * (v[k] - b[k]) for k in b]
        return set(b) == set(v) and min(steps) >= 0 and max(steps) > 0
    return premise


@dataclass(frozen=True)
class Relation:
    """A variant against the baseline: what changed (its premise, checked on the parameters
    before any run), which outcomes are asserted, and which are reported only, and why."""

    variant: str
    relation: str
    changes: tuple[str, ...]  # dotted parameter prefixes the variant may change
    premise: Callable[[dict, dict], bool]
    asserted: tuple[str, ...] = ()
    reported: dict = field(default_factory=dict)  # outcome -> why it is not asserted (en, zh)
    relation_zh: str = ""  # the relation in Chinese, for `--lang zh`

    def said(self, lang: str) -> str:
        return self.relation_zh if lang == "zh" else self.relation


FOUND_HARD_CASES = (
    "smaller grids find more silent grievances; the newly found ones include hard and "
    "long-waiting cases, which can lower this rate among reported cases while more grievances "
    "are resolved (the whole-iceberg outcomes are asserted)",
    "网格更小，发现的未反映诉求更多；新发现的诉求中有难办、久拖的案件，可能在解决的诉求增多的同时"
    "拉低已受理诉求中的这一比率（对全部诉求的结果作断言）")
FEWER_GRIEVANCES = (
    "the relation is stated for mean satisfaction and the resolved share: with fewer "
    "grievances, who voices (trust, last outcomes) and what residents expect at the return "
    "visit change too",
    "该关系只针对平均满意度和已解决占比：诉求减少时，谁会反映（信任、上次的结果）以及居民在回访时的"
    "期望也随之改变")
RELATIONS = [
    Relation("more-money", "more money for every class (each class's fund x1.5, no city total)",
             ("funding.by_class.", "funding.total"), all_at_least("funding.by_class.", +1),
             OUTCOMES, relation_zh="每一类社区的经费都增加（各类经费 ×1.5，不设全市总额）"),
    Relation("smaller-grids", "smaller grids: more grid workers (300 households a grid, not "
             "400)", ("mechanisms.households_per_grid",),
             all_at_least("mechanisms.households_per_grid", -1),
             (*ICEBERG, "response_rate"),
             {"resolution_rate": FOUND_HARD_CASES, "satisfaction_rate": FOUND_HARD_CASES},
             "更小的网格：更多网格员（每格 300 户，而非 400 户）"),
    Relation("more-department-capacity", "more city-department capacity (x2)",
             ("mechanisms.department_capacity",),
             all_at_least("mechanisms.department_capacity", +1), OUTCOMES,
             relation_zh="职能部门的处理能力加倍（×2）"),
    Relation("lower-arise-rates", "fewer grievances arise (every category's arise rate x0.5)",
             ("behaviour.arise_rate.",), all_at_least("behaviour.arise_rate.", -1),
             ("resolved_share", "mean_satisfaction"),
             {o: FEWER_GRIEVANCES for o in OUTCOMES
              if o not in ("resolved_share", "mean_satisfaction")},
             "产生的诉求更少（各类诉求的产生率 ×0.5）"),
]
EFFECT = ("an effect of the reform's design, reported with its interval, not asserted",
          "改革设计的一项效果，附区间报告，不作断言")
EFFECTS = [
    Relation("no-linkage", "the four-party linkage off", ("mechanisms.four_party_linkage",),
             lambda b, v: b["mechanisms.four_party_linkage"]
             and not v["mechanisms.four_party_linkage"], (), {o: EFFECT for o in OUTCOMES},
             "关闭四方联动"),
    Relation("no-measures", "the reform's type measures off (measures.A..D = [])",
             ("measures.",), lambda b, v: not any(entries(v, "measures.").values())
             and any(entries(b, "measures.").values()), (), {o: EFFECT for o in OUTCOMES},
             "关闭改革的分类措施（measures.A..D = []）"),
]


def check_experiment(experiment) -> None:
    """The experiment has the baseline and every variant, without a sweep, and each variant
    changes what its relation says, the way it says (an InputError otherwise)."""
    origin = str(experiment.path)
    scenarios = dict(experiment.variants)
    wanted = [BASELINE, *(r.variant for r in RELATIONS + EFFECTS)]
    missing = [name for name in wanted if name not in scenarios]
    if missing:
        raise InputError(f"{origin}: key \"variants\": expected the variants "
                         f"{', '.join(wanted)} (experiments/validation.toml), but "
                         f"{', '.join(missing)} {'is' if len(missing) == 1 else 'are'} missing")
    if experiment.sweep is not None:
        raise InputError(f"{origin}: key \"sweep\": expected no sweep (each property pairs a "
                         "variant with the baseline replication by replication)")
    base = flat(scenarios[BASELINE].params)
    for r in RELATIONS + EFFECTS:
        check_premise(r, base, flat(scenarios[r.variant].params), origin)


def check_premise(r: Relation, base: dict, variant: dict, origin: str) -> None:
    changed = sorted(k for k in base.keys() | variant.keys() if base.get(k) != variant.get(k))
    others = [k for k in changed if not k.startswith(r.changes)]
    if others or not r.premise(base, variant):
        why = (f"it also changes {', '.join(others[:3])}" if others else
               f"it changes {', '.join(changed[:3]) or 'nothing'} the other way or not at all")
        raise InputError(f"{origin}: variant \"{r.variant}\": expected {r.relation} against "
                         f"\"{BASELINE}\", changing only {', '.join(r.changes)}; but {why}")


# ---- the statistics -------------------------------------------------------------------------
def evaluate(summary: pd.DataFrame) -> pd.DataFrame:
    """One row per relation and outcome: the paired difference variant - baseline over the
    replications (city-wide), its two-sided 95 % interval, the one-sided 95 % bound on the harm,
    the margin, and whether the property holds (asserted rows; NaN for reported ones)."""
    city = summary[summary["class"] == CLASS]
    values = city.set_index(["variant", "point", "replication"])[list(OUTCOMES)]
    values = values.unstack("variant")  # one row a pair, columns (outcome, variant)
    found = set(city["variant"])
    rows = []
    for r in RELATIONS + EFFECTS:
        if r.variant not in found or BASELINE not in found:
            raise InputError(f"results: expected finished runs of the variants \"{BASELINE}\" "
                             f"and \"{r.variant}\", found {', '.join(sorted(found)) or 'none'}")
        for outcome in OUTCOMES:
            if outcome in r.asserted or outcome in r.reported:
                rows.append(row(values[outcome], r, outcome))
    return pd.DataFrame(rows)


def row(values: pd.DataFrame, r: Relation, outcome: str) -> dict:
    """One relation on one outcome, from its values (one row a pair, one column a variant)."""
    p = paired(values[BASELINE], values[r.variant], CONFIDENCE)
    bound = harm_bound(p, harm_sign(outcome), CONFIDENCE)
    m = margin(outcome, p.baseline_mean)
    asserted = outcome in r.asserted
    return {"variant": r.variant, "relation": r.relation, "outcome": outcome,
            "asserted": asserted, "n": p.n, "baseline_mean": p.baseline_mean,
            "variant_mean": p.variant_mean, "difference": p.difference, "ci_low": p.ci_low,
            "ci_high": p.ci_high, "harm": "increase" if harm_sign(outcome) > 0 else "decrease",
            "harm_bound": bound, "margin": m,
            "holds": bool(bound < m) if asserted else math.nan,
            "why": r.reported.get(outcome, ("", ""))[0]}


def failures(table: pd.DataFrame) -> pd.DataFrame:
    return table[table["asserted"] & ~table["holds"].astype(bool)]


# ---- the report -----------------------------------------------------------------------------
# The report's words in English and Chinese (`shequ check --lang zh`); numbers and outcome codes
# are the same in both.
WORDS = {
    "title": ("# Validation", "# 模型验证"),
    "made": ("Made by `{command}` on {date} (Shequ {version}). It holds: {parts}.",
             "由 `{command}` 于 {date} 生成（Shequ {version}）。内容：{parts}。"),
    "part calibration": ("the calibration (targets, fit, parameters' uncertainty, held-out "
                         "figures)", "校准（目标、拟合、参数的不确定性、留出数据）"),
    "part facts": ("the stylised facts", "典型事实"),
    "part properties": ("the metamorphic properties", "蜕变性质"),
    "part little": ("Little's law", "利特尔法则"),
    "part scale": ("the scale's stability against the full city", "缩放比例相对全市的稳定性"),
    "properties": ("## Metamorphic properties", "## 蜕变性质"),
    "experiment": (
        "Experiment `{experiment}` ({name}), {replications} replications of each of {variants} "
        "variants with common random numbers (seed {seed}), scale {scale} (1:{ratio}), {days} "
        "days reported after a warm-up of {warmup} budget year{s}; result folder `{results}`.",
        "实验 `{experiment}`（{name}）：{variants} 个变体各 {replications} 次重复，使用共同随机数"
        "（种子 {seed}），比例 {scale}（1:{ratio}），预热 {warmup} 个预算年后报告 {days} 天；"
        "结果文件夹 `{results}`。"),
    "quick": (" Fewer than {n} replications: a quick check, not the validation.",
              "重复次数少于 {n}：这是快速检查，不是正式验证。"),
    "method": (
        "Each property pairs replication r of a variant with replication r of the baseline "
        "(`{baseline}`, the reform; the same seed) and is tested as non-inferiority on the "
        "city-wide outcome: it **holds** when the one-sided 95 % upper bound on the harm (the "
        "mean paired harm plus t x sd / sqrt(n), t the 95th percentile of Student's t with n - 1 "
        "degrees of freedom, the replication the unit) lies below "
        "the margin — 0.2 percentage points for rates and shares, 0.005 for mean satisfaction "
        "and mean trust (0-1), 2 % of the baseline mean for grievance-days of unmet need per "
        "1,000 residents a year. The harm is a decrease, except for `unvoiced_share` and "
        "`unmet_days_per_1000`, where it is an increase. Differences are variant minus "
        "baseline, with their two-sided 95 % interval; rates and shares in %, differences in "
        "percentage points (pp).",
        "每个性质把某一变体的第 r 次重复与基准（`{baseline}`，即改革方案；同一种子）的第 r 次重复"
        "配对，对全市结果作非劣效检验：当危害的单侧 95 % 上界（配对危害的均值加 t × sd / √n，t 为"
        "自由度 n − 1 的 Student t 分布的第 95 百分位数，以重复为单位）低于界值时，该性质**成立**。"
        "界值：比率和占比为 0.2 个百分点，平均满意度和平均信任度（0–1）为 0.005，每千居民每年"
        "未满足需求的诉求·天为基准均值的 2 %。危害指下降；`unvoiced_share` 和 "
        "`unmet_days_per_1000` 的危害指上升。差值为变体减基准，附双侧 95 % 区间；比率和占比以 % "
        "表示，差值以百分点表示。"),
    "all hold": ("**All {n} asserted properties hold.**", "**全部 {n} 项断言的性质成立。**"),
    "some fail": ("**{k} of {n} asserted properties fail:** {which}.",
                  "**{n} 项断言的性质中有 {k} 项不成立：**{which}。"),
    "on": ("{variant} on {outcome}", "{variant} 的 {outcome}"),
    "asserted": ("### Asserted properties", "### 断言的性质"),
    "reported": ("### Reported with their intervals, not asserted", "### 只报告区间、不作断言"),
    "not asserted": ("#### Outcomes not asserted for a relation, and why",
                     "#### 某一关系下不作断言的结果及原因"),
    "effects": ("#### Effects of the four-party linkage and of the type measures",
                "#### 四方联动与分类措施的效果"),
    "effects text": ("Each variant is the reform with one part of its design switched off; the "
                     "difference is the variant minus the reform.",
                     "每个变体是关闭了设计中某一部分的改革方案；差值为变体减改革方案。"),
    "little": ("## Little's law", "## 利特尔法则"),
    "little text": ("Little's law on the open stock (the mean open stock equals the arrival rate "
                    "times the mean time open) is checked by a test: `{test}`.",
                    "未办结存量上的利特尔法则（平均未办结存量等于到达率乘以平均未办结时间）由测试 "
                    "`{test}` 检验。"),
    "asserted head": ("| variant | outcome (harm) | baseline mean | mean difference | 95 % CI | "
                      "one-sided 95 % bound on the harm | margin | result |",
                      "| 变体 | 结果（危害） | 基准均值 | 平均差值 | 95 % 置信区间 | 危害的单侧 95 % "
                      "上界 | 界值 | 结论 |"),
    "reported head": ("| variant | outcome | baseline mean | mean difference | 95 % CI |",
                      "| 变体 | 结果 | 基准均值 | 平均差值 | 95 % 置信区间 |"),
    "why head": (" why not asserted |", " 不作断言的原因 |"),
    "holds": ("holds", "成立"),
    "fails": ("**fails**", "**不成立**"),
    "increase": ("increase", "上升"),
    "decrease": ("decrease", "下降"),
    "pp": (" pp", " 个百分点"),
    "calibration": ("## Calibration", "## 校准"),
    "calibration text": ("The shipped calibration (`{path}`, made by the command it names), as "
                         "it stands:", "随附的校准（`{path}`，由其中写明的命令生成），原文收录："),
    "calibration in english": ("", "（这份校准报告是英文的；`shequ calibrate --lang zh` 生成中文版。）"),
    "columns": (("variant", "outcome", "n", "baseline_mean", "difference", "ci_low", "ci_high",
                 "harm_bound", "margin", "result"),
                ("变体", "结果", "n", "基准均值", "差值", "区间下限", "区间上限", "危害上界", "界值",
                 "结论")),
    "reported only": ("reported", "仅报告"),
    "FAILS": ("FAILS", "不成立"),
    "facts": ("## Stylised facts", "## 典型事实"),
    "facts text": (
        "Experiment `{experiment}` ({name}), {replications} replications of each of {variants} "
        "variants at scale {scale}, {days} days after a warm-up of {warmup} budget years; result "
        "folder `{results}`. {note} A fact holds when the interval lies wholly on the expected "
        "side of zero. **{held} of {n} hold.**",
        "实验 `{experiment}`（{name}）：{variants} 个变体各 {replications} 次重复，比例 {scale}，"
        "预热 {warmup} 个预算年后 {days} 天；结果文件夹 `{results}`。{note}区间完全位于零的"
        "预期一侧时，该事实成立。**{n} 项中 {held} 项成立。**"),
    "facts head": ("| fact | class | measure | expected | difference | 95 % interval | n | holds |",
                   "| 事实 | 类别 | 度量 | 预期 | 差值 | 95 % 区间 | n | 成立 |"),
    "vs": ("{variant} vs {baseline}", "{variant} 对 {baseline}"),
    "lower": ("lower", "更低"),
    "higher": ("higher", "更高"),
    "yes": ("yes", "是"),
    "no": ("no", "否"),
    "fact no": ("**no**", "**否**"),
    "city": ("city", "全市"),
    "scale": ("## Scale stability", "## 缩放比例的稳定性"),
    "scale text": (
        "The baseline at the experiment's scale (1:{ratio}, the mean of its {replications} "
        "replications) against one run of the full city (1:1, replication 0's seed); the gap is "
        "scaled minus full city, in percentage points for rates and shares. A run of the full "
        "city varies very little from seed to seed, so the comparison is an equivalence within "
        "the stated margin: 1 point city-wide for rates and shares, 2.5 points by class for "
        "response and 3.5 for satisfaction at the return visit (the 20 small township "
        "communities of class D vary most), 0.005 for mean satisfaction and trust. **{inside} of "
        "{n} within their margin.** `{test}` checks the same margins.",
        "实验比例（1:{ratio}，{replications} 次重复的均值）下的基准方案，对照全市（1:1，第 0 次"
        "重复的种子）的一次运行；差距为缩放结果减全市结果，比率和占比以百分点计。全市运行在不同"
        "种子间变化很小，所以这是在给定界值内的等效性比较：全市层面的比率和占比 1 个百分点，分类别"
        "的响应率 2.5 个百分点、回访满意率 3.5 个百分点（D 类的 20 个小型乡镇社区变化最大），平均"
        "满意度和信任度 0.005。**{n} 项中 {inside} 项在界值内。**`{test}` 检验同样的界值。"),
    "scale note": (
        "How a small scale stands for the full city (sim/scaling.py): a community's or a "
        "compound's handler pool holds a case or two at 1:100 where the full city's holds a "
        "queue, so it looks to its peers (pools of the same kind, class and compound kind). Its "
        "new cases meet a shadow queue of the full city's, fed at the peers' rate per resident "
        "and served oldest first up to the real capacity, so a pool near capacity keeps the full "
        "city's waits; its kept cases' workload is mostly its peers'. Before this (the pools' own "
        "smoothed workload, mostly the sampled case itself) the city's return-visit satisfaction "
        "at 1:100 sat 1.7 points below the full city's and class D's response 4.7 points above "
        "it.",
        "小比例如何代表全市（sim/scaling.py）：1:100 下，一个社区或小区的处置池只有一两件案件，"
        "而全市的处置池有一条队列，所以它参照同类处置池（同种、同类别、同小区类型）。它的新案件"
        "进入一条全市规模的影子队列，影子队列按同类处置池每位居民的速率进件、先到先办、按真实处置"
        "能力办理，因此接近满负荷的处置池保持全市的等待时间；它所留案件的工作量主要来自同类处置池。"
        "在此之前（处置池自身平滑后的工作量，主要是被抽样的案件本身），1:100 下全市的回访满意率比"
        "全市低 1.7 个百分点，D 类的响应率高 4.7 个百分点。"),
    "scale head": ("| class | outcome | scaled | full city | gap | margin | within |",
                   "| 类别 | 结果 | 缩放 | 全市 | 差距 | 界值 | 在界值内 |"),
    "full city": ("comparing with the full city (1:1, about a minute)",
                  "与全市比较（1:1，约一分钟）"),
    "summary": ("{k} of {n} asserted properties hold; written to {out}",
                "{n} 项断言的性质中 {k} 项成立；已写入 {out}"),
    "property fails": ("fails: {variant} ({relation}): {outcome}: the one-sided 95 % bound on "
                       "the harm ({harm}) is {bound}, not below the margin {margin}",
                       "不成立：{variant}（{relation}）：{outcome}：危害（{harm}）的单侧 95 % "
                       "上界为 {bound}，未低于界值 {margin}"),
    "facts summary": ("{k} of {n} stylised facts hold", "{n} 项典型事实中 {k} 项成立"),
    "fact fails": ("fails: stylised fact {fact} ({statement}): {measure} {variant} vs "
                   "{baseline}, difference {d} [{low}, {high}], expected {expected}",
                   "不成立：典型事实 {fact}（{statement}）：{measure}，{variant} 对 {baseline}，"
                   "差值 {d} [{low}, {high}]，预期{expected}"),
}
say = functools.partial(labels.phrase, WORDS)
RELATION = {r.variant: r for r in RELATIONS + EFFECTS}


def named(outcome: str, lang: str) -> str:
    """An outcome as the report names it: its code, and in Chinese its label too."""
    return f"`{outcome}`" if lang == "en" else f"{labels.label(outcome, 'zh')}（`{outcome}`）"


def show(outcome: str, value: float, signed: bool = False, lang: str = "en") -> str:
    """Rates and shares in % (differences in percentage points), means 0-1, unmet days."""
    if math.isnan(value):
        return "n/a"
    sign = "+" if signed else ""
    if outcome.endswith(("_rate", "_share")):
        return f"{value * 100:{sign}.3f}" + (say("pp", lang) if signed else " %")
    return f"{value:{sign}.4f}" if outcome.startswith("mean_") else f"{value:{sign},.2f}"


def interval(r, lang: str = "en") -> str:
    return f"[{show(r.outcome, r.ci_low, True, lang)}, {show(r.outcome, r.ci_high, True, lang)}]"


def asserted_table(table: pd.DataFrame, lang: str = "en") -> list[str]:
    lines = [say("asserted head", lang), "|---" * 8 + "|"]
    for r in table[table["asserted"]].itertuples():
        rate = r.outcome.endswith(("_rate", "_share"))
        pp = say("pp", lang)
        bound = "n/a" if math.isnan(r.harm_bound) else (
            f"{r.harm_bound * 100:+.3f}{pp}" if rate else show(r.outcome, r.harm_bound, True))
        m = f"{r.margin * 100:.3f}{pp}" if rate else show(r.outcome, r.margin)
        harm = labels.aside(say(r.harm, lang), lang)
        lines.append(f"| {r.variant} | {named(r.outcome, lang)}{harm} | "
                     f"{show(r.outcome, r.baseline_mean)} | "
                     f"{show(r.outcome, r.difference, True, lang)} | {interval(r, lang)} | "
                     f"{bound} | {m} | {say('holds' if r.holds else 'fails', lang)} |")
    return lines


def reported_table(rows: pd.DataFrame, why: bool, lang: str = "en") -> list[str]:
    head = say("reported head", lang)
    lines = [head + (say("why head", lang) if why else ""), "|---" * (6 if why else 5) + "|"]
    for r in rows.itertuples():
        reason = labels.pick(RELATION[r.variant].reported[r.outcome], lang)
        lines.append(f"| {r.variant} | {named(r.outcome, lang)} | "
                     f"{show(r.outcome, r.baseline_mean)} | "
                     f"{show(r.outcome, r.difference, True, lang)} | {interval(r, lang)} |"
                     + (f" {reason} |" if why else ""))
    return lines


def legend(relations: list[Relation], lang: str = "en") -> list[str]:
    return [f"- `{r.variant}`: {r.said(lang)}" for r in relations]


def markdown(table: pd.DataFrame, made: dict, lang: str = "en") -> str:
    """The report: how it was made, the asserted properties, then what is reported only."""
    failed = failures(table)
    n = int(table["asserted"].sum())
    verdict = (say("all hold", lang, n=n) if failed.empty else
               say("some fail", lang, k=len(failed), n=n, which=labels.listed((
                   say("on", lang, variant=r.variant, outcome=f"`{r.outcome}`")
                   for r in failed.itertuples()), lang, by="then")))
    kpis = table[~table["asserted"] & table["variant"].isin([r.variant for r in RELATIONS])]
    effects = table[table["variant"].isin([r.variant for r in EFFECTS])]
    quick = ("" if made["replications"] >= ENOUGH_REPLICATIONS else
             say("quick", lang, n=ENOUGH_REPLICATIONS))
    lines = [
        say("properties", lang), "",
        say("experiment", lang, **made | {"scale": f"{made['scale']:g}",
                                          "ratio": f"{1 / made['scale']:,.0f}",
                                          "s": "s" * (made["warmup"] != 1)}) + quick, "",
        say("method", lang, baseline=BASELINE), "",
        verdict, "",
        say("asserted", lang), "", *legend(RELATIONS, lang), "", *asserted_table(table, lang), "",
        say("reported", lang), "",
        say("not asserted", lang), "",
        *reported_table(kpis, True, lang), "",
        say("effects", lang), "",
        say("effects text", lang), "", *legend(EFFECTS, lang), "",
        *reported_table(effects, False, lang), "",
        say("little", lang), "",
        say("little text", lang, test=LITTLE), ""]
    return "\n".join(lines)


def header(made: dict, parts: list[str], lang: str = "en") -> list[str]:
    """The report's title, how it was made and what it holds (`parts`: keys of WORDS)."""
    shown = labels.listed((say(p, lang) if p in WORDS else p for p in parts), lang)
    return [say("title", lang), "", say("made", lang, **made, parts=shown), ""]


CALIBRATION_TITLES = ("# Calibration", "# 校准")  # calibrate's report, in English or Chinese


def calibration_section(path: Path, lang: str = "en") -> list[str]:
    """The shipped calibration report (made by `shequ calibrate`, docs/calibration.md), its
    headings one level down: the targets, the fit, the parameters' uncertainty, the held-out
    figures."""
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as e:
        raise InputError(f"--calibration {path}: expected the calibration report that `shequ "
                         f"calibrate` writes (calibration.md), but cannot read it "
                         f"({getattr(e, 'strerror', None) or e})") from None
    lines = text.splitlines()
    if not lines or not lines[0].startswith(CALIBRATION_TITLES):
        raise InputError(f"--calibration {path}: expected the calibration report that `shequ "
                         "calibrate` writes, starting \"# Calibration\" (or \"# 校准\" with "
                         "--lang zh)")
    body = ["#" + line if line.startswith("#") else line for line in lines[1:]]
    english = lines[0].startswith(CALIBRATION_TITLES[0])
    note = ["", say("calibration in english", lang)] if english and lang == "zh" else []
    return [say("calibration", lang), "", say("calibration text", lang, path=shown_path(path)),
            *note, *body, ""]


def facts_section(table: pd.DataFrame, made: dict, lang: str = "en") -> list[str]:
    """The stylised facts of SEED-FACTS §7, emergent and never fitted: each as a paired
    difference with its 95 % interval."""
    from analysis import facts

    held = int(table["holds"].sum())
    lines = [say("facts", lang), "",
             say("facts text", lang, **made | {"scale": f"{made['scale']:g}",
                                               "note": labels.pick(facts.NOTE, lang),
                                               "held": held, "n": len(table)}), "",
             say("facts head", lang), "|---|---|---|---|---|---|---|---|"]
    for r in table.to_dict("records"):
        statement, measure = facts.words(r, lang)
        vs = say("vs", lang, variant=r["variant"], baseline=r["baseline"])
        cls = say("city", lang) if r["class"] == CLASS else r["class"]
        lines.append(f"| {r['fact']}. {statement}{labels.aside(vs, lang)} | {cls} | "
                     f"{measure} | "
                     f"{say(r['expected'], lang)} | {r['difference']:+.4g} | "
                     f"[{r['ci_low']:.4g}, {r['ci_high']:.4g}] | {r['n']} | "
                     f"{say('yes' if r['holds'] else 'fact no', lang)} |")
    return lines + [""]


def write(target: Path, text: str) -> None:
    from sim.command import output_file

    with output_file(target, "--out") as tmp:
        tmp.write_text(text, encoding="utf-8")


# ---- scale ------------------------------------------------------------------------------------
# Equivalence margins of the shipped scale against the full city (DESIGN §7: rates do not depend
# on the scale), city-wide and by class; the 20 small township communities of class D (30
# residents each at 1:100) vary most. tests/test_full_city.py checks the same margins.
SCALE_OUTCOMES = ("response_rate", "resolution_rate", "satisfaction_rate", "resolved_share",
                  "unvoiced_share", "mean_satisfaction", "mean_trust")
CITY_MARGINS = {"response_rate": 0.01, "resolution_rate": 0.01, "satisfaction_rate": 0.01,
                "resolved_share": 0.01, "unvoiced_share": 0.01, "mean_satisfaction": 0.005,
                "mean_trust": 0.005}
CLASS_MARGINS = CITY_MARGINS | {"response_rate": 0.025, "satisfaction_rate": 0.035}


def full_city(experiment) -> pd.DataFrame:
    """The baseline's summary at 1:1, replication 0's seed (a run of about half a minute)."""
    from sim.model import GovernanceModel

    scenario = dict(experiment.variants)[BASELINE]
    model = GovernanceModel(scenario=scenario, scale=1.0, rng=experiment.seed_of(0), daily=False)
    return model.run().summary().set_index("class")


def scale_table(summary: pd.DataFrame, full: pd.DataFrame) -> pd.DataFrame:
    """By class and city: the baseline's mean over the replications at the experiment's scale,
    the full city's value, the gap and its margin."""
    base = summary[summary["variant"] == BASELINE]
    small = base.groupby("class")[list(SCALE_OUTCOMES)].mean()
    rows = []
    for cls in full.index:
        margins = CITY_MARGINS if cls == CLASS else CLASS_MARGINS
        for outcome in SCALE_OUTCOMES:
            a, b = float(small.loc[cls, outcome]), float(full.loc[cls, outcome])
            rows.append({"class": cls, "outcome": outcome, "scaled": a, "full_city": b,
                         "gap": a - b, "margin": margins[outcome],
                         "within": abs(a - b) <= margins[outcome]})
    return pd.DataFrame(rows)


def scale_section(table: pd.DataFrame, made: dict, lang: str = "en") -> list[str]:
    inside = int(table["within"].sum())
    lines = [say("scale", lang), "",
             say("scale text", lang, ratio=f"{1 / made['scale']:,.0f}",
                 replications=made["replications"], inside=inside, n=len(table),
                 test="tests/test_full_city.py::test_rates_at_1_100_are_those_of_the_full_city"),
             "", say("scale note", lang), "", say("scale head", lang),
             "|---|---|---|---|---|---|---|"]
    pp = say("pp", lang)
    for r in table.itertuples():
        mean = r.outcome.startswith("mean_")
        f = (lambda x: f"{x:.4f}") if mean else (lambda x: f"{100 * x:.2f} %")
        g = f"{r.gap:+.4f}" if mean else f"{100 * r.gap:+.2f}{pp}"
        m = f"{r.margin:.3f}" if mean else f"{100 * r.margin:.1f}{pp}"
        cls = say("city", lang) if r._1 == CLASS else r._1
        lines.append(f"| {cls} | {named(r.outcome, lang)} | {f(r.scaled)} | {f(r.full_city)} | "
                     f"{g} | {m} | {say('yes' if r.within else 'no', lang)} |")
    return lines + [""]


# ---- the command ----------------------------------------------------------------------------
def run(args) -> int:
    """`shequ check`: run the experiment(s), evaluate the properties (and the stylised facts),
    write the report."""
    from sim.batch import cli as batch_cli
    from sim.batch.experiment import load
    from sim.command import check_file

    batch_cli.check_executor(args)
    experiment = load(args.experiment)
    check_experiment(experiment)
    results = prepared(experiment, args.results, "--results")
    fact_experiment = fact_results = None
    if args.facts:
        fact_experiment = load(args.facts)
        check_facts(fact_experiment)
        fact_results = prepared(fact_experiment, args.facts_results, "--facts-results")
    lang = getattr(args, "lang", "en")
    calibration = calibration_section(args.calibration, lang) if args.calibration else []
    check_file(args.out, "--out")
    need = "the properties need every run: run the same command again"
    for exp, folder, flag in ((experiment, results, "--results"),
                              (fact_experiment, fact_results, "--facts-results")):
        if exp is not None and (code := batch_cli.run_runs(exp, folder, args, flag=flag,
                                                           need=need)):
            return code
    summary = finished(results, experiment)
    table = evaluate(summary)
    about = made(experiment, results, args)
    parts, body = ["part properties", "part little"], markdown(table, about, lang)
    fact_table = None
    if fact_experiment is not None:
        from analysis import facts

        fact_table = facts.evaluate(finished(fact_results, fact_experiment))
        body = "\n".join(facts_section(fact_table, made(fact_experiment, fact_results, args),
                                       lang)) + "\n" + body
        parts.insert(0, "part facts")
    if calibration:
        body = "\n".join(calibration) + "\n" + body
        parts.insert(0, "part calibration")
    if args.full_city:
        print(say("full city", lang), flush=True)
        body += "\n".join(scale_section(scale_table(summary, full_city(experiment)), about,
                                        lang))
        parts.append("part scale")
    text = "\n".join(header(about, parts, lang)) + "\n" + body
    try:
        write(args.out, text)
    except OSError as e:
        from sim.errors import CannotWrite

        raise CannotWrite(f"--out {args.out}: cannot write ({e.strerror}); expected a writable "
                          "file") from None
    return verdict(table, args.out, fact_table, lang)


def prepared(experiment, results: Path | None, flag: str) -> Path:
    """An experiment's result folder, checked and its configs validated (nothing written)."""
    from sim.batch.experiment import safe_name
    from sim.batch.runner import prepare
    from sim.command import check_results

    results = results or Path("results") / safe_name(experiment.name)
    check_results(results, flag)
    prepare(experiment, results)
    return results


def check_facts(experiment) -> None:
    """The stylised facts need their experiment's variants."""
    from analysis import facts
    from sim.errors import InputError

    names = {v for v, _ in experiment.variants}
    wanted = sorted({n for f in facts.FACTS for n in (f.baseline, f.variant)})
    if missing := [n for n in wanted if n not in names]:
        raise InputError(f"--facts {shown_path(experiment.path)}: expected the stylised facts' "
                         f"variants {', '.join(wanted)}, but {', '.join(missing)} "
                         f"{'is' if len(missing) == 1 else 'are'} missing")


def finished(results: Path, experiment) -> pd.DataFrame:
    """The summary rows of this experiment's variants and replications."""
    from sim.batch import read

    summary = read(results, "summary")
    names = [v for v, _ in experiment.variants]
    return summary[summary["variant"].isin(names)
                   & (summary["replication"] < experiment.replications)]


def made(experiment, results: Path, args) -> dict:
    import sim

    variants = dict(experiment.variants)
    run = variants.get(BASELINE, experiment.variants[0][1]).params["run"]
    flags = (" --all" if getattr(args, "all", False) else
             " --full-city" * bool(getattr(args, "full_city", False))
             + " --facts" * bool(getattr(args, "facts", None))
             + " --calibration" * bool(getattr(args, "calibration", None)))
    flags += " --lang zh" * (getattr(args, "lang", "en") == "zh")
    return {"command": "shequ check" + (f" {args.experiment}" if args.experiment != "validation"
                                        else "") + flags,
            "date": datetime.date.today().isoformat(), "version": sim.__version__,
            "experiment": shown_path(experiment.path), "name": experiment.name,
            "replications": experiment.replications, "variants": len(experiment.variants),
            "seed": experiment.entropy, "scale": run["scale"], "days": run["days"],
            "warmup": run["warmup_years"], "results": results.as_posix()}


def shown_path(path: Path) -> str:
    """A path relative to the working folder when it is under it."""
    try:
        return Path(path).resolve().relative_to(Path.cwd().resolve()).as_posix()
    except ValueError:
        return Path(path).as_posix()


def verdict(table: pd.DataFrame, out: Path, fact_table: pd.DataFrame | None = None,
            lang: str = "en") -> int:
    result = table["holds"].map({True: say("holds", lang), False: say("FAILS", lang)})
    shown = table.assign(result=result.where(table["asserted"], say("reported only", lang)))
    columns = dict(zip(WORDS["columns"][0], labels.pick(WORDS["columns"], lang)))
    print(shown[list(columns)].rename(columns=columns).to_string(
        index=False, float_format=lambda x: f"{x:.5g}"))
    failed = failures(table)
    n = int(table["asserted"].sum())
    print("\n" + say("summary", lang, k=n - len(failed), n=n, out=out))
    for r in failed.itertuples():
        print(say("property fails", lang, variant=r.variant,
                  relation=RELATION[r.variant].said(lang), outcome=r.outcome,
                  harm=say(r.harm, lang), bound=f"{r.harm_bound:.5g}",
                  margin=f"{r.margin:.5g}"), file=sys.stderr)
    wrong = [] if fact_table is None else fact_table[~fact_table["holds"]].to_dict("records")
    if fact_table is not None:
        print(say("facts summary", lang, k=len(fact_table) - len(wrong), n=len(fact_table)))
    for f in wrong:
        from analysis import facts

        statement, measure = facts.words(f, lang)
        print(say("fact fails", lang, fact=f["fact"], statement=statement, measure=measure,
                  variant=f["variant"], baseline=f["baseline"], d=f"{f['difference']:+.4g}",
                  low=f"{f['ci_low']:.4g}", high=f"{f['ci_high']:.4g}",
                  expected=say(f["expected"], lang)), file=sys.stderr)
    return 1 if len(failed) or wrong else 0

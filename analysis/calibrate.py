"""Calibration to Xining's published figures by the method of simulated moments.

    shequ calibrate [--scale 0.1] [--replications 3] [--evaluations 40] [--verify-scale 1]
                    [--verify-replications 4] [--workers 2] [--out output/calibration]
                    [--results results/calibration] [--targets experiments/targets.csv]
                    [--lang en|zh]

The figures and their roles are in `experiments/targets.csv` (analysis/targets.py): five are
fitted (response 97.7 %, resolution 97.4 %, satisfaction 95.7 %, the hotline's 899 contacts a day
and the 425 of 843 it settles itself), three are held out (the hotline's topics of the day), the
rest are defaults, implied, outside the model or plausibility bands. Four behavioural parameters
are fitted, fewer than the targets: the choice of channel is not (an assumption), so the hotline's
contacts a day test the model's volume of grievances rather than being matched by a parameter of
their own.

The fit minimises the sum over fitted targets of ((simulated mean − target) / uncertainty)² with
scipy's trust-region least squares in the unit cube of the parameters' ranges; the simulated mean
is over common-random-number replications (the same seeds for every candidate). At the best point:

- parameter uncertainty, the MSM sandwich (J'J)⁻¹ J'ΩJ (J'J)⁻¹ with J the Jacobian of the weighted
  residuals (finite differences, the search's own) and Ω = I + the replications' covariance of
  the weighted moments / replications; a parameter whose 95 % interval covers half its range or
  more is reported as not identified by the targets;
- over-identification, J = r'Ω⁻¹r against χ² with (targets − parameters) degrees of freedom;
- verification at `--verify-scale` on new seeds: each fitted target's simulated mean and 95 %
  interval;
- held-out checks: the 95 % predictive interval of each held-out figure, over parameter draws from
  the sandwich (and new seeds) with the figure's own measurement uncertainty added.

The fitted values go to `calibrated.toml`, which the shipped scenarios extend.

Each new candidate of the search, and the verification, is a round of the search layer that
`shequ optimise` uses too (analysis/search.py): an experiment file in the out folder's rounds/,
run through the batch engine into the result store `--results` with the listed seeds. A fit
stopped half-way goes on where it stopped: the search is deterministic, proposes the same
candidates again, and the store has their runs.
"""

import datetime
import functools
import json
import math
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from scipy import optimize, stats

from analysis import targets as published
from sim import labels
from sim.parameters import CATEGORIES

SCENARIO = "xining-classified"
SEEDS_FROM = 1000  # replication seeds: 1000, 1001, ... (common random numbers across evaluations)
VERIFY_SEEDS = SEEDS_FROM + 500  # verification: new seeds, not those fitted on
DRAW_SEEDS = SEEDS_FROM + 700  # held-out predictions: new seeds again
STEP = 0.05  # finite-difference step in the unit cube (a twentieth of each range)


@dataclass(frozen=True)
class Fitted:
    key: str  # section.key (a factor on a per-category table when `factor`)
    lo: float
    hi: float
    factor: bool = False  # scale every category of the table by one factor
    why: tuple[str, str] = ("", "")  # what it moves (en, zh)


PARAMETERS = [
    Fitted("behaviour.case_satisfaction_base", -6.0, 4.0,
           why=("satisfaction at the return visit (log-odds at zero performance)",
                "回访满意度（绩效为零时的对数几率）")),
    Fitted("mechanisms.staff_capacity", 0.5, 8.0,
           why=("first contact within the deadline", "时限内的首次联系")),
    Fitted("behaviour.intractable_share", 0.0, 3.0, factor=True,
           why=("grievances that cannot be resolved", "无法解决的诉求")),
    Fitted("behaviour.hotline_direct", 0.2, 3.0, factor=True,
           why=("share settled by the hotline itself (capped at 1 per category)",
                "热线自己办结的占比（每类最高为 1）")),
]


def fitted_targets(path: Path | None = None) -> dict[str, published.Target]:
    return published.with_role(published.load(path), "fitted")


def overrides(x: np.ndarray, base: dict) -> dict:
    """The nested scenario overrides for a parameter vector."""
    out: dict = {}
    for p, v in zip(PARAMETERS, x):
        section, key = p.key.split(".")
        if p.factor:
            value = {c: min(1.0, float(base[section][key][c] * v)) for c in CATEGORIES}
        else:
            value = float(v)
        out.setdefault(section, {})[key] = value
    return out


def start(base: dict) -> np.ndarray:
    """Where the search starts: the scenario's own values (factors at 1)."""
    def value(p: Fitted) -> float:
        section, key = p.key.split(".")
        return 1.0 if p.factor else base[section][key]

    return np.array([value(p) for p in PARAMETERS], dtype=float)


def moments(args: tuple) -> dict:
    """One run's measures (a worker function: plain arguments in, numbers out): every quantity
    analysis/targets.py can compare with a published figure; counts a day at full scale."""
    from sim.model import GovernanceModel

    over, scale, days, seed = args
    model = GovernanceModel(scenario=SCENARIO, scale=scale, days=days, rng=seed, daily=False,
                            **{f"{s}__{k}": v for s, d in over.items() for k, v in d.items()})
    return measured(model.run().summary().set_index("class").loc["city"], scale)


def measured(city, scale: float) -> dict:
    """The measures of one run from its summary row of the city."""
    per_day = 1 / (scale * max(city.reported_days, 1))
    handled = city.cum_hotline_direct + city.cum_hotline_transferred
    out = {"response_rate": city.response_rate, "resolution_rate": city.resolution_rate,
           "satisfaction_rate": city.satisfaction_rate,
           "hotline_contacts": city.cum_voiced_hotline * per_day,
           "hotline_direct_share": city.cum_hotline_direct / handled if handled else math.nan}
    out |= {f"hotline_calls_{c}": city[f"cohort_hotline_{c}"] * per_day for c in CATEGORIES}
    out["hotline_calls_other_max"] = max(out[f"hotline_calls_{c}"]
                                         for c in published.OTHER_TOPICS)
    return {k: float(v) for k, v in out.items()}


class Simulator:
    """Simulated moments over common-random-number replications (seeds first_seed, ...): each
    candidate a round `<label>NNNN` of the search layer (`rounds`, analysis/search.py, which fixes
    the scale and the days); `fixed`: nested overrides every run takes besides the candidate's
    (e.g. a shorter warm-up). `found` says whether the last candidate's runs were all in the
    result store already."""

    def __init__(self, rounds, replications: int, first_seed=SEEDS_FROM,
                 fixed: dict | None = None, label: str = "e"):
        self.rounds, self.fixed, self.label = rounds, fixed or {}, label
        self.seeds = list(range(first_seed, first_seed + replications))
        self.count, self.found = 0, False

    def runs(self, over: dict) -> list[dict]:
        self.count += 1
        name, made = f"{self.label}{self.count:04d}", self.rounds.runs
        summary = self.rounds.run(name, {name: merged(self.fixed, over)}, seeds=self.seeds)[name]
        self.found = self.rounds.runs == made
        city = summary[summary["class"] == "city"].sort_values("replication")
        return [measured(row, self.rounds.scale) for _, row in city.iterrows()]


def merged(a: dict, b: dict) -> dict:
    """Nested overrides: b's sections on top of a's."""
    return {s: {**a.get(s, {}), **b.get(s, {})} for s in {**a, **b}}


def mean_of(runs: list[dict]) -> dict:
    return {k: float(np.mean([r[k] for r in runs])) for k in runs[0]}


def residuals(means: dict, targets: dict) -> np.ndarray:
    """Weighted residuals (simulated mean − target) / uncertainty, in the targets' order."""
    return np.array([(means[t.measure] - t.value) / t.uncertainty for t in targets.values()])


def distance(means: dict, targets: dict) -> float:
    return float(np.sum(residuals(means, targets) ** 2))


class Fit:
    """The search and what it found: evaluations (x, runs, means, distance) by unit-cube point
    (a point seen before is not run again)."""

    def __init__(self, sim: Simulator, base: dict, targets: dict, log=print, lang: str = "en"):
        self.sim, self.base, self.targets, self.log, self.lang = sim, base, targets, log, lang
        self.lo = np.array([p.lo for p in PARAMETERS])
        self.hi = np.array([p.hi for p in PARAMETERS])
        self.seen: dict[tuple, dict] = {}
        self.history: list[dict] = []
        self.began, self.budget, self.ran = time.monotonic(), 0, 0

    def x_of(self, u: np.ndarray) -> np.ndarray:
        return self.lo + np.clip(u, 0, 1) * (self.hi - self.lo)

    def evaluate(self, u: np.ndarray) -> dict:
        key = tuple(np.round(np.clip(u, 0, 1), 12))
        if key not in self.seen:
            x = self.x_of(u)
            runs = self.sim.runs(overrides(x, self.base))
            found = self.sim.found
            self.ran += not found
            means = mean_of(runs)
            e = {"u": np.array(key), "x": x, "runs": runs, "means": means,
                 "distance": distance(means, self.targets)}
            self.seen[key] = e
            self.history.append(e)
            self.progress(e, from_store=found)
        return self.seen[key]

    def progress(self, e: dict, from_store: bool) -> None:
        """One line an evaluation: its distance, the best so far, the time taken and, at most,
        left (the search's budget of evaluations at the mean time of those run)."""
        n, best = len(self.history), min(h["distance"] for h in self.history)
        spent = time.monotonic() - self.began
        left = max(self.budget - n, 0) * spent / self.ran if self.ran else float("nan")
        when = say("from store", self.lang) if from_store else (
            say("so far", self.lang, spent=f"{spent / 60:.1f}", left=f"{left / 60:.0f}")
            if self.ran else "")
        self.log(say("evaluation", self.lang, n=n, budget=self.budget, distance=e["distance"],
                     best=best, when=when, means="  ".join(
                         f"{k}={e['means'][t.measure]:.4g}" for k, t in self.targets.items())))

    def run(self, evaluations: int) -> dict:
        """Trust-region least squares from the scenario's values, in about `evaluations` points:
        each of its steps costs one point and a finite-difference Jacobian (one per parameter;
        repeated points are not run again); then the Jacobian at the best point, for the
        sandwich."""
        u0 = np.clip((start(self.base) - self.lo) / (self.hi - self.lo), 0, 1)
        steps = max(1, evaluations // (len(PARAMETERS) + 1))
        self.budget = steps * (len(PARAMETERS) + 1) + len(PARAMETERS)  # + the last Jacobian
        optimize.least_squares(
            lambda u: residuals(self.evaluate(u)["means"], self.targets), u0, bounds=(0, 1),
            method="trf", diff_step=STEP, max_nfev=steps, x_scale=1.0)
        self.best = min(self.history, key=lambda e: e["distance"])
        self.jacobian_u = self.jacobian(self.best["u"])
        return self.best

    def jacobian(self, u: np.ndarray) -> np.ndarray:
        """d(weighted residual)/du by forward differences (backward at the upper bound)."""
        r0 = residuals(self.evaluate(u)["means"], self.targets)
        columns = []
        for i in range(len(u)):
            h = STEP if u[i] + STEP <= 1 else -STEP
            v = u.copy()
            v[i] += h
            columns.append((residuals(self.evaluate(v)["means"], self.targets) - r0) / h)
        return np.array(columns).T


def uncertainty(fit: Fit) -> dict:
    """MSM sandwich covariance of the fitted parameters, identification and the J test."""
    targets, best = fit.targets, fit.best
    J = fit.jacobian_u / (fit.hi - fit.lo)  # per unit of each parameter
    sigma = np.array([t.uncertainty for t in targets.values()])
    weighted = np.array([[r[t.measure] for t in targets.values()] for r in best["runs"]]) / sigma
    R = len(best["runs"])
    omega = np.eye(len(targets)) + (np.cov(weighted, rowvar=False, ddof=1) / R
                                    if R > 1 else 0.0)
    bread = np.linalg.pinv(J.T @ J)
    cov = bread @ J.T @ omega @ J @ bread
    se = np.sqrt(np.maximum(np.diag(cov), 0))
    r = residuals(best["means"], targets)
    dof = len(targets) - len(PARAMETERS)
    j_stat = float(r @ np.linalg.pinv(omega) @ r)
    singular = np.linalg.svd(J * (fit.hi - fit.lo), compute_uv=False)
    return {"cov": cov, "se": se, "low": best["x"] - 1.96 * se, "high": best["x"] + 1.96 * se,
            "identified": 2 * 1.96 * se < 0.5 * (fit.hi - fit.lo),
            "j": j_stat, "dof": dof,
            "p": float(stats.chi2.sf(j_stat, dof)) if dof > 0 else math.nan,
            "singular_values": singular.tolist()}


def verify(sim: Simulator, over: dict, targets: dict) -> tuple[dict, dict]:
    """Per target: simulated mean and 95 % interval over the replications; and the mean of
    every measure."""
    runs = sim.runs(over)
    out = {}
    for k, t in targets.items():
        v = np.array([r[t.measure] for r in runs], dtype=float)
        half = (stats.t.ppf(0.975, len(v) - 1) * v.std(ddof=1) / math.sqrt(len(v))
                if len(v) > 1 else math.nan)
        low, high = v.mean() - half, v.mean() + half
        if t.unit == "share":  # a share's interval stays in [0, 1]
            low, high = max(low, 0.0), min(high, 1.0)
        # Agreement: the published figure within 1.96 x the combined standard error of the
        # simulated mean (the seeds) and of the figure itself (its stated uncertainty).
        se = v.std(ddof=1) / math.sqrt(len(v)) if len(v) > 1 else 0.0
        allowed = 1.96 * math.hypot(se, t.uncertainty)
        out[k] = {"target": t.value, "mean": float(v.mean()), "low": float(low),
                  "high": float(high), "inside": bool(low <= t.value <= high),
                  "allowed": float(allowed),
                  "agrees": bool(abs(v.mean() - t.value) <= allowed)}
    return out, mean_of(runs)


def held_out(pool, fit: Fit, spread: dict, held: dict, draws: int, scale: float, days: int,
             seed: int = DRAW_SEEDS) -> dict:
    """95 % predictive interval of each held-out figure: parameters drawn from the sandwich
    (within their ranges), one new seed each, and the figure's measurement uncertainty added."""
    rng = np.random.default_rng(seed)
    xs = rng.multivariate_normal(fit.best["x"], spread["cov"], size=draws, method="svd")
    xs = np.clip(xs, fit.lo, fit.hi)
    jobs = [(merged(fit.sim.fixed, overrides(x, fit.base)), scale, days, seed + i)
            for i, x in enumerate(xs)]
    runs = list(pool.map(moments, jobs))
    out = {}
    for k, t in held.items():
        sims = np.array([r[t.measure] for r in runs])
        predicted = (sims[:, None] + rng.normal(0, t.uncertainty, (len(sims), 200))).ravel()
        low, high = np.quantile(predicted, [0.025, 0.975])
        out[k] = {"published": t.value, "mean": float(sims.mean()), "low": float(low),
                  "high": float(high), "side": t.side, "inside": within(t, low, high)}
    return out


def within(t: published.Target, low: float, high: float) -> bool:
    """Is the published value consistent with a predictive interval [low, high]? One-sided
    checks ask only that it not lie beyond the interval on their side."""
    if t.side < 0:  # the simulated value should be at most the published one
        return bool(low <= t.value)
    if t.side > 0:  # ... at least the published one
        return bool(high >= t.value)
    return bool(low <= t.value <= high)


def parameters_text(over: dict, note: str) -> str:
    """The fitted parameter file, as a scenario the shipped ones extend."""
    from sim.parameters import SCHEMA
    from sim.scenario import toml_value

    lines = ["# Behavioural parameters fitted by `shequ calibrate` (analysis/calibrate.py) so that",
             "# the reform scenario reproduces Xining's published figures (SEED-FACTS §6);",
             "# the targets, the simulated values and their intervals: docs/calibration.md.",
             f"# {note}", 'name = "calibrated"',
             'description = "Fitted behavioural parameters (extended by xining-uniform)"']
    for section, values in over.items():
        lines += ["", f"[{section}]"]
        for key, value in values.items():
            p = SCHEMA[section][key]
            lines.append(f"# {p.meaning} [{p.unit}; source: calibrated to seed 000/002 "
                         f"(docs/calibration.md); prior: {p.source}]")
            lines.append(f"{key} = {toml_value(rounded(value))}")
    return "\n".join(lines) + "\n"


def rounded(value):
    if isinstance(value, dict):
        return {k: rounded(v) for k, v in value.items()}
    return float(f"{value:.4g}") if isinstance(value, float) else value


def number(value: float, unit: str) -> str:
    if unit == "share":
        return f"{100 * value:.2f} %"
    return f"{value:,.4g}"


# The report's words in English and Chinese (`shequ calibrate --lang zh`).
WORDS = {
    "title": ("# Calibration to Xining's published figures", "# 校准：拟合西宁公布的数据"),
    "made": ("Made by `{command}` on {date} ({minutes} min on {workers} worker process{es}), "
             "from `experiments/targets.csv`.",
             "由 `{command}` 于 {date} 生成（{workers} 个工作进程，{minutes} 分钟），依据 "
             "`experiments/targets.csv`。"),
    "method": (
        "Method of simulated moments (analysis/calibrate.py): the reform scenario (`{scenario}`) "
        "is run for {days} days after its warm-up at scale {scale}, {replications} "
        "common-random-number replications per candidate (seeds {seeds}…); scipy's trust-region "
        "least squares minimises the sum over the {targets} fitted targets of ((simulated mean − "
        "published) / uncertainty)² over {parameters} parameters. Verification: {verify} new "
        "replications at scale {verify_scale} (seeds {verify_seeds}…), the mean and its 95 % "
        "Student-t interval over the seeds; the mean *agrees* with the published figure when "
        "they differ by at most 1.96 × √(se² + u²), se the mean's standard error over the seeds "
        "and u the figure's stated uncertainty (a one-sd measurement error).",
        "模拟矩方法（analysis/calibrate.py）：改革方案（`{scenario}`）在比例 {scale} 下预热后运行 "
        "{days} 天，每个候选 {replications} 次共同随机数重复（种子 {seeds}…）；用 scipy 的信赖域"
        "最小二乘，在 {parameters} 个参数上最小化 {targets} 个拟合目标的 ((模拟均值 − 公布值) / "
        "不确定性)² 之和。验证：比例 {verify_scale} 下 {verify} 次新重复（种子 {verify_seeds}…），"
        "取均值及其在种子间的 95 % Student t 区间；当均值与公布值之差不超过 1.96 × √(se² + u²) "
        "时，二者*一致*，其中 se 为均值在种子间的标准误，u 为该数字给出的不确定性（一个标准差的"
        "测量误差）。"),
    "fitted targets": ("## Fitted targets", "## 拟合目标"),
    "targets head": ("| target | published ± uncertainty | source | at {scale} (fit) | at "
                     "{verify_scale}: mean | 95 % interval (seeds) | agrees (allowed "
                     "difference) |",
                     "| 目标 | 公布值 ± 不确定性 | 来源 | 比例 {scale}（拟合） | 比例 {verify_scale}："
                     "均值 | 95 % 区间（种子） | 一致（允许的差） |"),
    "yes": ("yes", "是"),
    "no": ("no", "否"),
    "fitted parameters": ("## Fitted parameters", "## 拟合的参数"),
    "parameters text": (
        "Factors multiply every category of the table the search started from (the previous "
        "`calibrated.toml`); the file holds the values themselves. Standard errors from the "
        "MSM sandwich; a parameter is *not identified* when its 95 % interval covers half its "
        "search range or more.",
        "系数乘以搜索起点的表（上一版 `calibrated.toml`）中的每一类；文件里存的是数值本身。标准误"
        "来自模拟矩方法的三明治估计；95 % 区间覆盖搜索范围一半或以上的参数*不可识别*。"),
    "parameters head": ("| parameter | what it moves | search range | fitted | standard error | "
                        "95 % interval | identified |",
                        "| 参数 | 影响什么 | 搜索范围 | 拟合值 | 标准误 | 95 % 区间 | 可识别 |"),
    "p": ("p = {p}", "p = {p}"),
    "no dof": ("no degrees of freedom", "没有自由度"),
    "distance": (
        "Best distance {best} after {n} evaluations (at the start: {start}). "
        "Over-identification: {targets} targets, {parameters} parameters; J = {j} against χ² "
        "with {dof} degree(s) of freedom, {p} (a small p says the targets cannot all be met at "
        "once). Singular values of the scaled Jacobian: {singular}.",
        "{n} 次评估后的最优距离为 {best}（起点：{start}）。过度识别：{targets} 个目标，"
        "{parameters} 个参数；J = {j}，对照自由度为 {dof} 的 χ² 分布，{p}（p 小说明这些目标无法"
        "同时满足）。缩放后雅可比矩阵的奇异值：{singular}。"),
    "held out": ("## Held-out figures", "## 留出数据"),
    "held text": (
        "Not fitted, not defaults, not implied by fitted figures: the 95 % predictive interval "
        "over {draws} parameter draws from the sandwich (one new seed each, seeds {seeds}…, "
        "scale {scale}) with the figure's measurement uncertainty added. One-sided checks ask "
        "only that the published value not lie beyond the interval on the side the note gives.",
        "这些数字既不拟合、也不作默认值、也不能由拟合的数字推出：从三明治估计中抽取 {draws} 组参数"
        "（每组一个新种子，种子 {seeds}…，比例 {scale}），再加上该数字的测量不确定性，得到 95 % "
        "预测区间。单侧检查只要求公布值不落在说明所指一侧的区间之外。"),
    "held head": ("| figure | published | source | simulated mean | 95 % predictive interval | "
                  "check | inside |",
                  "| 数字 | 公布值 | 来源 | 模拟均值 | 95 % 预测区间 | 检查 | 在区间内 |"),
    "two-sided": ("two-sided", "双侧"),
    "at least": ("simulated ≥ published", "模拟值 ≥ 公布值"),
    "at most": ("simulated ≤ published", "模拟值 ≤ 公布值"),
    "bands": ("## Plausibility bands (other cities; not targets)",
              "## 合理性区间（其他城市；不是目标）"),
    "bands head": ("| figure | value | source | the model at {scale} |",
                   "| 数字 | 数值 | 来源 | 模型（比例 {scale}） |"),
    "others": ("## The other published figures", "## 其他公布的数字"),
    "others head": ("| figure | value | role | why |", "| 数字 | 数值 | 作用 | 原因 |"),
    "default": ("default", "默认值"),
    "implied": ("implied", "可推出"),
    "outside": ("outside", "模型之外"),
    "remains": ("## What remains", "## 尚未达到的"),
    "misses": ("Fitted targets the model does not reach at scale {scale} (verified mean − "
               "published): {gaps}. Between the fitting scale ({fit_scale}) and the verification "
               "the simulated values move by {moves}.",
               "比例 {scale} 下模型未达到的拟合目标（验证均值 − 公布值）：{gaps}。从拟合比例"
               "（{fit_scale}）到验证，模拟值变化了 {moves}。"),
    "gap": ("{k} {d} (allowed ± {allowed})", "{k} {d}（允许 ± {allowed}）"),
    "all agree": ("Every fitted target agrees with its simulated mean at scale {scale}, within "
                  "the published uncertainty and the seeds'.",
                  "比例 {scale} 下每个拟合目标都与其模拟均值一致（在公布的不确定性和种子的波动"
                  "之内）。"),
    "seeds": ("Outside the seeds' 95 % interval alone (which ignores the figures' own "
              "uncertainty): {which}.",
              "只看种子的 95 % 区间（不计这些数字自身的不确定性）时在区间外的：{which}。"),
    "held failed": ("Held-out figures outside their predictive interval: {k} of {n}{which}.",
                    "留出数据中落在预测区间之外的：{n} 个中 {k} 个{which}。"),
    "evaluation": ("  evaluation {n:3d}/{budget}: distance {distance:9.3f}, best {best:9.3f}  "
                   "({when})  {means}",
                   "  评估 {n:3d}/{budget}：距离 {distance:9.3f}，最优 {best:9.3f}  （{when}）  "
                   "{means}"),
    "from store": ("from the result store", "来自结果库"),
    "so far": ("{spent} min so far, at most {left} min left", "已用 {spent} 分钟，最多还需 {left} 分钟"),
    "start": ("calibrating {parameters} parameters to {targets} targets: {scenario} at scale "
              "{scale}, {replications} replications, at most {evaluations} evaluations; runs in "
              "{results}/",
              "校准 {parameters} 个参数以拟合 {targets} 个目标：{scenario}，比例 {scale}，"
              "{replications} 次重复，最多 {evaluations} 次评估；运行结果在 {results}/"),
    "verifying": ("verifying at scale {scale} with {replications} replications",
                  "验证：比例 {scale}，{replications} 次重复"),
    "predicting": ("predicting the {n} held-out figures from {draws} parameter draws",
                   "由 {draws} 组参数抽样预测 {n} 个留出数字"),
    "check line": ("  {k:24s} target {target:9.4g}  simulated {mean:9.4g} [{low:.4g}, {high:.4g}]"
                   "  {agrees} (± {allowed:.4g})",
                   "  {k:24s} 目标 {target:9.4g}  模拟 {mean:9.4g} [{low:.4g}, {high:.4g}]"
                   "  {agrees}（± {allowed:.4g}）"),
    "agrees": ("agrees", "一致"),
    "disagrees": ("does not agree", "不一致"),
    "held line": ("  held out {k:24s} published {published:9.4g}  predicted [{low:.4g}, "
                  "{high:.4g}]  {inside}",
                  "  留出 {k:24s} 公布 {published:9.4g}  预测 [{low:.4g}, {high:.4g}]  {inside}"),
    "inside": ("inside", "在区间内"),
    "outside interval": ("outside", "在区间外"),
    "wrote": ("wrote {files} to {out}/", "已写入 {out}/：{files}"),
    "replaced": ("replaced the shipped {files}", "已替换随附的 {files}"),
    "unchanged": ("the shipped scenarios/calibrated.toml is unchanged: copy {out}/calibrated.toml "
                  "there, or run again with --replace-shipped",
                  "随附的 scenarios/calibrated.toml 未改动：把 {out}/calibrated.toml 复制过去，"
                  "或加 --replace-shipped 再运行一次"),
}
# Units of the targets file, in Chinese (other units are shown as they are written).
UNITS_ZH = {"share": "占比", "contacts/day": "次/天", "calls/day": "个来电/天",
            "requests": "件", "visits/day": "次回访/天", "messages/day": "条/天"}
say = functools.partial(labels.phrase, WORDS)


def unit_in(unit: str, lang: str) -> str:
    return UNITS_ZH.get(unit, unit) if lang == "zh" else unit


def command_line(args) -> str:
    return (f"shequ calibrate --scale {args.scale:g} --replications {args.replications} "
            f"--evaluations {args.evaluations} --verify-scale {args.verify_scale:g} "
            f"--verify-replications {args.verify_replications} --draws {args.draws}"
            + ("" if args.warmup_years is None else f" --warmup-years {args.warmup_years}")
            + (" --lang zh" if lang_of(args) == "zh" else ""))


def lang_of(args) -> str:
    return getattr(args, "lang", "en")


def report_text(args, over: dict, fit: Fit, spread: dict, check: dict, measured: dict,
                held: dict, figures: dict, seconds: float) -> str:
    targets, best, lang = fit.targets, fit.best, lang_of(args)
    scale, verify_scale = f"{args.scale:g}", f"{args.verify_scale:g}"
    lines = [
        say("title", lang), "",
        say("made", lang, command=command_line(args), date=datetime.date.today().isoformat(),
            minutes=f"{seconds / 60:.1f}", workers=args.workers, es="es" * (args.workers != 1)),
        "",
        say("method", lang, scenario=SCENARIO, days=args.days, scale=scale,
            replications=args.replications, seeds=SEEDS_FROM, targets=len(targets),
            parameters=len(PARAMETERS), verify=args.verify_replications,
            verify_scale=verify_scale, verify_seeds=VERIFY_SEEDS), "",
        say("fitted targets", lang), "",
        say("targets head", lang, scale=scale, verify_scale=verify_scale),
        "|---|---|---|---|---|---|---|"]
    for k, t in targets.items():
        c = check[k]
        lines.append(f"| `{k}`{labels.aside(unit_in(t.unit, lang), lang)} | "
                     f"{number(t.value, t.unit)} ± "
                     f"{number(t.uncertainty, t.unit)} | {t.said('source', lang)} | "
                     f"{number(best['means'][t.measure], t.unit)} | {number(c['mean'], t.unit)} | "
                     f"[{number(c['low'], t.unit)}, {number(c['high'], t.unit)}] | "
                     f"{say('yes' if c['agrees'] else 'no', lang)}"
                     f"{labels.aside('± ' + number(c['allowed'], t.unit), lang)} |")
    lines += ["", say("fitted parameters", lang), "", say("parameters text", lang), "",
              say("parameters head", lang), "|---|---|---|---|---|---|---|"]
    for i, p in enumerate(PARAMETERS):
        shown = (lambda v: f"× {v:.3f}") if p.factor else (lambda v: f"{v:.4g}")
        lines.append(f"| `{p.key}` | {labels.pick(p.why, lang)} | [{p.lo:g}, {p.hi:g}] | "
                     f"{shown(best['x'][i])} | {spread['se'][i]:.3g} | "
                     f"[{shown(spread['low'][i])}, {shown(spread['high'][i])}] | "
                     f"{say('yes' if spread['identified'][i] else 'no', lang)} |")
    p_text = (say("p", lang, p=f"{spread['p']:.3g}") if spread["dof"] > 0
              else say("no dof", lang))
    lines += ["", say("distance", lang, best=f"{best['distance']:.3f}", n=len(fit.history),
                      start=f"{fit.history[0]['distance']:.3f}", targets=len(targets),
                      parameters=len(PARAMETERS), j=f"{spread['j']:.2f}", dof=spread["dof"],
                      p=p_text, singular=", ".join(f"{v:.3g}" for v in spread["singular_values"])),
              "", say("held out", lang), "",
              say("held text", lang, draws=args.draws, seeds=DRAW_SEEDS, scale=scale), "",
              say("held head", lang), "|---|---|---|---|---|---|---|"]
    for k, h in held.items():
        t = figures[k]
        side = say({0: "two-sided", 1: "at least", -1: "at most"}[h["side"]], lang)
        lines.append(f"| `{k}` (`{t.measure}`, {unit_in(t.unit, lang)}) | "
                     f"{number(t.value, t.unit)} | {t.said('source', lang)} "
                     f"| {number(h['mean'], t.unit)} | [{number(h['low'], t.unit)}, "
                     f"{number(h['high'], t.unit)}] | {side} | "
                     f"{say('yes' if h['inside'] else 'no', lang)} |")
    bands = published.with_role(figures, "band")
    lines += ["", say("bands", lang), "", say("bands head", lang, scale=verify_scale),
              "|---|---|---|---|"]
    for k, t in bands.items():
        lines.append(f"| `{k}` (`{t.measure}`) | {number(t.value, t.unit)} | "
                     f"{t.said('source', lang)} | {number(measured[t.measure], t.unit)} |")
    lines += ["", say("others", lang), "", say("others head", lang), "|---|---|---|---|"]
    for k, t in figures.items():
        if t.role in ("default", "implied", "outside"):
            lines.append(f"| `{k}` | {t.value:,.6g} {unit_in(t.unit, lang)} | "
                         f"{say(t.role, lang)} | {t.said('note', lang)} |")
    lines += ["", say("remains", lang), "", remains(check, held, targets, best, args)]
    return "\n".join(lines) + "\n"


def remains(check: dict, held: dict, targets: dict, best: dict, args) -> str:
    """The honest account of what the fit does not reach, from the numbers themselves."""
    lang = lang_of(args)
    misses = [k for k, c in check.items() if not c["agrees"]]
    out = []
    if misses:
        gaps = labels.listed((say("gap", lang, k=f"`{k}`",
                                  d=f"{check[k]['mean'] - targets[k].value:+.3g}",
                                  allowed=f"{check[k]['allowed']:.3g}") for k in misses),
                             lang, by="then")
        moves = labels.listed((f"`{k}` {check[k]['mean'] - best['means'][t.measure]:+.3g}"
                               for k, t in targets.items() if k in misses), lang, by="then")
        out.append(say("misses", lang, scale=f"{args.verify_scale:g}", gaps=gaps,
                       fit_scale=f"{args.scale:g}", moves=moves))
    else:
        out.append(say("all agree", lang, scale=f"{args.verify_scale:g}"))
    seeds = [k for k, c in check.items() if not c["inside"]]
    if seeds:
        out.append(say("seeds", lang, which=labels.listed((f"`{k}`" for k in seeds), lang)))
    failed = [k for k, h in held.items() if not h["inside"]]
    which = (labels.aside(labels.listed((f"`{k}`" for k in failed), lang), lang)
             if failed else "")
    out.append(say("held failed", lang, k=len(failed), n=len(held), which=which))
    return ("" if lang == "zh" else " ").join(out)


def run(args) -> int:
    from sim.batch.runner import executor_for
    from sim.command import OutputFolder, check_folder, check_results
    from sim.errors import InputError
    from sim.scenario import load

    from analysis.search import Rounds, SearchError

    results = args.results or Path("results") / "calibration"
    lang = lang_of(args)
    check_folder(args.out, "calibrate")
    check_results(results, "--results")
    if args.replace_shipped and not (Path(__file__).resolve().parent.parent / "scenarios").is_dir():
        raise InputError("--replace-shipped: expected a source checkout (its scenarios/ folder), "
                         "but Shequ runs from an installed package; use the fitted file from --out")
    figures = published.load(args.targets)
    targets = published.with_role(figures, "fitted")
    held = published.with_role(figures, "held_out")
    base = load(SCENARIO).params
    began = datetime.datetime.now()
    fixed = {} if args.warmup_years is None else {"run": {"warmup_years": args.warmup_years}}
    try:
        with OutputFolder(args.out, "calibrate") as folder, \
                executor_for(args.workers) as executor:
            rounds = Rounds(results, folder, "calibrate", SCENARIO, scale=args.scale,
                            days=args.days, seed=SEEDS_FROM, executor=executor, progress=False)

            print(say("start", lang, parameters=len(PARAMETERS), targets=len(targets),
                      scenario=SCENARIO, scale=args.scale, replications=args.replications,
                      evaluations=args.evaluations, results=results))
            fit = Fit(Simulator(rounds, args.replications, fixed=fixed), base,
                      targets, log=lambda line: print(line, flush=True), lang=lang)
            fit.run(args.evaluations)
            spread = uncertainty(fit)
            over = overrides(fit.best["x"], base)
            print(say("verifying", lang, scale=args.verify_scale,
                      replications=args.verify_replications))
            checker = Simulator(rounds.at_scale(args.verify_scale), args.verify_replications,
                                first_seed=VERIFY_SEEDS, fixed=fixed, label="verify")
            check, means = verify(checker, over, targets)
            print(say("predicting", lang, n=len(held), draws=args.draws))
            pool = rounds.executor[0]  # the rounds' pool (renewed if a worker died)
            held_check = held_out(pool, fit, spread, held, args.draws, args.scale, args.days)
            written = write(args, folder, began, over, fit, spread, check, means, held_check,
                            figures)
    except SearchError as e:
        print(f"shequ: error: {e}", file=sys.stderr)
        return 1
    return finish(args, written, check, held_check)


def write(args, folder, began, over, fit, spread, check, means, held_check, figures) -> dict:
    """The fitted file, the report and its numbers, into the out folder."""
    seconds = (datetime.datetime.now() - began).total_seconds()
    files = {"calibrated.toml": parameters_text(over, f"fitted on {began.date().isoformat()}"),
             "calibration.md": report_text(args, over, fit, spread, check, means, held_check,
                                           figures, seconds),
             "calibration.json": json.dumps(
                 {"fitted": over, "check": check, "held_out": held_check,
                  "evaluations": len(fit.history), "fitting_moments": fit.best["means"],
                  "distance": fit.best["distance"],
                  "parameters": {p.key: {"value": float(fit.best["x"][i]),
                                         "se": float(spread["se"][i]),
                                         "identified": bool(spread["identified"][i])}
                                 for i, p in enumerate(PARAMETERS)},
                  "j": spread["j"], "dof": spread["dof"], "p": spread["p"]}, indent=2)}
    for name, text in files.items():
        folder.write_text(name, text)
    return files


def finish(args, files: dict, check: dict, held_check: dict) -> int:
    """What the fit says on the terminal; the shipped files replaced if asked."""
    from sim.scenario import SCENARIO_DIR

    lang = lang_of(args)
    for k, c in check.items():
        print(say("check line", lang, k=k, **c | {
            "agrees": say("agrees" if c["agrees"] else "disagrees", lang)}))
    for k, h in held_check.items():
        print(say("held line", lang, k=k, **h | {
            "inside": say("inside" if h["inside"] else "outside interval", lang)}))
    print(say("wrote", lang, files=", ".join(files), out=args.out))
    if args.replace_shipped:  # asked for: the shipped fit and its report are replaced
        docs = Path(__file__).resolve().parent.parent / "docs"
        shipped = {SCENARIO_DIR / "calibrated.toml": files["calibrated.toml"]}
        if docs.is_dir():  # a source tree (an installed wheel has no docs)
            shipped |= {docs / "calibration.md": files["calibration.md"],
                        docs / "calibration.json": files["calibration.json"]}
        for target, text in shipped.items():
            target.write_text(text, encoding="utf-8")
        print(say("replaced", lang, files=", ".join(str(t) for t in shipped)))
    else:
        print(say("unchanged", lang, out=args.out))
    return 0

"""The best split of a fixed budget: `shequ optimise SCENARIO`.

How should a city divide the same total among its communities? The scenario's total (or
`--total`) is held fixed; every community first gets `--minimum`; the search varies how the rest
is divided:

- `--decide classes` (default): each class's part of the rest (`funding.scheme = "class_shares"`),
  divided evenly among its communities. Parts are points of the simplex, searched through the
  stick-breaking map of the unit cube onto it (uniform on the simplex), so that every candidate is
  budget-neutral by construction, to the yuan (sim/funding.py's largest remainder);
- `--decide needs`: the four weights of the needs-based formula (old-compound residents, migrants,
  the elderly, poor infrastructure), each in [0, `--max-weight`].

The objective is one outcome of the summary table (sim/labels.py says which way is better) for the
city, a class, or `worst` (each replication's worst class: equity), averaged over replications.

The search (Optuna's TPE sampler, multivariate, seeded) asks for `--candidates` candidates a round
and is told their values when the round is done: the round's size, not the number of workers,
fixes what comes next, so the result is identical on 1 worker, 2 or a Dask cluster. The first
round is random and begins with the scenario's own split (the reference), so the search knows
where it stands. Every candidate of every round runs with the same seeds (common random numbers:
differences between candidates are not the luck of the draw). Rounds run through the batch engine
(analysis/search.py) into one result store, `--results`: a search stopped half-way goes on where
it stopped.

The search's best value is biased upward (the winner's curse: among many noisy candidates the
luckiest looks best). So the `--confirm` best candidates and the reference are run again on fresh
seeds (`--confirm-replications`), and each candidate's paired difference from the reference gets
a 95 % t-interval and the probability that it is really better (the posterior of the mean
difference under a flat prior: Student-t with n - 1 degrees of freedom). The best is the
candidate with the best search mean, chosen before the fresh seeds, so that its confirmed interval
carries no selection; the others are shown beside it. The reference spends the same total: the
scenario as it is, or, with another `--total`, its own class split of that total.

Writes to `--out`: optimise.md (the report page), optimise.csv (every candidate), optimise.png,
optimise.json, best.toml (the best split as a scenario: `shequ run best.toml`) and rounds/*.toml
(each round as an experiment file).
"""

import functools
import json
import math
import os
import sys
import time
import warnings
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
from scipy import stats

from sim import labels
from sim.errors import InputError

NEEDS = ("old_residents", "migrants", "elderly", "poor_infrastructure")
CONFIRM_SEEDS = 1_000_000  # confirmation seeds: children 1,000,000... of the search's seed
SHARE_DIGITS = 9  # class parts are written with this many decimals (the split is exact anyway)
WORST = "worst"
INSTALL = "shequ optimise needs Optuna: pip install optuna (or pip install 'shequ[optimise]')"


# ---- what is decided ------------------------------------------------------------------------
@dataclass
class ClassSplit:
    """Each class's part of what is left of the total after the minimum."""

    counts: dict[str, int]  # communities of each class present
    total: int
    minimum: int = 0
    reference_funds: dict = field(default_factory=dict)  # the scenario's own, by class (mean)

    @property
    def classes(self) -> list[str]:
        return list(self.counts)

    @property
    def names(self) -> list[str]:
        return [f"u{i + 1}" for i in range(len(self.counts) - 1)]

    @property
    def rest(self) -> int:
        return self.total - self.minimum * sum(self.counts.values())

    def parts(self, params: dict) -> np.ndarray:
        """Stick breaking: u in the unit cube onto the simplex, uniformly."""
        k, left, out = len(self.counts), 1.0, []
        for i, name in enumerate(self.names):
            take = left * (1 - (1 - params[name]) ** (1 / (k - 1 - i)))
            out.append(take)
            left -= take
        return np.round(np.array(out + [max(left, 0.0)]), SHARE_DIGITS)

    def params_of(self, parts) -> dict:
        """The inverse: the unit-cube point of a split (parts summing to 1)."""
        k, left, out = len(self.counts), 1.0, {}
        for i, name in enumerate(self.names):
            frac = min(max(parts[i] / left, 0.0), 1.0) if left > 0 else 0.0
            out[name] = float(1 - (1 - frac) ** (k - 1 - i))
            left -= parts[i]
        return out

    def overrides(self, params: dict) -> dict:
        parts = dict(zip(self.classes, self.parts(params)))
        return {"funding": {"scheme": "class_shares", "total": self.total,
                            "minimum": self.minimum,
                            "class_shares": {c: float(parts.get(c, 0.0)) for c in "ABCD"}}}

    def describe(self, params: dict) -> dict:
        """Per class: its part of the total and the fund of each of its communities (yuan)."""
        out = {}
        for c, part in zip(self.classes, self.parts(params)):
            amount = self.minimum + self.rest * part / self.counts[c]
            out[f"part_{c}"] = amount * self.counts[c] / self.total
            out[f"fund_{c}"] = amount
        return out


@dataclass
class NeedWeights:
    """The weights of the needs-based formula, each in [0, most]."""

    counts: dict[str, int]
    total: int
    minimum: int = 0
    most: float = 4.0
    city: object = field(default=None, repr=False)  # (communities, classes) for describe
    reference_funds: dict = field(default_factory=dict)

    @property
    def names(self) -> list[str]:
        return list(NEEDS)

    def overrides(self, params: dict) -> dict:
        return {"funding": {"scheme": "needs_based", "total": self.total, "minimum": self.minimum,
                            "need_weights": {k: round(float(params[k]) * self.most, 6)
                                             for k in NEEDS}}}

    def describe(self, params: dict) -> dict:
        from sim import funding

        communities, classes = self.city
        over = self.overrides(params)["funding"]
        funds = funding.allocate(over, communities, classes, "optimise")
        out = {f"weight_{k}": over["need_weights"][k] for k in NEEDS}
        for c in self.counts:
            out[f"part_{c}"] = funds[classes == c].sum() / self.total
            out[f"fund_{c}"] = funds[classes == c].mean()
        return out


# ---- the objective ----------------------------------------------------------------------------
@dataclass(frozen=True)
class Objective:
    outcome: str
    klass: str = "city"  # city, A-D, or worst

    @property
    def better(self) -> int:
        return labels.OUTCOMES[self.outcome].better

    @property
    def direction(self) -> str:
        return "maximize" if self.better > 0 else "minimize"

    def per_replication(self, summary: pd.DataFrame) -> np.ndarray:
        """The objective of each replication (in replication order)."""
        table = summary.pivot_table(index="replication", columns="class", values=self.outcome,
                                    dropna=False)
        table = table.reindex(sorted(summary["replication"].unique()))
        if self.klass == WORST:
            classes = [c for c in table.columns if c != "city"]
            values = table[classes].min(axis=1) if self.better > 0 else table[classes].max(axis=1)
        else:
            values = table[self.klass]
        return values.sort_index().to_numpy(float)

    def value(self, summary: pd.DataFrame) -> float:
        return float(np.nanmean(self.per_replication(summary)))

    def describe(self, lang: str = "en") -> str:
        key = {"city": "city-wide", WORST: "worst class"}.get(self.klass, "in class")
        return say(key, lang, label=labels.label(self.outcome, lang), k=self.klass)

    def shown(self, value: float, signed: bool = False) -> str:
        """One decimal more than the label table's: the splits of one total differ by little."""
        return labels.shown(self.outcome, value, signed, more=1)


def check_objective(outcome: str, klass: str) -> Objective:
    if outcome not in labels.OUTCOMES:
        raise InputError(f"--objective {outcome}: expected an outcome of the summary table, one "
                         f"of {', '.join(labels.OUTCOMES)}")
    if labels.OUTCOMES[outcome].better == 0:
        raise InputError(f"--objective {outcome}: expected an outcome that is better higher or "
                         "lower (this one is neither, e.g. a share of escalations)")
    if klass not in ("city", WORST, "A", "B", "C", "D"):
        raise InputError(f"--class {klass}: expected city, worst, A, B, C or D")
    return Objective(outcome, klass)


# ---- the search -------------------------------------------------------------------------------
@dataclass
class Candidate:
    name: str
    round: int
    params: dict
    overrides: dict
    value: float = math.nan
    values: np.ndarray | None = None
    reference: bool = False  # the scenario's own split, put first in the search


def optuna_or_fail():
    try:
        import optuna
    except ImportError:
        raise InputError(INSTALL) from None
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    return optuna


def search(space, evaluate, *, rounds: int, candidates: int, seed: int, direction: str,
           reference: dict | None = None, log=print) -> list[Candidate]:
    """Ask `candidates` points a round, run them (`evaluate(label, {name: overrides})` returns
    {name: per-replication values}), tell their means; `rounds` rounds. The first round is random
    (TPE's start-up), beginning with `reference` (parameters) if given."""
    optuna = optuna_or_fail()
    with warnings.catch_warnings():  # multivariate TPE is marked experimental
        warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
        sampler = optuna.samplers.TPESampler(seed=seed, multivariate=True,
                                             n_startup_trials=candidates)
    study = optuna.create_study(direction=direction, sampler=sampler)
    box = {n: optuna.distributions.FloatDistribution(0.0, 1.0) for n in space.names}
    if reference is not None:
        study.enqueue_trial(reference)
    found: list[Candidate] = []
    began = time.monotonic()
    for r in range(1, rounds + 1):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
            trials = [study.ask(box) for _ in range(candidates)]
        batch = [Candidate(f"r{r:02d}c{j + 1:02d}", r, dict(t.params),
                           space.overrides(t.params), reference=reference is not None and
                           r == 1 and j == 0) for j, t in enumerate(trials)]
        values = evaluate(f"round-{r:02d}", {c.name: c.overrides for c in batch})
        for trial, c in zip(trials, batch):
            c.values = np.asarray(values[c.name], float)
            c.value = float(np.nanmean(c.values))
            study.tell(trial, c.value if math.isfinite(c.value) else None,
                       state=None if math.isfinite(c.value) else optuna.trial.TrialState.FAIL)
        found += batch
        best = pick(found, direction, 1)
        log(f"round {r}/{rounds}: {candidates} candidates; best so far "
            + (f"{best[0].name} ({best[0].value:.6g})" if best else "none (no value)")
            + f"; {(time.monotonic() - began) / 60:.1f} min")
    return found


def pick(found: list[Candidate], direction: str, n: int) -> list[Candidate]:
    """The n best candidates with distinct settings (the first of equals)."""
    sign = -1 if direction == "maximize" else 1
    ranked = sorted((c for c in found if math.isfinite(c.value)), key=lambda c: sign * c.value)
    out, seen = [], set()
    for c in ranked:
        key = json.dumps(c.overrides, sort_keys=True)
        if key not in seen:
            seen.add(key)
            out.append(c)
        if len(out) == n:
            break
    return out


# ---- confirmation -------------------------------------------------------------------------------
@dataclass
class Confirmed:
    name: str
    mean: float
    difference: float  # candidate - reference, in stored units
    low: float
    high: float
    p_better: float  # the probability that the candidate is really better than the reference
    n: int
    outcomes: dict = field(default_factory=dict)  # main outcome -> (difference, low, high)


def confirm(objective: Objective, tables: dict[str, pd.DataFrame], reference: str) -> list[Confirmed]:
    """Each candidate against the reference over the paired fresh replications."""
    from analysis.stats import paired

    base = objective.per_replication(tables[reference])
    out = []
    for name, table in tables.items():
        if name == reference:
            continue
        values = objective.per_replication(table)
        p = paired(base, values)
        se = p.sd / math.sqrt(p.n) if p.n > 1 else math.nan
        signed = objective.better * p.difference
        if p.n < 2:
            p_better = math.nan
        elif se > 0:
            p_better = float(stats.t.cdf(signed / se, p.n - 1))
        else:
            p_better = 1.0 if signed > 0 else 0.0 if signed < 0 else 0.5
        outcomes = {}
        for o in labels.MAIN:
            q = paired(city(tables[reference], o), city(table, o))
            outcomes[o] = (q.difference, q.ci_low, q.ci_high)
        out.append(Confirmed(name, float(np.nanmean(values)), p.difference, p.ci_low, p.ci_high,
                             p_better, p.n, outcomes))
    return out


def city(summary: pd.DataFrame, outcome: str) -> np.ndarray:
    rows = summary[summary["class"] == "city"].sort_values("replication")
    return rows[outcome].to_numpy(float)


# ---- the command ------------------------------------------------------------------------------
def city_of(scenario):
    """The scenario's city (its communities and classes, built at a tiny scale: the funds do not
    depend on the scale) and its own funds."""
    from sim import outputs
    from sim.model import GovernanceModel

    model = GovernanceModel(scenario=scenario, scale=1e-4, days=1, daily=False)
    model.run()
    columns = set(outputs.summary(model).columns)
    return model.communities, np.asarray(model.classes), np.asarray(model.funds), columns


def space_of(args, scenario):
    """The decision space and the reference's point in it (None when it has none)."""
    communities, classes, funds, columns = city_of(scenario)
    if "none" in set(classes):
        raise InputError(f"{args.scenario}: expected a classified city (classification.scheme "
                         "'published'), but it has none: there are no classes to fund")
    total = args.total if args.total is not None else (int(scenario["funding"]["total"])
                                                       or int(funds.sum()))
    counts = {c: int((classes == c).sum()) for c in "ABCD" if (classes == c).any()}
    n = sum(counts.values())
    if args.minimum * n > total:
        raise InputError(f"--minimum {args.minimum:,}: expected at most {total // n:,} yuan "
                         f"(the total {total:,} over {n} communities)")
    own = {c: float(funds[classes == c].mean()) for c in counts}
    own_total = int(funds.sum())
    if args.decide == "needs":
        space = NeedWeights(counts, total, args.minimum, args.max_weight, (communities, classes),
                            own)
        return space, None, columns, own_total
    space = ClassSplit(counts, total, args.minimum, own)
    # The scenario's own split: its classes' parts of what it gives beyond the minimum (the same
    # proportions of another total).
    parts = np.array([funds[classes == c].sum() - args.minimum * counts[c] for c in counts], float)
    reference = None
    if (parts >= 0).all() and parts.sum() > 0 and space.rest > 0:
        reference = space.params_of(parts / parts.sum())
    return space, reference, columns, own_total


def run(args) -> int:
    from sim.batch import cli as batch_cli
    from sim.batch.experiment import replication_seed, safe_name
    from sim.batch.runner import executor_for
    from sim.command import INTERRUPTED, TERMINATED, OutputFolder, check_folder, check_results
    from sim.errors import Terminated
    from sim.scenario import load as load_scenario

    from analysis.search import Rounds, SearchError, scenario_reference

    optuna_or_fail()
    batch_cli.check_executor(args)
    objective = check_objective(args.objective, args.klass)
    check_flags(args)
    if args.confirm_replications < 2:
        raise InputError(f"--confirm-replications {args.confirm_replications}: expected at "
                         "least 2 (a paired interval needs two)")
    from sim.viz.labels import require_fonts

    require_fonts(args.lang)  # Chinese figures need a CJK font: said before anything runs
    scenario = load_scenario(args.scenario)
    space, reference, columns, own_total = space_of(args, scenario)
    # The confirmation's baseline spends the same total: the scenario as it is when it does,
    # else its own class split of this total.
    baseline = ({} if own_total == space.total else
                space.overrides(reference) if reference is not None else None)
    if objective.outcome not in columns:
        raise InputError(f"--objective {objective.outcome}: expected an outcome of the summary "
                         "table; this one is only in the communities table")
    if objective.klass not in ("city", WORST, *space.counts):
        raise InputError(f"--class {objective.klass}: expected city, worst or a class of this "
                         f"city ({', '.join(space.counts)})")
    if baseline is None:
        why = ("with --decide needs the reference is the scenario as it is" if args.decide ==
               "needs" else "the scenario's own split gives a class less than --minimum")
        raise InputError(f"--total {space.total:,}: expected the scenario's own total "
                         f"({own_total:,} yuan): {why}, and the confirmation compares splits of "
                         "one total")
    name = scenario.name
    safe = safe_name(name)
    results = args.results or Path("results") / f"optimise-{safe}"
    out = args.out or Path("output") / f"optimise-{safe}"
    check_results(results, "--results")
    check_folder(out, "optimise")
    setup = {"scale": args.scale if args.scale is not None else scenario["run"]["scale"],
             "days": args.days if args.days is not None else scenario["run"]["days"]}
    print(f"optimising {objective.describe()} ({objective.direction[:3]}): "
          f"{type(space).__name__} of {space.total:,} yuan, minimum {args.minimum:,} a community; "
          f"{args.rounds} rounds of {args.candidates} candidates x {args.replications} "
          f"replications at scale {setup['scale']:g}, then the best {args.confirm} and the "
          f"reference on {args.confirm_replications} fresh seeds", flush=True)
    began = time.monotonic()
    try:
        with OutputFolder(out, "optimise") as folder, \
                executor_for(args.workers, args.cluster) as executor:
            rounds = Rounds(results, folder, "optimise", scenario_reference(args.scenario),
                            scale=setup["scale"], days=setup["days"], seed=args.seed,
                            executor=executor, progress=False if args.no_progress else None)

            def evaluate(label, candidates):
                tables = rounds.run(label, candidates, replications=args.replications)
                return {n: objective.per_replication(t) for n, t in tables.items()}

            found = search(space, evaluate, rounds=args.rounds, candidates=args.candidates,
                           seed=args.seed, direction=objective.direction, reference=reference,
                           log=lambda line: print(line, flush=True))
            # The reference is confirmed as the baseline, not as a candidate.
            best = pick([c for c in found if not c.reference], objective.direction,
                        args.confirm)
            if not best:
                raise SearchError("no candidate besides the reference has a value to confirm: "
                                  "give more --rounds or --candidates")
            seeds = [replication_seed(args.seed, CONFIRM_SEEDS + r)
                     for r in range(args.confirm_replications)]
            print(f"confirming the best {len(best)} against the reference on "
                  f"{len(seeds)} fresh seeds", flush=True)
            tables = rounds.run("confirm", {"reference": baseline}
                                | {f"confirm-{c.name}": c.overrides for c in best}, seeds=seeds)
            tables = {n.removeprefix("confirm-"): t for n, t in tables.items()}
            confirmed = confirm(objective, tables, "reference")
            winner = confirmed[0]  # chosen by the search, before the fresh seeds: no selection
            result = Result(args, name, objective, space, found, best, confirmed, winner,
                            rounds.runs, time.monotonic() - began, setup,
                            objective.value(tables["reference"]), out, args.lang,
                            rounds.seconds)
            for file, content in result.files().items():
                (folder.write_bytes if isinstance(content, bytes) else folder.write_text)(
                    file, content)
    except SearchError as e:
        print(f"shequ: error: {e}", file=sys.stderr)
        return 1
    except KeyboardInterrupt as e:
        print(f"\ninterrupted: the finished runs are kept in {results}/; run the same command "
              "again to go on", file=sys.stderr)
        return TERMINATED if isinstance(e, Terminated) else INTERRUPTED
    print(result.summary_text())
    print(f"written: {', '.join(str(out / f) for f in result.files() if '/' not in f)}")
    return 0


def check_flags(args) -> None:
    """Each flag's own message, before anything runs (not a round file's key later)."""
    for flag in ("rounds", "candidates", "replications", "confirm", "confirm_replications",
                 "total", "days"):
        value = getattr(args, flag)
        if value is not None and value < 1:
            raise InputError(f"--{flag.replace('_', '-')} {value}: expected at least 1")
    if args.scale is not None and not 0 < args.scale <= 1:
        raise InputError(f"--scale {args.scale:g}: expected a share of the residents in (0, 1]")
    if not args.max_weight > 0:
        raise InputError(f"--max-weight {args.max_weight:g}: expected a weight above 0")


# What the report, the terminal and the figure say: (en, zh), `{placeholders}` filled in.
WORDS = {
    "title": ("# The best split of {total} yuan: {name}", "# {name}：{total} 元的最佳分配"),
    "objective": ("Objective: {objective} ({unit}), {better} is better. Every community first "
                  "gets {minimum} yuan; the search divides the rest ({how}). Made by `{command}`.",
                  "目标：{objective}（{unit}），越{better}越好。每个社区先得 {minimum} 元，其余由搜索"
                  "分配（{how}）。命令：`{command}`。"),
    "higher": ("higher", "高"), "lower": ("lower", "低"),
    "by class": ("by class", "按类别"), "by needs": ("by the needs-based formula", "按需求公式"),
    "answer": ("## The answer", "## 结论"),
    "none better": ("No split the search found beats the scenario's own split on {objective}: the "
                    "search's best, {split} (10k yuan a community, by class), differs from it on "
                    "fresh seeds by {d} {dunit} [{low}, {high}] over {n} paired replications "
                    "(probability {p} that it is really better).",
                    "搜索到的分配方案在{objective}上都不优于情景自身的分配：搜索中最好的方案 {split}"
                    "（每个社区，万元，按类别）在新种子上与之相差 {d} {dunit} [{low}, {high}]（{n} 组"
                    "配对重复；真正更好的概率 {p}）。"),
    "better": ("The best split found gives each community {split} (10k yuan a year, by class); "
               "against the scenario's own split it {verb} {objective} by {d} {dunit} "
               "[{low}, {high}] over {n} fresh paired replications; the probability that it is "
               "really better is {p}.",
               "找到的最佳分配给每个社区 {split}（万元/年，按类别）；与情景自身的分配相比，{objective}"
               "{verb} {d} {dunit} [{low}, {high}]（{n} 组新种子配对重复）；真正更好的概率为 {p}。"),
    "raises": ("raises", "提高"), "lowers": ("lowers", "降低"),
    "zero inside": (" The interval includes zero: on these replications the best split cannot be "
                    "told apart from the reference.",
                    "区间包含零：在这些重复中，最佳方案与参照方案无法区分。"),
    "on average": (" on average", "（平均）"),
    "landscape": ("The {n} splits searched range from {low} to {high} {unit}",
                  "搜索的 {n} 个分配方案介于 {low} 与 {high} {unit} 之间"),
    "rank": ("; the scenario's own split, at {value}, ranks {rank} of {n}",
             "；情景自身的分配为 {value}，排第 {rank}/{n}"),
    "curse": (" (search means, which the winner's curse flatters at the top).",
              "（搜索均值；排在前面的因“赢家诅咒”而偏高）。"),
    "confirmed": ("## The splits confirmed on fresh seeds", "## 新种子下的确认"),
    "confirmed text": ("The best {k} of the search and the reference (the scenario's own split), "
                       "each on the same {n} fresh seeds; the difference is paired (candidate − "
                       "reference) with its 95 % t-interval; P(better) is the probability that "
                       "the candidate is really better (flat prior, Student-t). Funds in 10k yuan "
                       "a community a year{mean}; means in {unit}; differences in {dunit}.",
                       "搜索中最好的 {k} 个方案与参照方案（情景自身的分配），在同样的 {n} 个新种子上"
                       "运行；差值为配对差（方案 − 参照）及其 95% t 区间；P(更好) 为方案真正更好的概率"
                       "（平坦先验，t 分布）。经费为每个社区每年的万元数{mean}；均值单位 {unit}；差值单位"
                       " {dunit}。"),
    "class mean": (" (the class mean)", "（类别平均）"),
    "candidate": ("candidate", "方案"), "fund": ("{c} fund", "{c} 类经费"),
    "search mean": ("search mean", "搜索均值"), "confirmed mean": ("confirmed mean", "确认均值"),
    "difference": ("difference", "差值"), "p better": ("P(better)", "P(更好)"),
    "reference": ("reference (the scenario's own split)", "参照（情景自身的分配）"),
    "best": (" (best)", "（最佳）"),
    "main": ("## What the best split does to the main outcomes", "## 最佳方案对主要结果的影响"),
    "main text": ("City-wide, paired against the reference on the fresh seeds. The objective is "
                  "one outcome: the others may move the wrong way, and this table says whether "
                  "they do.",
                  "全市，与参照方案在新种子上配对比较。目标只是一个结果：其他结果可能朝坏的方向变化，"
                  "本表显示是否如此。"),
    "outcome": ("outcome", "结果"), "interval": ("95 % interval", "95% 区间"),
    "search": ("## The search", "## 搜索"),
    "search text": ("{rounds} rounds of {candidates} candidates (Optuna's TPE sampler, "
                    "multivariate, seed {seed}; the first round random and beginning with the "
                    "reference where it is a split of the same total), each the mean of "
                    "{replications} replications with the same seeds for every candidate, at "
                    "scale {scale} over {days} days; with the confirmation {runs} distinct runs, "
                    "{minutes} worker-minutes of simulation (the runs' own times in the result "
                    "store's manifest).",
                    "{rounds} 轮、每轮 {candidates} 个方案（Optuna 的 TPE 采样器，多元，种子 {seed}；"
                    "第一轮随机，并以参照方案开头——若它是同一总额的分配），每个方案为 {replications} "
                    "次重复的均值，所有方案使用相同的种子，规模 {scale}，{days} 天；连同确认共 {runs} "
                    "次不同的运行，模拟用时 {minutes} 个工作进程·分钟（结果库清单中各次运行自身的用时）。"),
    "figure alt": ("the search and the confirmation", "搜索与确认"),
    "round": ("round", "轮次"), "best so far": ("best so far", "目前最佳"),
    "its mean": ("its search mean ({unit})", "其搜索均值（{unit}）"),
    "read": ("## How to read it", "## 如何阅读"),
    "read 1": ("- The best is the candidate with the best search mean, chosen before the fresh "
               "seeds; its search mean is biased upward (the winner's curse), its confirmed mean "
               "and interval, on seeds the search never saw, are not. The other confirmed splits "
               "are shown for comparison: picking among them by their confirmed means would bring "
               "the curse back.",
               "- 最佳方案是搜索均值最好的方案，在新种子之前选定；其搜索均值偏高（赢家诅咒），而确认均值和"
               "区间来自搜索从未用过的种子，没有这种偏差。其他确认的方案仅供比较：按确认均值在其中挑选会"
               "重新带来赢家诅咒。"),
    "read 2": ("- Every candidate spends the same total, to the yuan (largest remainder).",
               "- 每个方案花费相同的总额，精确到元（最大余数法）。"),
    "read 3": ("- The model runs at scale {scale}; what a split does at full scale is confirmed "
               "by running best.toml there (`shequ run best.toml --scale 1`).",
               "- 模型以规模 {scale} 运行；方案在全规模下的效果可运行 best.toml 确认"
               "（`shequ run best.toml --scale 1`）。"),
    "read 4": ("- The search covers the splits it tried; a better one may exist where it did not "
               "look. The table of every candidate is optimise.csv.",
               "- 搜索只覆盖它尝试过的方案；未搜索之处可能有更好的。全部方案见 optimise.csv。"),
    "terminal head": ("{candidate:10s} {funds:34s} {mean:>8s} {vs:>26s} {p:>9s}",
                      "{candidate:10s} {funds:30s} {mean:>8s} {vs:>24s} {p:>9s}"),
    "funds by class": ("funds by class (10k yuan)", "各类经费（万元）"),
    "mean": ("mean", "均值"), "vs reference": ("vs reference [95 %]", "与参照之差 [95%]"),
    "the search": ("The search: {objective}", "搜索：{objective}"),
    "candidate axis": ("candidate", "方案"),
    "candidate legend": ("candidate (colour: round)", "方案（颜色：轮次）"),
    "own split": ("the scenario's own split", "情景自身的分配"),
    "fund axis": ("fund a community (10k yuan a year)", "每个社区的经费（万元/年）"),
    "against funds": ("Against each class's fund", "与各类经费的关系"),
    "class k": ("class {k}", "{k} 类"),
    "vs axis": ("{label} vs reference ({dunit})", "{label}：与参照之差（{dunit}）"),
    "confirmed title": ("Confirmed on {n} fresh seeds (95 % interval)",
                        "在 {n} 个新种子上确认（95% 区间）"),
    "city-wide": ("{label} city-wide", "全市{label}"),
    "worst class": ("{label} of the worst class", "最差类别的{label}"),
    "in class": ("{label} in class {k}", "{k} 类社区的{label}"),
}


say = functools.partial(labels.phrase, WORDS)


# ---- what is written ----------------------------------------------------------------------------
def wan(yuan: float) -> str:
    return f"{yuan * 1e-4:,.1f}"


class Result:
    """The optimisation's report page, tables, figure and best scenario."""

    def __init__(self, args, name, objective, space, found, best, confirmed, winner, ran,
                 seconds, setup, reference_mean=math.nan, out: Path = Path("."),
                 lang: str = "en", run_seconds: dict | None = None):
        self.args, self.name, self.objective, self.space = args, name, objective, space
        self.found, self.best, self.confirmed, self.winner = found, best, confirmed, winner
        self.ran, self.seconds, self.setup = ran, seconds, setup
        self.reference_mean, self.out, self.lang = reference_mean, Path(out), lang
        self.run_seconds = run_seconds or {}  # run id -> its own time (every run, resumed too)
        self.by_name = {c.name: c for c in found}
        self._files = None

    def say(self, key: str, **values) -> str:
        return say(key, self.lang, **values)

    def split(self, name: str) -> str:
        d = self.space.describe(self.by_name[name].params)
        return " / ".join(f"{c} {wan(d[f'fund_{c}'])}" for c in self.space.counts) + (
            self.say("on average") if isinstance(self.space, NeedWeights) else "")

    def sentence(self) -> str:
        w, o = self.winner, self.objective
        common = dict(objective=o.describe(self.lang), split=self.split(w.name),
                      dunit=labels.unit(o.outcome, self.lang, difference=True),
                      low=o.shown(w.low, True), high=o.shown(w.high, True), n=w.n,
                      p=f"{w.p_better:.2f}")
        if o.better * w.difference <= 0:
            return self.say("none better", d=o.shown(w.difference, True), **common)
        text = self.say("better", verb=self.say("raises" if w.difference > 0 else "lowers"),
                        d=o.shown(abs(w.difference)), **common)
        if w.low <= 0 <= w.high:
            text += self.say("zero inside")
        return text

    def landscape(self) -> str:
        """Where the reference stands among the candidates searched (search means)."""
        o, values = self.objective, [c.value for c in self.found if math.isfinite(c.value)]
        ref = next((c for c in self.found if c.reference), None)
        text = self.say("landscape", n=len(values), low=o.shown(min(values)),
                        high=o.shown(max(values)), unit=labels.unit(o.outcome, self.lang))
        if ref is not None:
            rank = 1 + sum(o.better * v > o.better * ref.value for v in values)
            text += self.say("rank", value=o.shown(ref.value), rank=rank, n=len(values))
        return text + self.say("curse")

    def summary_text(self) -> str:
        o = self.objective
        lines = ["", self.sentence(), "",
                 self.say("terminal head", candidate=self.say("candidate"),
                          funds=self.say("funds by class"), mean=self.say("mean"),
                          vs=self.say("vs reference"), p=self.say("p better"))]
        for c in self.confirmed:
            lines.append(f"{c.name:10s} {self.split(c.name):34s} {o.shown(c.mean):>8s} "
                         f"{o.shown(c.difference, True):>7s} "
                         f"[{o.shown(c.low, True)}, {o.shown(c.high, True)}]".ljust(26)
                         + f" {c.p_better:9.2f}")
        return "\n".join(lines)

    def files(self) -> dict:
        if self._files is None:
            self._files = {"optimise.md": self.markdown(), "optimise.csv": self.csv(),
                           "optimise.json": self.json(), "optimise.png": self.figure(),
                           "best.toml": self.scenario()}
        return self._files

    def table(self) -> pd.DataFrame:
        confirmed = {c.name: c for c in self.confirmed}
        rows = []
        for c in self.found:
            row = {"candidate": c.name, "round": c.round, **c.params,
                   **self.space.describe(c.params), "search_mean": c.value}
            if c.name in confirmed:
                k = confirmed[c.name]
                row |= {"confirmed_mean": k.mean, "difference": k.difference,
                        "difference_low": k.low, "difference_high": k.high,
                        "p_better": k.p_better}
            rows.append(row)
        return pd.DataFrame(rows)

    def csv(self) -> str:
        return self.table().to_csv(index=False)

    def json(self) -> str:
        w = self.winner
        return json.dumps({
            "scenario": self.name, "objective": {"outcome": self.objective.outcome,
                                                 "class": self.objective.klass,
                                                 "direction": self.objective.direction},
            "total": self.space.total, "minimum": self.space.minimum,
            "decide": self.args.decide, "seed": self.args.seed, **self.setup,
            "rounds": self.args.rounds, "candidates": self.args.candidates,
            "replications": self.args.replications,
            "reference_mean": self.reference_mean,
            "best": {"candidate": w.name, "overrides": self.by_name[w.name].overrides,
                     **self.space.describe(self.by_name[w.name].params),
                     "confirmed_mean": w.mean, "difference": w.difference, "low": w.low,
                     "high": w.high, "p_better": w.p_better, "n": w.n},
            "confirmed": [{"candidate": c.name, "mean": c.mean, "difference": c.difference,
                           "low": c.low, "high": c.high, "p_better": c.p_better,
                           "outcomes": c.outcomes} for c in self.confirmed],
            "runs_in_all": len(self.run_seconds),
            "worker_seconds": round(sum(self.run_seconds.values()), 1),
            "made_by_this_invocation": self.ran,
            "wall_seconds_of_this_invocation": round(self.seconds, 1)}, indent=2, default=float)

    def scenario(self) -> str:
        from analysis.search import assignments, scenario_reference

        from sim.scenario import SCENARIO_DIR

        ref = scenario_reference(self.args.scenario)
        path = Path(ref) if ref.endswith(".toml") else SCENARIO_DIR.resolve() / f"{ref}.toml"
        # relative to best.toml's folder, so that the folder can move with the source tree
        extends = os.path.relpath(path, self.out.resolve())
        w = self.winner
        verdict = ("better than" if self.objective.better * w.difference > 0 and w.low * w.high > 0
                   else "not shown to be better than")
        lines = [f"# The best split `shequ optimise` found for {self.name} ({verdict} the "
                 "scenario's own split): "
                 f"{self.objective.describe()}, {self.objective.shown(w.mean)} "
                 f"{labels.unit(self.objective.outcome)} on {w.n} fresh seeds "
                 f"({self.objective.shown(w.difference, True)} "
                 f"{labels.unit(self.objective.outcome, difference=True)} against the "
                 "scenario's own split). Run it: shequ run best.toml",
                 f"extends = {json.dumps(extends)}",
                 f"name = {json.dumps(self.name + '-optimised')}",
                 f"description = {json.dumps('The best split of the fixed total: ' + self.split(w.name) + ' (10k yuan a community)')}",
                 "", *assignments(self.by_name[w.name].overrides)]
        return "\n".join(lines) + "\n"

    def markdown(self) -> str:
        a, o, w, say = self.args, self.objective, self.winner, self.say
        unit = labels.unit(o.outcome, self.lang)
        dunit = labels.unit(o.outcome, self.lang, difference=True)
        classes = list(self.space.counts)
        command = (f"shequ optimise {a.scenario} --objective {o.outcome} --class {o.klass} "
                   f"--decide {a.decide} --total {self.space.total} --minimum {a.minimum} "
                   f"--rounds {a.rounds} --candidates {a.candidates} --replications "
                   f"{a.replications} --confirm {a.confirm} --confirm-replications "
                   f"{a.confirm_replications} --seed {a.seed}"
                   + (f" --scale {a.scale:g}" if a.scale is not None else "")
                   + (f" --days {a.days}" if a.days is not None else "")
                   + (f" --max-weight {a.max_weight:g}" if a.decide == "needs" else "")
                   + (f" --lang {self.lang}" if self.lang != "en" else ""))
        lines = [say("title", total=f"{self.space.total:,}", name=self.name), "",
                 say("objective", objective=o.describe(self.lang), unit=unit,
                     better=say("higher" if o.better > 0 else "lower"),
                     minimum=f"{a.minimum:,}",
                     how=say("by class" if a.decide == "classes" else "by needs"),
                     command=command), "",
                 say("answer"), "", self.sentence(), "", self.landscape(), "",
                 say("confirmed"), "",
                 say("confirmed text", k=len(self.confirmed), n=w.n, unit=unit, dunit=dunit,
                     mean=say("class mean") if a.decide == "needs" else ""), "",
                 "| " + " | ".join([say("candidate"), *(say("fund", c=c) for c in classes),
                                    say("search mean"), say("confirmed mean"),
                                    say("difference"), say("p better")]) + " |",
                 "|---" * (len(classes) + 5) + "|"]
        ref = next((c for c in self.found if c.reference), None)
        lines.append(f"| {say('reference')} | "
                     + " | ".join(wan(self.space.reference_funds[k]) for k in classes)
                     + f" | {o.shown(ref.value) if ref else '–'} | {o.shown(self.reference_mean)} "
                     "| | |")
        for c in self.confirmed:
            d = self.space.describe(self.by_name[c.name].params)
            lines.append(f"| {c.name}{say('best') if c is w else ''} | "
                         + " | ".join(wan(d[f"fund_{k}"]) for k in classes)
                         + f" | {o.shown(self.by_name[c.name].value)} | {o.shown(c.mean)} | "
                         f"{o.shown(c.difference, True)} [{o.shown(c.low, True)}, "
                         f"{o.shown(c.high, True)}] | {c.p_better:.2f} |")
        lines += ["", say("main"), "", say("main text"), "",
                  f"| {say('outcome')} | {say('difference')} | {say('interval')} |",
                  "|---|---|---|"]
        for name, (d, low, high) in w.outcomes.items():
            lines.append(f"| {labels.titled(name, self.lang, difference=True)} | "
                         f"{labels.shown(name, d, True)} | [{labels.shown(name, low, True)}, "
                         f"{labels.shown(name, high, True)}] |")
        per_round = []
        for r in range(1, a.rounds + 1):
            so_far = pick([c for c in self.found if c.round <= r], o.direction, 1)[0]
            per_round.append(f"| {r} | {so_far.name} | {o.shown(so_far.value)} |")
        lines += ["", say("search"), "",
                  say("search text", rounds=a.rounds, candidates=a.candidates, seed=a.seed,
                      replications=a.replications, scale=f"{self.setup['scale']:g}",
                      days=self.setup["days"], runs=f"{len(self.run_seconds):,}",
                      minutes=f"{sum(self.run_seconds.values()) / 60:.1f}"), "",
                  f"![{say('figure alt')}](optimise.png)", "",
                  f"| {say('round')} | {say('best so far')} | {say('its mean', unit=unit)} |",
                  "|---|---|---|", *per_round, "",
                  say("read"), "", say("read 1"), say("read 2"),
                  say("read 3", scale=f"{self.setup['scale']:g}"), say("read 4")]
        return "\n".join(lines) + "\n"

    def figure(self) -> bytes:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt

        from analysis.report import png
        from sim.viz.labels import require_fonts

        require_fonts(self.lang)
        o, say = self.objective, self.say
        f = labels.factor(o.outcome)
        titled = labels.titled(o.outcome, self.lang)
        fig, (left, middle, right) = plt.subplots(1, 3, figsize=(15, 4))
        xs = np.arange(1, len(self.found) + 1)
        values = np.array([c.value for c in self.found]) * f
        left.scatter(xs, values, c=[c.round for c in self.found], cmap="viridis", s=18,
                     label=say("candidate legend"))
        ref = [i for i, c in enumerate(self.found) if c.reference]
        if ref:
            left.scatter(xs[ref], values[ref], marker="*", s=160, color="tab:red",
                         label=say("own split"))
        sign = 1 if o.better > 0 else -1
        left.plot(xs, sign * np.fmax.accumulate(sign * values), color="black", lw=1,
                  label=say("best so far"))
        left.set_xlabel(say("candidate axis"))
        left.set_ylabel(titled)
        left.set_title(say("the search", objective=o.describe(self.lang)), fontsize=10)
        left.legend(fontsize=8)
        for k in self.space.counts:  # where the search looked, class by class
            funds = [self.space.describe(c.params)[f"fund_{k}"] * 1e-4 for c in self.found]
            middle.scatter(funds, values, s=12, label=say("class k", k=k))
        middle.set_xlabel(say("fund axis"))
        middle.set_ylabel(titled)
        middle.set_title(say("against funds"), fontsize=10)
        middle.legend(fontsize=8)
        names = [c.name for c in self.confirmed]
        d = np.array([c.difference for c in self.confirmed]) * f
        err = np.array([[c.difference - c.low, c.high - c.difference]
                        for c in self.confirmed]).T * f
        right.errorbar(d, np.arange(len(names)), xerr=err, fmt="o", color="tab:blue", capsize=3)
        right.axvline(0, color="grey", lw=1)
        right.set_yticks(np.arange(len(names)), names)
        right.set_xlabel(say("vs axis", label=labels.label(o.outcome, self.lang),
                             dunit=labels.unit(o.outcome, self.lang, difference=True)))
        right.set_title(say("confirmed title", n=self.winner.n), fontsize=10)
        return png(fig)


def main(argv: list[str] | None = None) -> int:
    from sim.cli import main as shequ

    return shequ(["optimise", *(argv or [])])

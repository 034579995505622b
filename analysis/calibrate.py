"""Calibration to Xining's published figures by the method of simulated moments.

    shequ calibrate [--scale 0.1] [--replications 3] [--evaluations 40] [--verify-scale 1]
                    [--verify-replications 4] [--workers 2] [--out output/calibration]
                    [--results results/calibration] [--targets experiments/targets.csv]

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
import json
import math
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from scipy import optimize, stats

from analysis import targets as published
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
    why: str = ""


PARAMETERS = [
    Fitted("behaviour.case_satisfaction_base", -6.0, 4.0,
           why="satisfaction at the return visit (log-odds at zero performance)"),
    Fitted("mechanisms.staff_capacity", 0.5, 8.0, why="first contact within the deadline"),
    Fitted("behaviour.intractable_share", 0.0, 3.0, factor=True,
           why="grievances that cannot be resolved"),
    Fitted("behaviour.hotline_direct", 0.2, 3.0, factor=True,
           why="share settled by the hotline itself (capped at 1 per category)"),
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

    def __init__(self, sim: Simulator, base: dict, targets: dict, log=print):
        self.sim, self.base, self.targets, self.log = sim, base, targets, log
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
        when = "from the result store" if from_store else (
            f"{spent / 60:.1f} min so far, at most {left / 60:.0f} min left" if self.ran else "")
        self.log(f"  evaluation {n:3d}/{self.budget}: distance {e['distance']:9.3f}, best "
                 f"{best:9.3f}  ({when})  "
                 + "  ".join(f"{k}={e['means'][t.measure]:.4g}" for k, t in self.targets.items()))

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


def report_text(args, over: dict, fit: Fit, spread: dict, check: dict, measured: dict,
                held: dict, figures: dict, seconds: float) -> str:
    targets, best = fit.targets, fit.best
    lines = [
        "# Calibration to Xining's published figures", "",
        f"Made by `shequ calibrate --scale {args.scale:g} --replications {args.replications} "
        f"--evaluations {args.evaluations} --verify-scale {args.verify_scale:g} "
        f"--verify-replications {args.verify_replications} --draws {args.draws}"
        + ("" if args.warmup_years is None else f" --warmup-years {args.warmup_years}")
        + "` on "
        f"{datetime.date.today().isoformat()} ({seconds / 60:.1f} min on 2 worker processes), "
        "from `experiments/targets.csv`.", "",
        f"Method of simulated moments (analysis/calibrate.py): the reform scenario (`{SCENARIO}`) "
        f"is run for {args.days} days after its warm-up at scale {args.scale:g}, "
        f"{args.replications} common-random-number replications per candidate (seeds "
        f"{SEEDS_FROM}…); scipy's trust-region least squares minimises the sum over the "
        f"{len(targets)} fitted targets of ((simulated mean − published) / uncertainty)² over "
        f"{len(PARAMETERS)} parameters. Verification: {args.verify_replications} new "
        f"replications at scale {args.verify_scale:g} (seeds {VERIFY_SEEDS}…), the mean and its "
        "95 % Student-t interval over the seeds; the mean *agrees* with the published figure "
        "when they differ by at most 1.96 × √(se² + u²), se the mean's standard error over the "
        "seeds and u the figure's stated uncertainty (a one-sd measurement error).", "",
        "## Fitted targets", "",
        f"| target | published ± uncertainty | source | at {args.scale:g} (fit) | at "
        f"{args.verify_scale:g}: mean | 95 % interval (seeds) | agrees (allowed difference) |",
        "|---|---|---|---|---|---|---|"]
    for k, t in targets.items():
        c = check[k]
        lines.append(f"| `{k}` ({t.unit}) | {number(t.value, t.unit)} ± "
                     f"{number(t.uncertainty, t.unit)} | {t.source} | "
                     f"{number(best['means'][t.measure], t.unit)} | {number(c['mean'], t.unit)} | "
                     f"[{number(c['low'], t.unit)}, {number(c['high'], t.unit)}] | "
                     f"{'yes' if c['agrees'] else 'no'} (± {number(c['allowed'], t.unit)}) |")
    lines += ["", "## Fitted parameters", "",
              "Factors multiply every category of the table the search started from (the previous "
              "`calibrated.toml`); the file holds the values themselves. Standard errors from the "
              "MSM sandwich; a parameter is *not identified* when its 95 % interval covers half "
              "its search range or more.", "",
              "| parameter | what it moves | search range | fitted | standard error | 95 % interval "
              "| identified |", "|---|---|---|---|---|---|---|"]
    for i, p in enumerate(PARAMETERS):
        shown = (lambda v: f"× {v:.3f}") if p.factor else (lambda v: f"{v:.4g}")
        lines.append(f"| `{p.key}` | {p.why} | [{p.lo:g}, {p.hi:g}] | {shown(best['x'][i])} | "
                     f"{spread['se'][i]:.3g} | [{shown(spread['low'][i])}, "
                     f"{shown(spread['high'][i])}] | {'yes' if spread['identified'][i] else 'no'} |")
    p_text = f"p = {spread['p']:.3g}" if spread["dof"] > 0 else "no degrees of freedom"
    lines += ["", f"Best distance {best['distance']:.3f} after {len(fit.history)} evaluations "
              f"(at the start: {fit.history[0]['distance']:.3f}). Over-identification: "
              f"{len(targets)} targets, {len(PARAMETERS)} parameters; J = {spread['j']:.2f} "
              f"against χ² with {spread['dof']} degree(s) of freedom, {p_text} (a small p says the "
              "targets cannot all be met at once). Singular values of the scaled Jacobian: "
              + ", ".join(f"{v:.3g}" for v in spread["singular_values"]) + ".", "",
              "## Held-out figures", "",
              f"Not fitted, not defaults, not implied by fitted figures: the 95 % predictive "
              f"interval over {args.draws} parameter draws from the sandwich (one new seed each, "
              f"seeds {DRAW_SEEDS}…, scale {args.scale:g}) with the figure's measurement "
              "uncertainty added. One-sided checks ask only that the published value not lie "
              "beyond the interval on the side the note gives.", "",
              "| figure | published | source | simulated mean | 95 % predictive interval | check "
              "| inside |", "|---|---|---|---|---|---|---|"]
    for k, h in held.items():
        t = figures[k]
        side = {0: "two-sided", 1: "simulated ≥ published", -1: "simulated ≤ published"}[h["side"]]
        lines.append(f"| `{k}` (`{t.measure}`, {t.unit}) | {number(t.value, t.unit)} | {t.source} "
                     f"| {number(h['mean'], t.unit)} | [{number(h['low'], t.unit)}, "
                     f"{number(h['high'], t.unit)}] | {side} | {'yes' if h['inside'] else 'no'} |")
    bands = published.with_role(figures, "band")
    lines += ["", "## Plausibility bands (other cities; not targets)", "",
              f"| figure | value | source | the model at {args.verify_scale:g} |", "|---|---|---|---|"]
    for k, t in bands.items():
        lines.append(f"| `{k}` (`{t.measure}`) | {number(t.value, t.unit)} | {t.source} | "
                     f"{number(measured[t.measure], t.unit)} |")
    lines += ["", "## The other published figures", "",
              "| figure | value | role | why |", "|---|---|---|---|"]
    for k, t in figures.items():
        if t.role in ("default", "implied", "outside"):
            lines.append(f"| `{k}` | {t.value:,.6g} {t.unit} | {t.role} | {t.note} |")
    lines += ["", "## What remains", "", remains(check, held, targets, best, args)]
    return "\n".join(lines) + "\n"


def remains(check: dict, held: dict, targets: dict, best: dict, args) -> str:
    """The honest account of what the fit does not reach, from the numbers themselves."""
    misses = [k for k, c in check.items() if not c["agrees"]]
    out = []
    if misses:
        gaps = "; ".join(f"`{k}` {check[k]['mean'] - targets[k].value:+.3g} (allowed "
                         f"± {check[k]['allowed']:.3g})" for k in misses)
        out.append(f"Fitted targets the model does not reach at scale {args.verify_scale:g} "
                   f"(verified mean − published): {gaps}. Between the fitting scale "
                   f"({args.scale:g}) and the verification the simulated values move by "
                   + "; ".join(f"`{k}` {check[k]['mean'] - best['means'][targets[k].measure]:+.3g}"
                               for k in misses) + ".")
    else:
        out.append(f"Every fitted target agrees with its simulated mean at scale "
                   f"{args.verify_scale:g}, within the published uncertainty and the seeds'.")
    seeds = [k for k, c in check.items() if not c["inside"]]
    if seeds:
        out.append("Outside the seeds' 95 % interval alone (which ignores the figures' own "
                   f"uncertainty): {', '.join(f'`{k}`' for k in seeds)}.")
    failed = [k for k, h in held.items() if not h["inside"]]
    out.append(f"Held-out figures outside their predictive interval: {len(failed)} of {len(held)}"
               + (f" ({', '.join(f'`{k}`' for k in failed)})." if failed else "."))
    return " ".join(out)


def run(args) -> int:
    from sim.batch.runner import executor_for
    from sim.command import OutputFolder, check_folder, check_results
    from sim.errors import InputError
    from sim.scenario import load

    from analysis.search import Rounds, SearchError

    results = args.results or Path("results") / "calibration"
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

            print(f"calibrating {len(PARAMETERS)} parameters to {len(targets)} targets: "
                  f"{SCENARIO} at scale {args.scale}, {args.replications} replications, "
                  f"at most {args.evaluations} evaluations; runs in {results}/")
            fit = Fit(Simulator(rounds, args.replications, fixed=fixed), base,
                      targets, log=lambda line: print(line, flush=True))
            fit.run(args.evaluations)
            spread = uncertainty(fit)
            over = overrides(fit.best["x"], base)
            print(f"verifying at scale {args.verify_scale} with {args.verify_replications} "
                  "replications")
            checker = Simulator(rounds.at_scale(args.verify_scale), args.verify_replications,
                                first_seed=VERIFY_SEEDS, fixed=fixed, label="verify")
            check, means = verify(checker, over, targets)
            print(f"predicting the {len(held)} held-out figures from {args.draws} parameter draws")
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

    for k, c in check.items():
        print(f"  {k:24s} target {c['target']:9.4g}  simulated {c['mean']:9.4g} "
              f"[{c['low']:.4g}, {c['high']:.4g}]  "
              f"{'agrees' if c['agrees'] else 'does not agree'} (± {c['allowed']:.4g})")
    for k, h in held_check.items():
        print(f"  held out {k:24s} published {h['published']:9.4g}  predicted "
              f"[{h['low']:.4g}, {h['high']:.4g}]  {'inside' if h['inside'] else 'outside'}")
    print(f"wrote {', '.join(files)} to {args.out}/")
    if args.replace_shipped:  # asked for: the shipped fit and its report are replaced
        docs = Path(__file__).resolve().parent.parent / "docs"
        shipped = {SCENARIO_DIR / "calibrated.toml": files["calibrated.toml"]}
        if docs.is_dir():  # a source tree (an installed wheel has no docs)
            shipped |= {docs / "calibration.md": files["calibration.md"],
                        docs / "calibration.json": files["calibration.json"]}
        for target, text in shipped.items():
            target.write_text(text, encoding="utf-8")
        print(f"replaced the shipped {', '.join(str(t) for t in shipped)}")
    else:
        print(f"the shipped scenarios/calibrated.toml is unchanged: copy {args.out}/calibrated.toml "
              "there, or run again with --replace-shipped")
    return 0

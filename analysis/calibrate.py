"""Calibration to Xining's published figures by the method of simulated moments.

    shequ calibrate [--scale 0.05] [--replications 3] [--evaluations 60] [--verify-scale 1]
                    [--verify-replications 4] [--workers 2] [--out scenarios/calibrated.toml]
                    [--report docs/calibration.md]

Targets (SEED-FACTS §6): response 97.7 %, resolution 97.4 %, satisfaction 95.7 % ("every
complaint answered", seed 002) and the 12345 hotline's day (seed 000: 843 calls and 56 online
messages, 425 of the 843 handled directly). Five behavioural parameters are fitted, one for each
target, by Nelder–Mead on the weighted squared distance between the simulated moments (the mean
over common-random-number replications of the reform scenario) and the targets. The fitted values
go to `scenarios/calibrated.toml`, which the shipped scenarios extend; the report compares each
target with the simulated mean and its 95 % interval from a verification at full scale.
"""

import datetime
import json
import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from scipy import optimize, stats

from sim.parameters import CATEGORIES

SCENARIO = "xining-classified"
SEEDS_FROM = 1000  # replication seeds: 1000, 1001, ... (common random numbers across evaluations)


@dataclass(frozen=True)
class Target:
    value: float
    weight: float  # the distance that counts as one unit of misfit
    source: str
    label: str


TARGETS = {
    "response_rate": Target(0.977, 0.005, "seed 002", "response rate"),
    "resolution_rate": Target(0.974, 0.005, "seed 002", "resolution rate"),
    "satisfaction_rate": Target(0.957, 0.005, "seed 002", "satisfaction rate"),
    "hotline_contacts": Target(899.0, 30.0, "seed 000: 843 calls + 56 online messages",
                               "hotline contacts a day"),
    "hotline_direct_share": Target(425 / 843, 0.02, "seed 000: 425 of 843 handled directly",
                                   "share the hotline settles itself"),
}


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
    Fitted("behaviour.channel_weight", 0.05, 3.0, why="hotline contacts a day (the hotline "
           "weight; app and grid weights stay)"),
    Fitted("behaviour.hotline_direct", 0.2, 3.0, factor=True,
           why="share settled by the hotline itself (capped at 1 per category)"),
]


def overrides(x: np.ndarray, base: dict) -> dict:
    """The nested scenario overrides for a parameter vector."""
    out: dict = {}
    for p, v in zip(PARAMETERS, x):
        section, key = p.key.split(".")
        if p.key == "behaviour.channel_weight":
            value = dict(base[section][key], hotline=float(v))
        elif p.factor:
            value = {c: min(1.0, float(base[section][key][c] * v)) for c in CATEGORIES}
        else:
            value = float(v)
        out.setdefault(section, {})[key] = value
    return out


def start(base: dict) -> np.ndarray:
    """Where the search starts: the scenario's own values (factors at 1)."""
    values = []
    for p in PARAMETERS:
        section, key = p.key.split(".")
        if p.key == "behaviour.channel_weight":
            values.append(base[section][key]["hotline"])
        else:
            values.append(1.0 if p.factor else base[section][key])
    return np.array(values, dtype=float)


def moments(args: tuple) -> dict:
    """One run's moments (a worker function: plain arguments in, numbers out)."""
    from sim.model import GovernanceModel

    over, scale, days, seed = args
    model = GovernanceModel(scenario=SCENARIO, scale=scale, days=days, rng=seed,
                            **{f"{s}__{k}": v for s, d in over.items() for k, v in d.items()})
    city = model.run().summary().set_index("class").loc["city"]
    handled = city.cum_hotline_direct + city.cum_hotline_transferred
    return {"response_rate": city.response_rate, "resolution_rate": city.resolution_rate,
            "satisfaction_rate": city.satisfaction_rate,
            "hotline_contacts": city.cum_voiced_hotline / scale / days,
            "hotline_direct_share": city.cum_hotline_direct / handled if handled else math.nan}


class Simulator:
    """Simulated moments over common-random-number replications, run in worker processes."""

    def __init__(self, pool, scale: float, days: int, replications: int):
        self.pool, self.scale, self.days = pool, scale, days
        self.seeds = list(range(SEEDS_FROM, SEEDS_FROM + replications))

    def runs(self, over: dict) -> list[dict]:
        return list(self.pool.map(moments, [(over, self.scale, self.days, s) for s in self.seeds]))


def distance(means: dict) -> float:
    return sum(((means[k] - t.value) / t.weight) ** 2 for k, t in TARGETS.items())


def fit(sim: Simulator, base: dict, evaluations: int, log=print) -> tuple[np.ndarray, list]:
    """Nelder-Mead in the unit cube of the parameters' ranges, from the scenario's values."""
    lo = np.array([p.lo for p in PARAMETERS])
    hi = np.array([p.hi for p in PARAMETERS])
    history = []

    def objective(u: np.ndarray) -> float:
        x = lo + np.clip(u, 0, 1) * (hi - lo)
        runs = sim.runs(overrides(x, base))
        means = {k: float(np.mean([r[k] for r in runs])) for k in TARGETS}
        d = distance(means)
        history.append((x, means, d))
        log(f"  evaluation {len(history):3d}: distance {d:9.3f}  " + "  ".join(
            f"{k}={v:.4g}" for k, v in means.items()))
        return d

    u0 = (np.clip(start(base), lo, hi) - lo) / (hi - lo)
    optimize.minimize(objective, u0, method="Nelder-Mead", bounds=[(0, 1)] * len(PARAMETERS),
                      options={"maxfev": evaluations, "xatol": 1e-3, "fatol": 1e-3,
                               "initial_simplex": simplex(u0)})
    best = min(history, key=lambda h: h[2])
    return best[0], history


def simplex(u0: np.ndarray, step: float = 0.1) -> np.ndarray:
    """A start simplex of steps of a tenth of each range, turned inward at the bounds."""
    points = [u0]
    for i in range(len(u0)):
        p = u0.copy()
        p[i] = p[i] + step if p[i] + step <= 1 else p[i] - step
        points.append(p)
    return np.array(points)


def verify(sim: Simulator, over: dict) -> dict:
    """Per target: simulated mean and 95 % interval over the replications."""
    runs = sim.runs(over)
    out = {}
    for k, t in TARGETS.items():
        v = np.array([r[k] for r in runs], dtype=float)
        half = (stats.t.ppf(0.975, len(v) - 1) * v.std(ddof=1) / math.sqrt(len(v))
                if len(v) > 1 else math.nan)
        out[k] = {"target": t.value, "mean": float(v.mean()), "low": float(v.mean() - half),
                  "high": float(v.mean() + half), "inside": bool(abs(v.mean() - t.value) <= half)}
    return out


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


def report_text(args, over: dict, history: list, check: dict, seconds: float) -> str:
    best = min(history, key=lambda h: h[2])
    lines = [
        "# Calibration to Xining's published figures",
        "",
        f"Made by `shequ calibrate --scale {args.scale} --replications {args.replications} "
        f"--evaluations {args.evaluations} --verify-scale {args.verify_scale} "
        f"--verify-replications {args.verify_replications}` on "
        f"{datetime.date.today().isoformat()} ({seconds / 60:.1f} min on the 2-core machine).",
        "",
        "Method of simulated moments: the reform scenario (`xining-classified`) is run for a year "
        f"at scale {args.scale} with {args.replications} common-random-number replications per "
        "evaluation; Nelder–Mead minimises the sum over targets of ((simulated mean − target) / "
        "weight)². The fitted values are written to `scenarios/calibrated.toml`, which "
        "`xining-uniform` (and so every shipped scenario) extends. Verification: "
        f"{args.verify_replications} new replications at scale {args.verify_scale} "
        f"(seeds {SEEDS_FROM + 500}…, not those fitted on), the mean and its 95 % Student-t interval.",
        "",
        "## Targets",
        "",
        f"| target | published | weight | fitted at {args.scale:g} | verified at "
        f"{args.verify_scale:g}: mean | 95 % interval | inside |",
        "|---|---|---|---|---|---|---|",
    ]
    for k, t in TARGETS.items():
        c = check[k]
        lines.append(f"| {t.label} ({t.source}) | {t.value:.4g} | {t.weight:g} | "
                     f"{best[1][k]:.4g} | {c['mean']:.4g} | [{c['low']:.4g}, {c['high']:.4g}] | "
                     f"{'yes' if c['inside'] else 'no'} |")
    lines += ["", "## Fitted parameters", "", "Factors are relative to the values the search started "
              "from (the previous `calibrated.toml`); the file holds the values themselves.", "",
              "| parameter | what it moves | fitted |",
              "|---|---|---|"]
    for p, v in zip(PARAMETERS, best[0]):
        shown = f"× {v:.3f} (every category)" if p.factor else f"{v:.4g}"
        lines.append(f"| `{p.key}`{' (hotline)' if p.key.endswith('channel_weight') else ''} | "
                     f"{p.why} | {shown} |")
    lines += ["", f"Best distance {best[2]:.3f} after {len(history)} evaluations "
              f"(distance at the start: {history[0][2]:.3f}).", "", "## What remains",
              ""]
    lines.append(remains(check, best[1], args.scale, args.verify_scale))
    return "\n".join(lines) + "\n"


def remains(check: dict, fitting: dict, scale: float, verify_scale: float) -> str:
    """The honest account of what the fit does not reach, from the numbers themselves."""
    misses = [k for k, c in check.items() if not c["inside"]]
    if not misses:
        return "Every published target lies inside the simulated 95 % interval."
    gaps = "; ".join(f"{TARGETS[k].label} {check[k]['mean'] - TARGETS[k].value:+.3g}"
                     for k in misses)
    fit = "; ".join(f"{t.label} {fitting[k] - t.value:+.3g}" for k, t in TARGETS.items())
    shift = "; ".join(f"{TARGETS[k].label} {check[k]['mean'] - fitting[k]:+.3g}" for k in misses)
    return (f"Outside the simulated interval at scale {verify_scale:g} (verified mean − target): "
            f"{gaps}. At full scale the intervals are hundredths of a point wide, so \"inside\" "
            f"would need an exact fit. The runs the search fitted on (scale {scale:g}) miss by: "
            f"{fit}; from them to the verification the simulated values move by {shift}. That "
            "move is the model's remaining scale effect (a small city's handlers queue a little "
            "longer; tests/test_full_city.py::test_rates_at_1_100_are_those_of_the_full_city "
            "bounds it): fitting at "
            "scale 1 would remove it, at about twenty times the cost. Beyond the fit: Xining's "
            "rates are cumulative over its whole mechanism (190,000+ requests), the model's one "
            "year; and the hotline's day includes consumer-rights and other calls the model does "
            "not generate, so its contacts are matched by the share of residents choosing the "
            "hotline.")


def run(args) -> int:
    from sim.batch.runner import process_pool
    from sim.command import OutputFolder, check_folder
    from sim.errors import InputError
    from sim.scenario import SCENARIO_DIR, load

    check_folder(args.out, "calibrate")
    if args.replace_shipped and not (Path(__file__).resolve().parent.parent / "scenarios").is_dir():
        raise InputError("--replace-shipped: expected a source checkout (its scenarios/ folder), "
                         "but Shequ runs from an installed package; use the fitted file from --out")
    base = load(SCENARIO).params
    began = datetime.datetime.now()
    with process_pool(args.workers) as pool:
        print(f"calibrating {len(PARAMETERS)} parameters to {len(TARGETS)} targets: "
              f"{SCENARIO} at scale {args.scale}, {args.replications} replications, "
              f"at most {args.evaluations} evaluations")
        sim = Simulator(pool, args.scale, args.days, args.replications)
        best, history = fit(sim, base, args.evaluations)
        over = overrides(best, base)
        print(f"verifying at scale {args.verify_scale} with {args.verify_replications} "
              "replications")
        checker = Simulator(pool, args.verify_scale, args.days, args.verify_replications)
        checker.seeds = [s + 500 for s in checker.seeds]  # new replications, not the fitted ones
        check = verify(checker, over)
    seconds = (datetime.datetime.now() - began).total_seconds()
    fitted = min(history, key=lambda h: h[2])
    files = {"calibrated.toml": parameters_text(over, f"fitted on {began.date().isoformat()}"),
             "calibration.md": report_text(args, over, history, check, seconds),
             "calibration.json": json.dumps(
                 {"fitted": over, "check": check, "evaluations": len(history),
                  "fitting_moments": fitted[1], "distance": fitted[2]}, indent=2)}
    with OutputFolder(args.out, "calibrate") as folder:
        for name, text in files.items():
            folder.write_text(name, text)
    for k, c in check.items():
        print(f"  {TARGETS[k].label:34s} target {c['target']:9.4g}  simulated {c['mean']:9.4g} "
              f"[{c['low']:.4g}, {c['high']:.4g}]  {'inside' if c['inside'] else 'outside'}")
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

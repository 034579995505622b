"""Global sensitivity analysis of an experiment: `shequ sensitivity EXPERIMENT`.

Which parameters move the outcomes, and by how much? The experiment's sweep is a sensitivity
design of the batch engine (sim/batch/experiment.py): `design = "saltelli"` for variance-based
Sobol indices, `design = "morris"` for elementary-effects screening. The command runs the
experiment through the batch engine (resumable: finished runs are skipped), then analyses only
what the result folder holds:

1. per variant and sweep point, the output of the chosen class (default `city`) in the summary
   table, averaged over the replications (which share their seeds across points: common random
   numbers, so the average removes noise without adding differences between points);
2. saltelli: first-order (S1) and total-order (ST) Sobol indices with 95 % bootstrap confidence
   intervals (SALib.analyze.sobol, Jansen/Saltelli estimators, no second order; the interval is
   the estimate +- z_0.975 x the standard deviation of 1,000 bootstrap re-estimates);
   morris: mu* (mean absolute elementary effect, in the output's units per whole range of the
   parameter), its 95 % bootstrap interval, mu and sigma (SALib.analyze.morris);
3. a table on the terminal, `sensitivity.csv` and `sensitivity.png` in the result folder (or
   `--out`).

S1 is the share of the output's variance that the parameter explains alone, ST the share it has a
part in (alone or through interactions); ST - S1 measures interactions, ST near 0 means the
parameter does not matter over its range. Whole-number parameters are rounded at the sweep
points, which perturbs the estimates a little (the design assumes continuous values).

`add_parser(subparsers)` adds the subcommand to `shequ`; `run(args)` runs it. Bad input (an
unknown output, a design that is not saltelli or morris, missing results) raises `InputError`,
one line naming what was expected. `python -m analysis.sensitivity` works too.
"""

import argparse
import math
from dataclasses import dataclass, field
from pathlib import Path

from sim.errors import InputError

DEFAULT_OUTPUTS = ("response_rate", "resolution_rate", "satisfaction_rate")
DESIGNS = {"saltelli": "Sobol indices", "morris": "Morris screening"}
CONFIDENCE = 0.95
RESAMPLES = 1_000  # bootstrap re-estimates for the confidence intervals
CSV_NAME = "sensitivity.csv"
PLOT_NAME = "sensitivity.png"
SOBOL_COLUMNS = ("S1", "S1_conf", "S1_low", "S1_high", "ST", "ST_conf", "ST_low", "ST_high")
MORRIS_COLUMNS = ("mu_star", "mu_star_conf", "mu_star_low", "mu_star_high", "mu", "sigma")
ID_COLUMNS = ("experiment", "variant", "scenario", "point", "replication", "seed", "run_id",
              "class")


# ---- the design -----------------------------------------------------------------------------
@dataclass(frozen=True)
class Design:
    """A sensitivity design: saltelli (N base samples) or morris (N trajectories) over ranges."""

    name: str
    keys: tuple[str, ...]
    ranges: dict
    samples: int

    @property
    def n_points(self) -> int:
        d = len(self.keys)
        return self.samples * (d + 2 if self.name == "saltelli" else d + 1)

    def problem(self) -> dict:
        """SALib's problem: the parameters and their ranges."""
        return {"num_vars": len(self.keys), "names": list(self.keys),
                "bounds": [[float(v) for v in self.ranges[k]] for k in self.keys]}

    def describe(self) -> str:
        what = "base samples" if self.name == "saltelli" else "trajectories"
        return (f"{self.name} design, {self.samples} {what} x {len(self.keys)} parameters = "
                f"{self.n_points:,} points")

    @classmethod
    def of(cls, sweep: dict | None, where: str) -> "Design":
        """From a sweep as experiment.json records it (design, ranges, samples)."""
        design = None if sweep is None else sweep.get("design")
        if design not in DESIGNS:
            got = "no [sweep]" if sweep is None else f"design = \"{design}\""
            raise InputError(f"{where}: expected an experiment whose [sweep] has design = "
                             f"\"saltelli\" (Sobol indices) or \"morris\" (Morris screening), "
                             f"got {got}")
        ranges = {k: tuple(v) for k, v in sweep["ranges"].items()}  # in the file's order
        return cls(design, tuple(ranges), ranges, int(sweep["samples"]))

    @classmethod
    def of_sweep(cls, sweep, where: str) -> "Design":
        """From a loaded experiment's sweep (sim.batch.experiment.Sweep, or None)."""
        return cls.of(None if sweep is None else
                      {"design": sweep.design, "samples": sweep.samples,
                       "ranges": {k: sweep.ranges.get(k) for k in sweep.keys}}, where)


# ---- the statistics -------------------------------------------------------------------------
def sobol_indices(y, keys, *, resamples: int = RESAMPLES, confidence: float = CONFIDENCE,
                  seed=0):
    """First- and total-order Sobol indices of outputs `y` at the points of a saltelli design
    (SALib's row order, N x (D + 2) rows, no second order), with bootstrap intervals."""
    import numpy as np
    import pandas as pd
    from SALib.analyze import sobol

    y = np.asarray(y, float)
    keys = list(keys)
    if y.size % (len(keys) + 2):
        raise InputError(f"expected N x (D + 2) = N x {len(keys) + 2} outputs of a saltelli "
                         f"design over {len(keys)} parameters, got {y.size}")
    if not np.ptp(y) > 0:  # a constant output has no variance to share out
        return pd.DataFrame({"parameter": keys} | {c: math.nan for c in SOBOL_COLUMNS})
    problem = {"num_vars": len(keys), "names": keys, "bounds": [[0.0, 1.0]] * len(keys)}
    si = sobol.analyze(problem, y, calc_second_order=False, num_resamples=resamples,
                       conf_level=confidence, seed=np.random.default_rng(seed))
    out = pd.DataFrame({"parameter": keys})
    for name in ("S1", "ST"):
        out[name], out[f"{name}_conf"] = si[name], si[f"{name}_conf"]
        out[f"{name}_low"] = out[name] - out[f"{name}_conf"]
        out[f"{name}_high"] = out[name] + out[f"{name}_conf"]
    return out


def morris_indices(x, y, problem: dict, *, resamples: int = RESAMPLES,
                   confidence: float = CONFIDENCE, seed=0):
    """Morris's mu*, its bootstrap interval, mu and sigma, from the points `x` (rows in SALib's
    trajectory order) and outputs `y`. Elementary effects are per whole range of a parameter
    (the step is 2/3 of the range on a 4-level grid), in the output's units."""
    import numpy as np
    import pandas as pd
    from SALib.analyze import morris

    from sim.batch.experiment import MORRIS_LEVELS

    x, y = np.asarray(x, float), np.asarray(y, float)
    lo, hi = np.array(problem["bounds"], float).T
    unit = (x - lo) / (hi - lo)  # SALib's steps are in the unit cube
    si = morris.analyze({**problem, "bounds": [[0.0, 1.0]] * problem["num_vars"]}, unit, y,
                        num_resamples=resamples, conf_level=confidence,
                        num_levels=MORRIS_LEVELS, seed=np.random.default_rng(seed))
    out = pd.DataFrame({"parameter": list(problem["names"]),
                        "mu_star": np.asarray(si["mu_star"], float),
                        "mu_star_conf": np.asarray(si["mu_star_conf"], float)})
    out["mu_star_low"] = out["mu_star"] - out["mu_star_conf"]
    out["mu_star_high"] = out["mu_star"] + out["mu_star_conf"]
    out["mu"], out["sigma"] = np.asarray(si["mu"], float), np.asarray(si["sigma"], float)
    return out


def point_means(rows, output: str, design: Design, replications: int, where: str):
    """The output per sweep point, averaged over replications 0..replications-1: an array in
    point order. Every point needs every replication, and a number (not NaN) in each."""
    import numpy as np

    rows = rows[rows["replication"] < replications]
    have = set(zip(rows["point"], rows["replication"]))
    missing = [(p, r) for p in range(design.n_points) for r in range(replications)
               if (p, r) not in have]
    if missing:
        first = ", ".join(f"point {p} replication {r}" for p, r in missing[:3])
        raise InputError(f"{where}: missing results: {len(missing):,} of "
                         f"{design.n_points * replications:,} runs have no finished result "
                         f"({first}{', ...' if len(missing) > 3 else ''}); expected every point "
                         f"of the {design.describe()}, x {replications} replication(s) (run "
                         "the experiment again to finish or retry them)")
    table = rows.set_index(["point", "replication"])[output].unstack("replication")
    values = table.reindex(index=range(design.n_points),
                           columns=range(replications)).to_numpy(float)
    bad = np.isnan(values).any(axis=1)
    if bad.any():
        raise InputError(f"{where}: output \"{output}\" is NaN (nothing was due) in some run at "
                         f"{int(bad.sum())} of {design.n_points} sweep points; expected a number "
                         "at every point (choose another output or class, a larger scale or "
                         "more days)")
    return values.mean(axis=1)


def point_values(rows, design: Design):
    """The swept values at each point, in point order (one row a point)."""
    first = rows.sort_values("point").drop_duplicates("point")
    return first[list(design.keys)].to_numpy(float)


def indices(rows, design: Design, outputs, *, replications: int = 1, where: str = "results",
            seed=0):
    """The sensitivity indices of each output from the rows of one variant and class (columns
    point, replication, the swept keys and the outputs), one row per output and parameter."""
    import pandas as pd

    frames = []
    for output in outputs:
        y = point_means(rows, output, design, replications, where)
        if design.name == "saltelli":
            table = sobol_indices(y, design.keys, seed=seed)
        else:
            table = morris_indices(point_values(rows, design), y, design.problem(), seed=seed)
        # how much the output moves at all over the sweep: the scale the indices share out
        frames.append(table.assign(output=output, output_mean=y.mean(), output_sd=y.std(),
                                   output_min=y.min(), output_max=y.max()))
    table = pd.concat(frames, ignore_index=True)
    return table[["output", *[c for c in table.columns if c != "output"]]]


# ---- from a result folder -------------------------------------------------------------------
@dataclass
class Analysis:
    """What `analyse` found: one row per variant, output and parameter; notes for the reader."""

    folder: Path
    design: Design
    table: object  # pandas DataFrame
    klass: str
    replications: int
    notes: list = field(default_factory=list)


def analyse(folder: Path | str, outputs=DEFAULT_OUTPUTS, klass: str = "city",
            variants: list[str] | None = None, replications: int | None = None) -> Analysis:
    """Sensitivity indices from a result folder alone (experiment.json and the summary table)."""
    import numpy as np
    import pandas as pd

    from sim.batch.store import Store, read

    folder = Path(folder)
    record = Store(folder).record()
    if record is None:
        raise InputError(f"{folder}: missing results; expected a result folder with an "
                         "experiment.json (run the experiment first)")
    design = Design.of(record.get("sweep"), f"{folder}/experiment.json")
    replications = replications or int(record["replications"])
    summary = read(folder, "summary")
    if summary.empty:
        raise InputError(f"{folder}: missing results; expected finished runs in "
                         f"{folder}/summary/ (run the experiment first)")
    check_outputs(outputs, summary, design)
    check_class(klass, summary["class"].unique())
    variants = variants or sorted({c["variant"] for c in record["configs"].values()})
    seed = np.random.SeedSequence(int(record["entropy"])).generate_state(1)[0]
    frames, notes = [], []
    for variant in variants:
        rows = summary[(summary["variant"] == variant) & (summary["class"] == klass)]
        where = f"{folder} (variant \"{variant}\", class {klass})"
        table = indices(rows, design, outputs, replications=replications, where=where, seed=seed)
        for output in table.loc[table["output_sd"] == 0, "output"].unique():
            notes.append(f"{output} of class {klass} does not vary over the sweep points "
                         f"(variant \"{variant}\"): no indices")
        if design.name == "saltelli" and not rows.empty:
            notes += correlated_columns(point_values(rows, design), design)
        frames.append(table.assign(variant=variant, **{"class": klass}))
    table = pd.concat(frames, ignore_index=True)
    table = table[["variant", "class", *[c for c in table.columns if c not in ("variant",
                                                                               "class")]]]
    return Analysis(folder, design, table, klass, replications, notes)


def correlated_columns(x, design: Design) -> list[str]:
    """Saltelli's estimators need the base matrices A and B independent. A scrambled Sobol'
    sequence at a low N can pair a column of A with a correlated column of B (a known defect of
    some two-dimensional projections), which biases that parameter's indices: say so when the
    correlation passes 0.2, or twice the chance level 1/sqrt(N) of a tiny N."""
    import numpy as np

    d = len(design.keys)
    limit = max(0.2, 2 / math.sqrt(design.samples))
    blocks = np.asarray(x, float).reshape(design.samples, d + 2, d)
    a, b = blocks[:, 0, :], blocks[:, -1, :]
    notes = []
    for j, key in enumerate(design.keys):
        if np.ptp(a[:, j]) > 0 and np.ptp(b[:, j]) > 0:
            r = float(np.corrcoef(a[:, j], b[:, j])[0, 1])
            if abs(r) > limit:
                notes.append(f"{key}: its columns of the base matrices A and B are correlated "
                             f"(r = {r:.2f}) at N = {design.samples}, which biases its indices; "
                             "expected independent columns: use more samples or another seed")
    return notes


def check_outputs(outputs, summary, design: Design) -> None:
    """Each output is a numeric column of the summary table (not an identifying one)."""
    from pandas.api.types import is_numeric_dtype

    usable = [c for c in summary.columns if c not in ID_COLUMNS and c not in design.keys
              and is_numeric_dtype(summary[c])]
    for output in outputs:
        if output not in usable:
            raise InputError(f"--outputs {','.join(outputs)}: unknown output column "
                             f"\"{output}\"; expected numeric columns of the summary table, "
                             f"e.g. {', '.join(c for c in usable if c.endswith('rate'))}, "
                             "mean_satisfaction, mean_trust, cost_per_resolved (README: Outputs)")


def check_class(klass: str, classes) -> None:
    if klass not in set(classes):
        raise InputError(f"--class {klass}: expected one of {', '.join(sorted(classes))}")


# ---- reporting ------------------------------------------------------------------------------
# What the table and the figure say in Chinese (`--lang zh`); English keeps the column names.
WORDS = {
    "spread": ("mean {mean}, sd {sd}, from {low} to {high} over the {n} points",
               "均值 {mean}，标准差 {sd}，{n} 个点中从 {low} 到 {high}"),
    "head": ("{output} ({variant}, class {klass}): {spread}",
             "{output}（{variant}，类别 {klass}）：{spread}"),
    "parameter": ("parameter", "参数"),
    "S1": ("S1 (first order)", "S1（一阶）"), "ST": ("ST (total order)", "ST（总阶）"),
    "no indices": ("does not vary:\nno indices", "不变：\n无指数"),
    "variance": ("share of output variance", "输出方差的比例"),
    "mu*": ("mu* (mean |effect| over the range)", "mu*（整个范围内 |效应| 的均值）"),
    "sigma": ("sigma (interactions, non-linearity)", "sigma（交互、非线性）"),
    "saltelli": ("Sobol indices", "Sobol 指数"), "morris": ("Morris screening", "Morris 筛选"),
    "suptitle": ("{what} ({design}; class {klass}; {confidence} bootstrap intervals)",
                 "{what}（{design}；类别 {klass}；{confidence} 自助法区间）"),
}


def say(key: str, lang: str = "en", **values) -> str:
    from sim.labels import phrase  # imported when used: `shequ` starts without it

    return phrase(WORDS, key, lang, **values)


def output_name(output: str, lang: str, labelled: bool = False) -> str:
    """The summary column's name (researchers' English), or its label (Chinese, or `labelled`: a
    report's) — without a unit: the indices and the spread are in the stored unit (a share 0-1)."""
    from sim import labels

    if (labelled or lang != "en") and output in labels.OUTCOMES:
        return labels.label(output, lang)
    return output


def format_table(analysis: Analysis, lang: str = "en") -> str:
    """The indices as text: one block per variant and output, parameters by importance."""
    t, lines = analysis.table, []
    sobol = analysis.design.name == "saltelli"
    conf = f"{CONFIDENCE:.0%} CI"
    for (variant, output), block in t.groupby(["variant", "output"], sort=False):
        block = block.sort_values("ST" if sobol else "mu_star", ascending=False)
        r0 = block.iloc[0]
        spread = say("spread", lang, mean=f"{r0.output_mean:.4g}", sd=f"{r0.output_sd:.3g}",
                     low=f"{r0.output_min:.4g}", high=f"{r0.output_max:.4g}",
                     n=f"{analysis.design.n_points:,}")
        lines += ["", say("head", lang, output=output_name(output, lang), variant=variant,
                          klass=analysis.klass, spread=spread)]
        parameter = say("parameter", lang)
        if sobol:
            lines.append(f"  {parameter:34s} {'S1':>7s}  {conf:17s} {'ST':>7s}  {conf}")
            lines += [f"  {r.parameter:34s} {r.S1:7.3f}  {ci(r.S1_low, r.S1_high, 3):17s} "
                      f"{r.ST:7.3f}  {ci(r.ST_low, r.ST_high, 3)}" for r in block.itertuples()]
            continue
        d = digits(block[["mu_star", "sigma"]].abs().to_numpy().max())
        w = d + 4
        lines.append(f"  {parameter:34s} {'mu*':>{w}s}  {conf:{2 * w + 4}s} {'mu':>{w}s} "
                     f"{'sigma':>{w}s}")
        lines += [f"  {r.parameter:34s} {r.mu_star:{w}.{d}f}  "
                  f"{ci(r.mu_star_low, r.mu_star_high, d):{2 * w + 4}s} {r.mu:{w}.{d}f} "
                  f"{r.sigma:{w}.{d}f}" for r in block.itertuples()]
    return "\n".join(lines[1:])


def digits(largest: float) -> int:
    """Decimals that show three significant digits of the largest value (3 to 8)."""
    if not largest > 0:
        return 4
    return int(min(8, max(3, 2 - math.floor(math.log10(largest)))))


def ci(low: float, high: float, digits: int = 3) -> str:
    return f"[{low:.{digits}f}, {high:.{digits}f}]"


def plot(analysis: Analysis, path: Path, lang: str = "en", labelled: bool = False) -> Path:
    """Sobol: S1 and ST bars with CI whiskers per parameter, a panel per output (and variant);
    Morris: mu* against sigma, mu*'s interval as whiskers. Greys and hatching print well."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    t = analysis.table
    variants, outputs = list(dict.fromkeys(t["variant"])), list(dict.fromkeys(t["output"]))
    sobol = analysis.design.name == "saltelli"
    n_par = len(analysis.design.keys)
    height = max(2.8, 0.5 * n_par + 1.2) if sobol else 4.2
    # one variant: the outputs in rows of three; several: a row per variant
    cols = min(3, len(outputs)) if len(variants) == 1 else len(outputs)
    rows = -(-len(outputs) // cols) if len(variants) == 1 else len(variants)
    fig, axes = plt.subplots(rows, cols, squeeze=False, sharey=sobol, sharex=sobol,
                             figsize=((3.9 if sobol else 5.6) * cols + (1.9 if sobol else 0.4),
                                      height * rows + 0.5))
    for i, variant in enumerate(variants):
        for j, output in enumerate(outputs):
            ax = axes[divmod(j, cols)] if len(variants) == 1 else axes[i, j]
            block = t[(t["variant"] == variant) & (t["output"] == output)]
            (sobol_panel if sobol else morris_panel)(ax, block, lang)
            title = f"{output_name(output, lang, labelled)} (sd {block['output_sd'].iloc[0]:.2g})"
            ax.set_title(title if len(variants) == 1 else f"{title}\n{variant}", fontsize=10)
    for ax in axes.flat[len(outputs):] if len(variants) == 1 else ():
        ax.set_visible(False)
    for ax in axes.flat:  # shared x axes: every row keeps its numbers
        ax.tick_params(labelbottom=True)
    if sobol:
        sobol_limits(axes, t)
        fig.legend(*axes[0, 0].get_legend_handles_labels(), loc="lower center", ncol=2,
                   fontsize=8, frameon=False)
    fig.suptitle(say("suptitle", lang, what=say(analysis.design.name, lang),
                     design=analysis.design.describe(), klass=analysis.klass,
                     confidence=f"{CONFIDENCE:.0%}"), fontsize=9)
    fig.tight_layout(rect=(0, 0.06 if sobol else 0, 1, 1))
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=160)
    plt.close(fig)
    return path


def sobol_limits(axes, t) -> None:
    """One x-axis for every panel, so that bars compare across outputs. Indices live in [0, 1];
    estimates and intervals stray beyond it when N is small: the axis stops at [-0.3, 1.3] and
    longer whiskers run off it."""
    import numpy as np

    high = np.nanmax(np.r_[t["ST_high"], t["S1_high"], 0.1])
    low = np.nanmin(np.r_[t["S1_low"], t["ST_low"], 0.0])
    axes[0, 0].set_xlim(max(-0.3, min(low - 0.02, -0.02)), min(1.3, high + 0.03))


def sobol_panel(ax, block, lang: str = "en") -> None:
    import numpy as np

    y = np.arange(len(block))[::-1]  # the file's order, top to bottom
    style = {"error_kw": {"elinewidth": 1, "capsize": 2.5, "ecolor": "black"},
             "edgecolor": "black", "linewidth": 0.6}
    ax.barh(y + 0.19, block["S1"], 0.38, xerr=block["S1_conf"], color="0.35",
            label=say("S1", lang), **style)
    ax.barh(y - 0.19, block["ST"], 0.38, xerr=block["ST_conf"], color="0.88", hatch="///",
            label=say("ST", lang), **style)
    ax.set_yticks(y, block["parameter"], fontsize=8)
    ax.axvline(0, color="black", linewidth=0.8)
    if block["ST"].isna().all():
        ax.text(0.5, 0.5, say("no indices", lang), transform=ax.transAxes, ha="center",
                va="center", fontsize=9)
    ax.set_xlabel(say("variance", lang), fontsize=8)
    ax.tick_params(axis="x", labelsize=8)
    ax.grid(axis="x", color="0.85", linewidth=0.5)
    ax.set_axisbelow(True)


def morris_panel(ax, block, lang: str = "en") -> None:
    ax.errorbar(block["mu_star"], block["sigma"], xerr=block["mu_star_conf"], fmt="o",
                color="black", markersize=4, elinewidth=0.8, capsize=2)
    top = max(block["mu_star_high"].max(), block["sigma"].max(), 1e-9) * 1.1
    label_points(ax, block, top)
    ax.plot([0, top], [0, top], color="0.6", linewidth=0.7, linestyle="--")
    ax.set_xlim(0, top)
    ax.set_ylim(0, top)
    ax.set_xlabel(say("mu*", lang), fontsize=8)
    ax.set_ylabel(say("sigma", lang), fontsize=8)
    ax.tick_params(labelsize=8)
    ax.grid(color="0.9", linewidth=0.5)


def label_points(ax, block, top: float) -> None:
    """Name every point in a column right of the panel, in the order of sigma, each joined to its
    point by a thin line: names never pile up, however close the points."""
    ordered = block.sort_values(["sigma", "mu_star"]).reset_index(drop=True)
    n = len(ordered)
    for i, r in enumerate(ordered.itertuples()):
        ax.annotate(short(r.parameter), (r.mu_star, r.sigma),
                    xytext=(1.04, (i + 0.5) / n), textcoords="axes fraction", va="center",
                    fontsize=7, annotation_clip=False,
                    arrowprops={"arrowstyle": "-", "color": "0.6", "linewidth": 0.5,
                                "shrinkA": 0, "shrinkB": 2})


def short(key: str) -> str:
    """A parameter's name without its section ("behaviour.voice_base" -> "voice_base")."""
    return key.split(".", 1)[-1]


def write(analysis: Analysis, out: Path, lang: str = "en") -> tuple[Path, Path]:
    """sensitivity.csv and sensitivity.png in `out` (new files, or ones Shequ wrote)."""
    from sim.command import output_file

    with output_file(out / CSV_NAME, "--out") as tmp:
        analysis.table.to_csv(tmp, index=False, float_format="%.6g")
    with output_file(out / PLOT_NAME, "--out") as tmp:
        plot(analysis, tmp, lang)
    return out / CSV_NAME, out / PLOT_NAME


# ---- the command ----------------------------------------------------------------------------
HELP = "Sobol indices or Morris screening of an experiment's outputs"
DESCRIPTION = """\
Run an experiment whose [sweep] has design = "saltelli" (Sobol indices) or "morris" (Morris
screening) into its result folder (finished runs are skipped), then analyse the stored results:
print the indices with 95 % bootstrap intervals and write sensitivity.csv and sensitivity.png."""


def outputs_list(text: str) -> tuple[str, ...]:
    names = tuple(n.strip() for n in text.split(",") if n.strip())
    if not names or len(set(names)) != len(names):
        raise argparse.ArgumentTypeError(f"expected a comma-separated list of summary columns, "
                                         f"each once, e.g. {','.join(DEFAULT_OUTPUTS)}, "
                                         f"got '{text}'")
    return names


def add_arguments(parser: argparse.ArgumentParser) -> None:
    from sim.batch.cli import add_executor_arguments
    from sim.command import add_lang, path

    parser.add_argument("experiment", help="experiment name (from experiments/) or .toml path")
    parser.add_argument("--outputs", type=outputs_list, default=DEFAULT_OUTPUTS, metavar="LIST",
                        help="summary columns to analyse, comma-separated (default: "
                             f"{','.join(DEFAULT_OUTPUTS)})")
    parser.add_argument("--class", dest="klass", default="city", metavar="CLASS",
                        help="rows of this class: A, B, C, D or city (default: city)")
    add_executor_arguments(parser)
    parser.add_argument("--results", type=path, metavar="DIR",
                        help="the experiment's result folder (default: results/EXPERIMENT, as "
                             "`shequ batch`)")
    parser.add_argument("--out", type=path, metavar="DIR",
                        help="where to write sensitivity.csv and sensitivity.png (default: the "
                             "result folder)")
    add_lang(parser, "the table and the figure (zh names each output by its Chinese label)")


def add_parser(subparsers) -> argparse.ArgumentParser:
    """Add `sensitivity` to `shequ`'s subcommands."""
    from sim.command import examples

    parser = subparsers.add_parser("sensitivity", help=HELP, description=DESCRIPTION, **examples(
        "shequ sensitivity morris --workers 2            # the screening, then:",
        "shequ sensitivity sensitivity --workers 2       # Sobol indices",
        "shequ sensitivity morris --outputs resolved_share,unvoiced_share --class B"))
    add_arguments(parser)
    return parser


def run(args) -> int:
    from sim.batch import cli as batch_cli
    from sim.batch.experiment import load, safe_name
    from sim.batch.runner import prepare
    from sim.command import check_file, check_results

    batch_cli.check_executor(args)
    experiment = load(args.experiment)
    design = Design.of_sweep(experiment.sweep, str(experiment.path))
    check_before_running(experiment, args.outputs, args.klass, design)
    results = args.results or Path("results") / safe_name(experiment.name)
    out = args.out or results
    check_results(results, "--results")
    for name in (CSV_NAME, PLOT_NAME):
        check_file(out / name, "--out")
    from sim.viz.labels import require_fonts

    require_fonts(args.lang)
    prepare(experiment, results)  # validates every config; nothing written yet
    code = batch_cli.run_runs(experiment, results, args, flag="--results",
                              need="the indices need every point: run the same command again")
    if code:
        return code
    analysis = analyse(results, args.outputs, args.klass,
                       variants=[v for v, _ in experiment.variants],
                       replications=experiment.replications)
    print(f"\n{DESIGNS[design.name]} of {experiment.name}: {design.describe()}, each the mean "
          f"of {experiment.replications} replication{'s' * (experiment.replications != 1)}; "
          f"class {args.klass}; {CONFIDENCE:.0%} bootstrap intervals ({RESAMPLES:,} resamples)")
    print(format_table(analysis, args.lang))
    for note in analysis.notes:
        print(f"note: {note}")
    csv, png = write(analysis, out, args.lang)
    print(f"\nwritten: {csv} and {png}")
    return 0


def check_before_running(experiment, outputs, klass: str, design: Design) -> None:
    """The outputs and the class exist (in a one-day run of a tiny city), before any run."""
    from sim import outputs as tables
    from sim.model import GovernanceModel

    model = GovernanceModel(scenario=experiment.variants[0][1], scale=1e-4, days=1)
    model.run()
    summary = tables.summary(model)
    check_outputs(outputs, summary, design)
    check_class(klass, summary["class"].unique())


def main(argv: list[str] | None = None) -> int:
    """`python -m analysis.sensitivity ...`, with `shequ`'s one-line errors."""
    from sim.command import Parser, one_line_errors

    parser = Parser(prog="shequ sensitivity", description=DESCRIPTION)
    add_arguments(parser)
    args = parser.parse_args(argv)
    return one_line_errors(lambda: run(args))


if __name__ == "__main__":
    raise SystemExit(main())

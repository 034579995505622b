"""Scenario discovery: under which conditions does a policy fail? `shequ discover RESULTS ...`

A batch whose experiment swept uncertainties (any design: factorial, Latin hypercube, Sobol or
Morris points) is asked one question: at which sweep points is an outcome of a class below (or
above) a threshold — a number, or, with `--versus`, the same outcome of another variant in the
paired runs (same point and replication: common random numbers), e.g. "where does the reform
leave class B's resolved share below uniform funding's?". Each sweep point is one case: its
outcome is the mean over its replications (noise is not an uncertainty of its own).

Two well-kept rule-induction methods of EMA Workbench (`ema_workbench.analysis`) then describe
where the cases of interest lie in the swept parameters:

- **PRIM** (Friedman and Fisher 1999; `prim.Prim`): peels the parameter space down to a box in
  which the cases of interest are dense. Each step of its peeling trajectory trades coverage
  (the share of all cases of interest inside the box) for density (the share of the box's cases
  that are of interest). The box reported is the densest one on the trajectory whose coverage is
  at least `--coverage` (default 0.5); the trade-off is drawn, and each restricted parameter has
  its quasi-p-value (the chance of so dense a box by restricting it at random).
- **CART** (`cart.CART`): a classification tree; each leaf is a box with its coverage and
  density.

EMA Workbench is an optional extra (`pip install 'shequ[discover]'`); without it the command
says so and stops. Writes discover.md, discover.csv (PRIM's trajectory) and tradeoff.png to
`--out` (default RESULTS/discover); reads the result store only.
"""

import functools
import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from analysis.compare import read_summary
from sim import labels
from sim.errors import InputError

MASS_MIN = 0.05  # the smallest box: 5 % of the cases (EMA Workbench's default)
MIN_POINTS = 10  # fewer sweep points say nothing about where a policy fails
INSTALL = ("shequ discover needs EMA Workbench, an optional extra: pip install "
           "'shequ[discover]' (or pip install ema-workbench)")


@dataclass
class Question:
    """Which sweep points are cases of interest."""

    outcome: str
    klass: str = "city"
    variant: str | None = None  # default: the first variant
    versus: str | None = None  # compare with this variant's paired runs
    below: float | None = None  # in the outcome's unit as shown (per cent for a share)
    above: float | None = None

    def describe(self, lang: str = "en") -> str:
        variant = f"{self.variant} − {self.versus}" if self.versus else self.variant
        side, value = ("below", self.below) if self.below is not None else ("above", self.above)
        klass = say("city", lang) if self.klass == "city" else self.klass
        return say("question", lang, label=labels.label(self.outcome, lang), variant=variant,
                   klass=klass, side=say(side, lang), value=f"{value:g}",
                   unit=labels.unit(self.outcome, lang, difference=bool(self.versus)))


# What discover says: (en, zh), `{placeholders}` filled in.
WORDS = {
    "question": ("{label} of {variant}, class {klass}, {side} {value} {unit}",
                 "{variant} 的{label}，类别 {klass}，{side} {value} {unit}"),
    "below": ("below", "低于"), "above": ("above", "高于"), "city": ("city", "全市"),
    "cases": ("Cases of interest: {question}: {k} of {n} sweep points ({share}).",
              "关注的情形：{question}：{n} 个扫描点中的 {k} 个（{share}）。"),
    "box": ("PRIM's box (step {i} of {steps} on the peeling trajectory): coverage {coverage} of "
            "the cases of interest, density {density} of the points in it are cases (against "
            "{overall} overall), mass {mass} of the points; restricted parameters:",
            "PRIM 的盒子（剥离轨迹的第 {i}/{steps} 步）：覆盖 {coverage} 的关注情形，盒内 {density} "
            "的点是关注情形（总体为 {overall}），包含 {mass} 的点；受限的参数："),
    "limit": ("  {name} in [{low}, {high}] (swept {lo} to {hi}{qp})",
              "  {name} ∈ [{low}, {high}]（扫描范围 {lo} 至 {hi}{qp}）"),
    "none": ("  none: the box is the whole swept space", "  无：盒子即整个扫描空间"),
    "title": ("# Scenario discovery: {question}", "# 情景发现：{question}"),
    "from": ("From the result folder `{folder}` (`shequ discover`; EMA Workbench's PRIM and CART).",
             "来自结果文件夹 `{folder}`（`shequ discover`；EMA Workbench 的 PRIM 与 CART）。"),
    "prim": ("## PRIM: the reported box", "## PRIM：报告的盒子"),
    "no restriction": ("(no restriction)", "（无限制）"),
    "figure alt": ("PRIM's peeling trajectory: coverage against density",
                   "PRIM 剥离轨迹：覆盖率与密度"),
    "cart": ("## CART: the tree's leaves as boxes", "## CART：树的叶子（盒子）"),
    "reported": ("reported box (step {i})", "报告的盒子（第 {i} 步）"),
    "overall": ("share of cases overall", "总体中关注情形的比例"),
    "coverage": ("coverage (share of the cases of interest in the box)",
                 "覆盖率（盒内关注情形占全部关注情形的比例）"),
    "density": ("density (share of the box's points that are cases)",
                "密度（盒内点中关注情形的比例）"),
    "trajectory": ("PRIM peeling trajectory", "PRIM 剥离轨迹"),
    "restricted": ("restricted parameters", "受限参数数"),
}


say = functools.partial(labels.phrase, WORDS)


def ema():
    """EMA Workbench's prim and cart modules, or a clear error naming the extra to install."""
    import warnings

    try:
        with warnings.catch_warnings():  # it warns about optional parallel back-ends at import
            warnings.simplefilter("ignore")
            from ema_workbench.analysis import cart, prim
    except ImportError:
        raise InputError(INSTALL) from None
    # its own deprecation notices (pandas' inplace keyword) are not the user's concern
    warnings.filterwarnings("ignore", module="ema_workbench")
    return prim, cart


def cases(summary: pd.DataFrame, sweep_keys: list[str], q: Question
          ) -> tuple[pd.DataFrame, np.ndarray, np.ndarray]:
    """The swept values of each sweep point (x), its outcome (mean over replications, or mean
    paired difference against `q.versus`) and whether it is a case of interest (y). Points where
    the outcome is undefined (no case of its kind) are left out, not counted as uninteresting."""
    if q.outcome not in summary.columns or q.outcome not in labels.OUTCOMES:
        known = [o for o in labels.OUTCOMES if o in summary.columns]
        raise InputError(f"--outcome {q.outcome}: expected one of {', '.join(known)}")
    variants = list(dict.fromkeys(summary["variant"]))
    q.variant = q.variant or next(v for v in variants if v != q.versus)
    for flag, name in (("--variant", q.variant), ("--versus", q.versus)):
        if name is not None and name not in variants:
            raise InputError(f"{flag} {name}: expected one of {', '.join(variants)}")
    if q.versus == q.variant:
        raise InputError(f"--versus {q.versus}: expected a variant other than {q.variant}")
    if (q.below is None) == (q.above is None):
        raise InputError("expected one threshold: --below VALUE or --above VALUE")
    rows = summary[summary["class"] == q.klass]
    if rows.empty:
        raise InputError(f"--class {q.klass}: expected one of "
                         f"{', '.join(dict.fromkeys(summary['class']))}")
    keys = [k for k in sweep_keys if k in rows.columns and rows[k].nunique() > 1]
    if not keys:
        raise InputError("expected a result folder of an experiment that sweeps parameters "
                         "([sweep] with values or ranges); this one has no swept parameter")
    mine = rows[rows["variant"] == q.variant]
    value = mine.set_index(["point", "replication"])[q.outcome]
    if q.versus:
        other = rows[rows["variant"] == q.versus].set_index(["point", "replication"])[q.outcome]
        value = (value - other).dropna()
    per_point = value.groupby(level="point").mean()
    per_point = per_point[np.isfinite(per_point)]  # a point where the outcome is undefined
    x = mine.groupby("point")[keys].first().loc[per_point.index]
    shown = per_point.to_numpy(float) * labels.factor(q.outcome)
    y = shown < q.below if q.below is not None else shown > q.above
    return x.reset_index(drop=True), shown, np.asarray(y)


@dataclass
class Found:
    question: Question
    x: pd.DataFrame
    y: np.ndarray
    trajectory: pd.DataFrame  # PRIM's peeling trajectory: coverage, density, mass, res_dim
    chosen: int  # the trajectory step reported
    limits: pd.DataFrame  # the chosen box: parameter, low, high, range_low, range_high, qp
    cart_boxes: pd.DataFrame
    cart_stats: pd.DataFrame


def discover(x: pd.DataFrame, y: np.ndarray, question: Question, coverage: float = 0.5) -> Found:
    """PRIM's peeling trajectory and the densest box with at least `coverage`; CART's leaves."""
    n = int(y.sum())
    if len(y) < MIN_POINTS:
        raise InputError(f"{question.describe()}: expected at least {MIN_POINTS} sweep points "
                         f"for scenario discovery, found {len(y)}")
    if n == 0 or n == len(y):
        raise InputError(f"{question.describe()}: {n} of {len(y)} sweep points are cases of "
                         "interest; scenario discovery needs some of both (another threshold?)")
    prim, cart = ema()
    box = prim.Prim(x.astype(float), y, mass_min=MASS_MIN).find_box()
    trajectory = box.peeling_trajectory.reset_index(drop=True)
    ok = trajectory[trajectory["coverage"] >= coverage]
    chosen = int(ok.sort_values(["density", "coverage"], ascending=False).index[0])
    limits = box_limits(box, chosen, x)
    tree = cart.CART(x.astype(float), y, mass_min=max(MASS_MIN, 1 / len(y)))  # a leaf: >= 1 point
    tree.build_tree()
    return Found(question, x, y, trajectory, chosen, limits, tree.boxes_to_dataframe(),
                 tree.stats_to_dataframe())


def box_limits(box, i: int, x: pd.DataFrame) -> pd.DataFrame:
    """The restricted parameters of PRIM's box i: its limits, the whole range, quasi-p-values."""
    lims, whole = box.box_lims[i], box.box_lims[0]
    qp = {}
    try:
        inspected = box.inspect(i, style="data")[0][1]
        for name, row in inspected.iterrows():
            values = [v for v in np.ravel(row.filter(like="qp").to_numpy(float)) if np.isfinite(v)]
            qp[name] = max(values) if values else math.nan
    except (KeyError, IndexError, AttributeError, TypeError):  # an older or newer layout
        pass
    rows = []
    for name in x.columns:
        lo, hi = float(lims[name].iloc[0]), float(lims[name].iloc[1])
        if (lo, hi) != (float(whole[name].iloc[0]), float(whole[name].iloc[1])):
            rows.append({"parameter": name, "low": lo, "high": hi,
                         "range_low": float(x[name].min()), "range_high": float(x[name].max()),
                         "qp": qp.get(name, math.nan)})
    return pd.DataFrame(rows, columns=["parameter", "low", "high", "range_low", "range_high",
                                       "qp"])


# ---- reporting ------------------------------------------------------------------------------
def summary_text(found: Found, lang: str = "en") -> str:
    """The finding in a few lines, as printed and at the top of discover.md."""
    t, i = found.trajectory, found.chosen
    step = t.loc[i]
    lines = [say("cases", lang, question=found.question.describe(lang), k=int(found.y.sum()),
                 n=len(found.y), share=f"{found.y.mean():.0%}"),
             say("box", lang, i=i, steps=len(t) - 1, coverage=f"{step['coverage']:.0%}",
                 density=f"{step['density']:.0%}", overall=f"{found.y.mean():.0%}",
                 mass=f"{step['mass']:.0%}")]
    for r in found.limits.itertuples():
        qp = "" if math.isnan(r.qp) else f", qp {r.qp:.2g}"
        lines.append(say("limit", lang, name=r.parameter, low=f"{r.low:.4g}", high=f"{r.high:.4g}",
                         lo=f"{r.range_low:.4g}", hi=f"{r.range_high:.4g}", qp=qp))
    if found.limits.empty:
        lines.append(say("none", lang))
    return "\n".join(lines)


def tradeoff_png(found: Found, lang: str = "en") -> bytes:
    from analysis.report import plt, png  # matplotlib on Agg, and one way to make a PNG

    t = found.trajectory
    fig, ax = plt.subplots(figsize=(6, 4.5))
    points = ax.scatter(t["coverage"], t["density"], c=t["res_dim"], cmap="viridis", s=22)
    chosen = t.loc[found.chosen]
    ax.scatter([chosen["coverage"]], [chosen["density"]], s=140, facecolors="none",
               edgecolors="#c44e52", lw=2, label=say("reported", lang, i=found.chosen))
    ax.axhline(found.y.mean(), color="#888", lw=0.8, ls="--", label=say("overall", lang))
    ax.set_xlabel(say("coverage", lang))
    ax.set_ylabel(say("density", lang))
    ax.set_title(say("trajectory", lang), fontsize=10)
    fig.colorbar(points, ax=ax, label=say("restricted", lang))
    ax.legend(fontsize=8, loc="lower left")
    ax.grid(alpha=0.3)
    return png(fig)


def markdown(found: Found, folder: Path, lang: str = "en") -> str:
    from analysis.report import markdown_table

    limits = found.limits.copy()
    for col in ("low", "high", "range_low", "range_high", "qp"):
        limits[col] = limits[col].map(lambda v: "" if math.isnan(v) else f"{v:.4g}")
    cart = found.cart_stats.reset_index().rename(columns={"index": "box"})
    return "\n\n".join([
        say("title", lang, question=found.question.describe(lang)),
        say("from", lang, folder=folder),
        summary_text(found, lang).replace("\n  ", "\n- ").replace(":\n- ", ":\n\n- ", 1)
        .replace("：\n- ", "：\n\n- ", 1),
        say("prim", lang), markdown_table(limits) if len(limits) else say("no restriction", lang),
        f"![{say('figure alt', lang)}](tradeoff.png)",
        say("cart", lang), markdown_table(cart.round(3)),
        markdown_table(found.cart_boxes.round(4).reset_index()),
    ]) + "\n"


def write(found: Found, folder: Path, out, lang: str = "en") -> list[Path]:
    from sim.command import claimed

    with claimed(out, "discover") as claim:
        trajectory = found.trajectory.to_csv(index=False, float_format="%.6g")
        return [claim.write_text("discover.md", markdown(found, folder, lang)),
                claim.write_text("discover.csv", trajectory),
                claim.write_bytes("tradeoff.png", tradeoff_png(found, lang))]


# ---- the command (its parser is in analysis/cli.py, so that `shequ` starts quickly) --------
def run(args) -> int:
    import json

    from sim.command import check_folder

    if not 0 < args.coverage <= 1:
        raise InputError(f"--coverage {args.coverage}: expected a share in (0, 1]")
    summary = read_summary(args.results)
    record = json.loads((args.results / "experiment.json").read_text())
    question = Question(args.outcome, args.klass, args.variant, args.versus, args.below,
                        args.above)
    x, _, y = cases(summary, record.get("sweep_keys") or [], question)
    out = args.out or args.results / "discover"
    check_folder(out, "discover")
    from sim.viz.labels import require_fonts

    require_fonts(args.lang)
    found = discover(x, y, question, args.coverage)
    print(summary_text(found, args.lang))
    written = write(found, args.results, out, args.lang)
    print(f"\nwritten: {', '.join(str(p) for p in written)}")
    return 0

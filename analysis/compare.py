"""Compare policy variants of a batch: paired differences over common-random-number replications.

    shequ compare RESULTS --baseline NAME [--variant NAME ...] [--class B] [--outcome NAME ...]
                  [--lang zh] [--csv FILE]

For every outcome, by class and city-wide, each variant's replication r is paired with the
baseline's replication r at the same sweep point (they share a seed), and `analysis.stats.paired`
gives the mean difference, its 95 % interval, the effect size and whether the replications are
enough. Sweep points are never pooled: a sweep's points are different models, so each point is
compared on its own. Reads the result store only; never runs the model.
"""

import functools
import math
import textwrap
import unicodedata
from pathlib import Path

import pandas as pd

from analysis.stats import paired
from sim import labels
from sim.errors import InputError

PAIR_KEYS = ["point", "replication"]
CLASSES = ("A", "B", "C", "D", "city")

WORDS = {  # key: (English, Chinese)
    "head": ("{variant} − {baseline}{at}: paired differences over {n} replications (95 % "
             "intervals)", "{variant} − {baseline}{at}：{n} 次重复的配对差值（95% 区间）"),
    "at": (" at sweep point {point}", "，参数点 {point}"),
    "outcome": ("outcome", "指标"), "class": ("class", "类别"), "baseline": ("baseline", "基准"),
    "variant": ("variant", "方案"), "difference": ("difference [95 % CI]", "差值 [95% 区间]"),
    "d": ("d", "效应量"), "reps": ("replications", "重复次数"),
    "enough": ("enough", "足够"), "needed": ("~{n} needed", "约需 {n} 次"),
    "identical": ("identical", "完全相同"), "few": ("too few", "太少"), "never": ("—", "—"),
    "city": ("city", "全市"),
    "kpi_note": ("KPIs count reported cases only: a KPI can rise while fewer of all grievances are "
                 "resolved (compare the whole-iceberg outcomes).",
                 "考核指标只计已受理的诉求：指标上升时，全部诉求中被解决的可能反而更少（请对照全部诉求的结果）。"),
}


word = functools.partial(labels.phrase, WORDS)


def read_summary(folder: Path | str) -> pd.DataFrame:
    """The summary table of a result folder (finished runs only), or a clear error."""
    from sim.batch import read

    folder = Path(folder)
    if not (folder / "experiment.json").is_file():
        raise InputError(f"{folder}: expected a result folder of `shequ batch` (with "
                         "experiment.json), but there is none")
    summary = read(folder, "summary")
    if summary.empty:
        raise InputError(f"{folder}: expected finished runs with a kept summary table, found none")
    return summary


def chosen(asked: list[str] | None, known: list[str], what: str, default: list[str]) -> list[str]:
    """The names asked for (comma lists allowed, "all" for every one), or a clear error."""
    if not asked:
        return default
    names = list(dict.fromkeys(n.strip() for a in asked for n in a.split(",") if n.strip()))
    if "all" in names:
        return known
    for name in names:
        if name not in known:
            raise InputError(f"{what} {name}: expected one of {', '.join(known)} (or all)")
    return names


def compare(summary: pd.DataFrame, baseline: str, variants: list[str] | None = None,
            outcomes: list[str] | None = None, classes: list[str] | None = None,
            confidence: float = 0.95) -> pd.DataFrame:
    """One row per variant, sweep point, class and outcome: the paired difference
    variant - baseline. `outcomes` default to every labelled outcome the summary has."""
    names = list(dict.fromkeys(summary["variant"]))
    for name in [baseline, *(variants or [])]:
        if name not in names:
            raise InputError(f"variant \"{name}\": expected one of {', '.join(names)}")
    variants = variants or [n for n in names if n != baseline]
    if not variants:
        raise InputError(f"--variant: expected a variant other than the baseline \"{baseline}\"")
    known = [o for o in labels.OUTCOMES if o in summary.columns]
    outcomes = chosen(outcomes, known, "--outcome", known)
    present = [c for c in CLASSES if c in set(summary["class"])]
    classes = chosen(classes, present, "--class", present)
    base = summary[(summary["variant"] == baseline) & summary["class"].isin(classes)]
    rows = []
    for variant in variants:
        other = summary[summary["variant"] == variant]
        both = base.merge(other, on=[*PAIR_KEYS, "class"], suffixes=("_b", "_v"))
        for (point, cls), part in both.groupby(["point", "class"], sort=False):
            for outcome in outcomes:
                p = paired(part[f"{outcome}_b"], part[f"{outcome}_v"], confidence)
                rows.append({"variant": variant, "baseline": baseline, "point": point,
                             "class": cls, "outcome": outcome, **p.as_dict(),
                             "more_needed": more_needed(p)})
    if not rows:
        raise InputError(f"variant \"{variants[0]}\": expected runs that share a sweep point and "
                         f"replication with the baseline \"{baseline}\", found none")
    table = pd.DataFrame(rows)
    ranks = {"variant": {v: i for i, v in enumerate(variants)},  # the experiment's order
             "outcome": {o: i for i, o in enumerate(outcomes)},
             "class": {c: i for i, c in enumerate(classes)}}
    return table.sort_values(["variant", "point", "outcome", "class"], kind="stable",
                             key=lambda s: s.map(ranks[s.name]) if s.name in ranks else s
                             ).reset_index(drop=True)


def more_needed(p) -> float:
    """Replications still needed for the interval to exclude zero if the difference and its
    spread stay as observed (a rough guide: about an even chance that the interval then
    excludes zero; twice as many give about 80 %): 0 when there are enough; NaN when no number
    would do (no difference at all) or fewer than two pairs say nothing."""
    if p.enough:
        return 0.0
    if p.n < 2 or math.isnan(p.replications_needed) or math.isinf(p.replications_needed):
        return math.nan
    return max(0.0, p.replications_needed - p.n)


def adequacy(row, lang: str) -> str:
    """The replications column in words: enough, how many are needed, or why no number helps."""
    if row["n"] < 2:
        return word("few", lang)
    if row["enough"]:
        return word("enough", lang)
    if row["difference"] == 0 and not row["sd"] > 0:
        return word("identical", lang)
    if math.isnan(row["more_needed"]):
        return word("never", lang)
    return word("needed", lang, n=f"{int(row['n'] + row['more_needed']):,}")


def format_table(table: pd.DataFrame, lang: str = "en", width: int = 100) -> str:
    """Text tables, one per variant (and sweep point), each fitting `width` columns: an outcome
    with its unit (wrapped over its class rows), the class, both means, the difference with its
    interval (in percentage points for shares), the effect size and whether the replications
    are enough."""
    blocks = []
    many = table["point"].nunique() > 1
    for (variant, point), part in table.groupby(["variant", "point"], sort=False):
        at = word("at", lang, point=point) if many else ""
        head = word("head", lang, variant=variant, baseline=part["baseline"].iloc[0], at=at,
                    n=int(part["n"].max()))
        cells, names = [], []
        for _, r in part.iterrows():
            name = r["outcome"]
            diff_unit = labels.unit(name, lang, difference=True)
            ci = (f"{labels.shown(name, r['difference'], signed=True)} "
                  f"[{labels.shown(name, r['ci_low'], signed=True)}, "
                  f"{labels.shown(name, r['ci_high'], signed=True)}]"
                  + (f" {diff_unit}" if diff_unit != labels.unit(name, lang) else ""))
            names.append(name)
            cells.append([word("city", lang) if r["class"] == "city" else r["class"],
                          labels.shown(name, r["baseline_mean"]),
                          labels.shown(name, r["variant_mean"]), ci,
                          "–" if math.isnan(r["effect_size"]) else f"{r['effect_size']:+.1f}",
                          adequacy(r, lang)])
        heads = [word(k, lang) for k in ("outcome", "class", "baseline", "variant", "difference",
                                         "d", "reps")]
        widths = [max(text_width(c) for c in col) for col in zip(heads[1:], *cells)]
        room = max(width - sum(w + 2 for w in widths), 16)
        rows = []
        for name, group in groupby_runs(names, cells):
            lines = wrap(f"{labels.label(name, lang)} ({labels.unit(name, lang)})", room)
            for i in range(max(len(group), len(lines))):
                rows.append([lines[i] if i < len(lines) else ""]
                            + (group[i] if i < len(group) else [""] * len(heads[1:])))
        widths = [max(text_width(r[0]) for r in [heads, *rows])] + widths
        left = {0, 1}  # text columns; the numbers are right-aligned
        lines = [" ".join(pad(c, w, i in left) for i, (c, w) in enumerate(zip(r, widths)))
                 .rstrip() for r in [heads, *rows]]
        blocks.append("\n".join(textwrap.wrap(head, width)) + "\n" + "\n".join(lines))
    if any(o in labels.MAIN[:3] for o in table["outcome"]):
        blocks.append("\n".join(textwrap.wrap(word("kpi_note", lang), width)))
    return "\n\n".join(blocks)


def groupby_runs(names: list[str], cells: list[list[str]]):
    """Consecutive rows of the same outcome, as (outcome, rows)."""
    out = []
    for name, row in zip(names, cells):
        if out and out[-1][0] == name:
            out[-1][1].append(row)
        else:
            out.append((name, [row]))
    return out


def text_width(s: str) -> int:
    """Columns a string takes in a terminal: Chinese characters take two."""
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in str(s))


def pad(s: str, width: int, left: bool) -> str:
    fill = " " * (width - text_width(s))
    return s + fill if left else fill + s


def wrap(s: str, width: int) -> list[str]:
    """Words wrapped to `width` terminal columns (Chinese, without spaces, broken anywhere)."""
    lines, line = [], ""
    for token in (s.split(" ") if " " in s and text_width(s) == len(s) else list(s)):
        sep = " " if line and text_width(s) == len(s) else ""
        if line and text_width(line + sep + token) > width:
            lines.append(line)
            line, sep = "", ""
        line += sep + token
    return lines + ([line] if line else [])

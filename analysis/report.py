"""A batch's report: self-contained HTML (figures embedded) and its Markdown twin.

    shequ report RESULTS [--baseline NAME] [--point P] [--lang en|zh] [--out DIR]

The first page is the answer: for two or more variants, one sentence per main outcome (the
KPIs and the whole-iceberg outcomes) with its paired 95 % interval, a plot of the paired
effects by class, the budget picture in one unit (10k yuan) and whether the replications are
enough. The details follow: the scenarios side by side; time series by class with 95 % bands
over replications (when daily tables were kept); distributions across communities; the budget
by class; escalation by level; the full paired comparison; and, for an experiment with the
stylised-facts variants, each fact's direction and size.

The replication is the unit of every interval (a share's interval is made on the logit scale,
so it stays inside 0-100 %). Sweep points are never pooled: a sweep's points are different
models. A sweep over one parameter is drawn as lines with bands over the parameter, over two
as surfaces (and the effect against the baseline variant), over more as sensitivity indices
(Morris or Sobol designs) or the outcome against each parameter (analysis/sweeps.py); `--point P`
reports one sweep point in full. Reads the result store only.
"""

import base64
import functools
import html
import io
import warnings
from dataclasses import dataclass, field
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
from scipy import special, stats  # noqa: E402

from analysis import facts  # noqa: E402
from analysis.compare import adequacy, compare, read_summary  # noqa: E402
from analysis.stats import EDGE, mean_interval  # noqa: E402
from sim import labels  # noqa: E402
from sim.errors import InputError  # noqa: E402
from sim.figures import CLASS_COLOURS, rolling_rate  # noqa: E402
from sim.metrics import RATES  # noqa: E402

# key: (English, Chinese). The outcomes' own labels and units come from sim/labels.py.
WORDS = {
    "title": ("Shequ report: {name}", "社区治理仿真报告：{name}"),
    "points": (" x {points} sweep points", " × {points} 个参数点"),
    "intro": ("{runs} runs: {variants} variants{points} x {reps} replications, "
              "scale 1:{inv:,}, {days} days reported after the warm-up. Values are means over "
              "replications; intervals are 95 % intervals over replications (for shares on the "
              "logit scale, so that they stay within 0-100 %); comparisons pair replications "
              "that share a seed.",
              "共 {runs} 次运行：{variants} 个方案{points} × {reps} 次重复，比例 1:{inv:,}，"
              "预热后统计 {days} 天。数值为各次重复的平均值；区间为各次重复之间的 95% 区间（比例在 logit "
              "尺度上计算，因此不超出 0–100%）；比较按相同随机种子配对。"),
    "sweep_intro": ("Each sweep point is a different model, so points are never pooled: the "
                    "outcomes are shown over the swept parameters. `shequ report --point P` "
                    "reports one point in full.",
                    "每个参数点都是不同的模型，因此不合并各点：结果按扫描参数展示。"
                    "`shequ report --point P` 可完整报告单个参数点。"),
    "answer": ("The answer: {variants} against {baseline}, over {days} days",
               "结论：{variants} 对比 {baseline}（{days} 天）"),
    "rises": ("rises", "提高"), "falls": ("falls", "降低"),
    "sentence": ("{variant}: {outcome} {verb} by {size} {unit} [{low}, {high}] city-wide against "
                 "{baseline}{most} — {judgement}.",
                 "{variant}：{outcome}全市{verb} {size} {unit} [{low}, {high}]（对比 {baseline}）"
                 "{most}——{judgement}。"),
    "most": (", most in class {cls} ({size})", "，{cls} 类变化最大（{size}）"),
    "no_change": ("{variant}: no clear difference in {outcome} city-wide against {baseline}: "
                  "{size} {unit} [{low}, {high}].",
                  "{variant}：{outcome}全市与 {baseline} 无明显差别：{size} {unit} [{low}, {high}]。"),
    "better": ("better", "改善"), "worse": ("worse", "变差"), "neither": ("neither better nor "
                                                                     "worse in itself", "本身无好坏"),
    "effects": ("Paired effects by class (95 % intervals), {variant} − {baseline}",
                "按类别的配对效应（95% 区间），{variant} − {baseline}"),
    "adequate": ("With {n} paired replications, {k} of the {m} effects above (the main outcomes by "
                 "class) are resolved: their 95 % interval excludes zero.{rest}",
                 "共 {n} 次配对重复：上图 {m} 个效应（主要指标 × 类别）中有 {k} 个已可分辨（95% 区间不含 0）。{rest}"),
    "adequate_rest": (" {k} would need up to about {most} replications (at the difference and "
                      "spread seen).", "{k} 个最多约需 {most} 次重复（按目前的差值与离散程度）。"),
    "adequate_identical": (" {k} show no difference at all.", "{k} 个完全没有差别。"),
    "adequate_small": (" {k} differ too little for any feasible number of replications.",
                       "{k} 个差别太小，任何可行的重复次数都无法分辨。"),
    "adequate_few": (" {k} have fewer than two pairs: too few replications to say.",
                     "{k} 个配对少于两对：重复次数太少，无法判断。"),
    "budget_line": ("The budget, city-wide, over {days} days (10k yuan; means over "
                    "replications):", "全市经费（万元，{days} 天，各次重复的平均值）："),
    "side_by_side": ("Scenarios side by side, over {days} days", "各方案并列比较（{days} 天）"),
    "series": ("Over the {days} days, by class", "{days} 天内的变化（分类别）"),
    "no_daily": ("The experiment kept no daily tables (keep = [\"daily\"] to see time series).",
                 "本实验未保存逐日数据（在实验文件中加入 keep = [\"daily\"] 可查看时间序列）。"),
    "distribution": ("Across communities", "社区之间的差异"),
    "no_communities": ("The experiment kept no communities tables (keep = [\"communities\"]).",
                       "本实验未保存社区数据（在实验文件中加入 keep = [\"communities\"]）。"),
    "budget": ("The budget picture by class: not enough, or can't spend it all",
               "各类经费状况：不够用，还是花不完"),
    "escalation": ("Escalation by level", "逐级上报"),
    "comparison": ("Paired comparison against {baseline}, every outcome",
                   "与 {baseline} 的配对比较（全部指标）"),
    "facts": ("Stylised facts (SEED-FACTS §7)", "典型事实（SEED-FACTS §7）"),
    "sweep_line": ("Over {parameter}", "随 {parameter} 的变化"),
    "sweep_surface": ("Over {x} and {y}", "随 {x} 与 {y} 的变化"),
    "sweep_many": ("Over the {k} swept parameters", "随 {k} 个扫描参数的变化"),
    "sweep_sensitivity": ("Sensitivity indices of the city's outcomes ({design}); "
                          "`shequ sensitivity` gives them for any class.",
                          "全市结果的敏感性指数（{design}）；`shequ sensitivity` 可给出任一类别的指数。"),
    "sweep_projection": ("The city's outcome at each point against each swept parameter (every "
                         "other parameter varies too).",
                         "各参数点的全市结果与每个扫描参数的关系（其他参数同时在变化）。"),
    "kpi_tag": ("KPI, of reported cases", "考核指标，已受理诉求"),
    "iceberg_tag": ("every grievance, silent ones too", "全部诉求，包括未反映的"),
    "effect_of": ("{variant} − {baseline}", "{variant} − {baseline}"),
    "variant": ("variant", "方案"), "class": ("class", "类别"), "day": ("day", "天"),
    "point": ("point", "参数点"), "replications": ("replications", "重复次数"),
    "funds_left": ("funds left (10k yuan)", "剩余经费（万元）"),
    "per_community": ("10k yuan per community over the period", "每个社区（万元）"),
    "community_resolution": ("resolution rate of each community (%)", "各社区解决率（%）"),
    "share_escalated": ("share of reported grievances escalated to the level or higher (%)",
                        "已反映诉求中上报至该级或更高级的比例（%）"),
    "outcome": ("outcome", "指标"), "difference": ("difference", "差值"),
    "ci": ("95 % interval", "95% 区间"), "effect": ("effect size", "效应量"),
    "enough": ("replications", "重复次数"), "n": ("pairs", "配对数"),
    "fact": ("fact", "事实"), "holds": ("holds", "成立"), "measured": ("measured", "测量"),
    "yes": ("yes", "是"), "no": ("no", "否"), "city": ("city", "全市"),
}


word = functools.partial(labels.phrase, WORDS)


def titled(name: str, lang: str, difference: bool = False) -> str:
    return labels.titled(name, lang, difference)


@dataclass
class Section:
    """A titled part of the report: paragraphs (str), tables (DataFrame) and figures ((name, PNG
    bytes)), in the order they were added; `text`, `tables` and `figures` at construction come
    first, in that order."""

    title: str
    text: str = ""
    tables: list[pd.DataFrame] = field(default_factory=list)
    figures: list[tuple[str, bytes]] = field(default_factory=list)
    blocks: list = field(default_factory=list)

    def __post_init__(self):
        self.blocks = [*([self.text] if self.text else []), *self.tables, *self.figures,
                       *self.blocks]

    def add(self, *items) -> "Section":
        self.blocks.extend(items)
        return self


# ---- reading --------------------------------------------------------------------------------
def read_tables(folder: Path) -> dict[str, pd.DataFrame]:
    from sim.batch import read

    tables = {"summary": read_summary(folder)}
    for name in ("communities", "daily"):
        tables[name] = read(folder, name)
    return tables


def interval_text(name: str, values) -> str:
    """'97.3 [97.1, 97.5]' in the outcome's display unit: the mean over replications and its
    95 % interval (a share's on the logit scale)."""
    mean, low, high = mean_interval(values, labels.bounded(name))
    if np.isnan(low):
        return labels.shown(name, mean)
    return f"{labels.shown(name, mean)} [{labels.shown(name, low)}, {labels.shown(name, high)}]"


def band(table: pd.DataFrame, bounded: bool) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Mean and 95 % interval over the columns (replications) of each row (day), as
    `mean_interval`, vectorised: on the logit scale for a share."""
    with warnings.catch_warnings():  # rows of fewer than two replications: NaN, said below
        warnings.simplefilter("ignore", RuntimeWarning)
        return _band(table.to_numpy(float), bounded)


def _band(v: np.ndarray, bounded: bool) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    n = np.sum(~np.isnan(v), axis=1)
    mean = np.nanmean(v, axis=1) if v.size else np.full(len(v), np.nan)
    t = stats.t.ppf(0.975, np.maximum(n - 1, 1))
    if bounded:
        z = special.logit(np.clip(v, EDGE, 1 - EDGE))
        centre, half = np.nanmean(z, axis=1), t * np.nanstd(z, axis=1, ddof=1) / np.sqrt(n)
        low = np.minimum(special.expit(centre - half), mean)
        high = np.maximum(special.expit(centre + half), mean)
    else:
        half = t * np.nanstd(v, axis=1, ddof=1) / np.sqrt(n)
        low, high = mean - half, mean + half
    few, flat = n < 2, np.nanmax(v, axis=1, initial=-np.inf) == np.nanmin(v, axis=1, initial=np.inf)
    low, high = np.where(flat, mean, low), np.where(flat, mean, high)
    return mean, np.where(few, np.nan, low), np.where(few, np.nan, high)


# ---- the answer -----------------------------------------------------------------------------
def answer(summary: pd.DataFrame, baseline: str, lang: str, days: int) -> Section:
    """The first page: a sentence per main outcome and variant, the paired effects by class, the
    budget in one unit and whether the replications are enough."""
    variants = [v for v in dict.fromkeys(summary["variant"]) if v != baseline]
    table = compare(summary, baseline, variants, list(labels.MAIN))
    section = Section(word("answer", lang, variants=", ".join(variants), baseline=baseline,
                           days=days))
    for variant in variants:
        part = table[table["variant"] == variant]
        section.add(*[sentence(part[part["outcome"] == o], lang) for o in labels.MAIN])
        section.add((f"effects-{safe(variant)}", effects_figure(part, lang)),
                    adequacy_line(part, lang))
    return section.add(word("budget_line", lang, days=days), budget_table(summary, lang))


def sentence(rows: pd.DataFrame, lang: str) -> str:
    """One outcome's city-wide effect in words, with the class that moved most."""
    city = rows[rows["class"] == "city"].iloc[0]
    name = city["outcome"]
    o = labels.OUTCOMES[name]
    values = dict(variant=city["variant"], baseline=city["baseline"],
                  outcome=labels.label(name, lang),
                  unit=labels.unit(name, lang, difference=True),
                  size=labels.shown(name, abs(city["difference"])),
                  low=labels.shown(name, city["ci_low"], signed=True),
                  high=labels.shown(name, city["ci_high"], signed=True))
    if not city["ci_low"] > 0 and not city["ci_high"] < 0:
        values["size"] = labels.shown(name, city["difference"], signed=True)
        return word("no_change", lang, **values)
    sign = np.sign(city["difference"])
    classes = rows[(rows["class"] != "city") & (np.sign(rows["difference"]) == sign)
                   & ((rows["ci_low"] > 0) | (rows["ci_high"] < 0))]
    most = ""
    if len(classes):
        top = classes.loc[classes["difference"].abs().idxmax()]
        most = word("most", lang, cls=top["class"],
                    size=labels.shown(name, top["difference"], signed=True))
    judgement = ("neither" if o.better == 0 else
                 "better" if o.better * sign > 0 else "worse")
    return word("sentence", lang, verb=word("rises" if sign > 0 else "falls", lang), most=most,
                judgement=word(judgement, lang), **values)


def effects_figure(table: pd.DataFrame, lang: str) -> bytes:
    """The main outcomes' paired effects by class with their 95 % intervals: the KPIs in the top
    row, the whole-iceberg outcomes in the bottom one."""
    fig, axes = plt.subplots(2, 3, figsize=(11, 6.2))
    classes = list(dict.fromkeys(table["class"]))
    for ax, name in zip(axes.flat, labels.MAIN):
        part = table[table["outcome"] == name].set_index("class").reindex(classes)
        f = labels.factor(name)
        x = np.arange(len(classes))
        y = part["difference"].to_numpy(float) * f
        err = np.vstack([y - part["ci_low"].to_numpy(float) * f,
                         part["ci_high"].to_numpy(float) * f - y])
        colours = [CLASS_COLOURS.get(c, "#666") for c in classes]
        ax.axhline(0, color="#888", lw=0.8)
        for i in range(len(classes)):
            ax.errorbar(x[i], y[i], yerr=err[:, i:i + 1], fmt="o", color=colours[i], capsize=4,
                        ms=6 if classes[i] == "city" else 5)
        ax.set_xticks(x, [label_class(c, lang) for c in classes])
        tag = word("kpi_tag" if labels.OUTCOMES[name].group == "kpi" else "iceberg_tag", lang)
        ax.set_title(f"{labels.label(name, lang)}\n({tag})", fontsize=9)
        ax.set_ylabel(labels.unit(name, lang, difference=True), fontsize=8)
        ax.grid(alpha=0.3, axis="y")
    variant, baseline = table["variant"].iloc[0], table["baseline"].iloc[0]
    fig.suptitle(word("effects", lang, variant=variant, baseline=baseline), fontsize=10)
    return png(fig)


def adequacy_line(table: pd.DataFrame, lang: str) -> str:
    """Whether the replications are enough: how many effects are resolved, how many more
    replications the others would need, which show no difference at all and which have too few
    pairs to say."""
    enough = table["enough"]
    few = ~enough & (table["n"] < 2)
    identical = ~enough & ~few & (table["difference"] == 0) & ~(table["sd"] > 0)
    needed = ~enough & ~few & ~identical & table["more_needed"].notna()
    rest = ""
    if needed.any():
        most = (table.loc[needed, "n"] + table.loc[needed, "more_needed"]).max()
        rest += word("adequate_rest", lang, k=int(needed.sum()), most=f"{int(most):,}")
    small = ~enough & ~few & ~identical & ~needed  # a difference too small to resolve
    for mask, key in ((identical, "adequate_identical"), (small, "adequate_small"),
                      (few, "adequate_few")):
        if mask.any():
            rest += word(key, lang, k=int(mask.sum()))
    return word("adequate", lang, n=int(table["n"].max()), k=int(enough.sum()), m=len(table),
                rest=rest)


BUDGET = ("funds_allocated", "cum_spent", "unspent", "cum_shortfall", "communities_short",
          "communities_underspent")


def budget_table(summary: pd.DataFrame, lang: str) -> pd.DataFrame:
    """City-wide money by variant, amounts in 10k yuan: allocated, spent, unspent, shortfall, and
    the communities short of money or leaving much unspent."""
    city = summary[summary["class"] == "city"]
    rows = []
    for variant, part in city.groupby("variant", sort=False):
        row = {word("variant", lang): variant}
        for name in (n for n in BUDGET if n in part.columns):
            row[titled(name, lang)] = labels.shown(name, part[name].mean())
        rows.append(row)
    return pd.DataFrame(rows)


def safe(name: str) -> str:
    return "".join(c if c.isalnum() or c in "-_" else "-" for c in name)


# ---- the details ----------------------------------------------------------------------------
SIDE_BY_SIDE = ["response_rate", "resolution_rate", "satisfaction_rate", "resolved_share",
                "unvoiced_share", "mean_satisfaction", "days_to_resolution_p90",
                "communities_short", "communities_underspent"]


def side_by_side(summary: pd.DataFrame, lang: str, days: int) -> Section:
    rows = []
    for (variant, cls), part in summary.groupby(["variant", "class"], sort=False):
        row = {word("variant", lang): variant, word("class", lang): label_class(cls, lang)}
        for name in SIDE_BY_SIDE:
            row[titled(name, lang)] = interval_text(name, part[name])
        rows.append(row)
    return Section(word("side_by_side", lang, days=days), tables=[pd.DataFrame(rows)])


def series(daily: pd.DataFrame, lang: str, days: int) -> Section:
    section = Section(word("series", lang, days=days))
    if daily is None or daily.empty:
        section.add(word("no_daily", lang))
        return section
    variants = list(dict.fromkeys(daily["variant"]))
    panels = ["resolution_rate", "response_rate", "mean_satisfaction", "funds_left"]
    fig, axes = plt.subplots(len(panels), len(variants), figsize=(4.2 * len(variants), 10),
                             sharex=True, sharey="row", squeeze=False)
    for j, variant in enumerate(variants):
        part = daily[daily["variant"] == variant]
        for cls, by_class in part.groupby("class", sort=False):
            per_run = rolling(by_class)
            for i, panel in enumerate(panels):
                table = per_run.pivot(index="day", columns="run_id", values=panel)
                f = 1 if panel == "funds_left" else 100
                mean, low, high = band(table, bounded=panel != "funds_left")
                ax = axes[i, j]
                colour = CLASS_COLOURS.get(cls)
                ax.plot(table.index, mean * f, color=colour, lw=2 if cls == "city" else 1.2,
                        label=label_class(cls, lang))
                ax.fill_between(table.index, low * f, high * f, color=colour, alpha=0.2, lw=0)
        axes[0, j].set_title(variant)
        axes[-1, j].set_xlabel(word("day", lang))
    for i, panel in enumerate(panels):
        axes[i, 0].set_ylabel(word(panel, lang) if panel in WORDS else
                              titled(panel, lang) + (" 30 d" if panel.endswith("_rate") else ""))
    for ax in axes.flat:
        ax.grid(alpha=0.3)
    axes[0, 0].legend(fontsize=8, title=word("class", lang))
    section.add(("series", png(fig)))
    return section


def rolling(by_class: pd.DataFrame, window: int = 30) -> pd.DataFrame:
    """Per run: rates over the last 30 days, mean satisfaction, funds left in 10k yuan."""
    out = []
    for run, part in by_class.groupby("run_id", sort=False):
        part = part.sort_values("day")
        frame = pd.DataFrame({"day": part["day"].to_numpy(), "run_id": run})
        for name in RATES:
            num, den = rolling_rate(part, name, window)
            frame[name] = (num / den).to_numpy()
        frame["mean_satisfaction"] = part["mean_satisfaction"].to_numpy()
        frame["funds_left"] = part["budget_left"].to_numpy() / 1e4
        out.append(frame)
    return pd.concat(out)


def distribution(communities: pd.DataFrame, lang: str) -> Section:
    section = Section(word("distribution", lang))
    if communities is None or communities.empty:
        section.add(word("no_communities", lang))
        return section
    variants = list(dict.fromkeys(communities["variant"]))
    classes = sorted(set(communities["class"]))
    fig, ax = plt.subplots(figsize=(max(6, 1.6 * len(classes) * len(variants)), 4))
    positions, data, colours = [], [], []
    for i, cls in enumerate(classes):
        for j, variant in enumerate(variants):
            part = communities[(communities["class"] == cls) & (communities["variant"] == variant)]
            data.append(part["resolution_rate"].dropna().to_numpy() * 100)
            positions.append(i * (len(variants) + 1) + j)
            colours.append(plt.cm.tab10(j))
    boxes = ax.boxplot(data, positions=positions, widths=0.8, patch_artist=True, showfliers=False)
    for patch, colour in zip(boxes["boxes"], colours):
        patch.set_facecolor(colour)
        patch.set_alpha(0.6)
    ax.set_xticks([i * (len(variants) + 1) + (len(variants) - 1) / 2 for i in range(len(classes))],
                  [label_class(c, lang) for c in classes])
    ax.set_ylabel(word("community_resolution", lang))
    ax.legend([boxes["boxes"][j] for j in range(len(variants))], variants, fontsize=8)
    ax.grid(alpha=0.3, axis="y")
    section.add(("communities", png(fig)))
    return section


def budget(summary: pd.DataFrame, lang: str) -> Section:
    section = Section(word("budget", lang))
    part = summary[summary["class"] != "city"].copy()
    amounts = ("cum_spent", "unspent", "cum_shortfall")
    for name in amounts:
        part[name] = part[name] / part["communities"] * labels.factor(name)
    columns = [*amounts, "communities_short", "communities_underspent"]
    means = part.groupby(["class", "variant"], sort=False)[columns].mean()

    def draw(ax, rows):
        x = np.arange(len(rows))
        ax.bar(x, rows["cum_spent"], 0.7, color="#4c72b0", label=labels.label("cum_spent", lang))
        ax.bar(x, rows["unspent"], 0.7, bottom=rows["cum_spent"], color="#dd8452",
               label=labels.label("unspent", lang))
        ax.bar(x, -rows["cum_shortfall"], 0.7, color="#c44e52",
               label=labels.label("cum_shortfall", lang))
        ax.axhline(0, color="black", lw=0.8)

    section.add(("budget", by_class_panels(means, draw, word("per_community", lang),
                                                      lang)))
    table = means.reset_index()
    table["class"] = table["class"].map(lambda c: label_class(c, lang))
    for name in columns:
        table[name] = table[name].map(lambda v: f"{v:,.1f}")
    table.columns = [word("class", lang), word("variant", lang),
                     *[f"{labels.label(n, lang)} ({word('per_community', lang)})"
                       for n in amounts],
                     *[titled(n, lang) for n in columns[3:]]]
    section.add(table)
    return section


def escalation(summary: pd.DataFrame, lang: str) -> Section:
    section = Section(word("escalation", lang))
    cols = ["escalation_share_grassroots", "escalation_share_co_building",
            "escalation_share_departments"]
    means = summary.groupby(["class", "variant"], sort=False)[cols].mean() * 100

    def draw(ax, rows):
        x = np.arange(len(rows))
        for k, col in enumerate(cols):
            ax.bar(x + (k - 1) * 0.25, rows[col], 0.25, label=labels.label(col, lang, short=True))

    section.add(("escalation", by_class_panels(means, draw, word("share_escalated", lang),
                                                          lang)))
    return section


def by_class_panels(means: pd.DataFrame, draw, ylabel: str, lang: str) -> bytes:
    """One panel a class, the variants side by side in each: means indexed by (class, variant)."""
    classes = list(dict.fromkeys(means.index.get_level_values("class")))
    variants = list(dict.fromkeys(means.index.get_level_values("variant")))
    fig, axes = plt.subplots(1, len(classes), figsize=(2.2 + 1.1 * len(classes) * len(variants), 4),
                             sharey=True, squeeze=False)
    for ax, cls in zip(axes[0], classes):
        rows = means.xs(cls, level="class").reindex(variants)
        draw(ax, rows)
        ax.set_title(label_class(cls, lang))
        ax.set_xticks(np.arange(len(variants)), variants, rotation=35, ha="right", fontsize=7)
        ax.grid(alpha=0.3, axis="y")
    axes[0, 0].set_ylabel(ylabel)
    axes[0, -1].legend(fontsize=7)
    return png(fig)


def comparison(summary: pd.DataFrame, baseline: str, lang: str) -> Section | None:
    if summary["variant"].nunique() < 2:
        return None
    table = compare(summary, baseline)
    rows = []
    for _, r in table.iterrows():
        name = r["outcome"]
        rows.append({
            word("variant", lang): r["variant"], word("class", lang): label_class(r["class"], lang),
            word("outcome", lang): titled(name, lang, difference=True), word("n", lang): r["n"],
            word("difference", lang): labels.shown(name, r["difference"], signed=True),
            word("ci", lang): f"[{labels.shown(name, r['ci_low'], signed=True)}, "
                              f"{labels.shown(name, r['ci_high'], signed=True)}]",
            word("effect", lang): "–" if np.isnan(r["effect_size"]) else f"{r['effect_size']:.2f}",
            word("enough", lang): adequacy(r, lang)})
    return Section(word("comparison", lang, baseline=baseline), tables=[pd.DataFrame(rows)])


def stylised_facts(summary: pd.DataFrame, lang: str) -> Section | None:
    table = facts.evaluate(summary)
    if table is None:
        return None
    shown = pd.DataFrame({
        word("fact", lang): [f"{r['fact']}. {facts.words(r, lang)[0]}"
                             for r in table.to_dict("records")],
        word("measured", lang): [facts.words(r, lang)[1] for r in table.to_dict("records")],
        word("difference", lang): [f"{d:+.4g}" for d in table["difference"]],
        word("ci", lang): [f"[{lo:.4g}, {hi:.4g}]" for lo, hi in zip(table["ci_low"],
                                                                      table["ci_high"])],
        word("n", lang): table["n"],
        word("holds", lang): table["holds"].map({True: word("yes", lang), False: word("no", lang)}),
    })
    return Section(word("facts", lang), text=labels.pick(facts.NOTE, lang), tables=[shown])


def in_order(table: pd.DataFrame, variants: list[str]) -> pd.DataFrame:
    """Rows sorted by the experiment's variant order (stable within a variant)."""
    if table is None or table.empty:
        return table
    rank = table["variant"].map({v: i for i, v in enumerate(variants)})
    return table.iloc[np.argsort(rank.to_numpy(), kind="stable")].reset_index(drop=True)


def label_class(cls: str, lang: str) -> str:
    if cls == "city":
        return word("city", lang)
    return cls if lang == "en" else f"{cls} 类"


def png(fig) -> bytes:
    buffer = io.BytesIO()
    fig.tight_layout()
    fig.savefig(buffer, format="png", dpi=110)
    plt.close(fig)
    return buffer.getvalue()


# ---- writing --------------------------------------------------------------------------------
def build(folder: Path, baseline: str | None = None, lang: str = "en",
          point: int | None = None) -> tuple[str, list[Section]]:
    import json

    record = json.loads((folder / "experiment.json").read_text())
    tables = read_tables(folder)
    if point is not None:
        points = sorted(set(tables["summary"]["point"]))
        if point not in points:
            raise InputError(f"--point {point}: expected a finished sweep point of {folder} "
                             f"({points[0]} to {points[-1]})")
        tables = {k: v if v is None or v.empty else v[v["point"] == point]
                  for k, v in tables.items()}
    # Variants in the order of the experiment file; the first is the default baseline.
    order = list(dict.fromkeys(c["variant"] for c in record["configs"].values()))
    tables = {k: in_order(v, order) for k, v in tables.items()}
    summary = tables["summary"]
    variants = list(dict.fromkeys(summary["variant"]))
    baseline = baseline or variants[0]
    if baseline not in variants:
        raise InputError(f"--baseline {baseline}: expected one of {', '.join(variants)}")
    first = next(iter(record["configs"].values()))["params"]["run"]
    days = first["days"]
    points = summary["point"].nunique()
    intro = word("intro", lang, runs=summary["run_id"].nunique(), variants=len(variants),
                 points=word("points", lang, points=points) if points > 1 else "",
                 reps=summary["replication"].nunique(),
                 inv=round(1 / first["scale"]), days=days)
    title = word("title", lang, name=record["experiment"])
    if points > 1:  # a sweep: never pooled
        from analysis.sweeps import sweep_sections

        sections = sweep_sections(folder, record, summary, baseline, lang)
        intro += "\n\n" + word("sweep_intro", lang)
    else:
        sections = [answer(summary, baseline, lang, days) if len(variants) > 1 else None,
                    side_by_side(summary, lang, days), series(tables["daily"], lang, days),
                    distribution(tables["communities"], lang), budget(summary, lang),
                    escalation(summary, lang), comparison(summary, baseline, lang),
                    stylised_facts(summary, lang)]
    return title, [Section(title, text=intro)] + [s for s in sections if s is not None]


def write(folder: Path, out, baseline: str | None = None, lang: str = "en",
          point: int | None = None) -> tuple[Path, Path]:
    """The report of a result folder into its output folder (a path, claimed here, or a claimed
    `sim.command.OutputFolder`): report.html (figures embedded), report.md and its figures/."""
    from sim.command import claimed
    from sim.viz.labels import require_fonts

    require_fonts(lang)  # Chinese needs a CJK font: found or a clear error, never boxes
    title, sections = build(folder, baseline, lang, point)
    with claimed(out, "report") as claim:
        return write_pages(claim, title, sections)


def write_pages(out, title: str, sections: list) -> tuple[Path, Path]:
    md, page = [], []
    for i, s in enumerate(sections):
        level = "#" if i == 0 else "##"
        md.append(f"{level} {s.title}\n")
        page.append(f"<h{1 if i == 0 else 2}>{html.escape(s.title)}</h{1 if i == 0 else 2}>")
        for block in s.blocks:
            if isinstance(block, str):
                for paragraph in block.split("\n\n"):
                    md.append(paragraph + "\n")
                    page.append(f"<p>{html.escape(paragraph)}</p>")
            elif isinstance(block, pd.DataFrame):
                md.append(markdown_table(block) + "\n")
                page.append(block.to_html(index=False, border=0, classes="t", na_rep=""))
            else:
                name, data = block
                out.write_bytes(f"figures/{name}.png", data)
                md.append(f"![{name}](figures/{name}.png)\n")
                encoded = base64.b64encode(data).decode()
                page.append(f'<img alt="{name}" src="data:image/png;base64,{encoded}">')
    md_path = out.write_text("report.md", "\n".join(md))
    page_path = out.write_text("report.html", HTML.format(title=html.escape(title),
                                                          body="\n".join(page)))
    return page_path, md_path


HTML = """<!doctype html>
<html><head><meta charset="utf-8"><title>{title}</title>
<style>
body {{ font-family: "Noto Sans", "Noto Sans CJK SC", sans-serif; max-width: 1100px; margin: 2em auto;
       color: #222; line-height: 1.45; }}
table.t {{ border-collapse: collapse; font-size: 0.85em; margin: 1em 0; }}
table.t th, table.t td {{ padding: 0.25em 0.6em; border-bottom: 1px solid #ddd; text-align: right; }}
table.t th {{ background: #f3f3f3; }}
img {{ max-width: 100%; margin: 1em 0; }}
@media print {{ img {{ page-break-inside: avoid; }} }}
</style></head>
<body>
{body}
</body></html>
"""


def markdown_table(table: pd.DataFrame) -> str:
    head = "| " + " | ".join(str(c) for c in table.columns) + " |"
    rule = "|" + "|".join("---" for _ in table.columns) + "|"
    rows = ["| " + " | ".join("" if pd.isna(v) else str(v) for v in row) + " |"
            for row in table.itertuples(index=False)]
    return "\n".join([head, rule, *rows])




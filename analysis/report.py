"""A batch's report: self-contained HTML (figures embedded) and its Markdown twin.

    shequ report RESULTS [--baseline NAME] [--lang en|zh] [--out DIR]

Sections: the scenarios side by side; time series by class with 95 % bands over replications
(when daily tables were kept); distributions across communities; the budget picture ("not
enough" against "can't spend it all"); escalation by level; the paired comparison; and, for an
experiment with the stylised-facts variants, each fact's direction and size. Reads the result
store only.
"""

import base64
import html
import io
from dataclasses import dataclass, field
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
from scipy import stats  # noqa: E402

from analysis import facts  # noqa: E402
from analysis.compare import compare, read_summary  # noqa: E402
from sim.errors import InputError  # noqa: E402
from sim.figures import CLASS_COLOURS, rolling_rate  # noqa: E402
from sim.metrics import RATES  # noqa: E402

# key: (English, Chinese)
WORDS = {
    "title": ("Shequ report: {name}", "社区治理仿真报告：{name}"),
    "intro": ("{runs} runs: {variants} variants x {points} sweep points x {reps} replications, "
              "scale 1:{inv:,}, {days} days. Means over replications; intervals are 95 % "
              "Student-t intervals; comparisons pair replications that share a seed.",
              "共 {runs} 次运行：{variants} 个方案 × {points} 个参数点 × {reps} 次重复，比例 1:{inv:,}，"
              "{days} 天。数值为各次重复的平均值；区间为 95% t 置信区间；比较按相同随机种子配对。"),
    "side_by_side": ("Scenarios side by side", "各方案并列比较"),
    "series": ("Over the year, by class", "全年变化（分类别）"),
    "no_daily": ("The experiment kept no daily tables (keep = [\"daily\"] to see time series).",
                 "本实验未保存逐日数据（在实验文件中加入 keep = [\"daily\"] 可查看时间序列）。"),
    "distribution": ("Across communities", "社区之间的差异"),
    "no_communities": ("The experiment kept no communities tables (keep = [\"communities\"]).",
                       "本实验未保存社区数据（在实验文件中加入 keep = [\"communities\"]）。"),
    "budget": ("The budget picture: not enough, or can't spend it all",
               "经费状况：不够用，还是花不完"),
    "escalation": ("Escalation by level", "逐级上报"),
    "comparison": ("Paired comparison against {baseline}", "与 {baseline} 的配对比较"),
    "facts": ("Stylised facts (SEED-FACTS §7)", "典型事实（SEED-FACTS §7）"),
    "variant": ("variant", "方案"), "class": ("class", "类别"), "day": ("day", "天"),
    "response_rate": ("KPI: response in time", "指标：及时响应率"),
    "resolution_rate": ("KPI: resolution", "指标：解决率"),
    "satisfaction_rate": ("KPI: satisfied at return visit", "指标：回访满意率"),
    "resolved_share": ("resolved, of all that arose", "全部诉求中已解决的比例"),
    "unvoiced_share": ("never voiced or found", "从未反映或被发现的比例"),
    "mean_satisfaction": ("mean satisfaction", "平均满意度"),
    "mean_trust": ("mean trust", "平均信任度"),
    "days_to_resolution_p90": ("days to resolution, p90", "办结天数（90% 分位）"),
    "days_to_resolution_median": ("days to resolution, median", "办结天数（中位数）"),
    "cum_shortfall": ("shortfall (yuan)", "经费缺口（元）"),
    "cost_per_resolved": ("cost per resolved case (yuan)", "每件办结诉求的费用（元）"),
    "funds_left": ("funds left (10k yuan)", "剩余经费（万元）"),
    "spent": ("spent", "已支出"), "unspent": ("unspent", "未花完"),
    "shortfall": ("shortfall", "缺口"),
    "per_community": ("10k yuan per community a year", "每个社区每年（万元）"),
    "communities_short": ("communities short", "经费不足的社区"),
    "communities_underspent": ("communities > 20 % unspent", "结余超过 20% 的社区"),
    "community_resolution": ("resolution rate of each community", "各社区解决率"),
    "share_escalated": ("share of reported grievances escalated to the level or higher",
                        "已反映诉求中上报至该级或更高级的比例"),
    "level_grassroots": ("to grassroots", "至基层组织"),
    "level_co_building": ("to co-building units", "至共建单位"),
    "level_departments": ("to departments", "至职能部门"),
    "outcome": ("outcome", "指标"), "difference": ("difference", "差值"),
    "ci": ("95 % interval", "95% 区间"), "effect": ("effect size", "效应量"),
    "enough": ("enough replications", "重复次数足够"), "more": ("more needed", "还需"),
    "n": ("pairs", "配对数"), "baseline": ("baseline", "基准"),
    "fact": ("fact", "事实"), "holds": ("holds", "成立"), "measured": ("measured", "测量"),
    "yes": ("yes", "是"), "no": ("no", "否"), "city": ("city", "全市"),
}


def word(key: str, lang: str, **values) -> str:
    text = WORDS[key][0 if lang == "en" else 1]
    return text.format(**values) if values else text


@dataclass
class Section:
    title: str
    text: str = ""
    tables: list[pd.DataFrame] = field(default_factory=list)
    figures: list[tuple[str, bytes]] = field(default_factory=list)  # (name, PNG bytes)


# ---- reading --------------------------------------------------------------------------------
def read_tables(folder: Path) -> dict[str, pd.DataFrame]:
    from sim.batch import read

    tables = {"summary": read_summary(folder)}
    for name in ("communities", "daily"):
        tables[name] = read(folder, name)
    return tables


def mean_ci(values: pd.Series) -> tuple[float, float]:
    """Mean and the half-width of its 95 % Student-t interval."""
    v = values.dropna().to_numpy(float)
    if len(v) < 2:
        return (float(v.mean()) if len(v) else np.nan, np.nan)
    return float(v.mean()), float(stats.t.ppf(0.975, len(v) - 1) * v.std(ddof=1) / np.sqrt(len(v)))


# ---- sections -------------------------------------------------------------------------------
SIDE_BY_SIDE = ["response_rate", "resolution_rate", "satisfaction_rate", "resolved_share",
                "unvoiced_share", "mean_satisfaction", "days_to_resolution_p90",
                "communities_short", "communities_underspent"]


def side_by_side(summary: pd.DataFrame, lang: str) -> Section:
    rows = []
    for (variant, cls), part in summary.groupby(["variant", "class"], sort=False):
        row = {word("variant", lang): variant, word("class", lang): label_class(cls, lang)}
        for col in SIDE_BY_SIDE:
            mean, half = mean_ci(part[col])
            percent = col.endswith(("_rate", "_share")) or col.startswith("mean_")
            scale = 100 if percent else 1
            name = word(col, lang) if col in WORDS else col
            row[name + (" %" if percent else "")] = (f"{mean * scale:.1f} ± {half * scale:.1f}"
                                                     if not np.isnan(half) else f"{mean * scale:.1f}")
        rows.append(row)
    return Section(word("side_by_side", lang), tables=[pd.DataFrame(rows)])


def series(daily: pd.DataFrame, lang: str) -> Section:
    section = Section(word("series", lang))
    if daily is None or daily.empty:
        section.text = word("no_daily", lang)
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
                mean = table.mean(axis=1)
                half = stats.t.ppf(0.975, max(table.shape[1] - 1, 1)) * table.std(axis=1) / np.sqrt(
                    table.shape[1])
                ax = axes[i, j]
                colour = CLASS_COLOURS.get(cls)
                ax.plot(mean.index, mean, color=colour, lw=2 if cls == "city" else 1.2,
                        label=label_class(cls, lang))
                ax.fill_between(mean.index, mean - half, mean + half, color=colour, alpha=0.2,
                                lw=0)
        axes[0, j].set_title(variant)
        axes[-1, j].set_xlabel(word("day", lang))
    for i, panel in enumerate(panels):
        axes[i, 0].set_ylabel(word(panel, lang) + (" (30 d)" if panel.endswith("_rate") else ""))
    for ax in axes.flat:
        ax.grid(alpha=0.3)
    axes[0, 0].legend(fontsize=8, title=word("class", lang))
    section.figures.append(("series", png(fig)))
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
        section.text = word("no_communities", lang)
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
    ax.set_ylabel(word("community_resolution", lang) + " (%)")
    ax.legend([boxes["boxes"][j] for j in range(len(variants))], variants, fontsize=8)
    ax.grid(alpha=0.3, axis="y")
    section.figures.append(("communities", png(fig)))
    return section


def budget(summary: pd.DataFrame, lang: str) -> Section:
    section = Section(word("budget", lang))
    part = summary[summary["class"] != "city"].copy()
    for col, name in (("cum_spent", "spent"), ("unspent", "unspent"), ("cum_shortfall", "shortfall")):
        part[name] = part[col] / part["communities"] / 1e4
    columns = ["spent", "unspent", "shortfall", "communities_short", "communities_underspent"]
    means = part.groupby(["class", "variant"], sort=False)[columns].mean()

    def draw(ax, rows):
        x = np.arange(len(rows))
        ax.bar(x, rows["spent"], 0.7, color="#4c72b0", label=word("spent", lang))
        ax.bar(x, rows["unspent"], 0.7, bottom=rows["spent"], color="#dd8452",
               label=word("unspent", lang))
        ax.bar(x, -rows["shortfall"], 0.7, color="#c44e52", label=word("shortfall", lang))
        ax.axhline(0, color="black", lw=0.8)

    section.figures.append(("budget", by_class_panels(means, draw, word("per_community", lang),
                                                      lang)))
    table = means.reset_index().round(2)
    table.columns = [word(c, lang) if c in WORDS else c for c in table.columns]
    section.tables.append(table)
    return section


def escalation(summary: pd.DataFrame, lang: str) -> Section:
    section = Section(word("escalation", lang))
    levels = ["grassroots", "co_building", "departments"]
    cols = [f"escalation_share_{lv}" for lv in levels]
    means = summary.groupby(["class", "variant"], sort=False)[cols].mean()

    def draw(ax, rows):
        x, bottom = np.arange(len(rows)), np.zeros(len(rows))
        for level, col in zip(levels, cols):
            ax.bar(x, rows[col], 0.7, bottom=bottom, label=word(f"level_{level}", lang))
            bottom += rows[col].to_numpy()

    section.figures.append(("escalation", by_class_panels(means, draw, word("share_escalated", lang),
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
    shown = table[["variant", "class", "outcome", "n", "difference", "ci_low", "ci_high",
                   "effect_size", "enough", "more_needed"]].copy()
    percent = shown["outcome"].str.endswith("_rate") | shown["outcome"].str.startswith("mean_")
    for col in ("difference", "ci_low", "ci_high"):
        shown[col] = shown[col].where(~percent, shown[col] * 100)
    shown["outcome"] = [(word(o, lang) if o in WORDS else o) + (" (pp)" if p else "")
                        for o, p in zip(shown["outcome"], percent)]
    shown["ci"] = [f"[{lo:,.2f}, {hi:,.2f}]" for lo, hi in zip(shown["ci_low"], shown["ci_high"])]
    shown["difference"] = shown["difference"].map(lambda v: f"{v:,.2f}")
    shown["effect_size"] = shown["effect_size"].map(lambda v: f"{v:.2f}")
    shown["enough"] = shown["enough"].map({True: word("yes", lang), False: word("no", lang)})
    shown["class"] = shown["class"].map(lambda c: label_class(c, lang))
    shown = shown[["variant", "class", "outcome", "n", "difference", "ci", "effect_size",
                   "enough", "more_needed"]]
    shown.columns = [word(k, lang) for k in ("variant", "class", "outcome", "n", "difference",
                                            "ci", "effect", "enough", "more")]
    return Section(word("comparison", lang, baseline=baseline), tables=[shown])


def stylised_facts(summary: pd.DataFrame, lang: str) -> Section | None:
    table = facts.evaluate(summary)
    if table is None:
        return None
    shown = pd.DataFrame({
        word("fact", lang): table["fact"] + ". " + table["statement"],
        word("measured", lang): table["measure"],
        word("difference", lang): [f"{d:+.4g}" for d in table["difference"]],
        word("ci", lang): [f"[{lo:.4g}, {hi:.4g}]" for lo, hi in zip(table["ci_low"],
                                                                      table["ci_high"])],
        word("n", lang): table["n"],
        word("holds", lang): table["holds"].map({True: word("yes", lang), False: word("no", lang)}),
    })
    return Section(word("facts", lang), text=facts.NOTE, tables=[shown])


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
def build(folder: Path, baseline: str | None = None, lang: str = "en") -> tuple[str, list[Section]]:
    import json

    record = json.loads((folder / "experiment.json").read_text())
    tables = read_tables(folder)
    # Variants in the order of the experiment file; the first is the default baseline.
    order = list(dict.fromkeys(c["variant"] for c in record["configs"].values()))
    tables = {k: in_order(v, order) for k, v in tables.items()}
    summary = tables["summary"]
    variants = list(dict.fromkeys(summary["variant"]))
    baseline = baseline or variants[0]
    if baseline not in variants:
        raise InputError(f"--baseline {baseline}: expected one of {', '.join(variants)}")
    first = next(iter(record["configs"].values()))["params"]["run"]
    intro = word("intro", lang, runs=summary["run_id"].nunique(), variants=len(variants),
                 points=summary["point"].nunique(), reps=summary["replication"].nunique(),
                 inv=round(1 / first["scale"]), days=first["days"])
    sections = [side_by_side(summary, lang), series(tables["daily"], lang),
                distribution(tables["communities"], lang), budget(summary, lang),
                escalation(summary, lang), comparison(summary, baseline, lang),
                stylised_facts(summary, lang)]
    title = word("title", lang, name=record["experiment"])
    return title, [Section(title, text=intro)] + [s for s in sections if s is not None]


def write(folder: Path, out, baseline: str | None = None, lang: str = "en") -> tuple[Path, Path]:
    """The report of a result folder into its output folder (a path, claimed here, or a claimed
    `sim.command.OutputFolder`): report.html (figures embedded), report.md and its figures/."""
    from sim.command import claimed

    setup_language(lang)
    title, sections = build(folder, baseline, lang)
    with claimed(out, "report") as claim:
        return write_pages(claim, title, sections)


def write_pages(out, title: str, sections: list) -> tuple[Path, Path]:
    md, page = [], []
    for i, s in enumerate(sections):
        level = "#" if i == 0 else "##"
        md.append(f"{level} {s.title}\n")
        page.append(f"<h{1 if i == 0 else 2}>{html.escape(s.title)}</h{1 if i == 0 else 2}>")
        if s.text:
            md.append(s.text + "\n")
            page.append(f"<p>{html.escape(s.text)}</p>")
        for table in s.tables:
            md.append(markdown_table(table) + "\n")
            page.append(table.to_html(index=False, border=0, classes="t", na_rep=""))
        for name, data in s.figures:
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


def setup_language(lang: str) -> None:
    """Chinese needs a CJK font: found or a clear error, never boxes."""
    from sim.viz.labels import setup_fonts

    family = setup_fonts("en")
    if lang == "zh" and not family:
        raise InputError("--lang zh: expected a CJK font for Chinese labels, found none "
                         "(install one, e.g. Debian's fonts-noto-cjk)")

"""Static figures of a run (matplotlib, headless)."""

from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import pandas as pd  # noqa: E402

CLASS_COLOURS = {"A": "#1b9e77", "B": "#d95f02", "C": "#7570b3", "D": "#e7298a",
                 "none": "#666666", "city": "#000000"}


SUMMARY_PANELS = {  # (en, zh)
    "resolution_rate": ("resolution rate (30-day)", "解决率（30 天滚动）"),
    "response_rate": ("response rate (30-day)", "响应率（30 天滚动）"),
    "mean_satisfaction": ("mean satisfaction", "平均满意度"),
    "budget_left": ("funds left (10k yuan)", "剩余经费（万元）"),
    "day": ("day", "天"), "class": ("class", "类别"), "city": ("city", "全市"),
}


def summary_figure(daily: pd.DataFrame, path: Path, title: str = "", lang: str = "en") -> Path:
    """Four panels by class: resolution and response (30-day rolling), mean satisfaction,
    funds left; labels in `lang` (en, zh: a CJK font must be set up, sim.viz.labels)."""
    from sim.labels import pick

    word = {k: pick(v, lang) for k, v in SUMMARY_PANELS.items()}
    fig, axes = plt.subplots(2, 2, figsize=(11, 7), sharex=True)
    panels = [(c, word[c]) for c in ("resolution_rate", "response_rate", "mean_satisfaction",
                                      "budget_left")]
    for ax, (column, label) in zip(axes.flat, panels):
        for cls, part in daily.groupby("class", sort=False):
            y = part.set_index("day")
            if column.endswith("_rate"):
                num, den = rolling_rate(y, column)
                series = num / den
            elif column == "budget_left":
                series = y[column] / 1e4
            else:
                series = y[column]
            name = word["city"] if cls == "city" else cls
            ax.plot(series.index, series.values, label=name, color=CLASS_COLOURS.get(cls),
                    lw=2 if cls == "city" else 1.2)
        ax.set_title(label)
        ax.grid(alpha=0.3)
    for ax in axes[1]:
        ax.set_xlabel(word["day"])
    axes[0, 0].legend(title=word["class"], fontsize=8)
    fig.suptitle(title)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return Path(path)


def rolling_rate(y: pd.DataFrame, column: str, window: int = 30):
    from sim.metrics import RATES

    num, den = RATES[column]
    roll = lambda c: y["new_" + c].rolling(window, min_periods=1).sum()  # noqa: E731
    return roll(num), sum(roll(c) for c in den).where(lambda d: d > 0)

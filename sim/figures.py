"""Static figures of a run (matplotlib, headless)."""

from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import pandas as pd  # noqa: E402

CLASS_COLOURS = {"A": "#1b9e77", "B": "#d95f02", "C": "#7570b3", "D": "#e7298a",
                 "none": "#666666", "city": "#000000"}


def summary_figure(daily: pd.DataFrame, path: Path, title: str = "") -> Path:
    """Four panels by class: resolution and response (30-day rolling), mean satisfaction,
    funds left."""
    fig, axes = plt.subplots(2, 2, figsize=(11, 7), sharex=True)
    panels = [("resolution_rate", "resolution rate (30-day)"), ("response_rate", "response rate (30-day)"),
              ("mean_satisfaction", "mean satisfaction"), ("budget_left", "funds left (10k yuan)")]
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
            ax.plot(series.index, series.values, label=cls, color=CLASS_COLOURS.get(cls),
                    lw=2 if cls == "city" else 1.2)
        ax.set_title(label)
        ax.grid(alpha=0.3)
    for ax in axes[1]:
        ax.set_xlabel("day")
    axes[0, 0].legend(title="class", fontsize=8)
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

"""Rates and money by class over the run so far: response in time, resolution and satisfaction
at return visits (each over the last 30 days), and the share of the year's funds left. Read from
the model's DataCollector table `daily` (one row per day and class, and the city)."""

import numpy as np
import pandas as pd
from matplotlib.ticker import MaxNLocator, PercentFormatter

from sim.figures import CLASS_COLOURS, rolling_rate
from sim.viz.labels import text

PANELS = ("response_rate", "resolution_rate", "satisfaction_rate", "funds_left")
WINDOW = 30  # days a rate is taken over


def daily(model) -> pd.DataFrame:
    return model.datacollector.get_table_dataframe("daily")


def class_funds(model) -> dict[str, float]:
    """This year's funds of each class and the city (full-scale yuan)."""
    funds = {label: float(model.funds[model.classes == label].sum()) for label in model.class_labels}
    return funds | {"city": float(model.funds.sum())}


def series(model, table: pd.DataFrame | None = None) -> dict[str, dict[str, pd.Series]]:
    """Panel -> class -> series indexed by day."""
    table = daily(model) if table is None else table
    funds = class_funds(model)
    out: dict[str, dict[str, pd.Series]] = {p: {} for p in PANELS}
    if table.empty:
        return out
    for label, part in table.groupby("class", sort=False):
        y = part.set_index("day")
        for panel in PANELS[:3]:
            num, den = rolling_rate(y, panel, WINDOW)
            out[panel][label] = num / den
        out["funds_left"][label] = (y["budget_left"] / funds[label] if funds.get(label)
                                    else y["budget_left"] * np.nan)
    return out


def draw_plots(axes, model, lang: str = "en", table: pd.DataFrame | None = None) -> None:
    """Draw the four panels on `axes` (four matplotlib axes)."""
    data = series(model, table)
    for ax, panel in zip(axes, PANELS):
        ax.clear()
        lows = []
        for label, s in data[panel].items():
            city = label == "city"
            ax.plot(s.index, s.values, color=CLASS_COLOURS.get(label, "#666666"),
                    lw=2.0 if city else 1.3, ls="--" if city else "-",
                    label=text("city", lang) if city else label)
            if s.notna().any():
                lows.append(float(np.nanmin(s.values)))
        ax.set_title(text(panel, lang), fontsize=9)
        ax.set_xlim(0, max(model.days, 1))
        low = min(lows, default=0.0)
        ax.set_ylim(max(0.0, min(low - 0.05, 0.8)) if panel != "funds_left" else 0.0, 1.02)
        ax.yaxis.set_major_locator(MaxNLocator(nbins=5, steps=[1, 2, 5, 10]))
        ax.yaxis.set_major_formatter(PercentFormatter(1.0, decimals=0))
        ax.tick_params(labelsize=7)
        ax.grid(alpha=0.3)
    if axes[0].get_lines():
        axes[0].legend(fontsize=7, ncol=5, loc="lower left", title=None, handlelength=1.5,
                       columnspacing=0.8)
    for ax in axes[-2:]:
        ax.set_xlabel(text("day", lang), fontsize=8)

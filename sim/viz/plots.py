"""Rates and money by class over the run so far: response in time, resolution and satisfaction
at return visits (each over the last 30 days), and the share of the year's funds left; and the
numbers the app's monitors show. Read from the model's DataCollector table `daily` (one row per
day and class, and the city).

Two kinds of outcome (DESIGN §7): the KPIs count reported cases only (`KPIS`); the whole-iceberg
outcomes count every grievance, silent ones included (`ICEBERG`, shown where the model's daily
table has them), beside the residents' mean satisfaction and trust (`RESIDENTS`). Rates and
shares are taken over the last 30 days of flows (`sim.metrics.RATES`), the others are the day's.
"""

from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from matplotlib.ticker import MaxNLocator, PercentFormatter

from sim.figures import CLASS_COLOURS
from sim.metrics import RATES
from sim.viz.labels import text

PANELS = ("response_rate", "resolution_rate", "satisfaction_rate", "funds_left")
ICEBERG_PANELS = ("resolved_share", "unvoiced_share")  # drawn where the daily table has them
WINDOW = 30  # days a rate is taken over
KPIS = ("response_rate", "resolution_rate", "satisfaction_rate")  # of reported cases, 30 days
ICEBERG = ("resolved_share", "unvoiced_share", "open_per_1000")  # every grievance
RESIDENTS = ("mean_satisfaction", "mean_trust")  # the day's city mean


def daily(model) -> pd.DataFrame:
    return model.datacollector.get_table_dataframe("daily")


def class_funds(model) -> dict[str, float]:
    """This year's funds of each class and the city (full-scale yuan)."""
    funds = {label: float(model.funds[model.classes == label].sum()) for label in model.class_labels}
    return funds | {"city": float(model.funds.sum())}


@dataclass
class Frame:
    """What the plots and the monitors show of a run, read at once (in the app: with the model
    locked): the daily table, the class funds from each day they changed, the levers moved."""

    table: pd.DataFrame
    funds: list[tuple[int, dict[str, float]]]  # (first day, class -> funds), in day order
    days: int
    changes: list = field(default_factory=list)  # controls.Change
    name: str = ""


def frame(model) -> Frame:
    history = getattr(model, "fund_history", None) or [(0, class_funds(model))]
    return Frame(daily(model), list(history), int(model.days), list(getattr(model, "changes", [])),
                 getattr(model.policy, "name", ""))


def has(table: pd.DataFrame, name: str) -> bool:
    """Does the daily table give `name` (a column, or a rate of its flows)?"""
    if name in RATES:
        num, den = RATES[name]
        return all(flow(table, c) in table.columns for c in (num, *den))
    return name in table.columns


def panels(table: pd.DataFrame) -> tuple[str, ...]:
    """The panels to draw: the KPIs and funds, and the whole-iceberg shares where they exist."""
    return PANELS + tuple(p for p in ICEBERG_PANELS if has(table, p))


def funds_on(days: pd.Index, funds: list[tuple[int, dict]], label: str) -> np.ndarray:
    """Each day's funds of a class, from the days its funds changed."""
    starts = np.array([d for d, _ in funds])
    values = np.array([f.get(label, np.nan) for _, f in funds], dtype=float)
    return values[np.maximum(np.searchsorted(starts, days.to_numpy(), side="right") - 1, 0)]


def series(model, table: pd.DataFrame | None = None,
           data: Frame | None = None) -> dict[str, dict[str, pd.Series]]:
    """Panel -> class -> series indexed by day."""
    data = data or Frame(daily(model) if table is None else table, [(0, class_funds(model))],
                         int(model.days))
    table = data.table
    out: dict[str, dict[str, pd.Series]] = {p: {} for p in panels(table)}
    if table.empty:
        return out
    for label, part in table.groupby("class", sort=False):
        y = part.set_index("day")
        for panel in PANELS[:3]:
            out[panel][label] = pd.Series(window_rate(y, panel), index=y.index)
        funds = funds_on(y.index, data.funds, label)
        out["funds_left"][label] = y["budget_left"] / np.where(funds > 0, funds, np.nan)
        for panel in ICEBERG_PANELS:
            if panel in out:
                out[panel][label] = pd.Series(window_rate(y, panel), index=y.index)
    return out


def flow(table: pd.DataFrame, name: str) -> str:
    """The daily table's column of a flow: `new_resolved` (or `resolved`, as RATES named flows
    before)."""
    return name if name in table.columns else f"new_{name}"


def window_rate(y: pd.DataFrame, name: str, window: int = WINDOW) -> np.ndarray:
    """A rate over the last `window` days of each day (as `sim.figures.rolling_rate`, in numpy:
    the app redraws it several times a second)."""
    num, den = RATES[name]
    num, den = flow(y, num), [flow(y, c) for c in den]

    def rolling(values):
        total = np.cumsum(values, dtype=float)
        total[window:] -= total[:-window].copy()
        return total
    d = rolling(sum(y[c].to_numpy(float) for c in den))
    n = rolling(y[num].to_numpy(float))
    return np.divide(n, d, out=np.full(len(d), np.nan), where=d > 0)


def monitors(table: pd.DataFrame, day: int | None = None) -> dict[str, float]:
    """The city's numbers for the monitors on day index `day` (default: the last): the KPIs over
    the 30 days to it, the whole-iceberg outcomes (where the table has them) and the residents'
    means on it. NaN where nothing was due yet."""
    names = (*KPIS, *(n for n in ICEBERG if has(table, n)), *RESIDENTS)
    city = table[table["class"] == "city"].set_index("day") if len(table) else table
    if day is not None and len(city):
        city = city[city.index <= day]
    if not len(city):
        return {n: float("nan") for n in names}
    return {n: float(window_rate(city, n)[-1] if n in RATES else city[n].iloc[-1]) for n in names}


def draw_plots(axes, model, lang: str = "en", table: pd.DataFrame | None = None,
               shown: tuple[str, ...] = PANELS) -> None:
    """Draw the panels `shown` (default the four) on `axes`, one matplotlib axes each."""
    data = series(model, table)
    for ax, panel in zip(axes, shown):
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

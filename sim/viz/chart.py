"""The class panels as SVG, for the app: crisp at any size on a projector and cheap to redraw (a
few milliseconds, against a few hundred for a matplotlib picture), so that the plots follow a fast
run several times a second with every day plotted. The films and the static figures draw the same
series with matplotlib (`plots.draw_plots`).

Each panel is one small SVG (the page lays them out in one or two columns as the width allows);
the days a lever moved are marked by a numbered line, the previous run (before a Reset) is the
dotted grey city line.
"""

import html
import math

import numpy as np
import pandas as pd

from sim.figures import CLASS_COLOURS
from sim.viz import plots
from sim.viz.labels import LABELS, text

W, H = 360, 112  # one panel in SVG units (shown at about that many pixels at 1024 x 768)
LEFT, RIGHT, TOP, BOTTOM = 38, 8, 20, 18
PREVIOUS = "#9e9e9e"


def nice_step(span: float, most: int, steps: tuple[float, ...]) -> float:
    return next((s for s in steps if span / s <= most), steps[-1])


def y_range(panel: str, lines: list[pd.Series]) -> tuple[float, float]:
    """Funds left 0-100 %; shares of silent grievances from 0; rates from a little below their
    lowest value."""
    values = np.concatenate([s.to_numpy(float) for s in lines]) if lines else np.array([])
    values = values[np.isfinite(values)]
    if panel == "funds_left" or not len(values):
        return 0.0, 1.0
    if panel == "unvoiced_share":
        return 0.0, min(1.0, math.ceil((values.max() + 0.02) * 20) / 20)
    low = max(0.0, min(values.min() - 0.05, 0.8))
    return math.floor(low * 20) / 20, 1.0


def dashed(dash: str) -> str:
    return f' stroke-dasharray="{dash}"' if dash else ""


def path(x: np.ndarray, y: np.ndarray) -> str:
    """An SVG path through the points, broken where y is missing."""
    out, pen = [], "M"
    for xi, yi in zip(np.round(x, 1).tolist(), np.round(y, 1).tolist()):
        if not math.isfinite(yi):
            pen = "M"
            continue
        out.append(f"{pen}{xi},{yi}")
        pen = "L"
    return "".join(out)


def panel_svg(title: str, lines: list[tuple[pd.Series, str, float, str]], days: int,
              limits: tuple[float, float], marks: list[tuple[int, int]]) -> str:
    """One panel: `lines` are (series by day index, colour, width, dash) drawn in order;
    `marks` are (day index, number) of lever changes."""
    lo, hi = limits
    pw, ph = W - LEFT - RIGHT, H - TOP - BOTTOM
    last = max(days - 1, 1)
    sx = lambda d: LEFT + pw * np.asarray(d, float) / last  # noqa: E731
    sy = lambda v: TOP + ph * (1 - (np.asarray(v, float) - lo) / (hi - lo))  # noqa: E731
    parts = [f'<svg viewBox="0 0 {W} {H}" xmlns="http://www.w3.org/2000/svg" '
             f'class="shequ-panel" role="img" aria-label="{html.escape(title)}">',
             f'<text x="{LEFT}" y="14" font-size="12" font-weight="bold">'
             f'{html.escape(title)}</text>',
             f'<rect x="{LEFT}" y="{TOP}" width="{pw}" height="{ph}" fill="none" stroke="#bbb"/>']
    step = nice_step(hi - lo, 4, (0.02, 0.05, 0.1, 0.2, 0.25, 0.5))
    for v in np.arange(math.ceil(lo / step - 1e-9) * step, hi + 1e-9, step):
        y = float(sy(v))
        parts.append(f'<line x1="{LEFT}" x2="{LEFT + pw}" y1="{y:.1f}" y2="{y:.1f}" stroke="#eee"/>'
                     f'<text x="{LEFT - 3}" y="{y + 3.5:.1f}" font-size="10" text-anchor="end" '
                     f'fill="#555">{v:.0%}</text>')
    xstep = nice_step(last, 5, (10, 20, 50, 100, 200, 500, 1000, 2000))
    for d in range(0, last + 1, int(xstep)):
        x = float(sx(d))
        parts.append(f'<text x="{x:.1f}" y="{H - 5}" font-size="10" text-anchor="middle" '
                     f'fill="#555">{d}</text>')
    for day, number in marks:
        x = float(sx(day))
        parts.append(f'<line x1="{x:.1f}" x2="{x:.1f}" y1="{TOP}" y2="{TOP + ph}" stroke="#333" '
                     f'stroke-dasharray="4 3" class="shequ-mark" data-day="{day}"/>'
                     f'<circle cx="{x:.1f}" cy="{TOP + 7}" r="6.5" fill="#333"/>'
                     f'<text x="{x:.1f}" y="{TOP + 10.5}" font-size="9.5" fill="#fff" '
                     f'text-anchor="middle">{number}</text>')
    for s, colour, width, dash in lines:
        y = np.clip(s.to_numpy(float), lo, hi)
        d = path(sx(s.index.to_numpy()), sy(y))
        if d:
            parts.append(f'<path d="{d}" fill="none" stroke="{colour}" stroke-width="{width}" '
                         f'stroke-linejoin="round"{dashed(dash)}/>')
    parts.append("</svg>")
    return "".join(parts)


def panel_title(panel: str, lang: str) -> str:
    return text(panel, lang)


def plots_html(data: plots.Frame, previous: plots.Frame | None = None, lang: str = "en",
               before: dict | None = None) -> str:
    """The class panels of a run (and the previous run's city line), their legend and the list
    of lever changes, as HTML. `before`: the previous run's series, if already computed."""
    now = plots.series(None, data=data)
    if before is None:
        before = plots.series(None, data=previous) if previous is not None else {}
    days = max(data.days, int(data.table["day"].max()) + 1 if len(data.table) else 1)
    marks = [(c.day, k + 1) for k, c in enumerate(data.changes)]
    svgs = []
    for panel in plots.panels(data.table):
        lines = []
        old = before.get(panel, {}).get("city")
        if old is not None:
            lines.append((old, PREVIOUS, 2.2, "2 3"))
        for label, s in now[panel].items():
            city = label == "city"
            lines.append((s, CLASS_COLOURS.get(label, "#666666"), 2.0 if city else 1.3,
                          "6 3" if city else ""))
        limits = y_range(panel, [s for s, *_ in lines])
        svgs.append(panel_svg(panel_title(panel, lang), lines, days, limits, marks))
    return (f'<div class="shequ-plot-title">{html.escape(text("plots_title", lang))}</div>'
            f'{legend_html(list(now[plots.PANELS[0]]), previous, lang)}'
            f'<div class="shequ-panels">{"".join(svgs)}</div>'
            f'{marks_html(data.changes, lang)}')


def legend_html(labels: list[str], previous: plots.Frame | None, lang: str) -> str:
    def item(colour, width, dash, label):
        line = (f'<svg width="26" height="10"><line x1="1" x2="25" y1="5" y2="5" stroke="{colour}" '
                f'stroke-width="{width}"{dashed(dash)}/></svg>')
        return f'<span class="shequ-key">{line} {html.escape(label)}</span>'
    items = [item(CLASS_COLOURS.get(c, "#666"), 2.0 if c == "city" else 1.5, "6 3" if c == "city"
                  else "", text("city", lang) if c == "city" else text("class_name", lang, cls=c))
             for c in labels]
    if previous is not None:
        items.append(item(PREVIOUS, 2.2, "2 3", text("previous_run", lang, name=previous.name)))
    return f'<div class="shequ-legend-line">{"".join(items)}</div>'


def change_words(values: dict, lang: str) -> str:
    """A lever change in plain words: "grids of 1,200 households; funds A 118k, B 350k, ..."."""
    onoff = lambda v: text("on" if v else "off", lang)  # noqa: E731
    words = []
    funds = {k[-1]: v for k, v in values.items() if k.startswith("fund_")}
    if funds:
        words.append(text("chg_funds", lang, amounts=", ".join(
            f"{c} {v / 1000:,.0f}k" for c, v in sorted(funds.items()))))
    if "funding_scheme" in values:
        key = f"scheme_{values['funding_scheme']}"
        words.append(text("chg_scheme", lang, scheme=text(key, lang) if key in LABELS
                          else values["funding_scheme"]))
    if "hold_total" in values:
        words.append(text("chg_hold", lang, onoff=onoff(values["hold_total"])))
    if "households_per_grid" in values:
        words.append(text("chg_grid", lang, value=int(values["households_per_grid"])))
    if "four_party_linkage" in values:
        words.append(text("chg_linkage", lang, onoff=onoff(values["four_party_linkage"])))
    for key, value in values.items():
        if key.startswith("measure_"):
            words.append(text("chg_measure", lang, name=text(key, lang), onoff=onoff(value)))
    return "; ".join(words)


def marks_html(changes: list, lang: str) -> str:
    if not changes:
        return ""
    items = "".join(
        f'<li value="{k + 1}">'
        f'{html.escape(text("mark", lang, day=c.day + 1, what=change_words(c.values, lang)))}</li>'
        for k, c in enumerate(changes))
    return (f'<div class="shequ-marks"><b>{html.escape(text("marks_title", lang))}</b>'
            f'<ol>{items}</ol></div>')

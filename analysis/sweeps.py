"""The report's pages for a sweep (analysis/report.py): a sweep's points are different models,
so they are never pooled. Over one swept parameter each main outcome is a line over it with its
95 % band by class (and the effect against the baseline variant beside); over two, a surface (a
heatmap for a full grid, contours for scattered points) with the effect beside; over more, the
sensitivity indices of a Morris or Sobol design, or the outcome against each parameter in turn.
"""

from pathlib import Path

import numpy as np
import pandas as pd

from analysis.report import (CLASS_COLOURS, Section, interval_text, label_class, plt, png, titled,
                             word)
from analysis.stats import mean_interval, paired
from sim import labels


def sweep_sections(folder: Path, record: dict, summary: pd.DataFrame, baseline: str,
                   lang: str) -> list[Section]:
    """A sweep's outcomes over its parameters, point by point: never pooled."""
    keys = [k for k in record.get("sweep_keys") or [] if k in summary.columns]
    if len(keys) == 1:
        return [sweep_line(summary, keys[0], baseline, lang)]
    if len(keys) == 2:
        return [sweep_surface(summary, keys, baseline, lang)]
    return [sweep_many(folder, record, summary, keys, lang)]


def point_frame(summary: pd.DataFrame, keys: list[str], name: str, cls: str = "city",
                baseline: str | None = None) -> pd.DataFrame:
    """Per variant and sweep point: the swept values, the mean of `name` over replications and its
    95 % interval; with `baseline`, the paired effect variant - baseline instead."""
    part = summary[summary["class"] == cls]
    rows = []
    for (variant, point), p in part.groupby(["variant", "point"], sort=False):
        row = {"variant": variant, "point": point, **{k: p[k].iloc[0] for k in keys}}
        if baseline is None:
            row["mean"], row["low"], row["high"] = mean_interval(p[name], labels.bounded(name))
        else:
            if variant == baseline:
                continue
            b = part[(part["variant"] == baseline) & (part["point"] == point)]
            both = b.merge(p, on="replication", suffixes=("_b", "_v"))
            d = paired(both[f"{name}_b"], both[f"{name}_v"])
            row["mean"], row["low"], row["high"] = d.difference, d.ci_low, d.ci_high
        rows.append(row)
    return pd.DataFrame(rows)


def sweep_line(summary: pd.DataFrame, key: str, baseline: str, lang: str) -> Section:
    """One swept parameter: each main outcome against it, a line per class (a dash style per
    variant) with its 95 % band; and the effect of each variant against the baseline."""
    section = Section(word("sweep_line", lang, parameter=key))
    variants = list(dict.fromkeys(summary["variant"]))
    classes = [c for c in ("A", "B", "C", "D", "city") if c in set(summary["class"])]
    effects = len(variants) > 1
    fig, axes = plt.subplots(len(labels.MAIN), 2 if effects else 1, squeeze=False,
                             figsize=(11 if effects else 6.5, 2.6 * len(labels.MAIN)))
    styles = ["-", "--", ":", "-."]
    for i, name in enumerate(labels.MAIN):
        f = labels.factor(name)
        for cls in classes:
            colour, lw = CLASS_COLOURS.get(cls), 2 if cls == "city" else 1.1
            frame = point_frame(summary, [key], name, cls).sort_values(key)
            for j, variant in enumerate(variants):
                v = frame[frame["variant"] == variant]
                axes[i, 0].plot(v[key], v["mean"] * f, styles[j % 4], color=colour, lw=lw,
                                label=label_class(cls, lang) if j == 0 else None)
                axes[i, 0].fill_between(v[key], v["low"] * f, v["high"] * f, color=colour,
                                        alpha=0.15, lw=0)
            if effects:
                frame = point_frame(summary, [key], name, cls, baseline).sort_values(key)
                for variant in (v for v in variants if v != baseline):
                    v = frame[frame["variant"] == variant]
                    axes[i, 1].plot(v[key], v["mean"] * f, styles[variants.index(variant) % 4],
                                    color=colour, lw=lw)
                    axes[i, 1].fill_between(v[key], v["low"] * f, v["high"] * f, color=colour,
                                            alpha=0.15, lw=0)
        axes[i, 0].set_ylabel(titled(name, lang), fontsize=8)
        if effects:
            axes[i, 1].axhline(0, color="#888", lw=0.8)
            axes[i, 1].set_ylabel(labels.unit(name, lang, difference=True), fontsize=8)
            axes[i, 1].set_title(labels.label(name, lang) + ": " + word(
                "effect_of", lang, variant=" / ".join(v for v in variants if v != baseline),
                baseline=baseline), fontsize=8)
    for ax in axes.flat:
        ax.grid(alpha=0.3)
        ax.set_xlabel(key, fontsize=8)
    axes[0, 0].legend(fontsize=7, title=" · ".join(
        f"{'—' if j == 0 else styles[j % 4]} {v}" for j, v in enumerate(variants)),
        title_fontsize=6)
    section.add(("sweep", png(fig)))
    section.add(point_table(summary, [key], lang))
    return section


def point_table(summary: pd.DataFrame, keys: list[str], lang: str) -> pd.DataFrame:
    """The city's main outcomes at each sweep point and variant, mean [95 % interval]."""
    city = summary[summary["class"] == "city"]
    rows = []
    for (variant, point), p in city.groupby(["variant", "point"], sort=False):
        row = {word("variant", lang): variant, word("point", lang): point,
               **{k: number(p[k].iloc[0]) for k in keys}}
        row |= {titled(n, lang): interval_text(n, p[n]) for n in labels.MAIN}
        rows.append(row)
    return pd.DataFrame(rows)


def sweep_surface(summary: pd.DataFrame, keys: list[str], baseline: str, lang: str) -> Section:
    """Two swept parameters: the city's main outcomes as a surface over them, one column a
    variant, and the effect against the baseline variant beside."""
    x, y = keys
    section = Section(word("sweep_surface", lang, x=x, y=y))
    variants = list(dict.fromkeys(summary["variant"]))
    columns = [(v, None) for v in variants] + [(v, baseline) for v in variants if v != baseline]
    fig, axes = plt.subplots(len(labels.MAIN), len(columns), squeeze=False,
                             figsize=(4.2 * len(columns) + 0.5, 3.1 * len(labels.MAIN)))
    for i, name in enumerate(labels.MAIN):
        for j, (variant, base) in enumerate(columns):
            frame = point_frame(summary, keys, name, baseline=base)
            frame = frame[frame["variant"] == variant]
            ax = axes[i, j]
            surface(ax, frame[x].to_numpy(float), frame[y].to_numpy(float),
                    frame["mean"].to_numpy(float) * labels.factor(name),
                    diverging=base is not None, name=name)
            ax.set_title((labels.label(name, lang) + "\n" + (
                variant if base is None else word("effect_of", lang, variant=variant,
                                                  baseline=base))
                          + f" ({labels.unit(name, lang, difference=base is not None)})"),
                         fontsize=8)
            ax.set_xlabel(x, fontsize=7)
            ax.set_ylabel(y, fontsize=7)
            ax.tick_params(labelsize=7)
    section.add(("surface", png(fig)))
    section.add(point_table(summary, keys, lang))
    return section


def surface(ax, x: np.ndarray, y: np.ndarray, z: np.ndarray, diverging: bool, name: str
            ) -> None:
    """A full grid of points as a heatmap with each cell's value written in it; scattered points
    (a Latin hypercube) as filled contours with the points marked. An effect is drawn on a
    diverging scale centred on zero, blue where it is better (`sim.labels`' direction)."""
    xs, ys = np.unique(x), np.unique(y)
    better = labels.OUTCOMES[name].better
    cmap = ("RdBu_r" if better < 0 else "RdBu") if diverging else "viridis"
    limit = np.nanmax(np.abs(z)) if diverging and np.isfinite(z).any() else 0
    norm = plt.Normalize(-limit, limit) if limit > 0 else None
    digits = labels.UNITS[labels.OUTCOMES[name].unit].digits
    if len(xs) * len(ys) == len(z) == len(set(zip(x, y))) and len(z) > 0:  # a full grid
        grid = np.full((len(ys), len(xs)), np.nan)
        grid[np.searchsorted(ys, y), np.searchsorted(xs, x)] = z
        image = ax.imshow(grid, origin="lower", aspect="auto", cmap=cmap, norm=norm)
        ax.set_xticks(range(len(xs)), [number(v) for v in xs])
        ax.set_yticks(range(len(ys)), [number(v) for v in ys])
        for (r, c), v in np.ndenumerate(grid):
            shade = image.norm(v) if np.isfinite(v) else 0.5
            dark = shade < 0.5 if not diverging else abs(shade - 0.5) > 0.3
            ax.text(c, r, f"{v:,.{digits}f}", ha="center", va="center", fontsize=6.5,
                    color="white" if dark else "black")
    elif len(z) >= 6:
        image = ax.tricontourf(x, y, z, levels=12, cmap=cmap, norm=norm)
        ax.plot(x, y, "k.", ms=2)
    else:
        image = ax.scatter(x, y, c=z, cmap=cmap, s=60, norm=norm)
    plt.colorbar(image, ax=ax, fraction=0.05)


def number(v) -> str:
    """A swept value for a tick or a table: whole numbers with thousands separators."""
    v = float(v)
    return f"{v:,.0f}" if v == round(v) else f"{v:.4g}"


def sweep_many(folder: Path, record: dict, summary: pd.DataFrame, keys: list[str],
               lang: str) -> Section:
    """More than two swept parameters: sensitivity indices for a Morris or Sobol design, else the
    city's outcome against each parameter in turn."""
    section = Section(word("sweep_many", lang, k=len(keys)))
    design = (record.get("sweep") or {}).get("design")
    if design in ("morris", "saltelli"):
        from analysis import sensitivity

        found = sensitivity.analyse(folder, outputs=list(labels.MAIN[:4]))
        section.add(word("sweep_sensitivity", lang, design=design))
        table = found.table
        keep = (["variant", "output", "parameter", "mu_star", "mu_star_low", "mu_star_high",
                 "sigma"] if design == "morris" else
                ["variant", "output", "parameter", "S1", "S1_low", "S1_high", "ST", "ST_low",
                 "ST_high"])
        order = "mu_star" if design == "morris" else "ST"
        table = table.sort_values(["variant", "output", order],
                                  ascending=[True, True, False])[keep].copy()
        if design == "morris":  # effects in the output's unit of a difference (pp for a share)
            f = table["output"].map(labels.factor)
            for col in ("mu_star", "mu_star_low", "mu_star_high", "sigma"):
                table[col] = table[col] * f
            table["output"] = table["output"].map(lambda o: labels.titled(o, lang, True))
        else:  # Sobol indices are shares of variance: no unit
            table["output"] = table["output"].map(lambda o: labels.label(o, lang))
        table = table.round(4)
        section.add(table)
        import tempfile

        with tempfile.TemporaryDirectory() as tmp:
            path = sensitivity.plot(found, Path(tmp) / "sensitivity.png", lang, labelled=True)
            section.add(("sensitivity", path.read_bytes()))
        return section
    section.add(word("sweep_projection", lang))
    city = summary[summary["class"] == "city"]
    cols = min(len(keys), 4)
    rows = -(-len(keys) // cols)
    for name in labels.MAIN[:4]:
        fig, axes = plt.subplots(rows, cols, squeeze=False, figsize=(3.2 * cols, 2.6 * rows),
                                 sharey=True)
        means = city.groupby(["variant", "point"], sort=False)[[*keys, name]].mean()
        for ax, key in zip(axes.flat, keys):
            for j, (variant, part) in enumerate(means.groupby(level="variant", sort=False)):
                ax.plot(part[key], part[name] * labels.factor(name), ".", ms=4,
                        color=plt.cm.tab10(j), label=variant)
            ax.set_xlabel(key, fontsize=7)
            ax.grid(alpha=0.3)
        for ax in axes.flat[len(keys):]:
            ax.set_visible(False)
        axes[0, 0].set_ylabel(titled(name, lang), fontsize=8)
        axes[0, 0].legend(fontsize=7)
        section.add((f"projection-{name}", png(fig)))
    return section

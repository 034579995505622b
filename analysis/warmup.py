"""How long a warm-up the model needs: MSER-5 over replications from a cold start.

    python -m analysis.warmup [--scenario xining-classified] [--replications 10] [--years 3]
                              [--scale 0.01] [--workers 2] [--out docs]

A run starts cold: no grievance open, every fund full, satisfaction and trust at their initial
means. The reported figures must not depend on that. This command runs the scenario from a cold
start for `--years` budget years with no warm-up, replication by replication (seeds 1..R), and
averages each daily city series over the replications (Welch's procedure: the average of
independent replications, whose mean follows the transient); then MSER-5 (White 1997; White,
Cobb and Spratt 2000) finds the truncation point of each averaged series — the start that
minimises the squared standard error of the mean of what is left, over batches of five days,
searched over the first half. The warm-up is the longest of these, rounded up to whole budget
years; `run.warmup_years` defaults to it (sim/parameters.py), and the report says which series
set it.
"""

import argparse
import datetime
import math
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import numpy as np
import pandas as pd

SERIES = {  # daily city series that must settle: name -> how it is read from the daily table
    "resolved_share (30-day)": ("rolling", "resolved_share"),
    "response_rate (30-day)": ("rolling", "response_rate"),
    "open_per_1000": ("stock", "open_per_1000"),
    "mean_satisfaction": ("stock", "mean_satisfaction"),
    "mean_trust": ("stock", "mean_trust"),
    "budget_left": ("stock", "budget_left"),
}
BATCH = 5  # MSER-5


def mser(series: np.ndarray, batch: int = BATCH) -> int:
    """The MSER truncation point, in days: over batch means of `batch` days, the d (at most half
    the batches) that minimises sum((y_i - mean_d)^2) / (n - d)^2 over the batches after d."""
    n = len(series) // batch
    y = series[: n * batch].reshape(n, batch).mean(axis=1)
    best, at = math.inf, 0
    for d in range(n // 2 + 1):
        rest = y[d:]
        value = ((rest - rest.mean()) ** 2).sum() / len(rest) ** 2
        if value < best:
            best, at = value, d
    return at * batch


def cold_run(args: tuple) -> pd.DataFrame:
    """One replication's daily city rows from a cold start (no warm-up)."""
    scenario, seed, scale, days = args
    from sim.model import GovernanceModel

    model = GovernanceModel(scenario=scenario, rng=seed, scale=scale, days=days, warmup_years=0)
    model.run()
    daily = model.datacollector.get_table_dataframe("daily")
    return daily[daily["class"] == "city"].set_index("day")


def city_series(runs: list[pd.DataFrame]) -> pd.DataFrame:
    """The averaged daily series (one column each of SERIES)."""
    from sim.figures import rolling_rate

    out = {}
    for name, (kind, column) in SERIES.items():
        if kind == "rolling":
            per = [num / den for num, den in (rolling_rate(d, column) for d in runs)]
        else:
            per = [d[column] for d in runs]
        out[name] = pd.concat(per, axis=1).mean(axis=1)
    return pd.DataFrame(out)


def analyse(series: pd.DataFrame) -> pd.DataFrame:
    rows = []
    for name in series:
        y = series[name].to_numpy(float)
        cut = mser(y)
        rows.append({"series": name, "truncation_days": cut,
                     "first_30_days": float(np.nanmean(y[:30])),
                     "after_truncation": float(np.nanmean(y[cut:]))})
    return pd.DataFrame(rows)


def report(table: pd.DataFrame, args, years: int, figure: str) -> str:
    longest = table.loc[table["truncation_days"].idxmax()]
    lines = [
        "# Warm-up: how long until the model forgets its cold start",
        "",
        f"Made by `python -m analysis.warmup --scenario {args.scenario} --replications "
        f"{args.replications} --years {args.years} --scale {args.scale}` on "
        f"{datetime.date.today().isoformat()}.",
        "",
        f"The scenario `{args.scenario}` ran from a cold start (no grievance open, every fund "
        f"full, satisfaction and trust at their initial means) for {args.years} budget years "
        f"without warm-up, {args.replications} replications at scale {args.scale}; each daily "
        "city series was averaged over the replications (Welch's procedure) and MSER-5 (White "
        "1997) found where its transient ends: the start that minimises the squared standard "
        "error of the mean of the rest, over batches of five days, within the first half.",
        "",
        "| series | truncation point (days) | mean of the first 30 days | mean after the "
        "truncation point |",
        "|---|---|---|---|",
    ]
    for row in table.itertuples():
        lines.append(f"| {row.series} | {row.truncation_days} | {row.first_30_days:.4g} | "
                     f"{row.after_truncation:.4g} |")
    lines += ["", f"The longest transient is {longest['series']}'s, {int(longest['truncation_days'])} "
              f"days: rounded up to whole budget years, the warm-up is **{years} "
              f"year{'s' * (years != 1)}**, the default of `run.warmup_years`. A run's reported "
              "period starts after it, at the start of a budget year.", "",
              f"![daily city series from a cold start]({figure})", ""]
    return "\n".join(lines)


def plot(series: pd.DataFrame, table: pd.DataFrame, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(2, 3, figsize=(12, 6), sharex=True)
    for ax, name in zip(axes.flat, series):
        ax.plot(series.index, series[name], lw=1)
        cut = int(table.set_index("series").loc[name, "truncation_days"])
        ax.axvline(cut, color="k", ls="--", lw=0.8)
        ax.set_title(name, fontsize=9)
        ax.grid(alpha=0.3)
    for ax in axes[1]:
        ax.set_xlabel("day from a cold start")
    fig.suptitle("From a cold start: the mean over replications, and MSER-5's truncation point")
    fig.tight_layout()
    fig.savefig(path, dpi=110, format="png")
    plt.close(fig)


def main(argv: list[str] | None = None) -> int:
    from sim.command import check_file, count, number, one_line_errors, output_file

    parser = argparse.ArgumentParser(prog="python -m analysis.warmup", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--scenario", default="xining-classified")
    parser.add_argument("--replications", type=count, default=10)
    parser.add_argument("--years", type=count, default=3)
    parser.add_argument("--scale", type=number, default=0.01)
    parser.add_argument("--workers", type=count, default=2)
    parser.add_argument("--out", type=Path, default=Path("output") / "warmup",
                        help="folder for warmup.md and warmup.png (default output/warmup; the "
                        "shipped ones: --out docs)")
    args = parser.parse_args(argv)

    def run() -> int:
        for name in ("warmup.md", "warmup.png"):
            check_file(args.out / name, "--out")  # before anything runs
        days = 365 * args.years
        jobs = [(args.scenario, seed, args.scale, days) for seed in range(1, args.replications + 1)]
        with ProcessPoolExecutor(max(1, args.workers)) as pool:
            runs = list(pool.map(cold_run, jobs))
        series = city_series(runs)
        table = analyse(series)
        years = max(1, math.ceil(table["truncation_days"].max() / 365))
        print(table.to_string(index=False))
        print(f"warm-up: {years} budget year(s)")
        with output_file(args.out / "warmup.png", "--out") as tmp:
            plot(series, table, tmp)
        with output_file(args.out / "warmup.md", "--out") as tmp:
            tmp.write_text(report(table, args, years, "warmup.png"), encoding="utf-8")
        print(f"written: {args.out / 'warmup.md'} and warmup.png")
        return 0

    return one_line_errors(run)


if __name__ == "__main__":
    raise SystemExit(main())

"""Compare policy variants of a batch: paired differences over common-random-number replications.

    shequ compare RESULTS --baseline NAME [--variant NAME ...] [--csv FILE]

For every outcome, by class and city-wide, each variant's replication r is paired with the
baseline's replication r at the same sweep point (they share a seed), and `analysis.stats.paired`
gives the mean difference, its 95 % interval, the effect size and whether the replications are
enough. Reads the result store only; never runs the model.
"""

from pathlib import Path

import pandas as pd

from analysis.stats import paired
from sim.errors import InputError

# Outcome column of the summary table -> what it is (DESIGN §7).
OUTCOMES = {
    "response_rate": "KPI: response in time, of reported cases",
    "resolution_rate": "KPI: resolution, of reported cases",
    "satisfaction_rate": "KPI: satisfied at the return visit, of reported cases",
    "resolved_share": "resolved, of every grievance that arose",
    "unvoiced_share": "never voiced or found, of every grievance that arose",
    "unmet_days_per_1000": "grievance-days of unmet need per 1,000 residents a year",
    "mean_satisfaction": "mean resident satisfaction (every resident)",
    "mean_trust": "mean resident trust (every resident)",
    "days_to_resolution_median": "days to resolution, median",
    "days_to_resolution_p90": "days to resolution, 90th percentile",
    "cum_shortfall": "budget shortfall (yuan)",
    "unspent": "money unspent (yuan)",
    "cost_per_resolved": "cost per resolved case (yuan)",
}
PAIR_KEYS = ["point", "replication"]


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


def compare(summary: pd.DataFrame, baseline: str, variants: list[str] | None = None,
            outcomes: list[str] | None = None, confidence: float = 0.95) -> pd.DataFrame:
    """One row per variant, class and outcome: the paired difference variant - baseline."""
    names = list(dict.fromkeys(summary["variant"]))
    for name in [baseline, *(variants or [])]:
        if name not in names:
            raise InputError(f"variant \"{name}\": expected one of {', '.join(names)}")
    variants = variants or [n for n in names if n != baseline]
    if not variants:
        raise InputError(f"--variant: expected a variant other than the baseline \"{baseline}\"")
    outcomes = outcomes or [o for o in OUTCOMES if o in summary.columns]
    base = summary[summary["variant"] == baseline]
    rows = []
    for variant in variants:
        other = summary[summary["variant"] == variant]
        both = base.merge(other, on=[*PAIR_KEYS, "class"], suffixes=("_b", "_v"))
        for cls, part in both.groupby("class", sort=False):
            for outcome in outcomes:
                p = paired(part[f"{outcome}_b"], part[f"{outcome}_v"], confidence)
                rows.append({"variant": variant, "baseline": baseline, "class": cls,
                             "outcome": outcome, **p.as_dict(),
                             "more_needed": max(0.0, p.replications_needed - p.n)})
    return pd.DataFrame(rows)


def format_table(table: pd.DataFrame) -> str:
    """A compact text table: rates and means in percentage points, money in yuan, days in days."""
    shown = table.copy()
    percent = (shown["outcome"].str.endswith(("_rate", "_share"))
               | shown["outcome"].str.startswith("mean_"))
    for col in ("baseline_mean", "variant_mean", "difference", "ci_low", "ci_high"):
        shown[col] = shown[col].where(~percent, shown[col] * 100)
    shown["unit"] = percent.map({True: "%", False: ""})
    cols = ["variant", "class", "outcome", "unit", "n", "baseline_mean", "variant_mean",
            "difference", "ci_low", "ci_high", "effect_size", "enough", "more_needed"]
    return shown[cols].to_string(index=False, float_format=lambda x: f"{x:,.3f}")

"""A run's results as tidy tables (DESIGN §7): daily by class, one row per class, one row per
community; written as Parquet with a JSON manifest and a summary figure."""

import json
import platform
from pathlib import Path

import mesa
import numpy as np
import pandas as pd

import sim
from sim.metrics import COHORT, FLOWS, RATES, STOCKS, rate
from sim.parameters import CATEGORIES

CITY = "city"


def collector(model) -> mesa.DataCollector:
    """Mesa's DataCollector over the reported period: city-wide series as model reporters,
    by-class rows as a table."""
    return mesa.DataCollector(
        model_reporters={
            "open_grievances": lambda m: int(m.open_today.sum()),  # counted by account
            "mean_satisfaction": lambda m: float(m.residents.satisfaction.mean()),
            "mean_trust": lambda m: float(m.residents.trust.mean()),
            **{name: (lambda m, n=name: cumulative_rate(m, n)) for name in RATES},
        },
        tables={"daily": DAILY_COLUMNS},
    )


DAILY_COLUMNS = ["day", "class", *FLOWS, *STOCKS, *RATES]


def cumulative_rate(model, name: str) -> float:
    """A rate over the reported period's days so far, city-wide, from the day's flows."""
    return float(rate(model.city_totals, name))


def record_day(model) -> None:
    """Add today's rows (one per class and one for the city) to the collector's daily table;
    `day` counts from the first day of the reported period."""
    mood = model.mood_today
    # Every per-community series of the day summed by class in one product.
    rows = np.vstack([model.counts.values, model.open_today, model.open_reported,
                      model.spending.balance / model.scale, mood["satisfaction"], mood["trust"],
                      model.community_residents]) @ model.class_matrix
    values = dict(zip(FLOWS, rows))
    residents = np.maximum(rows[-1], 1)
    values |= {"n_open": rows[-6], "n_open_reported": rows[-5], "budget_left": rows[-4],
               "open_per_1000": rows[-6] / residents * 1000,
               "mean_satisfaction": rows[-3] / residents, "mean_trust": rows[-2] / residents}
    values |= {name: rate(values, name) for name in RATES}
    table = np.array([values[c] for c in DAILY_COLUMNS[2:]], dtype=float).T.tolist()
    day = model.day - model.warmup_days
    for label, row in zip(model.class_labels + [CITY], table):
        model.datacollector.add_table_row(
            "daily", {"day": day, "class": label, **dict(zip(DAILY_COLUMNS[2:], row))})


def by_class(model, per_community: np.ndarray) -> np.ndarray:
    """Sum over the communities of each class, then the city; last axis = classes + city."""
    return per_community @ model.class_matrix


def class_matrix(class_index: np.ndarray, n_classes: int) -> np.ndarray:
    """Communities x (classes + city): 1 where a community counts toward a column."""
    onehot = np.zeros((len(class_index), n_classes + 1))
    onehot[np.arange(len(class_index)), class_index] = 1
    onehot[:, -1] = 1
    return onehot


# ---- after the run --------------------------------------------------------------------------
def daily(model) -> pd.DataFrame:
    return model.datacollector.get_table_dataframe("daily")


def communities(model) -> pd.DataFrame:
    """One row per community: attributes, class, fund, the reported period's flows (`cum_`), the
    cohort's counts (`cohort_`), the KPIs and the whole-iceberg outcomes (computed once a day at
    most: the summary is built from it too)."""
    cached = getattr(model, "_communities_frame", None)
    if cached is not None and cached[0] == model.steps:
        return cached[1].copy()
    frame = community_frame(model)
    model._communities_frame = (model.steps, frame)
    return frame.copy()


def community_frame(model) -> pd.DataFrame:
    c = model.communities
    residents = model.community_residents
    frame = pd.DataFrame({"community": np.arange(model.n_communities), "name": c["name"],
                          "class": model.classes, "location": c["location"],
                          "population": c["population"], "residents": residents,
                          "fund": model.funds})
    frame = frame.assign(**{("cum_" + k.removeprefix("new_")): model.totals[k] for k in FLOWS})
    frame = frame.assign(**{f"cohort_{k}": model.cohort[k] for k in COHORT})
    frame = frame.assign(**iceberg(model.cohort.values, model.unmet_days, model.open_days,
                                   np.vstack(list(model.mood_days.values())), residents,
                                   model.reported_days))
    frame["funds_allocated"] = model.spending.allocated
    frame["unspent"] = model.spending.unspent_now()
    return frame


def iceberg(cohort: np.ndarray, unmet_days, open_days, mood_days, residents, days: int) -> dict:
    """The KPIs and the whole-iceberg outcomes from summed counts (any trailing axis): cohort
    counts (COHORT order), the cohort's grievance-days of unmet need, grievance-days open in the
    period, satisfaction and trust summed over residents and days, residents, and the days of the
    reported period counted so far."""
    counts = {f"cohort_{k}": cohort[i] for i, k in enumerate(COHORT)}
    out = {name: rate(counts, name, prefix="cohort_") for name in RATES}
    resident_days = np.asarray(residents, float) * days
    per = lambda x: np.divide(x, resident_days, out=np.full(np.shape(x), np.nan),  # noqa: E731
                              where=resident_days > 0)
    out["unmet_days_per_1000"] = per(unmet_days) * 1000 * 365  # a year's grievance-days
    out["open_per_1000"] = per(open_days) * 1000  # the mean open stock
    out["mean_satisfaction"], out["mean_trust"] = per(mood_days[0]), per(mood_days[1])
    return out


def summary(model) -> pd.DataFrame:
    """One row per class and one for the city (DESIGN §7)."""
    per = communities(model)
    rows = []
    for k, label in enumerate([*model.class_labels, CITY]):
        mask = np.ones(len(per), bool) if label == CITY else (per["class"] == label).to_numpy()
        part = per[mask]
        row = {"class": label, "communities": int(mask.sum()),
               "population": int(part["population"].sum()), "residents": int(part["residents"].sum()),
               "days": int(model.days), "reported_days": int(model.reported_days)}
        sums = {k: float(part[k].sum()) for k in part
                if k.startswith(("cum_", "cohort_"))}
        row |= sums
        cohort = np.array([sums[f"cohort_{c}"] for c in COHORT])
        mood = np.array([model.mood_days[name][mask].sum() for name in ("satisfaction", "trust")])
        row |= {k: float(v) for k, v in iceberg(
            cohort, model.unmet_days[mask].sum(), model.open_days[mask].sum(), mood,
            row["residents"], model.reported_days).items()}
        row |= resolution_days(model.resolution_days, k if label != CITY else None)
        for level in ("grassroots", "co_building", "departments"):
            row[f"escalation_share_{level}"] = share(sums[f"cohort_escalated_{level}"],
                                                     sums["cohort_reported"])
        row |= money(part, sums, model.scale)
        rates = part["resolution_rate"].dropna()
        row["resolution_rate_sd"] = float(rates.std(ddof=0)) if len(rates) else np.nan
        row["resolution_rate_min"] = float(rates.min()) if len(rates) else np.nan
        arisen = model.arisen_by_category[mask].sum(axis=0)
        row |= {f"cohort_arisen_{c}": float(n) for c, n in zip(CATEGORIES, arisen)}
        hotline = model.hotline_by_category[mask].sum(axis=0)
        row |= {f"cohort_hotline_{c}": float(n) for c, n in zip(CATEGORIES, hotline)}
        row["resolution_rate_old"] = share(sums["cohort_resolved_old"],
                                           sums["cohort_resolved_old"] + sums["cohort_dropped_old"])
        rows.append(row)
    return pd.DataFrame(rows)


def resolution_days(histogram: np.ndarray, k: int | None) -> dict:
    """Median and 90th percentile of the days from report to resolution (the cohort's resolved
    cases) of class k, or of the city."""
    counts = histogram.sum(axis=0) if k is None else histogram[k]
    total = counts.sum()
    if not total:
        return {"days_to_resolution_median": np.nan, "days_to_resolution_p90": np.nan}
    cum = np.cumsum(counts)
    q = lambda p: float(np.searchsorted(cum, p * total))  # noqa: E731 — the lower quantile
    return {"days_to_resolution_median": q(0.5), "days_to_resolution_p90": q(0.9)}


def money(part: pd.DataFrame, sums: dict, scale: float) -> dict:
    """Funds, spending, unspent and shortfall (full-scale yuan), and the 'not enough' versus
    'can't spend it all' picture: communities short of money, and those leaving > 20 % unspent."""
    allocated = float(part["funds_allocated"].sum())
    resolved_full = sums["cum_resolved"] / scale
    return {"funds_allocated": round(allocated), "unspent": round(float(part["unspent"].sum())),
            "cost_per_resolved": share(sums["cum_spent"], resolved_full),
            "communities_short": int((part["cum_shortfall"] > 0).sum()),
            "communities_underspent": int((part["unspent"] > 0.2 * part["funds_allocated"]).sum())}


def share(num: float, den: float) -> float:
    return float(num / den) if den else np.nan


def manifest(model) -> dict:
    return {"scenario": model.policy.name, "files": model.policy.files, "seed": model.seed,
            "scale": model.scale, "days": model.days, "warmup_years": model.warmup_years,
            "days_simulated": model.steps, "shequ_version": sim.__version__,
            "mesa_version": mesa.__version__, "python": platform.python_version(),
            "classes": model.class_labels, "params": model.p}


RUN_FILES = ("daily.parquet", "summary.parquet", "communities.parquet", "manifest.json",
             "summary.png", "graph.png", "rates.png", "overview.png")


def write(model, out, figure: bool = True, lang: str = "en") -> Path:
    """Write the run's tables into its output folder (a path, claimed here, or a claimed
    `sim.command.OutputFolder`), each file atomically, the manifest last."""
    from sim.command import claimed

    with claimed(out, "run", recognise=recognise_run) as folder:
        folder.write("daily.parquet", lambda tmp: daily(model).to_parquet(tmp, index=False))
        folder.write("summary.parquet", lambda tmp: summary(model).to_parquet(tmp, index=False))
        folder.write("communities.parquet",
                     lambda tmp: communities(model).to_parquet(tmp, index=False))
        if figure:
            from sim.figures import summary_figure

            folder.write("summary.png", lambda tmp: summary_figure(daily(model), tmp,
                                                                   title=model.policy.name,
                                                                   lang=lang))
        folder.write_text("manifest.json", json.dumps(manifest(model), indent=2,
                                                      ensure_ascii=False, default=str))
    return folder.path


def recognise_run(folder: Path) -> dict | None:
    """A run's output folder written before folders carried Shequ's record: its manifest.json
    is a run's, and every file in it is one a run writes."""
    try:
        record = json.loads((folder / "manifest.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if not isinstance(record, dict) or not {"scenario", "seed", "shequ_version", "params"} <= set(record):
        return None
    return {"command": "run", "files": {name: {} for name in RUN_FILES if (folder / name).is_file()}}

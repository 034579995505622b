"""A run's results as tidy tables (DESIGN §7): daily by class, one row per class, one row per
community; written as Parquet with a JSON manifest and a summary figure."""

import json
import platform
from pathlib import Path

import mesa
import numpy as np
import pandas as pd

import sim
from sim.grievances import State, UNREPORTED
from sim.metrics import FLOWS, RATES, STOCKS, rate
from sim.parameters import CATEGORIES, COMPOUND_KINDS

CITY = "city"


def collector(model) -> mesa.DataCollector:
    """Mesa's DataCollector: city-wide series as model reporters, by-class rows as a table."""
    return mesa.DataCollector(
        model_reporters={
            "open_grievances": lambda m: len(m.grievances.open_ids),
            "mean_satisfaction": lambda m: float(m.residents.satisfaction.mean()),
            "mean_trust": lambda m: float(m.residents.trust.mean()),
            **{name: (lambda m, n=name: cumulative_rate(m, n)) for name in RATES},
        },
        tables={"daily": DAILY_COLUMNS},
    )


DAILY_COLUMNS = ["day", "class", *FLOWS, *STOCKS, *RATES]


def cumulative_rate(model, name: str) -> float:
    """A rate over the run so far, city-wide (the running totals include today)."""
    return float(rate(model.city_totals, name))


def record_day(model) -> None:
    """Add today's rows (one per class and one for the city) to the collector's daily table."""
    stocks = community_stocks(model)
    # Every per-community series of the day summed by class in one product.
    rows = np.vstack([model.counts.values, stocks["n_open"], stocks["n_open_reported"],
                      model.ledger.balance / model.scale, stocks["satisfaction"], stocks["trust"],
                      model.community_residents]) @ model.class_matrix
    values = dict(zip(FLOWS, rows))
    residents = np.maximum(rows[-1], 1)
    values |= {"n_open": rows[-6], "n_open_reported": rows[-5], "budget_left": rows[-4],
               "mean_satisfaction": rows[-3] / residents, "mean_trust": rows[-2] / residents}
    values |= {name: rate(values, name) for name in RATES}
    table = np.array([values[c] for c in DAILY_COLUMNS[2:]], dtype=float).T.tolist()
    for label, row in zip(model.class_labels + [CITY], table):
        model.datacollector.add_table_row(
            "daily", {"day": model.day, "class": label, **dict(zip(DAILY_COLUMNS[2:], row))})


def by_class(model, per_community: np.ndarray) -> np.ndarray:
    """Sum over the communities of each class, then the city; last axis = classes + city."""
    return per_community @ model.class_matrix


def class_matrix(class_index: np.ndarray, n_classes: int) -> np.ndarray:
    """Communities x (classes + city): 1 where a community counts toward a column."""
    onehot = np.zeros((len(class_index), n_classes + 1))
    onehot[np.arange(len(class_index)), class_index] = 1
    onehot[:, -1] = 1
    return onehot


def community_stocks(model) -> dict[str, np.ndarray]:
    g, n = model.grievances, model.n_communities
    open_ids = g.open_ids[g.state[g.open_ids] == State.OPEN]  # (the list is pruned daily)
    reported = open_ids[g.level[open_ids] != UNREPORTED]
    building_comm = model.building_community
    out = {"n_open": np.bincount(g.community[open_ids], minlength=n),
           "n_open_reported": np.bincount(g.community[reported], minlength=n),
           "residents": model.community_residents}
    for name in ("satisfaction", "trust"):
        out[name] = np.bincount(building_comm, model.building_sums[name], minlength=n)
    return out


# ---- after the run --------------------------------------------------------------------------
def daily(model) -> pd.DataFrame:
    return model.datacollector.get_table_dataframe("daily")


def communities(model) -> pd.DataFrame:
    """One row per community: attributes, class, fund and the run's totals and rates (computed
    once a day at most: the summary is built from it too)."""
    cached = getattr(model, "_communities_frame", None)
    if cached is not None and cached[0] == model.steps:
        return cached[1].copy()
    frame = community_frame(model)
    model._communities_frame = (model.steps, frame)
    return frame.copy()


def community_frame(model) -> pd.DataFrame:
    c = model.communities
    stocks = community_stocks(model)
    frame = pd.DataFrame({"community": np.arange(model.n_communities), "name": c["name"],
                          "class": model.classes, "location": c["location"],
                          "population": c["population"], "residents": stocks["residents"],
                          "fund": model.funds})
    totals = {("cum_" + k.removeprefix("new_")): model.totals[k] for k in FLOWS}
    frame = frame.assign(**totals)
    for name in RATES:
        frame[name] = rate({k: model.totals[k] for k in FLOWS}, name)
    frame["mean_satisfaction"] = stocks["satisfaction"] / np.maximum(stocks["residents"], 1)
    frame["mean_trust"] = stocks["trust"] / np.maximum(stocks["residents"], 1)
    frame["funds_allocated"] = model.ledger.allocated
    frame["unspent"] = model.ledger.unspent_now()
    return frame


def summary(model) -> pd.DataFrame:
    """One row per class and one for the city (DESIGN §7)."""
    per = communities(model)
    g = model.grievances.frame()
    resolved = g[g.state == State.RESOLVED]
    rows = []
    for label in [*model.class_labels, CITY]:
        mask = np.ones(len(per), bool) if label == CITY else (per["class"] == label).to_numpy()
        part = per[mask]
        row = {"class": label, "communities": int(mask.sum()),
               "population": int(part["population"].sum()), "residents": int(part["residents"].sum())}
        cums = {k: float(part[k].sum()) for k in part if k.startswith("cum_")}
        row |= cums
        row |= {name: float(rate({"new_" + k[4:]: v for k, v in cums.items()}, name)) for name in RATES}
        weights = part["residents"].to_numpy()
        for name in ("mean_satisfaction", "mean_trust"):
            row[name] = float(np.average(part[name], weights=weights)) if weights.sum() else np.nan
        days = days_to_resolution(resolved, mask)
        row["days_to_resolution_median"] = float(np.median(days)) if len(days) else np.nan
        row["days_to_resolution_p90"] = float(np.percentile(days, 90)) if len(days) else np.nan
        for level in ("grassroots", "co_building", "departments"):
            row[f"escalation_share_{level}"] = share(cums[f"cum_escalated_{level}"], cums["cum_reported"])
        row |= money(part, cums, model.scale)
        rates = part["resolution_rate"].dropna()
        row["resolution_rate_sd"] = float(rates.std(ddof=0)) if len(rates) else np.nan
        row["resolution_rate_min"] = float(rates.min()) if len(rates) else np.nan
        row |= by_category_and_compound(model, g, mask)
        rows.append(row)
    return pd.DataFrame(rows)


def by_category_and_compound(model, g: pd.DataFrame, community_mask: np.ndarray) -> dict:
    """Grievances arisen by category, and the resolution rate in old compounds (老旧小区), where
    self-governance bodies are set up (SEED-FACTS §7, facts 3 and 4)."""
    part = g[community_mask[g["community"].to_numpy()]]
    counts = np.bincount(part["category"], minlength=len(CATEGORIES))
    row = {f"cum_arisen_{c}": float(n) for c, n in zip(CATEGORIES, counts)}
    old = model.compound_kind[part["compound"].to_numpy()] == COMPOUND_KINDS.index("old")
    closed = part[old & (part["day_reported"] >= 0).to_numpy()]
    resolved = int((closed["state"] == State.RESOLVED).sum())
    dropped = int((closed["state"] == State.DROPPED).sum())
    row["resolution_rate_old"] = share(resolved, resolved + dropped)
    return row


def days_to_resolution(resolved: pd.DataFrame, community_mask: np.ndarray) -> np.ndarray:
    r = resolved[community_mask[resolved["community"].to_numpy()]]
    return (r["day_closed"] - r["day_reported"]).to_numpy()


def money(part: pd.DataFrame, cums: dict, scale: float) -> dict:
    """Funds, spending, unspent and shortfall (full-scale yuan), and the 'not enough' versus
    'can't spend it all' picture: communities short of money, and those leaving > 20 % unspent."""
    allocated = float(part["funds_allocated"].sum())
    resolved_full = cums["cum_resolved"] / scale
    return {"funds_allocated": round(allocated), "unspent": round(float(part["unspent"].sum())),
            "cost_per_resolved": share(cums["cum_spent"], resolved_full),
            "communities_short": int((part["cum_shortfall"] > 0).sum()),
            "communities_underspent": int((part["unspent"] > 0.2 * part["funds_allocated"]).sum())}


def share(num: float, den: float) -> float:
    return float(num / den) if den else np.nan


def manifest(model) -> dict:
    return {"scenario": model.policy.name, "files": model.policy.files, "seed": model.seed,
            "scale": model.scale, "days": model.days, "shequ_version": sim.__version__,
            "mesa_version": mesa.__version__, "python": platform.python_version(),
            "classes": model.class_labels, "params": model.p}


RUN_FILES = ("daily.parquet", "summary.parquet", "communities.parquet", "manifest.json",
             "summary.png", "graph.png", "rates.png", "overview.png")


def write(model, out, figure: bool = True) -> Path:
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
                                                                   title=model.policy.name))
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

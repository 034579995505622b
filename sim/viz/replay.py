"""Replay: a run of a batch result store, rebuilt from its manifest to watch or film it.

A run is fixed by its spec — `{scenario, seed, scale, days, overrides}` — since the same scenario,
overrides and seed give the identical run (DESIGN §10). `read_spec(store, run_id)` finds the
run in a result store; `model_kwargs(spec)` turns a spec into `GovernanceModel` (or
`TeachingModel`) keyword arguments.

A batch result folder of `sim.batch` (`experiment.json` with every config's parameters; run ids
like `classified.p00000.r00003`) is read through `sim.batch.store.config_task`, the batch
engine's own rebuild of a run: the spec then carries every parameter of the run's config as
overrides, and the run's replication seed.

Other layouts read (a single run's folder, or a store of manifests):
- one JSON file per run: `STORE/runs/RUN_ID/manifest.json`, `STORE/RUN_ID/manifest.json`,
  `STORE/manifests/RUN_ID.json`, or any `manifest.json` below STORE whose `run_id` is RUN_ID;
- one table for all runs: `STORE/manifest.parquet` (or `manifests.parquet`, `runs.parquet`,
  `.csv`, `.jsonl`) with a column `run_id` (or `run`, `id`) — one row per run.
A row or file gives `scenario` (a name or .toml path; else the first of `files`), `seed`, `scale`,
`days`, and `overrides` (nested `{section: {key: value}}`, flat `section.key` / `section__key`,
or a JSON string of either); a single-run manifest written by `shequ run` (`params`: every
parameter) also works.
"""

import json
import math
from pathlib import Path

from sim.errors import InputError
from sim.parameters import SCHEMA

RUN_COLUMNS = ("run_id", "run", "id")
TABLES = ("manifest", "manifests", "runs")


def read_spec(store: str | Path, run_id: str) -> dict:
    """The spec of run `run_id` in the result store at `store`."""
    store = Path(store)
    if not store.exists():
        raise InputError(f"--store {store}: no such folder; expected a batch result store")
    run_id = str(run_id)
    if (store / "experiment.json").is_file():
        return batch_spec(store, run_id)
    row = _from_run_files(store, run_id) or _from_tables(store, run_id)
    if row is None:
        raise InputError(f"--store {store}: no run \"{run_id}\" found; expected a run id of the "
                         f"store's manifest (see sim/viz/replay.py for the layouts read)")
    return spec_of(row, f"{store} run {run_id}")


def batch_spec(store: Path, run_id: str) -> dict:
    """The spec of a run of a `sim.batch` result folder, as the batch engine rebuilds it."""
    from sim.batch.store import Store, config_task

    record = Store(store).record()
    if record is None:
        raise InputError(f"--store {store}: cannot read experiment.json; expected a batch "
                         "result folder")
    task = config_task(record, run_id)  # a bad run id is an InputError naming an example
    scenario = task.config.scenario
    files = [f for f in scenario.files if Path(f).is_file()]
    return {"scenario": files[0] if files else None, "seed": int(task.seed),
            "scale": float(scenario["run"]["scale"]), "days": int(scenario["run"]["days"]),
            "overrides": flat(scenario.params), "name": scenario.name,
            "variant": task.config.variant}


def _from_run_files(store: Path, run_id: str) -> dict | None:
    for path in (store / "runs" / run_id / "manifest.json", store / run_id / "manifest.json",
                 store / "manifests" / f"{run_id}.json", store / "runs" / f"{run_id}.json"):
        if path.is_file():
            return _read_json(path)
    if (store / "manifest.json").is_file():  # a single run's folder (shequ run)
        row = _read_json(store / "manifest.json")
        if str(row.get("run_id", run_id)) == run_id:
            return row
    for path in sorted(store.rglob("manifest.json"))[:10_000]:
        row = _read_json(path)
        if str(row.get("run_id")) == run_id:
            return row
    return None


def _from_tables(store: Path, run_id: str) -> dict | None:
    import pandas as pd

    for name in TABLES:
        for suffix, read in ((".parquet", pd.read_parquet), (".csv", pd.read_csv),
                             (".jsonl", lambda p: pd.read_json(p, lines=True))):
            path = store / f"{name}{suffix}"
            if not path.is_file():
                continue
            table = read(path)
            column = next((c for c in RUN_COLUMNS if c in table.columns), None)
            if column is None:
                continue
            match = table[table[column].astype(str) == run_id]
            if len(match):
                return {k: _plain(v) for k, v in match.iloc[0].to_dict().items()}
    return None


def _plain(value):
    """numpy scalars and arrays from a table as Python values."""
    if hasattr(value, "item") and getattr(value, "ndim", 1) == 0:
        return value.item()
    if hasattr(value, "tolist"):
        return value.tolist()
    return value


def _read_json(path: Path) -> dict:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as e:
        raise InputError(f"{path}: cannot read the run's manifest ({e}); expected a JSON file") \
            from None


def spec_of(row: dict, origin: str) -> dict:
    """A spec from a manifest row (see the module docstring for what a row may hold)."""
    scenario = row.get("scenario")
    files = row.get("files") or []
    if isinstance(files, str):
        files = json.loads(files) if files.startswith("[") else [files]
    if files and Path(files[0]).is_file():
        scenario = files[0]  # the exact file, where the run was made on this machine
    if not scenario:
        raise InputError(f"{origin}: the manifest has no \"scenario\"; expected a scenario name "
                         "or file")
    overrides = row.get("overrides")
    if overrides is None and isinstance(row.get("params"), (dict, str)):
        overrides = row["params"]
    if isinstance(overrides, str):
        overrides = json.loads(overrides) if overrides.strip() else {}
    spec = {"scenario": scenario, "overrides": flat(overrides or {})}
    for key in ("seed", "scale", "days"):
        value = row.get(key)
        if value is not None and not (isinstance(value, float) and math.isnan(value)):
            spec[key] = int(value) if key in ("seed", "days") else float(value)
    return spec


def flat(overrides: dict) -> dict:
    """Overrides as model keywords: `{"mechanisms": {"households_per_grid": 800}}`,
    `{"mechanisms.households_per_grid": 800}` → `{"mechanisms__households_per_grid": 800}`."""
    out = {}
    for key, value in overrides.items():
        if key in SCHEMA and isinstance(value, dict):
            for name, v in value.items():
                if not (key == "run" and name in ("seed", "scale", "days")):
                    out[f"{key}__{name}"] = v
        else:
            out[key.replace(".", "__")] = value
    return out


def model_kwargs(spec: dict) -> dict:
    """`GovernanceModel` keyword arguments that rebuild the run of `spec`."""
    kwargs = dict(flat(spec.get("overrides") or {}))
    kwargs["scenario"] = spec.get("scenario")
    for key, arg in (("seed", "rng"), ("scale", "scale"), ("days", "days")):
        if spec.get(key) is not None:
            kwargs[arg] = spec[key]
    return kwargs


def build(spec: dict):
    """The model of the run of `spec`, ready to step."""
    from sim.model import GovernanceModel

    return GovernanceModel(**model_kwargs(spec))

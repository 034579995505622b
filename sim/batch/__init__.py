"""The batch engine (DESIGN §9): experiments of scenario variants x parameter sweeps x
replications with common random numbers, run through a concurrent.futures executor (local
processes or a Dask cluster) into a resumable result store.

    from sim.batch import load, run_batch, read
    experiment = load("funding-reform")          # experiments/funding-reform.toml, validated
    report = run_batch(experiment, "results/funding-reform", workers=2)
    summary = read("results/funding-reform", "summary")   # pandas, one row per run and class

Modules: `experiment` (files, validation, designs, seeds), `store` (the result folder),
`runner` (the worker function, executors, progress), `cli` (`shequ batch`). Imported lazily, so
that `shequ` starts quickly.
"""

import importlib

_EXPORTS = {
    "Experiment": "experiment", "Task": "experiment", "load": "experiment",
    "replication_seed": "experiment",
    "RunError": "runner", "RunResult": "runner", "rerun": "runner", "run_batch": "runner",
    "run_one": "runner",
    "Store": "store", "read": "store",
}
__all__ = list(_EXPORTS)


def __getattr__(name: str):
    if name in _EXPORTS:
        return getattr(importlib.import_module(f"sim.batch.{_EXPORTS[name]}"), name)
    raise AttributeError(f"module 'sim.batch' has no attribute '{name}'")

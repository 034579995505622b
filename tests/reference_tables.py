"""Fixed-seed runs whose tables must stay bit-identical while the model's code is made faster
(tests/test_reference.py): the summary, daily and communities tables and the collector's
city-wide series of each run, stored as Parquet in tests/data/reference/<run>/.

The stored tables were made by the model of commit 056cad3 (before the compiled kernels), with

    PYTHONPATH=<a checkout of 056cad3> python tests/reference_tables.py

from this repository's root (the script imports `sim` from PYTHONPATH). Re-make them only when a
change is meant to change the model's results, and say so in the commit.
"""

import sys
from pathlib import Path

HERE = Path(__file__).parent / "data" / "reference"

# name: GovernanceModel arguments. "city" is the full city (2,000,000 residents): a slow test.
RUNS = {
    "classified-1to100": dict(scenario="xining-classified", scale=0.01, rng=7, warmup_years=1,
                              days=60),
    "uniform-1to100": dict(scenario="xining-uniform", scale=0.01, rng=11, warmup_years=1,
                           days=30),
    "city": dict(scenario="xining-classified", scale=1.0, rng=3, warmup_years=0, days=5),
}


def tables(name: str) -> dict:
    """The run's tables, as pandas frames."""
    from sim import outputs
    from sim.model import GovernanceModel

    model = GovernanceModel(**RUNS[name]).run()
    return {"summary": outputs.summary(model), "daily": outputs.daily(model),
            "communities": outputs.communities(model),
            "collector": model.datacollector.get_model_vars_dataframe().reset_index()}


def main(names: list[str]) -> int:
    import sim

    print(f"sim from {Path(sim.__file__).parent}")
    for name in names or RUNS:
        folder = HERE / name
        folder.mkdir(parents=True, exist_ok=True)
        for table, frame in tables(name).items():
            frame.to_parquet(folder / f"{table}.parquet", index=False)
        print(f"{name}: written to {folder}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

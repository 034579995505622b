"""Fixed-seed runs whose tables must stay bit-identical while the model's code is made faster
(tests/test_reference.py): the summary, daily and communities tables and the collector's
city-wide series of each run, stored as Parquet in tests/data/reference/<run>/.

The stored tables were made by the model of commit 056cad3 (before the compiled kernels and
before communities could choose; sim.MODEL_VERSION 2026-11-30), with

    PYTHONPATH=<a checkout of 056cad3> python tests/reference_tables.py

from this repository's root (the script imports `sim` from PYTHONPATH; platform.json says on
what, its "model" set by hand for that commit, which had no MODEL_VERSION). Re-make them only
when a change is meant to change the model's results: bump sim.MODEL_VERSION, run the script
with this checkout's `sim`, and say so in the commit.
"""

import json
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
    # a meeting every third day, and a budget too tight for the cases (shortfall): the joint
    # meetings' and the spending plan's paths that communities' own choices replace
    "meetings-1to333": dict(scenario="xining-classified", scale=0.003, days=60, rng=11,
                            warmup_years=0, linkage_meeting_days=3),
    "tight-budget-1to333": dict(scenario="xining-uniform", scale=0.003, days=60, rng=5,
                                warmup_years=0, funding__scheme="uniform",
                                funding__uniform=20_000, funding__total=0),
}
# Which model made the stored tables (sim.MODEL_VERSION: a change of results re-makes the tables
# and bumps the version) and on what: numpy's and numba's versions and the CPU targets numpy
# dispatches to (its float64 exp differs in the last bits between AVX2 and AVX-512, and one bit
# can flip a draw). The tables are compared bit for bit only on the platform that made them.
PLATFORM = HERE / "platform.json"


def platform() -> dict:
    """What the tables' last bits depend on besides the model: library versions, CPU targets."""
    import numba
    import numpy

    try:
        from numpy._core._multiarray_umath import __cpu_dispatch__, __cpu_features__
    except ImportError:  # numpy 1
        from numpy.core._multiarray_umath import __cpu_dispatch__, __cpu_features__
    return {"numpy": numpy.__version__, "numba": numba.__version__,
            "dispatch": [t for t in __cpu_dispatch__ if __cpu_features__.get(t)]}


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
    made = {"model": getattr(sim, "MODEL_VERSION", None), **platform()}
    PLATFORM.write_text(json.dumps(made, indent=1) + "\n")
    print(f"made by {made}: {PLATFORM}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

"""Same scenario and seed, same tables, bit for bit: fixed-seed runs against the tables the model
made before its compiled kernels and before communities could choose (tests/reference_tables.py
says how they were made). A change meant to change the model's results bumps sim.MODEL_VERSION
and re-makes them; a change meant to make the model faster, or to add a verb it does not use by
default, must not.

The last bits of a run depend on the platform too (numpy's float64 exp differs between its AVX2
and AVX-512 code), so the tables are compared where they were made (tests/data/reference/
platform.json) and the test says so elsewhere; tests/test_kernels.py compares the compiled
kernels with the numpy they replaced on any platform."""

import json

import pandas as pd
import pytest

import reference_tables as ref
import sim

MADE = json.loads(ref.PLATFORM.read_text())


def check(name: str) -> None:
    here = ref.platform()
    if here != {k: v for k, v in MADE.items() if k != "model"}:
        pytest.skip(f"the reference tables were made on {MADE}, this is {here}: compared bit "
                    "for bit only where they were made")
    for table, frame in ref.tables(name).items():
        stored = pd.read_parquet(ref.HERE / name / f"{table}.parquet")
        pd.testing.assert_frame_equal(
            frame.reset_index(drop=True), stored, check_exact=True, obj=f"{name}/{table}")


def test_the_tables_were_made_by_this_model_version():
    assert MADE["model"] == sim.MODEL_VERSION, (
        "sim.MODEL_VERSION changed: re-make the reference tables with this model "
        "(python tests/reference_tables.py)")


@pytest.mark.parametrize("name", ["classified-1to100", "uniform-1to100", "meetings-1to333",
                                  "tight-budget-1to333"])
def test_small_city_tables_are_bit_identical(name):
    check(name)


@pytest.mark.slow
def test_full_city_tables_are_bit_identical():
    check("city")

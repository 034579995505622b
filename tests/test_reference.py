"""Same scenario and seed, same tables, bit for bit: fixed-seed runs against the tables the model
made before its compiled kernels (tests/reference_tables.py says how they were made). A change
meant to change the model's results re-makes them; a change meant to make it faster must not."""

import pandas as pd
import pytest

import reference_tables as ref


def check(name: str) -> None:
    for table, frame in ref.tables(name).items():
        stored = pd.read_parquet(ref.HERE / name / f"{table}.parquet")
        pd.testing.assert_frame_equal(frame.reset_index(drop=True), stored, check_exact=True,
                                      obj=f"{name}/{table}")


@pytest.mark.parametrize("name", ["classified-1to100", "uniform-1to100"])
def test_small_city_tables_are_bit_identical(name):
    check(name)


@pytest.mark.slow
def test_full_city_tables_are_bit_identical():
    check("city")

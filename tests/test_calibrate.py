"""The calibration's pieces, and a tiny end-to-end run that writes a loadable parameter file."""

import argparse
import tomllib

import numpy as np
import pytest

from analysis import calibrate
from sim.scenario import SCENARIO_DIR, load


def test_start_reads_the_scenario_and_overrides_round_trip():
    base = load("xining-classified").params
    x = calibrate.start(base)
    over = calibrate.overrides(x, base)
    assert over["behaviour"]["case_satisfaction_base"] == base["behaviour"]["case_satisfaction_base"]
    assert over["behaviour"]["channel_weight"] == base["behaviour"]["channel_weight"]
    assert over["behaviour"]["intractable_share"] == pytest.approx(base["behaviour"]["intractable_share"])
    doubled = calibrate.overrides(x * np.array([1, 1, 2, 1, 3]), base)
    assert doubled["behaviour"]["intractable_share"]["infrastructure"] == pytest.approx(
        2 * base["behaviour"]["intractable_share"]["infrastructure"])
    assert max(doubled["behaviour"]["hotline_direct"].values()) <= 1.0  # capped


def test_distance_is_zero_at_the_targets_and_counts_weights():
    at = {k: t.value for k, t in calibrate.TARGETS.items()}
    assert calibrate.distance(at) == 0
    off = dict(at, response_rate=at["response_rate"] + calibrate.TARGETS["response_rate"].weight)
    assert calibrate.distance(off) == pytest.approx(1.0)


def test_tiny_calibration_writes_a_new_scenario_and_a_report(tmp_path):
    shipped = (SCENARIO_DIR / "calibrated.toml").read_bytes()
    args = argparse.Namespace(scale=0.002, days=20, replications=2, evaluations=2,
                              verify_scale=0.002, verify_replications=2, workers=1,
                              out=tmp_path / "fit", replace_shipped=False)
    assert calibrate.run(args) == 0
    assert (SCENARIO_DIR / "calibrated.toml").read_bytes() == shipped  # not told to replace it
    fitted = tomllib.loads((args.out / "calibrated.toml").read_text())
    assert set(fitted["behaviour"]) >= {"case_satisfaction_base", "channel_weight"}
    child = args.out / "child.toml"
    child.write_text('extends = "calibrated.toml"\n')
    scenario = load(child)  # a valid scenario
    assert scenario["behaviour"]["case_satisfaction_base"] == fitted["behaviour"]["case_satisfaction_base"]
    report = (args.out / "calibration.md").read_text()
    for t in calibrate.TARGETS.values():
        assert t.label in report

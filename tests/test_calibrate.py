"""The calibration: its targets file, its pieces, a tiny end-to-end run, and (slow) the recovery
of known parameters from the model's own output."""

import argparse
import json
import math
import subprocess
import sys
import tomllib
from pathlib import Path

import numpy as np
import pytest

from analysis import calibrate
from analysis import targets as published
from analysis.search import Rounds
from sim.errors import InputError
from sim.scenario import SCENARIO_DIR, load

ROOT = Path(__file__).resolve().parent.parent


# ---- the targets file -------------------------------------------------------------------------
def test_every_published_figure_is_in_the_targets_file_with_a_role():
    figures = published.load()
    values = {round(t.value, 4) for t in figures.values()}
    # SEED-FACTS §6: the mechanism's rates and volume, and the 12345 hotline's day.
    for v in (0.977, 0.974, 0.957, 190_000, 843 + 56, round(425 / 843, 4), 418, 246, 56, 63, 43, 41):
        assert round(v, 4) in values, v
    roles = {t.role for t in figures.values()}
    assert roles == set(published.ROLES)
    fitted = published.with_role(figures, "fitted")
    assert len(fitted) > len(calibrate.PARAMETERS)  # more targets than parameters
    assert len(published.with_role(figures, "held_out")) >= 3
    assert all(t.uncertainty > 0 and t.source for t in fitted.values())
    assert figures["hotline_return_visits"].role == "default"  # sets return_visit_share


BAD_ROWS = [
    ("name,value\n", "expected the header"),
    ("x,0.9,0.01,share,fitted,response_rate,p,s,n\nx,0.9,0.01,share,fitted,response_rate,p,s,n\n",
     "row 3: the name 'x' appears twice"),
    ("x,abc,0.01,share,fitted,response_rate,p,s,n\n", "row 2 (x): value 'abc', expected a number"),
    ("x,0.9,,share,fitted,response_rate,p,s,n\n", "row 2 (x): uncertainty '', expected a number"),
    ("x,0.9,-1,share,fitted,response_rate,p,s,n\n", "uncertainty -1, expected a number > 0"),
    ("x,0.9,0.01,share,guessed,response_rate,p,s,n\n", "role 'guessed', expected one of"),
    ("x,0.9,0.01,share,fitted,happiness,p,s,n\n", "measure 'happiness', expected one of"),
    ("x,0.9,0.01,share,fitted,response_rate,p,,n\n", "row 2 (x): expected a source"),
    ("x,0.9,0.01,share,fitted\n", "row 2: expected 9 columns"),
    ("x,0.9,0.01,share,held_out,response_rate,p,s,n\n", "at least one row with role 'fitted'"),
]


@pytest.mark.parametrize("rows,message", BAD_ROWS)
def test_a_bad_targets_file_is_one_clear_message(tmp_path, rows, message):
    path = tmp_path / "targets.csv"
    header = "" if rows.startswith("name,") else ",".join(published.COLUMNS) + "\n"
    path.write_text(header + rows, encoding="utf-8")
    with pytest.raises(InputError, match="targets.csv") as e:
        published.load(path)
    assert message in str(e.value)


def test_calibrate_with_a_bad_targets_file_exits_2_and_writes_nothing(tmp_path):
    bad = tmp_path / "targets.csv"
    bad.write_text(",".join(published.COLUMNS) + "\nx,abc,1,share,fitted,response_rate,p,s,n\n")
    out = tmp_path / "fit"
    done = subprocess.run([sys.executable, "-m", "sim", "calibrate", "--targets", str(bad),
                           "--out", str(out)], capture_output=True, text=True, cwd=tmp_path,
                          check=False)
    assert done.returncode == 2, done.stderr
    assert "value 'abc', expected a number" in done.stderr and "Traceback" not in done.stderr
    assert not out.exists()


# ---- the pieces ---------------------------------------------------------------------------------
def test_start_reads_the_scenario_and_overrides_round_trip():
    base = load("xining-classified").params
    x = calibrate.start(base)
    over = calibrate.overrides(x, base)
    assert over["behaviour"]["case_satisfaction_base"] == base["behaviour"]["case_satisfaction_base"]
    assert "channel_weight" not in over["behaviour"]  # an assumption, not fitted
    assert over["behaviour"]["intractable_share"] == pytest.approx(base["behaviour"]["intractable_share"])
    doubled = calibrate.overrides(x * np.array([1, 1, 2, 3]), base)
    assert doubled["behaviour"]["intractable_share"]["infrastructure"] == pytest.approx(
        2 * base["behaviour"]["intractable_share"]["infrastructure"])
    assert max(doubled["behaviour"]["hotline_direct"].values()) <= 1.0  # capped


def test_the_fitted_parameters_are_those_the_odd_table_calls_fitted():
    from sim.parameters import FITTED

    assert [p.key for p in calibrate.PARAMETERS] == list(FITTED)


def test_distance_is_zero_at_the_targets_and_counts_uncertainty():
    targets = calibrate.fitted_targets()
    at = {t.measure: t.value for t in targets.values()}
    assert calibrate.distance(at, targets) == 0
    t = targets["response_rate"]
    off = dict(at, response_rate=t.value + t.uncertainty)
    assert calibrate.distance(off, targets) == pytest.approx(1.0)


@pytest.mark.parametrize("side,low,high,inside", [
    (0, 50, 70, True), (0, 70, 90, False), (0, 40, 60, False),
    (-1, 50, 200, True), (-1, 70, 200, False),  # simulated at most the published: low <= 63
    (+1, 10, 70, True), (+1, 10, 60, False),  # simulated at least the published: high >= 63
])
def test_held_out_checks_are_two_or_one_sided(side, low, high, inside):
    measure = {0: "hotline_calls_property", -1: "hotline_calls_other_max",
               1: "hotline_calls_dispute"}[side]
    t = published.Target("x", 63, 10, "calls/day", "held_out", measure, "", "s", "")
    assert t.side == side
    assert calibrate.within(t, low, high) is inside


# ---- end to end ---------------------------------------------------------------------------------
def test_tiny_calibration_writes_a_new_scenario_and_a_report(tmp_path):
    shipped = (SCENARIO_DIR / "calibrated.toml").read_bytes()
    args = argparse.Namespace(scale=0.002, days=20, replications=2, evaluations=5,
                              verify_scale=0.002, verify_replications=2, workers=1, draws=2,
                              warmup_years=0, targets=None, out=tmp_path / "fit",
                              results=tmp_path / "runs", replace_shipped=False)
    assert calibrate.run(args) == 0
    assert (SCENARIO_DIR / "calibrated.toml").read_bytes() == shipped  # not told to replace it
    fitted = tomllib.loads((args.out / "calibrated.toml").read_text())
    assert set(fitted["behaviour"]) == {"case_satisfaction_base", "intractable_share",
                                        "hotline_direct"}
    child = args.out / "child.toml"
    child.write_text('extends = "calibrated.toml"\n')
    scenario = load(child)  # a valid scenario
    assert scenario["behaviour"]["case_satisfaction_base"] == fitted["behaviour"]["case_satisfaction_base"]
    report = (args.out / "calibration.md").read_text()
    for name in published.load():
        assert f"`{name}`" in report, name  # every figure, whatever its role
    numbers = json.loads((args.out / "calibration.json").read_text())
    assert set(numbers["parameters"]) == {p.key for p in calibrate.PARAMETERS}
    assert numbers["dof"] == len(calibrate.fitted_targets()) - len(calibrate.PARAMETERS) > 0
    assert set(numbers["held_out"]) == set(published.with_role(published.load(), "held_out"))
    for check in numbers["check"].values():  # shares' intervals stay in [0, 1]
        if check["target"] < 1:
            assert 0 <= check["low"] <= check["high"] <= 1


@pytest.mark.slow
def test_the_fit_recovers_known_parameters_from_the_models_own_output(tmp_path):
    """Synthetic truth: the fitted targets are the model's own output at known parameters (the
    same seeds), and the fit, started from the shipped values, finds them within its reported
    95 % intervals."""
    base = load(calibrate.SCENARIO).params
    truth = calibrate.start(base) * np.array([1.0, 1.25, 1.4, 0.85])
    truth[0] = base["behaviour"]["case_satisfaction_base"] + 0.6
    fixed = {"run": {"warmup_years": 1}}
    from sim.batch.runner import executor_for
    from sim.command import OutputFolder

    with OutputFolder(tmp_path / "out", "calibrate") as folder, executor_for(2) as executor:
        rounds = Rounds(tmp_path / "runs", folder, "calibrate", calibrate.SCENARIO, scale=0.01,
                        days=90, seed=calibrate.SEEDS_FROM, executor=executor, progress=False)
        sim = calibrate.Simulator(rounds, 3, fixed=fixed)
        made = calibrate.mean_of(sim.runs(calibrate.overrides(truth, base)))
        targets = {k: published.Target(k, made[t.measure], t.uncertainty, t.unit, "fitted",
                                       t.measure, "", "synthetic", "")
                   for k, t in calibrate.fitted_targets().items()}
        fit = calibrate.Fit(sim, base, targets, log=lambda *_: None)
        fit.run(40)
        spread = calibrate.uncertainty(fit)
    for i, p in enumerate(calibrate.PARAMETERS):
        assert spread["low"][i] <= truth[i] <= spread["high"][i], (p.key, truth[i], fit.best["x"][i],
                                                                  spread["se"][i])
    assert fit.best["distance"] < 1  # the model's own output is within its uncertainty
    assert math.isfinite(spread["j"])


def test_an_interrupted_fit_resumes_where_it_stopped(tmp_path, monkeypatch, capsys):
    """Killed during its fourth evaluation, the same command on the same folders takes the first
    three from the result store without running them again and ends with the fit of an
    uninterrupted run."""
    def tiny(name):
        return argparse.Namespace(scale=0.002, days=20, replications=2, evaluations=5,
                                  verify_scale=0.002, verify_replications=1, workers=1, draws=1,
                                  warmup_years=0, targets=None, out=tmp_path / name,
                                  results=tmp_path / f"{name}-runs", replace_shipped=False)

    assert calibrate.run(tiny("whole")) == 0
    runs, calls = Rounds.run, []

    def counted(self, label, candidates, fail_at=None, **kw):
        calls.append(label)
        if fail_at is not None and len(calls) == fail_at:
            raise KeyboardInterrupt
        return runs(self, label, candidates, **kw)

    monkeypatch.setattr(Rounds, "run", lambda self, *a, **kw: counted(self, *a, fail_at=4, **kw))
    with pytest.raises(KeyboardInterrupt):
        calibrate.run(tiny("fit"))
    assert len(list((tmp_path / "fit-runs" / "summary").glob("*.parquet"))) == 3 * 2
    capsys.readouterr()
    monkeypatch.setattr(Rounds, "run", lambda self, *a, **kw: counted(self, *a, **kw))
    assert calibrate.run(tiny("fit")) == 0
    out = capsys.readouterr().out
    assert out.count("from the result store") == 3
    whole = json.loads((tmp_path / "whole" / "calibration.json").read_text())
    resumed = json.loads((tmp_path / "fit" / "calibration.json").read_text())
    assert resumed["evaluations"] == whole["evaluations"]
    for name in ("calibrated.toml",):
        assert (tmp_path / "fit" / name).read_text() == (tmp_path / "whole" / name).read_text()
    assert resumed["parameters"] == whole["parameters"]


def test_a_round_gives_the_moments_of_a_run_made_directly(tmp_path):
    """The search layer changes how runs are made, not what they give: the batch engine's run of
    a candidate has the moments of the model run directly with the same seed."""
    from sim.batch.runner import executor_for
    from sim.command import OutputFolder

    base = load(calibrate.SCENARIO).params
    over = calibrate.merged({"run": {"warmup_years": 0}},
                            calibrate.overrides(calibrate.start(base) * 1.1, base))
    with OutputFolder(tmp_path / "out", "calibrate") as folder, executor_for(0) as executor:
        rounds = Rounds(tmp_path / "runs", folder, "calibrate", calibrate.SCENARIO, scale=0.002,
                        days=20, seed=calibrate.SEEDS_FROM, executor=executor, progress=False)
        sim = calibrate.Simulator(rounds, 2)
        through = sim.runs(over)
    direct = [calibrate.moments((over, 0.002, 20, seed)) for seed in sim.seeds]
    assert through == direct


@pytest.mark.parametrize("simulated, agrees", [(0.975, True), (0.965, True), (0.99, False)])
def test_verification_agrees_within_the_published_uncertainty_and_the_seeds(simulated, agrees):
    """Resolution 97.4 % ± 0.5 (one sd): a mean 0.1 points off agrees, one 1.6 points off does
    not, whatever the seeds' own (tiny) interval says."""
    t = calibrate.fitted_targets()["resolution_rate"]

    class Runs:  # four replications close together about `simulated`
        def runs(self, over):
            return [{t.measure: simulated + d} for d in (-1e-4, 0.0, 0.0, 1e-4)]

    check, _ = calibrate.verify(Runs(), {}, {"resolution_rate": t})
    c = check["resolution_rate"]
    assert c["agrees"] is agrees
    assert c["allowed"] == pytest.approx(1.96 * math.hypot(np.std([-1e-4, 0, 0, 1e-4], ddof=1) / 2,
                                                            t.uncertainty))
    assert c["inside"] is False  # the seeds' interval alone misses the published figure

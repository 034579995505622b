"""Tests of the sensitivity analysis (analysis/sensitivity.py) and of the batch engine's
sensitivity designs (sim/batch/experiment.py: "saltelli", "morris"): known answers on synthetic
functions, the designs' sizes and row order, one tiny end-to-end `shequ sensitivity`, and bad
input as one clear line."""

import contextlib
import io
import math
import shutil

import numpy as np
import pandas as pd
import pytest

from analysis import sensitivity
from analysis.sensitivity import Design, indices, morris_indices, sobol_indices
from sim.batch.experiment import Sweep, load
from sim.errors import InputError

from test_batch import DATA  # tests/data/experiments (tests/ is on sys.path)

TINY = DATA / "sensitivity-tiny.toml"  # saltelli, 2 parameters, N = 4: 16 runs
TINY_MORRIS = DATA / "morris-tiny.toml"  # morris, 2 parameters, 3 trajectories: 9 runs

# Ishigami (a = 7, b = 0.1) on [-pi, pi]^3: the analytic indices (Saltelli et al. 2008, §4.9;
# SALib's test_functions.Ishigami). V = a^2/8 + b pi^4/5 + b^2 pi^8/18 + 1/2.
A, B = 7.0, 0.1
V = A**2 / 8 + B * math.pi**4 / 5 + B**2 * math.pi**8 / 18 + 0.5
V1 = 0.5 * (1 + B * math.pi**4 / 5) ** 2
V2 = A**2 / 8
V13 = B**2 * math.pi**8 / 18 - B**2 * math.pi**8 / 50
ISHIGAMI_S1 = (V1 / V, V2 / V, 0.0)  # 0.314, 0.442, 0
ISHIGAMI_ST = ((V1 + V13) / V, V2 / V, V13 / V)  # 0.558, 0.442, 0.244
TOLERANCE = 0.05  # |estimate - truth| at N = 2,048 (errors 0.001-0.015 over five seeds;
#                   the bootstrap half-widths are 0.03-0.07)


def ishigami(x: np.ndarray) -> np.ndarray:
    return np.sin(x[:, 0]) + A * np.sin(x[:, 1]) ** 2 + B * x[:, 2] ** 4 * np.sin(x[:, 0])


def synthetic_rows(design: str, keys, ranges, samples, f, entropy=1) -> pd.DataFrame:
    """A stand-in for a result folder's summary rows: the engine's design points (the sweep's
    row order is the point index), f evaluated at each, rows shuffled as a glob read may be."""
    sweep = Sweep(design, tuple(keys), ranges=ranges, samples=samples)
    x = np.array(sweep.points(entropy), float)
    rows = pd.DataFrame(x, columns=list(keys)).assign(point=np.arange(len(x)), replication=0,
                                                      y=f(x))
    return rows.sample(frac=1, random_state=3)


def test_the_analytic_values_are_the_known_ones():
    assert np.allclose(ISHIGAMI_S1, (0.314, 0.442, 0.0), atol=5e-4)
    assert np.allclose(ISHIGAMI_ST, (0.558, 0.442, 0.244), atol=5e-4)


def test_sobol_indices_of_ishigami_within_tolerance():
    keys = ("x1", "x2", "x3")
    ranges = {k: (-math.pi, math.pi) for k in keys}
    rows = synthetic_rows("saltelli", keys, ranges, 2048, ishigami)
    assert len(rows) == 2048 * (3 + 2)
    table = indices(rows, Design("saltelli", keys, ranges, 2048), ["y"])
    assert list(table["parameter"]) == list(keys)
    for col, truth in (("S1", ISHIGAMI_S1), ("ST", ISHIGAMI_ST)):
        truth = np.array(truth)
        assert np.all(np.abs(table[col].to_numpy() - truth) < TOLERANCE), table
        # with this seed the 95 % bootstrap interval holds the truth (it would ~95 % of seeds)
        assert np.all((table[f"{col}_low"].to_numpy() <= truth)
                      & (truth <= table[f"{col}_high"].to_numpy())), table
    assert np.all(table["S1_conf"] < 0.08) and np.all(table["ST_conf"] < 0.08)


def test_sobol_indices_need_the_saltelli_row_count_and_a_varying_output():
    with pytest.raises(InputError, match="N x \\(D \\+ 2\\)"):
        sobol_indices(np.ones(7), ["a", "b"])
    flat = sobol_indices(np.ones(8), ["a", "b"])  # a constant output: nothing to share out
    assert flat["S1"].isna().all() and flat["ST"].isna().all()


def test_morris_ranks_an_irrelevant_parameter_last_with_mu_star_zero():
    keys = ("strong", "bent", "irrelevant", "count")
    ranges = {"strong": (0.0, 2.0), "bent": (-1.0, 1.0), "irrelevant": (10.0, 20.0),
              "count": (100, 400)}

    def f(x):  # linear in strong, curved in bent, a little linear in count; not irrelevant
        return 3 * x[:, 0] + x[:, 1] ** 2 + 0.001 * x[:, 3]

    rows = synthetic_rows("morris", keys, ranges, 30, f)
    table = indices(rows, Design("morris", keys, ranges, 30), ["y"]).set_index("parameter")
    assert table["mu_star"].idxmin() == "irrelevant"
    assert table.loc["irrelevant", "mu_star"] == pytest.approx(0, abs=1e-12)
    assert table.loc["irrelevant", "sigma"] == pytest.approx(0, abs=1e-12)
    # a linear effect is its slope over the whole range, the same at every step: sigma 0
    assert table.loc["strong", "mu_star"] == pytest.approx(3 * 2.0)
    assert table.loc["strong", "sigma"] == pytest.approx(0, abs=1e-9)
    assert table.loc["count", "mu_star"] == pytest.approx(0.001 * 300, rel=0.01)  # rounded
    assert table.loc["bent", "sigma"] > 0  # curvature shows as spread
    assert list(table["mu_star"].rank(ascending=False).astype(int)) == [1, 2, 4, 3]


def test_morris_indices_read_the_steps_from_the_points():
    problem = {"num_vars": 2, "names": ["a", "b"], "bounds": [[0, 3], [0, 30]]}
    x = np.array([[0, 0], [2, 0], [2, 20], [1, 10], [1, 30], [3, 30]], float)  # 2 trajectories
    y = x[:, 0] - 0.1 * x[:, 1]  # effects over the whole range: +3 and -3
    table = morris_indices(x, y, problem, resamples=50).set_index("parameter")
    assert table.loc["a", "mu"] == pytest.approx(3) and table.loc["b", "mu"] == pytest.approx(-3)
    assert table.loc["b", "mu_star"] == pytest.approx(3)


# ---- the designs in the batch engine --------------------------------------------------------
def test_saltelli_experiment_has_n_times_d_plus_2_points_in_salib_order():
    exp = load(TINY).resolve()
    n, keys = exp.sweep.samples, exp.keys
    assert len(exp.configs) == n * (len(keys) + 2) == 16
    assert [c.point for c in exp.configs] == list(range(16))
    values = np.array([c.values for c in exp.configs], float)
    for block in values.reshape(n, len(keys) + 2, len(keys)):
        a, b = block[0], block[-1]  # rows A ... B, and A with column j from B in between
        for j in range(len(keys)):
            expected = a.copy()
            expected[j] = b[j]
            assert np.array_equal(block[1 + j], expected)
    grid = [c.scenario["mechanisms"]["households_per_grid"] for c in exp.configs]
    assert all(isinstance(g, int) and 300 <= g <= 800 for g in grid)  # rounded, in range
    assert [c.values for c in load(TINY).resolve().configs] == [c.values for c in exp.configs]


def test_morris_experiment_has_trajectories_of_one_step_at_a_time():
    exp = load(TINY_MORRIS).resolve()
    d = len(exp.keys)
    assert len(exp.configs) == exp.sweep.samples * (d + 1) == 9
    lo = np.array([exp.sweep.ranges[k][0] for k in exp.keys], float)
    hi = np.array([exp.sweep.ranges[k][1] for k in exp.keys], float)
    values = (np.array([c.values for c in exp.configs], float) - lo) / (hi - lo)
    for trajectory in values.reshape(exp.sweep.samples, d + 1, d):
        steps = np.diff(trajectory, axis=0)
        assert list((np.abs(steps) > 1e-9).sum(axis=1)) == [1] * d  # one parameter a step
        assert sorted(np.abs(steps).argmax(axis=1)) == list(range(d))  # each once
        assert np.allclose(np.abs(steps).max(axis=1), 2 / 3, atol=0.01)  # 2/3 of the range


def test_designs_are_deterministic_from_the_seed():
    def points(design, samples, entropy, seed=None):
        return Sweep(design, ("a", "b"), ranges={"a": (0.0, 1.0), "b": (1, 9)},
                     samples=samples, seed=seed).points(entropy)

    for design, samples in (("saltelli", 8), ("morris", 5)):
        assert points(design, samples, 1) == points(design, samples, 1)
        assert points(design, samples, 1) != points(design, samples, 2)
        assert points(design, samples, 1, seed=4) == points(design, samples, 2, seed=4)


@pytest.mark.parametrize("design, samples, expected", [
    ("saltelli", 48, "power of 2"),
    ("saltelli", 1, "whole number in [2,"),
    ("morris", 1, "whole number in [2,"),
    ("saltelli", 32768, "at most 99,999 points"),
])
def test_bad_sensitivity_sweeps_are_one_clear_line(tmp_path, design, samples, expected):
    path = tmp_path / "bad.toml"
    path.write_text(TINY.read_text().replace('design = "saltelli"', f'design = "{design}"')
                    .replace("samples = 4", f"samples = {samples}"), encoding="utf-8")
    with pytest.raises(InputError) as e:
        load(path)
    assert str(path) in str(e.value) and "sweep.samples" in str(e.value)
    assert expected in str(e.value)


# ---- the command, end to end ----------------------------------------------------------------
@pytest.fixture(scope="module")
def tiny(tmp_path_factory):
    """The tiny saltelli experiment run once by `shequ sensitivity`: (result folder, output)."""
    results = tmp_path_factory.mktemp("sensitivity") / "results"
    text = io.StringIO()
    with contextlib.redirect_stdout(text):
        code = sensitivity.main([str(TINY), "--workers", "0", "--results", str(results),
                                 "--no-progress"])
    assert code == 0
    return results, text.getvalue()


def test_sensitivity_end_to_end_writes_table_csv_and_plot(tiny, tmp_path, capsys):
    results, out = tiny
    assert "16 runs" in out and "Sobol indices" in out and "response_rate" in out
    table = pd.read_csv(results / "sensitivity.csv")
    assert len(table) == 3 * 2  # three outputs x two parameters
    assert {"variant", "class", "output", "parameter", "S1", "S1_low", "S1_high", "ST",
            "ST_low", "ST_high"} <= set(table.columns)
    assert set(table["parameter"]) == {"behaviour.visit_disclosure", "mechanisms.households_per_grid"}
    assert (results / "sensitivity.png").stat().st_size > 10_000
    # again: every run is finished, nothing runs, the same indices come out (into --out)
    assert sensitivity.main([str(TINY), "--workers", "0", "--results", str(results),
                             "--out", str(tmp_path / "again")]) == 0
    assert "nothing to run" in capsys.readouterr().out
    pd.testing.assert_frame_equal(pd.read_csv(tmp_path / "again" / "sensitivity.csv"), table)
    assert (tmp_path / "again" / "sensitivity.png").is_file()


def test_morris_end_to_end_for_a_class(tmp_path, capsys):
    results = tmp_path / "results"
    assert sensitivity.main([str(TINY_MORRIS), "--workers", "0", "--results", str(results),
                             "--no-progress", "--outputs", "mean_trust,response_rate",
                             "--class", "B"]) == 0
    assert "Morris screening" in capsys.readouterr().out
    table = pd.read_csv(results / "sensitivity.csv")
    assert list(table["output"].unique()) == ["mean_trust", "response_rate"]
    assert set(table["class"]) == {"B"} and (table["mu_star"] >= 0).all()
    assert (results / "sensitivity.png").is_file()


@pytest.mark.parametrize("argv, expected", [
    (["--outputs", "response_rate,no_such_column"], 'unknown output column "no_such_column"'),
    (["--outputs", "seed"], 'unknown output column "seed"'),
    (["--outputs", ","], "--outputs: expected a comma-separated list"),
    (["--class", "E"], "--class E: expected one of A, B, C, D, city"),
])
def test_bad_command_input_is_one_line_and_runs_nothing(tmp_path, capsys, argv, expected):
    results = tmp_path / "results"
    with pytest.raises(SystemExit) if argv[1] == "," else contextlib.nullcontext():
        code = sensitivity.main([str(TINY), "--workers", "0", "--results", str(results), *argv])
        assert code == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("shequ: error: ")
    assert expected in err[0] and "expected" in err[0]
    assert not results.exists()


def test_an_experiment_without_a_sensitivity_design_is_refused(tmp_path, capsys):
    code = sensitivity.main([str(DATA / "sweep.toml"), "--results", str(tmp_path / "r")])
    err = capsys.readouterr().err.strip()
    assert code == 2 and len(err.splitlines()) == 1
    assert 'design = "saltelli"' in err and 'got design = "factorial"' in err
    code = sensitivity.main([str(DATA / "small.toml"), "--results", str(tmp_path / "r")])
    assert code == 2 and "got no [sweep]" in capsys.readouterr().err
    assert not (tmp_path / "r").exists()


def test_missing_results_are_named(tiny, tmp_path):
    with pytest.raises(InputError, match="missing results.*experiment.json"):
        sensitivity.analyse(tmp_path)
    results = tmp_path / "results"
    shutil.copytree(tiny[0], results)
    (results / "manifest" / "xining-classified.p00005.r00000.parquet").unlink()  # not finished
    with pytest.raises(InputError, match="missing results: 1 of 16 runs.*point 5 replication 0"):
        sensitivity.analyse(results)
    with pytest.raises(InputError, match="missing results: 17 of 32"):
        sensitivity.analyse(results, replications=2)
    with pytest.raises(InputError, match='unknown output column "nope"'):
        sensitivity.analyse(tiny[0], outputs=["nope"])


def test_shequ_has_the_subcommand():
    from sim import cli

    try:
        cli.main(["sensitivity", "--help"])
    except SystemExit as e:  # --help exits 0; an unknown subcommand exits 2
        if e.code != 0:
            pytest.skip("`shequ sensitivity` is not yet wired into sim/cli.py")


def test_correlated_base_columns_are_reported():
    # the scrambled Sobol' sequence of this seed pairs column 1 of A with a correlated column
    # of B at N = 64, D = 6 (r = 0.38): the linear function's indices come out biased
    keys = tuple(f"k{i}" for i in range(6))
    ranges = {k: (0.0, 1.0) for k in keys}
    design = Design("saltelli", keys, ranges, 64)
    sweep = Sweep("saltelli", keys, ranges=ranges, samples=64)
    x = np.array(sweep.unit_sample(np.random.default_rng(1)))
    notes = sensitivity.correlated_columns(x, design)
    assert len(notes) == 1 and notes[0].startswith("k1:") and "correlated" in notes[0]
    assert sensitivity.correlated_columns(np.array(sweep.points(20240921)), design) == []


def test_a_result_folder_of_other_runs_is_refused_naming_results(tiny, tmp_path, capsys):
    other = tmp_path / "sensitivity-tiny.toml"  # the same experiment with another seed
    other.write_text(TINY.read_text().replace("seed = 11", "seed = 12"), encoding="utf-8")
    results = tmp_path / "results"
    shutil.copytree(tiny[0], results)
    assert sensitivity.main([str(other), "--workers", "0", "--results", str(results)]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith(f"shequ: error: --results {results}: expected results made with seed 12")


def test_in_chinese_the_table_and_figure_name_each_output_by_its_label(tiny, tmp_path, capsys):
    results, _ = tiny
    assert sensitivity.main([str(TINY), "--workers", "0", "--results", str(results),
                             "--out", str(tmp_path / "zh"), "--lang", "zh"]) == 0
    out = capsys.readouterr().out
    assert "参数" in out and "及时响应率（" in out and "response_rate" not in out.split("参数")[0]
    assert (tmp_path / "zh" / "sensitivity.png").stat().st_size > 10_000

"""Tests of experiment files (sim/batch/experiment.py): validation with one clear line and nothing
written, the sweep designs, the seeds (common random numbers) and the run ids. Nothing here runs
the model, except the tiny city build that checks a config's funding — and, at the end, small
batches of a CSV city: fingerprinted by its contents, resumed and re-run from another working
folder, and run on a Dask cluster whose workers cannot see the file."""

import hashlib
import time

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings, strategies as st

from sim.batch import cli, rerun, run_batch
from sim.batch.experiment import (
    EXPERIMENT_DIR, MAX_RUNS, Sweep, load, replication_seed, run_id, safe_name,
    shipped_experiments,
)
from sim.batch.store import MANIFEST, Store, read_parts
from sim.errors import InputError
from sim.model import seed_of
from sim.scenario import SCENARIO_DIR

from test_batch import DATA, SMALL, SWEEP  # the shared test data (tests/ is on sys.path)

BAD = DATA / "bad"


@pytest.mark.parametrize("name, key", [
    ("unknown-key.toml", "replicatons"),
    ("missing-replications.toml", "replications"),
    ("replications-zero.toml", "replications"),
    ("unknown-scenario.toml", "scenarios[1]"),
    ("both-scenarios-and-variants.toml", "scenarios"),
    ("duplicate-variant.toml", "variants"),
    ("bad-keep.toml", "keep"),
    ("days-out-of-range.toml", "days"),
    ("set-unknown-key.toml", "mechanisms.households_per_grdi"),
    ("set-run-seed.toml", "set.run.seed"),
    ("variant-set-wrong-type.toml", "mechanisms.households_per_grid"),
    ("sweep-unknown-parameter.toml", "sweep.values.mechanisms.households_per_grit"),
    ("sweep-value-out-of-range.toml", "mechanisms.households_per_grid"),
    ("sweep-table-parameter.toml", "sweep.values.funding.by_class"),
    ("sweep-total-does-not-add-up.toml", "funding.total"),
    ("sweep-sobol-not-power-of-2.toml", "sweep.samples"),
    ("sweep-range-reversed.toml", "sweep.ranges.mechanisms.households_per_grid"),
    ("sweep-range-on-switch.toml", "sweep.ranges.mechanisms.four_party_linkage"),
    ("sweep-values-for-lhs.toml", "sweep.values"),
    ("sweep-bad-design.toml", "sweep.design"),
    ("not-toml.toml", "line 2"),
    ("sweep-run-seed.toml", "sweep.values.run.seed"),
    ("sweep-two-spellings.toml", "sweep.values.mechanisms.households_per_grid"),
    ("set-two-spellings.toml", "set.mechanisms.households_per_grid"),
    ("too-many-runs.toml", "replications"),
    ("replications-huge.toml", "replications"),
])
def test_bad_file_one_clear_line_nothing_written(tmp_path, capsys, name, key):
    out = tmp_path / "results"
    code = cli.main([str(BAD / name), "--out", str(out), "--workers", "0", "--no-progress"])
    captured = capsys.readouterr()
    assert code == 2
    lines = captured.err.strip().splitlines()
    assert len(lines) == 1, captured.err
    assert lines[0].startswith("shequ: error: ") and "Traceback" not in captured.err
    assert name in lines[0] and key in lines[0] and "expected" in lines[0], lines[0]
    assert captured.out == ""
    assert not out.exists()


def test_cli_usage_errors(tmp_path, capsys):
    assert cli.main([str(SMALL), "--workers", "2", "--cluster", "tcp://127.0.0.1:1",
                     "--out", str(tmp_path / "r")]) == 2
    assert "not both" in capsys.readouterr().err
    assert cli.main(["no-such-experiment", "--out", str(tmp_path / "r")]) == 2
    assert "no such experiment file" in capsys.readouterr().err
    assert cli.main([str(SMALL), "--resume", "--out", str(tmp_path / "r")]) == 2
    assert "--resume" in capsys.readouterr().err
    assert not (tmp_path / "r").exists()


@pytest.mark.parametrize("name", shipped_experiments())
def test_shipped_experiment_is_valid(name, capsys):
    assert cli.main([name, "--check"]) == 0
    out = capsys.readouterr().out
    assert name in out and "runs" in out


def test_funding_reform_and_the_b_funding_sweep_are_shipped():
    reform = load("funding-reform").resolve()
    assert [v for v, _ in reform.variants] == ["xining-uniform", "xining-classified"]
    assert reform.replications == 30 and reform.n_runs == 60
    sweep = load("b-funding-grid-size").resolve()
    assert set(sweep.keys) == {"funding.by_class.B", "mechanisms.households_per_grid"}
    assert sweep.n_runs == 5 * 4 * 10
    assert all(c.scenario["funding"]["total"] == 0 for c in sweep.configs)
    assert (EXPERIMENT_DIR / "funding-reform.toml").is_file()


def test_days_scale_and_set_override_the_scenarios():
    exp = load(SWEEP).resolve()
    for c in exp.configs:
        run = c.scenario["run"]
        assert (run["days"], run["scale"]) == (20, 0.002)
        b, grid = c.values
        assert c.scenario["funding"]["by_class"]["B"] == b
        assert c.scenario["mechanisms"]["households_per_grid"] == grid
        assert isinstance(grid, int) and isinstance(b, int)
    assert [c.values for c in exp.configs] == [(150_000, 300), (150_000, 800), (300_000, 300),
                                               (300_000, 800)]
    small = load(SMALL).resolve()
    again = dict(small.variants)["uniform-again"]
    assert again.params == dict(small.variants)["uniform"].params  # the same world, named apart


def test_paths_relative_to_the_experiment_file(tmp_path):
    scenario = tmp_path / "sub" / "grid.toml"
    scenario.parent.mkdir()
    scenario.write_text(f'extends = "{SCENARIO_DIR / "xining-classified.toml"}"\n'
                        'name = "grid-300"\n[mechanisms]\nhouseholds_per_grid = 300\n')
    exp_file = tmp_path / "exp.toml"
    exp_file.write_text('scenarios = ["sub/grid.toml", "xining-uniform"]\nreplications = 1\n')
    exp = load(exp_file)
    assert [v for v, _ in exp.variants] == ["grid-300", "xining-uniform"]
    assert exp.variants[0][1]["mechanisms"]["households_per_grid"] == 300
    assert exp.name == "exp"


# ---- designs --------------------------------------------------------------------------------
def sweep_of(design, samples=16, seed=None):
    return Sweep(design, ("funding.by_class.B", "behaviour.visit_disclosure"),
                 ranges={"funding.by_class.B": (100_000, 400_000),
                         "behaviour.visit_disclosure": (0.1, 0.8)}, samples=samples,
                 seed=seed)


@pytest.mark.parametrize("design", ["latin_hypercube", "sobol"])
def test_sampled_designs_in_range_typed_and_reproducible(design):
    points = sweep_of(design).points(entropy=99)
    assert len(points) == 16
    b = np.array([p[0] for p in points])
    rate = np.array([p[1] for p in points])
    assert all(isinstance(p[0], int) and isinstance(p[1], float) for p in points)
    assert b.min() >= 100_000 and b.max() <= 400_000
    assert rate.min() >= 0.1 and rate.max() <= 0.8
    assert sweep_of(design).points(entropy=99) == points  # the same seed, the same points
    assert sweep_of(design).points(entropy=100) != points
    assert sweep_of(design, seed=5).points(entropy=99) == sweep_of(design, seed=5).points(1)
    if design == "latin_hypercube":  # one point in each of the 16 strata of each axis
        strata = np.floor((rate - 0.1) / 0.7 * 16).astype(int)
        assert sorted(strata) == list(range(16))


def test_lhs_experiment_resolves_within_ranges():
    exp = load("b-funding-grid-size-lhs").resolve()
    assert len(exp.configs) == 64
    grids = [c.scenario["mechanisms"]["households_per_grid"] for c in exp.configs]
    assert min(grids) >= 300 and max(grids) <= 800 and all(isinstance(g, int) for g in grids)


# ---- seeds and run ids ----------------------------------------------------------------------
def test_replication_seeds_are_spawned_children_shared_by_every_config():
    exp = load(SMALL).resolve()
    root = np.random.SeedSequence(exp.entropy)
    children = root.spawn(exp.replications)
    tasks = list(exp.tasks())
    for task in tasks:
        assert task.seed == seed_of(children[task.replication])  # as the model reads a SeedSequence
    by_rep = {}
    for task in tasks:
        by_rep.setdefault(task.replication, set()).add(task.seed)
    assert all(len(s) == 1 for s in by_rep.values())  # common random numbers
    assert len({next(iter(s)) for s in by_rep.values()}) == exp.replications  # distinct reps
    assert [t.replication for t in tasks] == sorted(t.replication for t in tasks)  # reps in order


@settings(max_examples=60, deadline=None)
@given(entropy=st.integers(0, 2**63 - 1), r=st.integers(0, 5000), extra=st.integers(1, 100))
def test_a_replication_seed_does_not_depend_on_how_many_there_are(entropy, r, extra):
    seeds = np.random.SeedSequence(entropy).spawn(r + extra)
    assert replication_seed(entropy, r) == seed_of(seeds[r])
    assert 0 <= replication_seed(entropy, r) < 2**63


@settings(max_examples=60, deadline=None)
@given(names=st.lists(st.text(min_size=1, max_size=12), min_size=1, max_size=4, unique=True),
       point=st.integers(0, 99_999), rep=st.integers(0, 99_999))
def test_run_ids_are_stable_file_names(names, point, rep):
    for name in names:
        rid = run_id(f"{safe_name(name)}.p{point:05d}", rep)
        assert rid == run_id(f"{safe_name(name)}.p{point:05d}", rep)
        assert "/" not in rid and "\\" not in rid and not rid.startswith(".")
        prefix, _, r = rid.rpartition(".r")
        assert int(r) == rep and prefix.endswith(f".p{point:05d}")


def test_without_a_seed_fresh_entropy_is_drawn(tmp_path):
    exp_file = tmp_path / "exp.toml"
    exp_file.write_text('scenarios = ["xining-uniform"]\nreplications = 2\n')
    a, b = load(exp_file).resolve(), load(exp_file).resolve()
    assert a.entropy != b.entropy
    assert load(exp_file).resolve(entropy=a.entropy).fingerprint() == a.fingerprint()
    with pytest.raises(InputError):
        load(tmp_path / "missing.toml")


# ---- sizes, spellings and seeds ---------------------------------------------------------------
def write(folder, text, name="exp.toml"):
    path = folder / name
    path.write_text(text)
    return path


@pytest.mark.parametrize("variants, replications, sweep, product", [
    (2, 99_999, 'design = "latin_hypercube"\nsamples = 99_999\n'
                'ranges = { "mechanisms.households_per_grid" = [300, 800] }',
     "2 x 99,999 x 99,999"),
    (11, 99_999, "", "11 x 1 x 99,999"),
    (2, 10, "values = { mechanisms.households_per_grid = ["
            + ", ".join(map(str, range(10, 60_010))) + "] }", "2 x 60,000 x 10"),
])
def test_too_many_runs_refused_at_once(tmp_path, variants, replications, sweep, product):
    """Variants x points x replications is capped, and refused before any scenario is loaded,
    point sampled or value checked (at 250 us a value, 60,000 values would take 15 s)."""
    names = ["xining-uniform", "xining-classified"] if variants == 2 else ["xining-uniform"] * 11
    text = (f"scenarios = {names}\nreplications = {replications}\n".replace("'", '"')
            + (f"[sweep]\n{sweep}\n" if sweep else ""))
    start = time.perf_counter()
    with pytest.raises(InputError, match=f"at most {MAX_RUNS:,} runs.*{product}"):
        load(write(tmp_path, text))
    assert time.perf_counter() - start < 2


def test_two_spellings_of_one_key_refused_and_one_accepted(tmp_path):
    base = 'scenarios = ["xining-uniform"]\nreplications = 1\n'
    for table in ('[sweep]\nvalues = { "funding.by_class.B" = [1], funding.by_class.B = [2] }',
                  '[sweep]\nvalues = { "funding.by_class.B" = [1], funding = { by_class = '
                  '{ B = [2] } } }',
                  '[set]\n"run.days" = 5\nrun.days = 6',
                  '[set]\n"run" = 5\n"run.days" = 6'):
        with pytest.raises(InputError, match="expected each parameter once|value or a table"):
            load(write(tmp_path, base + table))
    quoted = load(write(tmp_path, base + '[set]\n"mechanisms.households_per_grid" = 300\n'))
    assert quoted.variants[0][1]["mechanisms"]["households_per_grid"] == 300


def test_drawn_entropy_is_a_valid_seed(tmp_path):
    """The advice printed for an experiment without a seed, `seed = N`, must load."""
    path = write(tmp_path, 'scenarios = ["xining-uniform"]\nreplications = 1\n')
    drawn = [load(path).resolve().entropy for _ in range(3)]
    assert all(0 <= e <= 2**63 - 1 for e in drawn) and len(set(drawn)) == 3
    assert max(drawn) > 2**32  # from the whole range, not a small one
    again = load(write(tmp_path, path.read_text() + f"seed = {drawn[0]}\n", "seeded.toml"))
    assert again.resolve().fingerprint() == load(path).resolve(drawn[0]).fingerprint()


# ---- CSV cities in batches --------------------------------------------------------------------
def csv_experiment(folder):
    """A one-variant experiment over the small CSV city, every path relative to its file."""
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "city.csv").write_bytes((DATA.parent / "small-city.csv").read_bytes())
    write(folder, f'extends = "{SCENARIO_DIR / "xining-classified.toml"}"\nname = "small-city"\n'
                  '[city]\nsource = "city.csv"\n[funding]\ntotal = 2_100_000\n', "city.toml")
    return write(folder, 'scenarios = ["city.toml"]\nreplications = 2\nseed = 5\ndays = 5\n'
                         "scale = 0.003\n")


def edit_csv(folder):
    path = folder / "city.csv"
    path.write_text(path.read_text().replace("community-01,core,15294", "community-01,core,15295"))


def test_csv_contents_are_in_the_record_and_the_fingerprint(tmp_path):
    exp = load(csv_experiment(tmp_path)).resolve()
    scenario = exp.configs[0].scenario
    assert scenario.city_csv == (tmp_path / "city.csv").read_text()  # travels with each task
    assert scenario["city"]["source"] == str((tmp_path / "city.csv").resolve())
    record = exp.configs[0].record(exp.keys)
    assert record["city_csv_sha256"] == hashlib.sha256((tmp_path / "city.csv").read_bytes()) \
        .hexdigest()
    assert load(tmp_path / "exp.toml").resolve().fingerprint() == exp.fingerprint()
    edit_csv(tmp_path)
    assert load(tmp_path / "exp.toml").resolve().fingerprint() != exp.fingerprint()
    # a synthetic city's record is as before (existing result folders keep their hashes)
    assert "city_csv_sha256" not in load(SMALL).resolve().configs[0].record(())


def test_a_csv_batch_resumes_and_reruns_from_any_working_folder(tmp_path, monkeypatch, capsys):
    home = tmp_path / "project"
    csv_experiment(home)
    monkeypatch.chdir(home)  # relative paths, as a user types them
    assert cli.main(["exp.toml", "--out", "results", "--workers", "0", "--no-progress"]) == 0
    (tmp_path / "elsewhere").mkdir()
    monkeypatch.chdir(tmp_path / "elsewhere")
    capsys.readouterr()
    assert cli.main([str(home / "exp.toml"), "--out", str(home / "results"), "--resume",
                     "--workers", "0", "--no-progress"]) == 0
    assert "all 2 runs were already finished" in capsys.readouterr().out
    run = "small-city.p00000.r00001"
    again = rerun(home / "results", run)["summary"]
    stored = pd.read_parquet(home / "results" / "summary" / f"{run}.parquet")
    pd.testing.assert_frame_equal(again, stored, check_exact=True)
    # an edited CSV is refused like a changed parameter, and nothing is run
    edit_csv(home)
    assert cli.main([str(home / "exp.toml"), "--out", str(home / "results"), "--workers", "0",
                     "--no-progress"]) == 2
    err = capsys.readouterr().err
    assert "expected the same settings" in err and '"small-city"' in err
    assert len(list((home / "results" / MANIFEST).glob("*.parquet"))) == 2
    assert list(tmp_path.joinpath("elsewhere").iterdir()) == []


def test_a_csv_batch_on_a_dask_cluster_needs_no_shared_files(tmp_path, monkeypatch):
    """The workers run in another working folder and the CSV is gone before they start: they
    build the city from the text each task carries."""
    distributed = pytest.importorskip("distributed")
    path = csv_experiment(tmp_path / "project")
    local = run_batch(load(path), tmp_path / "local", workers=0, progress=False)
    experiment = load(path).resolve()
    (tmp_path / "project" / "city.csv").rename(tmp_path / "project" / "moved.csv")
    (tmp_path / "workers").mkdir()
    monkeypatch.chdir(tmp_path / "workers")
    with distributed.LocalCluster(n_workers=1, threads_per_worker=1, processes=True,
                                  dashboard_address=None) as cluster:
        report = run_batch(experiment, tmp_path / "cluster", cluster=cluster.scheduler_address,
                           progress=False)
    assert local.ok and report.ok and report.ran == 2, report.failed
    for table in ("summary", "communities"):
        pd.testing.assert_frame_equal(read_parts(tmp_path / "cluster" / table),
                                      read_parts(tmp_path / "local" / table), check_exact=True)
    assert Store(tmp_path / "cluster").record()["configs"]["small-city.p00000"][
        "city_csv_sha256"] == experiment.configs[0].scenario.city_sha256


def seeded(tmp_path, seeds: str, extra: str = ""):
    """The small experiment with its run seeds listed (its scenarios are shipped names)."""
    text = SMALL.read_text().replace("replications = 4\n", f"seeds = {seeds}\n{extra}")
    path = tmp_path / "seeded.toml"
    path.write_text(text)
    return path


def test_listed_seeds_are_the_run_seeds_and_a_run_reruns_with_its_own(tmp_path):
    exp = load(seeded(tmp_path, "[1000, 1001]")).resolve()
    assert exp.replications == 2
    assert {(t.replication, t.seed) for t in exp.tasks()} == {(0, 1000), (1, 1001)}
    out = tmp_path / "r"
    report = run_batch(load(seeded(tmp_path, "[1000, 1001]")), out, workers=0, progress=False)
    assert report.ok
    run = "classified.p00000.r00001"
    stored = pd.read_parquet(out / "summary" / f"{run}.parquet")
    assert (stored["seed"] == 1001).all()
    pd.testing.assert_frame_equal(rerun(out, run)["summary"], stored, check_exact=True)


@pytest.mark.parametrize("seeds, extra, says", [
    ("[1, 1]", "", "distinct whole numbers"),
    ("[]", "", "distinct whole numbers"),
    ("[-1]", "", "seeds[0]"),
    ("[1, 2]", "replications = 3\n", "the number of seeds listed (2)"),
])
def test_bad_seed_lists_are_refused(tmp_path, seeds, extra, says):
    with pytest.raises(InputError, match=says.replace("(", r"\(").replace(")", r"\)")
                       .replace("[", r"\[").replace("]", r"\]")):
        load(seeded(tmp_path, seeds, extra))


def test_the_plan_in_chinese(tmp_path, capsys):
    assert cli.main([str(SMALL), "--check", "--lang", "zh", "--out", str(tmp_path / "r")]) == 0
    out = capsys.readouterr().out
    assert out.startswith("small：3 个变体 × 4 次重复 = 12 次运行") and "结果文件夹" in out
    assert not (tmp_path / "r").exists()  # a check writes nothing

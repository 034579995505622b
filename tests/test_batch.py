"""Tests of the batch engine end to end (sim/batch): the same tables whatever the number of
workers, after a batch killed with SIGKILL and resumed, and on a Dask cluster; common random
numbers; a failing run isolated and reported; the bounded submission window; the progress bar.

Small and deterministic: tests/data/experiments/small.toml is 3 variants x 4 replications at
scale 0.003 for 30 days (12 runs, about 0.1 s each). The uninterrupted 2-worker batch is run once
and is the reference the other batches must equal exactly.
"""

import dataclasses
import io
import os
import signal
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pandas as pd
import pyarrow.parquet as pq
import pytest

from sim.batch import cli, load, read, run_batch, run_one
from sim.batch.runner import BatchError, RunResult, execute
from sim.batch.store import MANIFEST, read_parts
from sim.scenario import Scenario

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT / "tests" / "data" / "experiments"
SMALL = DATA / "small.toml"
SWEEP = DATA / "sweep.toml"
KEPT = ("summary", "communities", "daily")
_CACHE: dict = {}


def tables(folder: Path) -> dict[str, pd.DataFrame]:
    """Every kept table of a result folder, parts in run-id order."""
    return {name: read_parts(Path(folder) / name) for name in KEPT}


def assert_same_tables(folder: Path, expected: dict) -> None:
    got = tables(folder)
    for name in KEPT:
        assert len(got[name]) == len(expected[name]) > 0, name
        pd.testing.assert_frame_equal(got[name], expected[name], check_exact=True)


def manifest(folder: Path) -> pd.DataFrame:
    return read_parts(Path(folder) / MANIFEST)


def no_stray_files(folder: Path) -> None:
    """No temporary file left, and every table part has a manifest row saying ok."""
    ok = set(manifest(folder).query("status == 'ok'")["run_id"])
    for path in Path(folder).rglob("*"):
        assert not path.name.endswith(".tmp"), path
        if path.suffix == ".parquet" and path.parent.name != MANIFEST:
            assert path.stem in ok, path


def reference_batch(tmp_path_factory) -> tuple[Path, dict]:
    """The uninterrupted batch of small.toml with 2 local worker processes (run once a session,
    shared by the batch test modules): its folder and its tables."""
    if "small" not in _CACHE:
        out = tmp_path_factory.mktemp("reference") / "small"
        report = run_batch(load(SMALL), out, workers=2, progress=False)
        assert report.ok and report.ran == 12 and report.skipped == 0
        _CACHE["small"] = (out, tables(out))
    return _CACHE["small"]


@pytest.fixture(scope="session")
def reference(tmp_path_factory):
    return reference_batch(tmp_path_factory)


def test_reference_folder_is_tidy_and_self_describing(reference):
    out, expected = reference
    m = manifest(out)
    assert len(m) == 12 and set(m["status"]) == {"ok"} and m["run_id"].is_unique
    assert set(m["variant"]) == {"uniform", "classified", "uniform-again"}
    for name, table in expected.items():
        for column in ("experiment", "variant", "scenario", "point", "replication", "seed",
                       "run_id"):
            assert column in table.columns[:8], (name, column)
        assert table["run_id"].nunique() == 12
    assert (out / "experiment.json").is_file()
    summary = read(out, "summary")
    assert len(summary) == 12 * 5 and set(summary["class"]) == {"A", "B", "C", "D", "city"}
    no_stray_files(out)


@pytest.mark.parametrize("workers", [0, 1])
def test_one_worker_or_in_process_gives_identical_tables(tmp_path, reference, workers):
    stream = io.StringIO()
    report = run_batch(load(SMALL), tmp_path / "small", workers=workers, progress=True,
                       stream=stream)
    assert report.ok and report.ran == 12
    assert_same_tables(tmp_path / "small", reference[1])
    bar = stream.getvalue()
    assert "12/12 runs" in bar and "0 failed" in bar and "run" in bar  # done, failures, rate


def test_common_random_numbers(reference):
    """A variant identical to the baseline gives zero paired difference in every replication;
    every variant shares replication r's seed; replications differ."""
    _, expected = reference
    for table in expected.values():
        data = [c for c in table.columns if c not in ("experiment", "variant", "run_id")]
        base = table[table["variant"] == "uniform"][data].reset_index(drop=True)
        again = table[table["variant"] == "uniform-again"][data].reset_index(drop=True)
        pd.testing.assert_frame_equal(base, again, check_exact=True)
    summary = expected["summary"]
    seeds = summary.groupby("replication")["seed"].nunique()
    assert (seeds == 1).all() and summary["seed"].nunique() == 4
    city = summary[(summary["class"] == "city") & (summary["variant"] == "uniform")]
    assert city["mean_satisfaction"].nunique() == 4  # the replications are not copies


def failing_worker(task):
    """run_one, but replication 1 of "classified" gets a broken scenario (the model raises)."""
    if task.config.variant == "classified" and task.replication == 1:
        broken = dataclasses.replace(task.config, scenario=Scenario("broken", {}))
        task = dataclasses.replace(task, config=broken)
    return run_one(task)


def test_a_failing_run_is_isolated_recorded_and_retried(tmp_path, reference):
    out = tmp_path / "small"
    report = run_batch(load(SMALL), out, workers=2, progress=False, worker=failing_worker)
    assert report.ran == 12 and [r for r, _ in report.failed] == ["classified.p00000.r00001"]
    m = manifest(out).set_index("run_id")
    row = m.loc["classified.p00000.r00001"]
    assert row["status"] == "failed"
    assert "scenario \"broken\"" in row["error"] and f"seed {row['seed']}" in row["error"]
    assert "replication 1" in row["error"] and "Traceback" in row["traceback"]
    assert (m.drop(index="classified.p00000.r00001")["status"] == "ok").all()
    assert m.drop(index="classified.p00000.r00001")["error"].isna().all()
    got = tables(out)
    for name, table in reference[1].items():  # the others are exactly the reference's rows
        pd.testing.assert_frame_equal(
            got[name], table[table["run_id"] != "classified.p00000.r00001"].reset_index(drop=True))
    no_stray_files(out)
    # Running again tries the failed run, and only it.
    again = run_batch(load(SMALL), out, workers=2, progress=False)
    assert again.ok and again.ran == 1 and again.skipped == 11
    assert_same_tables(out, reference[1])


def dying_worker(task):
    """run_one, but the worker process of replication 2 of "classified" dies (as if killed)."""
    if task.config.variant == "classified" and task.replication == 2:
        os._exit(3)
    return run_one(task)


def always_dying_worker(task):
    os._exit(3)


def test_a_run_whose_worker_process_dies_is_isolated(tmp_path, reference):
    """The pool breaks and takes the runs in flight with it: they are tried again alone, and
    only the run whose worker dies again is recorded as failed."""
    out = tmp_path / "small"
    report = run_batch(load(SMALL), out, workers=2, progress=False, worker=dying_worker)
    assert [r for r, _ in report.failed] == ["classified.p00000.r00002"], report.failed
    assert "worker process died" in report.failed[0][1] and "seed" in report.failed[0][1]
    got = tables(out)
    for name, table in reference[1].items():
        pd.testing.assert_frame_equal(
            got[name], table[table["run_id"] != "classified.p00000.r00002"].reset_index(drop=True))
    with pytest.raises(BatchError, match="die before finishing any run"):
        run_batch(load(SMALL), tmp_path / "never", workers=2, progress=False,
                  worker=always_dying_worker)


def test_cli_exit_code_says_some_failed(tmp_path, capsys, monkeypatch):
    monkeypatch.setattr("sim.batch.runner.run_one", failing_worker)
    out = tmp_path / "sweep"
    exp = tmp_path / "exp.toml"
    exp.write_text(SMALL.read_text().replace("replications = 4", "replications = 2")
                   .replace("days = 30", "days = 5"))
    code = cli.main([str(exp), "--out", str(out), "--workers", "0", "--no-progress"])
    captured = capsys.readouterr()
    assert code == 1
    assert "1 failed" in captured.out and "failed: classified.p00000.r00001" in captured.err
    assert "seed" in captured.err and "Traceback" not in captured.err


def test_resume_after_sigkill_gives_the_same_tables(tmp_path, reference):
    out = tmp_path / "small"
    # One worker, one run at a time, so that the kill surely lands mid-way; resumed with two.
    cmd = [sys.executable, "-m", "sim.batch", str(SMALL), "--out", str(out), "--workers", "1",
           "--window", "1", "--no-progress"]
    proc = subprocess.Popen(cmd, cwd=tmp_path, start_new_session=True,
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    deadline = time.monotonic() + 60
    try:
        while len(list((out / MANIFEST).glob("*.parquet"))) < 3:
            assert proc.poll() is None, f"the batch ended before it was killed: {proc.stderr.read()}"
            assert time.monotonic() < deadline
            time.sleep(0.005)
    finally:
        os.killpg(proc.pid, signal.SIGKILL)  # the driver, its forkserver and its workers
        proc.wait()
    finished = len(list((out / MANIFEST).glob("*.parquet")))
    assert 3 <= finished < 12, "killed mid-way"
    for path in out.rglob("*.parquet"):  # whatever a reader finds now is whole
        pq.read_table(path)
    report = run_batch(load(SMALL), out, workers=2, progress=False, resume=True)
    assert report.ok and report.skipped >= 3 and report.skipped + report.ran == 12
    assert_same_tables(out, reference[1])
    m = manifest(out)
    assert len(m) == 12 and m["run_id"].is_unique and set(m["status"]) == {"ok"}
    no_stray_files(out)


def test_resume_rewrites_a_run_cut_between_its_tables_and_its_manifest_row(tmp_path, reference):
    """A kill after a run's tables were written but before its manifest row: on resume the
    orphan tables and any temporary file are removed, and the run is done again (as is a run
    whose manifest row cannot be read)."""
    expected = reference[1]
    out = tmp_path / "small"
    run_batch(load(SMALL), out, workers=0, progress=False)
    victim = "uniform.p00000.r00002"
    (out / MANIFEST / f"{victim}.parquet").unlink()
    (out / "daily" / f"{victim}.parquet").write_bytes(b"PAR1 half a file")  # as if torn
    (out / "summary" / f".{victim}.parquet.123.tmp").write_bytes(b"junk")
    damaged = "classified.p00000.r00000"  # a manifest row a failing disk damaged
    (out / MANIFEST / f"{damaged}.parquet").write_bytes(b"PAR1 not parquet")
    report = run_batch(load(SMALL), out, workers=0, progress=False)
    assert report.ran == 2 and report.skipped == 10
    assert_same_tables(out, expected)
    no_stray_files(out)


def test_dask_cluster_gives_the_same_tables(tmp_path, reference, capsys):
    distributed = pytest.importorskip("distributed")
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                                  dashboard_address=None) as cluster:
        code = cli.main([str(SMALL), "--out", str(tmp_path / "small"), "--cluster",
                         cluster.scheduler_address, "--no-progress"])
    assert code == 0, capsys.readouterr().err
    assert_same_tables(tmp_path / "small", reference[1])
    assert "cluster" in capsys.readouterr().out


def test_unreachable_cluster_is_one_clear_error(tmp_path, capsys):
    pytest.importorskip("distributed")
    code = cli.main([str(SMALL), "--out", str(tmp_path / "r"), "--cluster", "tcp://127.0.0.1:9"])
    captured = capsys.readouterr()
    assert code == 2 and "--cluster tcp://127.0.0.1:9: cannot connect" in captured.err
    assert len(captured.err.strip().splitlines()) == 1 and captured.out == ""
    assert not (tmp_path / "r").exists()


def test_submission_window_bounds_what_is_in_flight():
    """The driver pulls tasks lazily and never has more than `window` unprocessed."""
    pulled = processed = peak = 0

    def tasks():
        nonlocal pulled
        for i in range(200):
            pulled += 1
            yield dataclasses.make_dataclass("T", ["run_id"])(f"t{i}")

    def worker(task):
        time.sleep(0.0005)
        return RunResult(task.run_id, True)

    def on_result(task, result):
        nonlocal processed, peak
        processed += 1
        peak = max(peak, pulled - processed + 1)

    with ThreadPoolExecutor(8) as pool:
        execute(tasks(), pool, window=5, on_result=on_result, worker=worker)
    assert processed == 200 and peak <= 5


def test_cli_runs_and_resumes_as_the_user_does(tmp_path):
    """`python -m sim.batch` (what `shequ batch` runs), then the same command again."""
    cmd = [sys.executable, "-m", "sim.batch", str(SWEEP), "--workers", "2"]
    first = subprocess.run(cmd, cwd=tmp_path, capture_output=True, text=True, timeout=120,
                           check=False)
    assert first.returncode == 0, first.stderr
    assert "8 runs" in first.stdout and "8 ok, 0 failed" in first.stdout
    out = tmp_path / "results" / "sweep"
    summary = pd.read_parquet(out / "summary")
    assert {"funding.by_class.B", "mechanisms.households_per_grid"} <= set(summary.columns)
    assert len(summary) == 8 * 5
    again = subprocess.run(cmd, cwd=tmp_path, capture_output=True, text=True, timeout=120,
                           check=False)
    assert again.returncode == 0 and "all 8 runs were already finished" in again.stdout

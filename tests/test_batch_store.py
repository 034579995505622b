"""Tests of the result store (sim/batch/store.py): atomic writes, one batch per folder, a folder
refusing a different experiment but taking more replications, re-running any run alone from the
folder's record, and reading the tables with pandas, polars and DuckDB."""

import json

import numpy as np
import pandas as pd
import pytest

from sim.batch import load, read, replication_seed, rerun, run_batch
from sim.batch.store import MANIFEST, Store, write_parquet
from sim.errors import InputError

from test_batch import (
    SMALL, SWEEP, assert_same_tables, manifest, no_stray_files, reference_batch,
)


@pytest.fixture(scope="session")
def reference(tmp_path_factory):
    """The uninterrupted 2-worker batch of small.toml (shared with test_batch.py)."""
    return reference_batch(tmp_path_factory)


def small_sweep(tmp_path, **changes):
    """sweep.toml with some lines changed, written beside the results."""
    text = SWEEP.read_text()
    for old, new in changes.items():
        assert old in text
        text = text.replace(old, new)
    path = tmp_path / "sweep.toml"
    path.write_text(text)
    return path


def test_atomic_write_leaves_no_temporary_file(tmp_path):
    import pyarrow as pa

    table = pa.table({"x": [1, 2, 3]})
    write_parquet(tmp_path / "a.parquet", table)
    write_parquet(tmp_path / "a.parquet", pa.table({"x": [4]}))  # replaced whole
    assert [p.name for p in tmp_path.iterdir()] == ["a.parquet"]
    assert pd.read_parquet(tmp_path / "a.parquet")["x"].tolist() == [4]

    def torn(tmp):
        tmp.write_bytes(b"PAR1 half")
        raise OSError("disk full")

    from sim.batch.store import write_atomic

    with pytest.raises(OSError):
        write_atomic(tmp_path / "b.parquet", torn)
    assert [p.name for p in tmp_path.iterdir()] == ["a.parquet"]  # nothing half-written


def test_one_batch_per_folder(tmp_path):
    exp = load(SWEEP).resolve()
    first = Store(tmp_path / "r")
    first.open(exp)
    try:
        with pytest.raises(InputError, match="another batch is writing this folder"):
            Store(tmp_path / "r").open(exp)
    finally:
        first.close()
    second = Store(tmp_path / "r")
    second.open(exp)  # free again
    second.close()


def test_folder_refuses_another_experiment_but_takes_more_runs(tmp_path):
    """More replications or variants add runs; a changed seed, setting or table is refused."""
    out = tmp_path / "r"
    first = run_batch(load(small_sweep(tmp_path, **{"replications = 2": "replications = 1"})),
                      out, workers=0, progress=False)
    assert first.ran == 4
    before = {p.name: p.stat().st_mtime_ns for p in (out / "summary").iterdir()}
    more = run_batch(load(SWEEP), out, workers=0, progress=False)  # 2 replications
    assert more.ran == 4 and more.skipped == 4
    assert all((out / "summary" / n).stat().st_mtime_ns == t for n, t in before.items())
    assert json.loads((out / "experiment.json").read_text())["replications"] == 2
    wider = small_sweep(tmp_path, **{'scenarios = ["xining-classified"]':
                                     'scenarios = ["xining-classified", "classified-no-linkage"]'})
    added = run_batch(load(wider), out, workers=0, progress=False)  # a variant more
    assert added.ran == 8 and added.skipped == 8
    for change, message in [
        ({"seed = 7": "seed = 8"}, "seed 8"),
        ({"mechanisms.households_per_grid = [300, 800]":
          "mechanisms.households_per_grid = [300, 801]"}, "mechanisms.households_per_grid"),
        ({"funding.total = 0": "funding.total = 0\nbehaviour.visit_disclosure = 0.5"},
         "behaviour.visit_disclosure = 0.4 and now has 0.5"),
        ({'keep = ["summary"]': 'keep = ["summary", "daily"]'}, "keeping summary, daily"),
    ]:
        with pytest.raises(InputError, match="use --out for a new folder") as error:
            run_batch(load(small_sweep(tmp_path, **change)), out, workers=0, progress=False)
        assert message in str(error.value), str(error.value)
    assert len(manifest(out)) == 16
    no_stray_files(out)


def test_a_folder_that_is_not_a_result_folder_is_refused(tmp_path):
    (tmp_path / "r").mkdir()
    (tmp_path / "r" / "thesis.tex").write_text("precious")
    with pytest.raises(InputError, match="holds other files"):
        run_batch(load(SWEEP), tmp_path / "r", workers=0, progress=False)
    assert [p.name for p in (tmp_path / "r").iterdir()] == ["thesis.tex"]


def test_any_run_reruns_alone_from_the_folder_and_gives_the_identical_table(reference):
    out = reference[0]
    record = json.loads((out / "experiment.json").read_text())
    m = manifest(out).set_index("run_id")
    for run in ("classified.p00000.r00003", "uniform-again.p00000.r00000"):
        row = m.loc[run]
        assert row["seed"] == replication_seed(int(row["entropy"]), row["replication"])
        assert int(row["entropy"]) == record["entropy"] == 12345
        tables = rerun(out, run)
        for name, table in tables.items():
            stored = pd.read_parquet(out / name / f"{run}.parquet")
            pd.testing.assert_frame_equal(table, stored, check_exact=True)
    with pytest.raises(InputError, match="expected a run id"):
        rerun(out, "nonsense")


def test_experiment_json_describes_the_folder(reference):
    out, _ = reference
    record = json.loads((out / "experiment.json").read_text())
    assert record["experiment"] == "small" and record["keep"] == ["summary", "communities", "daily"]
    assert set(record["configs"]) == {"uniform.p00000", "classified.p00000",
                                      "uniform-again.p00000"}
    assert record["configs"]["classified.p00000"]["params"]["funding"]["scheme"] == "by_class"
    assert "replications = 4" in record["text"] and "layout" in record
    assert record["versions"]["shequ"]


def test_resume_redoes_runs_whose_tables_are_missing_or_damaged(tmp_path, reference, capsys):
    """A finished run's table deleted, cut short or overwritten after the batch (a disk's or a
    user's doing): `--check` no longer counts the run as finished, and running again removes
    its manifest row and tables, does it again and leaves every other run alone."""
    import shutil

    from sim.batch import cli

    out = tmp_path / "small"
    shutil.copytree(reference[0], out)
    (out / "summary" / "uniform.p00000.r00001.parquet").unlink()
    cut = out / "communities" / "classified.p00000.r00002.parquet"
    cut.write_bytes(cut.read_bytes()[: cut.stat().st_size // 2])
    (out / "daily" / "uniform-again.p00000.r00003.parquet").write_bytes(b"not parquet at all")
    damaged = {"uniform.p00000.r00001", "classified.p00000.r00002", "uniform-again.p00000.r00003"}
    before = {p: p.stat().st_mtime_ns for p in out.rglob("*.parquet")}
    assert cli.main([str(SMALL), "--out", str(out), "--check"]) == 0
    assert "(9 of 12 runs finished)" in capsys.readouterr().out
    report = run_batch(load(SMALL), out, workers=0, progress=False)
    assert report.ok and report.ran == 3 and report.skipped == 9
    assert_same_tables(out, reference[1])
    assert len(manifest(out)) == 12 and manifest(out)["run_id"].is_unique
    rewritten = {p.stem for p in out.rglob("*.parquet") if before.get(p) != p.stat().st_mtime_ns}
    assert rewritten == damaged
    no_stray_files(out)


def test_manifest_rows_have_one_schema_ok_or_failed(tmp_path):
    """A failed row's columns have the same types as an ok row's, so a glob read works."""
    from test_batch import failing_worker

    out = tmp_path / "r"
    run_batch(load(SMALL), out, workers=0, progress=False, worker=failing_worker)
    import pyarrow.parquet as pq

    schemas = {str(pq.read_schema(p)) for p in (out / MANIFEST).glob("*.parquet")}
    assert len(schemas) == 1
    assert pd.read_parquet(out / MANIFEST)["status"].value_counts().to_dict() == {"ok": 11,
                                                                                   "failed": 1}


def test_read_with_pandas_polars_and_duckdb(reference):
    """The README's snippets: glob reads give one tidy table."""
    out, expected = reference
    summary = pd.read_parquet(out / "summary")
    assert len(summary) == len(expected["summary"])
    city = summary[summary["class"] == "city"]
    paired = city.pivot(index="replication", columns="variant", values="satisfaction_rate")
    assert np.all(paired["uniform-again"] == paired["uniform"])
    pl = pytest.importorskip("polars")
    assert pl.read_parquet(str(out / "daily" / "*.parquet")).height == len(expected["daily"])
    duckdb = pytest.importorskip("duckdb")
    rows = duckdb.sql(f"""
        SELECT variant, count(*) AS runs, avg(resolution_rate) AS resolution
        FROM '{out}/summary/*.parquet' WHERE class = 'city' GROUP BY variant ORDER BY variant
    """).fetchall()
    assert [(v, n) for v, n, _ in rows] == [("classified", 4), ("uniform", 4),
                                            ("uniform-again", 4)]
    failed = duckdb.sql(f"SELECT count(*) FROM '{out}/manifest/*.parquet' "
                        "WHERE status = 'failed'").fetchall()[0][0]
    assert failed == 0
    assert read(out, "summary").equals(summary)


def test_a_folder_refuses_runs_of_another_model_version(tmp_path, monkeypatch):
    """Runs of two versions of the model are never mixed in one folder (a model change would
    otherwise reuse runs made before it); nothing is written when refused."""
    import sim

    out = tmp_path / "r"
    experiment = load(small_sweep(tmp_path, **{"replications = 2": "replications = 1"}))
    run_batch(experiment, out, workers=0, progress=False)
    record = json.loads((out / "experiment.json").read_text())
    assert record["model"] == sim.MODEL_VERSION
    before = sorted(p.relative_to(out) for p in out.rglob("*"))
    monkeypatch.setattr(sim, "MODEL_VERSION", "2099-01-01")
    with pytest.raises(InputError, match="use --out for a new folder") as error:
        run_batch(load(SWEEP), out, workers=0, progress=False)
    assert "version 2099-01-01" in str(error.value)
    assert f"model version {record['model']}" in str(error.value)
    del record["model"]  # a folder made before versions were recorded
    (out / "experiment.json").write_text(json.dumps(record))
    with pytest.raises(InputError, match="before versions were recorded"):
        run_batch(load(SWEEP), out, workers=0, progress=False)
    assert sorted(p.relative_to(out) for p in out.rglob("*")) == before

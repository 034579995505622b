"""The output guard (sim/command.py): no command deletes or overwrites what it did not write.
Run as a user runs it (`python -m sim`, a subprocess) where the whole command matters, in this
process where the guard alone does."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

from sim.command import MARKER, OutputFolder, check_file, check_folder, check_results, output_file
from sim.errors import InputError

ROOT = Path(__file__).resolve().parent.parent


def shequ(*args, cwd, env=None):
    return subprocess.run([sys.executable, "-m", "sim", *map(str, args)], cwd=cwd, env=env,
                          capture_output=True, text=True, timeout=120)


def one_line(result, *fragments):
    assert result.returncode == 2, result
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("shequ: error: "), result.stderr
    for fragment in fragments:
        assert fragment in lines[0], (fragment, lines[0])
    assert "communities" not in result.stdout  # refused before the run started


def test_a_folder_with_a_users_file_survives_run(tmp_path):
    mine = tmp_path / "mydata"
    mine.mkdir()
    (mine / "notes.txt").write_text("three years of fieldwork")
    one_line(shequ("run", "--days", 2, "--out", mine, cwd=tmp_path), "notes.txt", "did not write")
    assert [p.name for p in mine.iterdir()] == ["notes.txt"]
    assert (mine / "notes.txt").read_text() == "three years of fieldwork"


@pytest.mark.parametrize("where", [".", "", "/", "~", ".."])
def test_forbidden_output_folders_are_refused_before_the_run(tmp_path, where):
    out = str(Path.home()) if where == "~" else where
    (tmp_path / "keep.txt").write_text("x")
    result = shequ("run", "--days", 2, "--out", out, cwd=tmp_path)
    one_line(result, "--out", "expected")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["keep.txt"]


def test_a_batch_folder_is_refused_by_run(tmp_path):
    batch = tmp_path / "results"
    batch.mkdir()
    (batch / "experiment.json").write_text("{}")
    one_line(shequ("run", "--days", 2, "--out", batch, cwd=tmp_path), "batch")
    assert [p.name for p in batch.iterdir()] == ["experiment.json"]


def test_a_previous_run_is_replaced_whole_and_only_it(tmp_path):
    out = tmp_path / "run"
    first = shequ("run", "--days", 3, "--figures", "--out", out, cwd=tmp_path)
    assert first.returncode == 0, first.stderr
    assert (out / "graph.png").is_file()
    second = shequ("run", "--days", 4, "--no-figure", "--out", out, cwd=tmp_path)
    assert second.returncode == 0, second.stderr
    names = sorted(p.name for p in out.iterdir())
    # what the first run wrote and the second did not (figures) is gone: the folder is one run's
    assert names == [MARKER, "communities.parquet", "daily.parquet", "manifest.json",
                     "summary.parquet"]
    assert json.loads((out / "manifest.json").read_text())["days"] == 4
    assert pd.read_parquet(out / "daily.parquet")["day"].max() == 3
    # folders get the user's normal permissions, not a temporary folder's 0700
    umask = os.umask(0)
    os.umask(umask)
    assert out.stat().st_mode & 0o777 == 0o777 & ~umask
    # a user's file added to it makes it the user's again
    (out / "analysis.R").write_text("# mine")
    one_line(shequ("run", "--days", 2, "--out", out, cwd=tmp_path), "analysis.R")
    assert (out / "analysis.R").read_text() == "# mine"


def test_a_run_folder_from_before_the_record_is_recognised_by_its_manifest(tmp_path):
    from sim.outputs import recognise_run

    out = tmp_path / "old"
    out.mkdir()
    (out / "manifest.json").write_text(json.dumps(
        {"scenario": "x", "seed": 1, "shequ_version": "0.1.0", "params": {}}))
    (out / "summary.parquet").write_bytes(b"old")
    check_folder(out, "run", recognise=recognise_run)  # may be replaced
    (out / "manifest.json").write_text("{}")  # not a run's manifest
    with pytest.raises(InputError, match="did not write"):
        check_folder(out, "run", recognise=recognise_run)


def test_a_folder_another_process_writes_is_refused(tmp_path):
    out = tmp_path / "busy"
    with OutputFolder(out, "run"):
        holder = subprocess.run(
            [sys.executable, "-c", "import sys; from pathlib import Path; "
             "from sim.command import check_folder; check_folder(Path(sys.argv[1]), 'run')",
             str(out)], capture_output=True, text=True, cwd=ROOT, timeout=60)
        assert holder.returncode != 0 and "another Shequ process is writing" in holder.stderr
    check_folder(out, "run")  # free again


def test_a_kill_mid_write_leaves_a_folder_the_same_command_claims(tmp_path):
    out = tmp_path / "r"
    with pytest.raises(RuntimeError):
        with OutputFolder(out, "run") as folder:
            folder.write_text("daily.parquet", "half a run")
            (out / ".summary.123.tmp.parquet").write_text("torn")  # a write cut short
            raise RuntimeError("killed")
    check_folder(out, "run")
    with OutputFolder(out, "run") as folder:
        folder.write_text("summary.parquet", "a whole run")
    assert sorted(p.name for p in out.iterdir() if not p.name.startswith(".")) == [
        "summary.parquet"]


def test_a_failed_run_leaves_no_new_folder(tmp_path):
    out = tmp_path / "a" / "b"
    with pytest.raises(InputError):
        with OutputFolder(out, "run"):
            raise InputError("bad CSV")
    assert list(tmp_path.iterdir()) == []


def test_one_commands_folder_is_not_anothers(tmp_path):
    with OutputFolder(tmp_path / "rep", "report") as folder:
        folder.write_bytes("figures/a.png", b"png")
    with pytest.raises(InputError, match="another command wrote"):
        check_folder(tmp_path / "rep", "run")
    check_folder(tmp_path / "rep", "report")


def test_files_are_new_or_shequs_and_unchanged(tmp_path):
    film = tmp_path / "film.gif"
    film.write_bytes(b"a user's film")
    with pytest.raises(InputError, match="Shequ did not write"):
        check_file(film, "--out")
    ours = tmp_path / "compare.csv"
    with output_file(ours, "--csv") as tmp:
        tmp.write_text("a,b\n1,2\n")
    check_file(ours, "--csv")  # ours, unchanged: may be written again
    with output_file(ours, "--csv") as tmp:
        tmp.write_text("a,b\n3,4\n")
    assert ours.read_text() == "a,b\n3,4\n"
    ours.write_text("edited by hand")
    with pytest.raises(InputError, match="changed since"):
        check_file(ours, "--csv")
    assert film.read_bytes() == b"a user's film"


def test_result_folders_for_batches(tmp_path):
    check_results(tmp_path / "new")
    half = tmp_path / "half"  # a batch killed while making its folder
    half.mkdir()
    (half / ".lock").write_text("")
    check_results(half)
    (half / "notes.txt").write_text("x")
    with pytest.raises(InputError, match="notes.txt"):
        check_results(half)
    with pytest.raises(InputError, match="current folder"):
        check_results(Path("."))


def test_compare_never_overwrites_a_users_csv(tmp_path):
    csv = tmp_path / "mine.csv"
    csv.write_text("my table")
    result = shequ("compare", tmp_path, "--baseline", "x", "--csv", csv, cwd=tmp_path)
    one_line(result, "--csv", "did not write")
    assert csv.read_text() == "my table"

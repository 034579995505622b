"""Tests of the `shequ` command, run as a user runs it (a subprocess): bad input gives one line
on stderr, exit code 2 and no output folder; good input validates and runs."""

import json
import subprocess
import sys
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
BAD = ROOT / "tests" / "data" / "bad"


def shequ(*args, cwd):
    """Run `python -m sim ARGS` in `cwd` (so a default output folder would land there)."""
    return subprocess.run([sys.executable, "-m", "sim", *map(str, args)], cwd=cwd,
                          capture_output=True, text=True, timeout=120)


def assert_one_clear_error(result, *fragments):
    assert result.returncode == 2, result
    assert "Traceback" not in result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("shequ: error: "), lines[0]
    for fragment in fragments:
        assert fragment in lines[0], (fragment, lines[0])
    assert result.stdout == ""


@pytest.mark.parametrize("name, key", [
    ("unknown-key.toml", "run.dayz"),
    ("wrong-type.toml", "run.days"),
    ("out-of-range.toml", "city.party_member_share"),
    ("extends-cycle-a.toml", "extends"),
    ("not-toml.toml", "line 3"),
    ("not-utf8.toml", "line 1"),
    ("total-does-not-add-up.toml", "funding.total"),
    ("population-below-floors.toml", "city.population"),
    ("csv-non-numeric.toml", "population"),
])
def test_run_bad_file(tmp_path, name, key):
    out = tmp_path / "out"
    result = shequ("run", BAD / name, "--days", 2, "--no-figure", "--out", out, cwd=tmp_path)
    file = "csv-non-numeric.csv" if name.startswith("csv") else name
    assert_one_clear_error(result, file, key, "expected")
    assert not out.exists()
    assert list(tmp_path.iterdir()) == []  # nothing written anywhere


@pytest.mark.parametrize("name, key", [
    ("csv-missing-column.toml", "infrastructure"),
    ("by-class-without-classification.toml", "funding.scheme"),
])
def test_validate_bad_file(tmp_path, name, key):
    assert_one_clear_error(shequ("validate", BAD / name, cwd=tmp_path), key, "expected")
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("flags, fragment", [
    (["--days", "0"], "--days"),
    (["--scale", "0"], "--scale"),
    (["--days", "2.5"], "--days"),
    (["--scale", "lots"], "--scale"),
    (["--seed", "-1"], "--seed"),
    (["--days", "9" * 400], "a whole number of 400 digits"),
    (["--seed", "9" * 5000], "5,000 characters"),
    (["--scale", "1e400"], "a finite number"),
    (["--scale", "nan"], "a finite number"),
    (["--days", "nan"], "--days"),
])
def test_run_bad_flag(tmp_path, flags, fragment):
    out = tmp_path / "out"
    result = shequ("run", "xining-uniform", *flags, "--out", out, cwd=tmp_path)
    assert_one_clear_error(result, fragment, "expected")
    assert not out.exists()


def test_unknown_scenario_and_usage(tmp_path):
    assert_one_clear_error(shequ("run", "no-such-world", "--out", tmp_path / "out", cwd=tmp_path),
                           "no-such-world", "expected")
    assert_one_clear_error(shequ("run", "--bogus", cwd=tmp_path), "--bogus")
    assert list(tmp_path.iterdir()) == []


def test_an_unknown_flag_names_what_the_command_takes(tmp_path):
    """Reported by the subcommand (not "see shequ --help"), with its options."""
    result = shequ("run", "--dys=3", cwd=tmp_path)
    assert_one_clear_error(result, "unrecognized arguments: --dys=3", "expected only",
                           "--days, --seed", "did you mean --days?", "(see shequ run --help)")
    assert_one_clear_error(shequ("batch", "small", "--bogus", "x" * 5000, cwd=tmp_path),
                           "--workers", "5,000 characters", "(see shequ batch --help)")
    assert list(tmp_path.iterdir()) == []


def test_validate_a_million_row_csv_is_one_line_within_seconds(tmp_path):
    data = tmp_path / "data"
    data.mkdir()
    header = (ROOT / "tests" / "data" / "small-city.csv").read_text().splitlines()[0]
    rows = (f"c{i},core,1000,0,0.5,0.1,0.2,0.5,0.5\n" for i in range(1_000_000))
    (data / "big.csv").write_text(header + "\n" + "".join(rows))
    (data / "big.toml").write_text('[city]\nsource = "big.csv"\n')
    before = sorted(tmp_path.rglob("*"))
    start = time.perf_counter()
    result = shequ("validate", data / "big.toml", cwd=tmp_path)
    assert time.perf_counter() - start < 15  # the interpreter's start included
    assert_one_clear_error(result, "big.csv", "at most 16 MB (10,000 communities)",
                           "1,000,001 lines")
    assert sorted(tmp_path.rglob("*")) == before


def test_bare_shequ_prints_help_and_version(tmp_path):
    import sim

    bare = shequ(cwd=tmp_path)
    assert bare.returncode == 0 and "usage: shequ" in bare.stdout and "run" in bare.stdout
    version = shequ("--version", cwd=tmp_path)
    assert version.returncode == 0 and version.stdout.strip() == f"shequ {sim.__version__}"


def test_out_is_a_file(tmp_path):
    out = tmp_path / "out"
    out.write_text("keep me")
    result = shequ("run", "xining-uniform", "--days", 2, "--out", out, cwd=tmp_path)
    assert_one_clear_error(result, "--out", "expected a folder")
    assert out.read_text() == "keep me"


def test_validate_classified(tmp_path):
    result = shequ("validate", ROOT / "scenarios" / "xining-classified.toml", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert "valid" in result.stdout
    assert "178 communities" in result.stdout
    for cls, n in {"A": 70, "B": 66, "C": 22, "D": 20}.items():
        assert f"'{cls}': {n}" in result.stdout
    assert "35,600,000" in result.stdout


def test_run_writes_tables(tmp_path):
    out = tmp_path / "o"
    result = shequ("run", "--days", 5, "--out", out, cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert "Traceback" not in result.stderr
    for name in ("daily.parquet", "summary.parquet", "communities.parquet", "manifest.json",
                 "summary.png"):
        assert (out / name).is_file(), name
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["scenario"] == "xining-classified"
    assert manifest["days"] == 5
    assert sorted(p.name for p in tmp_path.iterdir()) == ["o"]  # no temporary folder left


def test_scenarios_lists_shipped(tmp_path):
    result = shequ("scenarios", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    names = [line.split()[0] for line in result.stdout.splitlines()]
    assert {"xining-classified", "xining-uniform"} <= set(names)


def test_run_default_out_folder(tmp_path):
    result = shequ("run", "xining-uniform", "--days", 2, "--scale", 0.001, "--seed", 3,
                   "--no-figure", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    out = tmp_path / "output" / "xining-uniform-seed3"
    assert (out / "manifest.json").is_file()
    assert not (out / "summary.png").exists()


def test_the_run_summary_in_chinese():
    import pandas as pd

    from sim.cli import format_summary

    summary = pd.DataFrame({"class": ["A", "city"], "response_rate": [0.9, 0.95],
                            "resolution_rate": [0.9, 0.9], "satisfaction_rate": [0.8, 0.85],
                            "resolved_share": [0.7, 0.75], "unvoiced_share": [0.1, 0.05],
                            "unmet_days_per_1000": [100.0, 90.0], "mean_satisfaction": [0.7, 0.8],
                            "funds_allocated": [1e6, 2e6], "cum_spent": [5e5, 1e6],
                            "unspent": [5e5, 1e6], "cum_shortfall": [0.0, 0.0],
                            "communities": [70, 178]})
    zh = format_summary(summary, "zh")
    assert "考核指标" in zh and "全市" in zh and "经费 (万元)" in zh and "响应 %" in zh
    en = format_summary(summary)
    assert "response %" in en and "funds (10k yuan)" in en and "city" in en


def test_validate_says_the_same_in_english_and_chinese(tmp_path):
    english = shequ("validate", "xining-classified", cwd=tmp_path)
    chinese = shequ("validate", "xining-classified", "--lang", "zh", cwd=tmp_path)
    assert english.returncode == chinese.returncode == 0
    assert "valid. 178 communities" in english.stdout
    assert "funds 35,600,000 yuan a year" in english.stdout
    assert "有效。178 个社区（A 类 70 个，B 类 66 个，C 类 22 个，D 类 20 个）" in chinese.stdout
    assert "每年经费 3,560.0 万元" in chinese.stdout


def test_scenarios_lists_every_shipped_scenario_in_both_languages(tmp_path):
    import re

    from sim.scenario import shipped_scenarios

    english = shequ("scenarios", cwd=tmp_path).stdout.splitlines()
    chinese = shequ("scenarios", "--lang", "zh", cwd=tmp_path).stdout.splitlines()
    names = shipped_scenarios()
    assert [line.split()[0] for line in english] == [line.split()[0] for line in chinese] == names
    assert all(re.search(r"[\u4e00-\u9fff]", line) for line in chinese)  # a Chinese title each

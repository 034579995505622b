"""Scenario discovery (`shequ discover`): PRIM finds a planted box, the cases of interest are the
sweep points (never single runs), paired against another variant, and a missing extra is a clear
message."""

import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from analysis import discover
from analysis.discover import Question, cases
from sim.errors import InputError

pytest.importorskip("ema_workbench")  # the optional extra, installed by `.[test]`
DATA = Path(__file__).parent / "data" / "experiments"


def planted(n: int = 400, seed: int = 1) -> tuple[pd.DataFrame, np.ndarray]:
    rng = np.random.default_rng(seed)
    x = pd.DataFrame(rng.uniform(size=(n, 4)), columns=["a", "b", "c", "d"])
    return x, ((x["a"] > 0.6) & (x["b"] < 0.3)).to_numpy()


def test_prim_finds_a_planted_box():
    x, y = planted()
    found = discover.discover(x, y, Question("resolved_share", below=90))
    limits = found.limits.set_index("parameter")
    assert {"a", "b"} <= set(limits.index)
    assert abs(limits.loc["a", "low"] - 0.6) < 0.05 and limits.loc["a", "high"] > 0.95
    assert abs(limits.loc["b", "high"] - 0.3) < 0.05 and limits.loc["b", "low"] < 0.05
    step = found.trajectory.loc[found.chosen]
    assert step["coverage"] >= 0.5 and step["density"] > 0.9
    # the parameters that play no part are left alone, or barely restricted
    for name in ("c", "d"):
        if name in limits.index:
            assert limits.loc[name, "high"] - limits.loc[name, "low"] > 0.8
    assert len(found.cart_stats) >= 2  # CART's leaves


def test_no_case_or_only_cases_is_a_clear_error():
    x, _ = planted(50)
    with pytest.raises(InputError, match="0 of 50 sweep points"):
        discover.discover(x, np.zeros(50, bool), Question("resolved_share", below=90))


def sweep_summary() -> pd.DataFrame:
    """Two variants over 20 sweep points of (u, v), 3 replications: the reform does 3 points worse
    than uniform exactly where u > 0.5, and the same elsewhere."""
    rows = []
    rng = np.random.default_rng(2)
    for point in range(20):
        u, v = (point % 5) / 4, (point // 5) / 3
        for r in range(3):
            noise = rng.normal(0, 0.001)
            for variant in ("reform", "uniform"):
                worse = variant == "reform" and u > 0.5
                for cls in ("B", "city"):
                    rows.append({"variant": variant, "class": cls, "point": point,
                                 "replication": r, "p.u": u, "p.v": v,
                                 "resolved_share": 0.9 + noise - (0.02 if worse else -0.01)})
    return pd.DataFrame(rows)


def test_cases_are_sweep_points_paired_against_the_other_variant():
    summary = sweep_summary()
    q = Question("resolved_share", "B", "reform", versus="uniform", below=0)
    x, shown, y = cases(summary, ["p.u", "p.v"], q)
    assert len(x) == 20 and list(x.columns) == ["p.u", "p.v"]
    assert (y == (x["p.u"] > 0.5).to_numpy()).all()
    assert np.allclose(shown[y], -3.0) and np.allclose(shown[~y], 0.0)  # percentage points
    with pytest.raises(InputError, match="--versus nope: expected one of reform, uniform"):
        cases(summary, ["p.u"], Question("resolved_share", "B", "reform", "nope", below=0))
    with pytest.raises(InputError, match="--outcome cum_arisen"):
        cases(summary, ["p.u"], Question("cum_arisen", below=0))


def test_without_the_extra_the_command_says_what_to_install(tmp_path):
    code = ("import sys; sys.modules['ema_workbench'] = None; sys.modules['ema_workbench.analysis']"
            " = None\nfrom analysis import discover\ntry:\n    discover.ema()\nexcept Exception as e:"
            "\n    print(type(e).__name__, e)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert "InputError" in out.stdout and "pip install 'shequ[discover]'" in out.stdout


def test_the_command_on_a_sweep_writes_its_report(tmp_path):
    from sim.batch import load, run_batch

    text = (DATA / "morris-tiny.toml").read_text().replace("samples = 3", "samples = 4")
    (tmp_path / "m.toml").write_text(text)  # 4 trajectories x 3 points = 12 sweep points
    folder = tmp_path / "m"
    run_batch(load(tmp_path / "m.toml"), folder, workers=0, progress=False)
    share = discover.read_summary(folder).query("`class` == 'city'")["unvoiced_share"] * 100
    threshold = float(share.median())
    out = subprocess.run([sys.executable, "-m", "sim", "discover", str(folder), "--outcome",
                          "unvoiced_share", "--above", f"{threshold}", "--out",
                          str(tmp_path / "d")], capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
    assert "PRIM's box" in out.stdout and "of 12 sweep points" in out.stdout
    assert (tmp_path / "d" / "discover.md").read_text().startswith("# Scenario discovery")
    assert (tmp_path / "d" / "tradeoff.png").stat().st_size > 5_000
    few = subprocess.run([sys.executable, "-m", "sim", "discover", str(folder), "--outcome",
                          "unvoiced_share", "--above", "2", "--below", "1"], capture_output=True,
                         text=True)
    assert few.returncode == 2 and "Traceback" not in few.stderr


def test_points_where_the_outcome_is_undefined_are_left_out():
    summary = sweep_summary()
    summary.loc[(summary["point"] < 5) & (summary["variant"] == "reform"), "resolved_share"] = np.nan
    x, shown, y = cases(summary, ["p.u", "p.v"], Question("resolved_share", "B", below=90))
    assert len(x) == 15 and np.isfinite(shown).all()


def test_in_chinese_the_finding_is_said_in_chinese():
    x, y = planted()
    found = discover.discover(x, y, Question("resolved_share", variant="reform", below=90))
    text = discover.summary_text(found, "zh")
    assert text.startswith("关注的情形：reform 的已解决") and "PRIM 的盒子" in text
    assert "Cases of interest" in discover.summary_text(found)
    md = discover.markdown(found, Path("results/x"), "zh")
    assert md.startswith("# 情景发现") and "## CART：" in md

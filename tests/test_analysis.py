"""compare, report and the stylised facts, on a small real batch and on synthetic summaries."""

import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from analysis import facts
from analysis.compare import compare, read_summary
from analysis.report import write
from sim.errors import InputError

DATA = Path(__file__).parent / "data" / "experiments"


@pytest.fixture(scope="module")
def results(tmp_path_factory):
    from sim.batch import load, run_batch

    folder = tmp_path_factory.mktemp("results") / "small"
    run_batch(load(DATA / "small.toml"), folder, workers=0, progress=False)
    return folder


def test_identical_variant_gives_zero_difference(results):
    table = compare(read_summary(results), "uniform", ["uniform-again"])
    assert len(table) > 0
    assert (table["difference"].fillna(0) == 0).all()
    assert (table["half_width"].fillna(0) == 0).all()


def test_comparison_covers_classes_and_outcomes(results):
    table = compare(read_summary(results), "uniform", ["classified"])
    assert set(table["class"]) == {"A", "B", "C", "D", "city"}
    assert {"response_rate", "resolution_rate", "satisfaction_rate", "cum_shortfall",
            "unspent", "cost_per_resolved"} <= set(table["outcome"])
    assert (table["n"] == 4).all()
    ok = table.dropna(subset=["half_width"])
    assert (ok["ci_low"] <= ok["difference"]).all() and (ok["difference"] <= ok["ci_high"]).all()


def test_unknown_variant_and_missing_folder_are_clear_errors(results, tmp_path):
    with pytest.raises(InputError, match="expected one of"):
        compare(read_summary(results), "nope")
    with pytest.raises(InputError, match="expected a result folder"):
        read_summary(tmp_path)


def test_report_is_self_contained_and_has_every_section(results, tmp_path):
    page, md = write(results, tmp_path / "report", baseline="uniform")
    text = page.read_text()
    assert text.count("data:image/png;base64,") >= 4  # series, communities, budget, escalation
    assert "<img" in text and 'src="figures' not in text  # nothing outside the file
    for title in ("Scenarios side by side", "Over the year", "Across communities",
                  "The budget picture", "Escalation by level", "Paired comparison"):
        assert title in text and title in md.read_text()
    assert all((tmp_path / "report" / "figures" / f"{n}.png").stat().st_size > 1000
               for n in ("series", "communities", "budget", "escalation"))


def test_report_in_chinese(results, tmp_path):
    from sim.viz.labels import cjk_font

    if cjk_font() is None:
        with pytest.raises(InputError, match="CJK font"):
            write(results, tmp_path / "zh", lang="zh")
        return
    page, md = write(results, tmp_path / "zh", lang="zh")
    assert "各方案并列比较" in md.read_text() and "经费状况" in page.read_text()


def test_cli_compare_and_report(results, tmp_path):
    out = subprocess.run([sys.executable, "-m", "sim", "compare", str(results), "--baseline",
                          "uniform", "--csv", str(tmp_path / "c.csv")], capture_output=True,
                         text=True)
    assert out.returncode == 0, out.stderr
    assert len(pd.read_csv(tmp_path / "c.csv")) > 0
    bad = subprocess.run([sys.executable, "-m", "sim", "report", str(tmp_path / "none")],
                         capture_output=True, text=True)
    assert bad.returncode == 2 and bad.stderr.startswith("shequ: error:")
    assert "Traceback" not in bad.stderr


def synthetic_summary(effect: float, n: int = 12) -> pd.DataFrame:
    """A summary table with every fact's variants and a known shift of every measure."""
    rng = np.random.default_rng(0)
    variants = {f.baseline for f in facts.FACTS} | {f.variant for f in facts.FACTS}
    rows = []
    for r in range(n):
        base = rng.normal(1.0, 0.1)  # shared by all variants of a replication
        for v in variants:
            shift = effect if v == "classified" else 0.0
            for cls in ("A", "B", "C", "D", "city"):
                x = base + shift + rng.normal(0, 0.001)
                rows.append({"variant": v, "class": cls, "point": 0, "replication": r,
                             "communities": 10, "residents": 1000, "funds_allocated": 1000.0,
                             "cum_shortfall": x, "unspent": x, "resolution_rate": x,
                             "cum_found": x, "cum_silent": 1.0, "cohort_arisen_property": x,
                             "resolved_share": x,
                             "resolution_rate_old": x, "cum_voiced_app": x,
                             "cum_voiced_hotline": 0.0, "cum_voiced_grid": 0.0, "cum_arisen": 1.0,
                             "mean_trust": x})
    return pd.DataFrame(rows)


def test_facts_hold_exactly_when_the_effect_has_the_expected_sign():
    up, down = facts.evaluate(synthetic_summary(+0.05)), facts.evaluate(synthetic_summary(-0.05))
    for f, u, d in zip(facts.FACTS, up["holds"], down["holds"]):
        assert u == (f.sign > 0) and d == (f.sign < 0), f.fact
    assert facts.evaluate(synthetic_summary(0.05).query("variant != 'grids-800'")) is None

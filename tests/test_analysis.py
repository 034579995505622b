"""compare, report and the stylised facts, on a small real batch and on synthetic summaries."""

import re
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
    main = table[table["outcome"].isin(["response_rate", "resolution_rate", "resolved_share"])]
    assert (main["n"] == 4).all() and (table["n"] <= 4).all()
    ok = table.dropna(subset=["half_width"])
    assert (ok["ci_low"] <= ok["difference"]).all() and (ok["difference"] <= ok["ci_high"]).all()


def test_unknown_variant_and_missing_folder_are_clear_errors(results, tmp_path):
    with pytest.raises(InputError, match="expected one of"):
        compare(read_summary(results), "nope")
    with pytest.raises(InputError, match="expected a result folder"):
        read_summary(tmp_path)


@pytest.fixture(scope="module")
def report(results, tmp_path_factory):
    """The small batch's report: (report.html, report.md)."""
    return write(results, tmp_path_factory.mktemp("report") / "report", baseline="uniform")


def test_report_is_self_contained_and_has_every_section(report):
    page, md = report
    text = page.read_text()
    assert text.count("data:image/png;base64,") >= 6  # effects x2, series, communities, ...
    assert "<img" in text and 'src="figures' not in text  # nothing outside the file
    for title in ("The answer: classified, uniform-again against uniform, over 30 days",
                  "Scenarios side by side, over 30 days", "Over the 30 days",
                  "Across communities", "The budget picture", "Escalation by level",
                  "Paired comparison"):
        assert title in text and title in md.read_text()
    # the first section after the introduction is the answer
    assert md.read_text().split("\n## ")[1].startswith("The answer")
    assert all((page.parent / "figures" / f"{n}.png").stat().st_size > 1000
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


# ---- issue 13: labels, bands, sweeps, the answer --------------------------------------------
IDENTIFIERS = {"experiment", "variant", "scenario", "point", "replication", "seed", "run_id",
               "class", "communities", "population", "residents", "days", "reported_days",
               "community", "name", "location", "fund"}


def test_the_label_table_covers_every_outcome_the_model_reports(results):
    """Every outcome column of the summary and communities tables (not a count, an identifier or
    a swept parameter) has a label in both languages, a unit and a direction."""
    from sim import labels
    from sim.batch import read

    for table in ("summary", "communities"):
        columns = read(results, table).columns
        outcomes = [c for c in columns if c not in IDENTIFIERS and "." not in c
                    and not c.startswith(("cum_", "cohort_"))]
        assert outcomes and set(outcomes) <= set(labels.OUTCOMES), table
    for o in labels.OUTCOMES.values():
        assert all(o.label) and all(o.short) and o.unit in labels.UNITS and o.better in (-1, 0, 1)
        assert o.group in labels.GROUPS and o.counts


def test_share_intervals_stay_within_0_and_1_and_hold_the_mean():
    from analysis.stats import mean_interval

    rng = np.random.default_rng(3)
    for n in (2, 3, 5, 30):
        for centre in (0.001, 0.02, 0.5, 0.98, 0.999):
            values = np.clip(rng.normal(centre, 0.03, n), 0, 1)
            mean, low, high = mean_interval(values, bounded=True)
            assert 0 <= low <= mean <= high <= 1, (n, centre, values)
            # the plain t-interval would leave [0, 1] for some of these; the logit one never does
    assert mean_interval([1.0, 1.0, 1.0], bounded=True) == (1.0, 1.0, 1.0)
    mean, low, high = mean_interval([0.2, 0.4], bounded=False)
    assert low < 0 < mean  # an unbounded quantity keeps its symmetric interval


def test_the_report_bands_over_days_agree_with_the_interval_of_each_day():
    from analysis.report import band
    from analysis.stats import mean_interval

    rng = np.random.default_rng(4)
    table = pd.DataFrame(np.clip(rng.normal(0.97, 0.03, (50, 6)), 0, 1))
    table.iloc[3] = 1.0
    mean, low, high = band(table, bounded=True)
    for i in range(len(table)):
        assert np.allclose((mean[i], low[i], high[i]), mean_interval(table.iloc[i], True))
    assert ((0 <= low) & (low <= mean) & (mean <= high) & (high <= 1)).all()


def test_the_side_by_side_intervals_never_leave_0_to_100_percent(report):
    text = report[1].read_text()
    table = text.split("## Scenarios side by side")[1].split("##")[0]
    header = [c.strip() for c in table.splitlines()[2].split("|")[1:-1]]
    rows = [[c.strip() for c in line.split("|")[1:-1]] for line in table.splitlines()[4:]
            if line.startswith("| ")]
    shares = [i for i, h in enumerate(header) if h.endswith("(%)")]
    assert shares and rows
    for row in rows:
        for i in shares:
            numbers = [float(x) for x in re.findall(r"-?[\d.]+", row[i])]
            assert all(0 <= x <= 100 for x in numbers), (header[i], row[i])


def synthetic_classes(effect: dict, n: int = 10, points: int = 1) -> pd.DataFrame:
    """A summary table of two variants with a known shift of every main outcome by class."""
    from sim import labels

    rng = np.random.default_rng(5)
    rows = []
    for point in range(points):
        for r in range(n):
            for v in ("base", "reform"):
                for cls in ("A", "B", "C", "D", "city"):
                    shift = effect.get(cls, 0.0) * (point + 1) if v == "reform" else 0.0
                    row = {"variant": v, "class": cls, "point": point, "replication": r,
                           "run_id": f"{v}.{point}.{r}", "grid": 100 * (point + 1)}
                    for name in labels.MAIN:
                        row[name] = 0.9 + shift + rng.normal(0, 0.002) + 0.001 * r
                    rows.append(row)
    return pd.DataFrame(rows)


def test_the_answer_says_which_way_by_how_much_and_where_most():
    from analysis.report import answer

    summary = synthetic_classes({"A": 0.01, "B": 0.03, "C": 0.0, "D": 0.01, "city": 0.012})
    text = "\n".join(b for b in answer(summary, "base", "en", 365).blocks if isinstance(b, str))
    assert ("reform: Resolution rises by 1.2 pp [" in text and "most in class B (+3.0)" in text)
    assert "Never voiced or found, of every grievance rises" in text and "— worse" in text
    assert "10 paired replications" in text
    same = synthetic_classes({})
    text = "\n".join(b for b in answer(same, "base", "en", 365).blocks if isinstance(b, str))
    assert "no clear difference in Resolution" in text


def test_a_sweep_is_never_pooled(tmp_path):
    """Each sweep point is reported on its own: the report has no pooled section, and its point
    table holds one row per variant and point with that point's own mean."""
    from sim.batch import load, run_batch

    folder = tmp_path / "sweep"
    run_batch(load(DATA / "report-sweep.toml"), folder, workers=0, progress=False)
    page, md = write(folder, tmp_path / "report")
    text = md.read_text()
    assert "Over funding.by_class.B and mechanisms.households_per_grid" in text
    assert "The answer" not in text and "side by side" not in text
    assert (tmp_path / "report" / "figures" / "surface.png").stat().st_size > 10_000
    summary = read_summary(folder)
    city = summary[summary["class"] == "city"]
    table = text.split("| variant | point |")[1].split("\n\n")[0].splitlines()[2:]
    assert len(table) == 2 * 4  # variants x points
    for line in table:
        cells = [c.strip() for c in line.split("|")[1:-1]]
        variant, point = cells[0], int(cells[1])
        here = city[(city["variant"] == variant) & (city["point"] == point)]
        assert cells[5].startswith(f"{here['resolution_rate'].mean() * 100:.1f}")
    # one point in full
    page, md = write(folder, tmp_path / "point", point=3)
    assert "The answer: classified against uniform" in md.read_text()
    with pytest.raises(InputError, match="--point 9"):
        write(folder, tmp_path / "nine", point=9)


def test_a_one_parameter_sweep_is_a_line_over_the_parameter():
    from analysis.sweeps import point_frame, sweep_line

    summary = synthetic_classes({"B": 0.01, "city": 0.01}, n=4, points=3)
    frame = point_frame(summary, ["grid"], "resolution_rate", "B", baseline="base")
    assert list(frame["grid"]) == [100, 200, 300]
    assert np.allclose(frame["mean"], [0.01, 0.02, 0.03], atol=0.003)  # point by point
    section = sweep_line(summary, "grid", "base", "en")
    assert any(isinstance(b, tuple) and b[0] == "sweep" for b in section.blocks)


def test_compare_prints_labels_and_units_within_100_columns(results):
    from analysis.compare import format_table

    table = compare(read_summary(results), "uniform", ["classified", "uniform-again"],
                    outcomes=["all"])
    text = format_table(table)
    assert max(len(line) for line in text.splitlines()) <= 100
    assert "Resolved, of every grievance" in text and "(%)" in text and "pp" in text
    assert "resolution_rate" not in text  # labels, not column names


def test_compare_filters_and_never_shows_a_misleading_more_needed(results):
    table = compare(read_summary(results), "uniform", ["uniform-again"],
                    outcomes=["resolution_rate,resolved_share"], classes=["B", "city"])
    assert set(table["class"]) == {"B", "city"}
    assert set(table["outcome"]) == {"resolution_rate", "resolved_share"}
    # identical variants: no number of replications resolves a zero difference
    assert table["more_needed"].isna().all() and not table["enough"].any()
    from analysis.compare import format_table

    assert "identical" in format_table(table) and " 0 " not in format_table(table)
    with pytest.raises(InputError, match="--outcome nope: expected one of"):
        compare(read_summary(results), "uniform", outcomes=["nope"])
    with pytest.raises(InputError, match="--class E"):
        compare(read_summary(results), "uniform", classes=["E"])


def test_a_sweep_of_many_parameters_goes_to_sensitivity_or_projections(tmp_path):
    from analysis.sweeps import sweep_many
    from sim.batch import load, run_batch

    text = (DATA / "morris-tiny.toml").read_text().replace("samples = 3", "samples = 2")
    text += '"behaviour.neighbour_tip" = [0.1, 0.5]\n'
    (tmp_path / "morris3.toml").write_text(text)
    folder = tmp_path / "morris3"
    run_batch(load(tmp_path / "morris3.toml"), folder, workers=0, progress=False)
    page, md = write(folder, tmp_path / "report")
    text = md.read_text()
    assert "Over the 3 swept parameters" in text and "Sensitivity indices" in text
    assert "mu_star" in text and "behaviour.neighbour_tip" in text
    # another design (a Latin hypercube, say): the outcome against each parameter in turn
    summary = synthetic_classes({"city": 0.01}, n=2, points=4).assign(
        x=lambda t: t["point"] * 2.0, y=lambda t: t["point"] % 2)
    section = sweep_many(folder, {"sweep": {"design": "lhs"}}, summary, ["grid", "x", "y"], "en")
    assert [b[0] for b in section.blocks if isinstance(b, tuple)][0] == "projection-response_rate"


def test_the_adequacy_line_names_why_effects_are_unresolved():
    from analysis.report import adequacy_line

    one = synthetic_classes({"B": 0.03}, n=1)
    text = adequacy_line(compare(one, "base", ["reform"], ["resolution_rate"]), "en")
    assert "0 of the 5 effects" in text and "fewer than two pairs" in text
    assert "no difference at all" not in text
    same = synthetic_classes({}, n=4).assign(resolution_rate=0.9)
    text = adequacy_line(compare(same, "base", ["reform"], ["resolution_rate"]), "en")
    assert "5 show no difference at all" in text


def test_a_surface_with_repeated_cells_is_not_drawn_as_a_grid():
    import matplotlib.pyplot as plt

    from analysis.sweeps import surface

    x = np.array([0, 1, 2, 0, 1, 2, 0, 0, 1.0])  # 3 x 3 levels, but (0, 0) twice, (2, 2) never
    y = np.array([0, 0, 0, 1, 1, 1, 2, 0, 2.0])
    fig, ax = plt.subplots()
    surface(ax, x, y, np.arange(9.0), diverging=False, name="resolved_share")
    assert not ax.images  # contours, not a heatmap that would hide a point
    plt.close(fig)


def test_compare_with_nothing_to_pair_is_a_clear_error_and_lists_are_deduplicated(results):
    summary = read_summary(results)
    other = summary[summary["variant"] == "classified"].assign(replication=99)
    with pytest.raises(InputError, match="share a sweep point and replication"):
        compare(pd.concat([summary[summary["variant"] == "uniform"], other]), "uniform")
    table = compare(summary, "uniform", ["classified"], ["resolved_share,resolved_share"],
                    ["B,B"])
    assert len(table) == 1

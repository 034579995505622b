"""Tests of the metamorphic-property suite (`shequ check`, analysis/validation.py): the one-sided
bound, non-inferiority on synthetic paired tables with planted violations, the premises of the
variants, the report and its signature, one tiny end-to-end run (21 runs of 60 days at scale
0.002), and bad input as one line."""

import math
import re

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from analysis import validation
from analysis.stats import harm_bound, paired
from sim.batch.experiment import load
from sim.cli import main
from sim.errors import InputError
from sim.parameters import SCHEMA

from test_batch import DATA  # tests/data/experiments (tests/ is on sys.path)

TINY = DATA / "validation-tiny.toml"
VARIANTS = [validation.BASELINE, *(r.variant for r in validation.RELATIONS + validation.EFFECTS)]
ASSERTED = sum(len(r.asserted) for r in validation.RELATIONS)
BASE = {"resolved_share": 0.93, "unvoiced_share": 0.04, "unmet_days_per_1000": 10_000.0,
        "mean_satisfaction": 0.74, "mean_trust": 0.64, "response_rate": 0.99,
        "resolution_rate": 0.97, "satisfaction_rate": 0.96}


# ---- the bound ------------------------------------------------------------------------------
def test_harm_bound_is_the_one_sided_student_t_bound():
    baseline, variant = np.zeros(4), np.array([-1.0, -2.0, -3.0, -4.0])
    p = paired(baseline, variant)
    # the one-sided 95 % bound is the upper end of the two-sided 90 % interval
    harm = baseline - variant
    upper = stats.t.interval(0.90, 3, loc=harm.mean(), scale=stats.sem(harm))[1]
    assert harm_bound(p, -1) == pytest.approx(upper)
    assert harm_bound(p, +1) == pytest.approx(upper - 2 * harm.mean())
    assert math.isnan(harm_bound(paired([1.0], [2.0]), -1))
    with pytest.raises(ValueError):
        harm_bound(p, 0)


# ---- non-inferiority on synthetic paired tables -----------------------------------------------
def synthetic(n: int = 20, seed: int = 1) -> pd.DataFrame:
    """A summary table (city rows) where every variant equals the baseline plus a little noise."""
    rng = np.random.default_rng(seed)
    rows = []
    for r in range(n):
        base = {k: v * (1 + 0.01 * rng.standard_normal()) for k, v in BASE.items()}
        for variant in VARIANTS:
            noise = 0 if variant == validation.BASELINE else 1e-5
            rows.append({"variant": variant, "class": "city", "point": 0, "replication": r,
                         **{k: v + noise * rng.standard_normal() * v for k, v in base.items()}})
    return pd.DataFrame(rows)


def plant(summary: pd.DataFrame, variant: str, outcome: str, by: float) -> pd.DataFrame:
    """The variant's outcome moved by `by` (a relative move for unmet days) in every replication."""
    out = summary.copy()
    rows = out["variant"] == variant
    if outcome == "unmet_days_per_1000":
        out.loc[rows, outcome] *= 1 + by
    else:
        out.loc[rows, outcome] += by
    return out


def result(table: pd.DataFrame, variant: str, outcome: str):
    return table[(table["variant"] == variant) & (table["outcome"] == outcome)].iloc[0]


def test_variants_no_worse_than_the_baseline_hold():
    table = validation.evaluate(synthetic())
    assert table["asserted"].sum() == ASSERTED
    assert table.loc[table["asserted"], "holds"].all()
    assert validation.failures(table).empty


# (variant, outcome, planted move): beyond the margin, and within it (the same cells)
BEYOND = [("more-money", "resolved_share", -0.003),  # 0.3 pp worse: beyond the 0.2 pp margin
          ("smaller-grids", "unvoiced_share", +0.003),  # an increase is the harm here
          ("more-department-capacity", "unmet_days_per_1000", +0.03),  # 3 % worse, margin 2 %
          ("lower-arise-rates", "mean_satisfaction", -0.006),  # margin 0.005
          ("more-money", "satisfaction_rate", -0.003)]  # a KPI asserted
WITHIN = [("more-money", "resolved_share", -0.001),  # 0.1 pp worse: non-inferior
          ("smaller-grids", "unvoiced_share", -0.003),  # better
          ("more-department-capacity", "unmet_days_per_1000", +0.01),
          ("lower-arise-rates", "mean_satisfaction", -0.004),
          ("more-money", "satisfaction_rate", -0.001)]


@pytest.mark.parametrize("planted, fails", [(BEYOND, True), (WITHIN, False)])
def test_a_planted_harm_fails_beyond_the_margin_only(planted, fails):
    summary = synthetic()
    for variant, outcome, by in planted:
        summary = plant(summary, variant, outcome, by)
    table = validation.evaluate(summary)
    for variant, outcome, by in planted:
        row = result(table, variant, outcome)
        scale = BASE[outcome] if outcome.startswith("unmet") else 1
        assert row["difference"] == pytest.approx(by * scale, rel=0.05)
        assert bool(row["holds"]) is not fails
    failed = validation.failures(table)
    assert sorted(zip(failed["variant"], failed["outcome"])) == \
        (sorted((v, o) for v, o, _ in planted) if fails else [])


def test_noise_makes_a_harmless_variant_fail_with_too_few_replications():
    """The bound widens with the spread: a variant only as good as the baseline, but noisy,
    cannot be shown non-inferior from three replications."""
    noisy = synthetic(n=3)
    rows = noisy["variant"] == "more-money"
    noisy.loc[rows, "mean_trust"] += np.array([0.02, -0.02, 0.0])
    assert not result(validation.evaluate(noisy), "more-money", "mean_trust")["holds"]


def test_reported_outcomes_and_effects_are_never_asserted():
    table = validation.evaluate(plant(plant(synthetic(), "smaller-grids", "resolution_rate",
                                            -0.05), "no-measures", "resolved_share", -0.05))
    assert validation.failures(table).empty
    kpi = result(table, "smaller-grids", "resolution_rate")
    assert not kpi["asserted"] and "find more silent grievances" in kpi["why"]
    assert kpi["ci_high"] < 0  # reported with its interval
    effects = table[table["variant"].isin(["no-linkage", "no-measures"])]
    assert len(effects) == 2 * len(validation.OUTCOMES) and not effects["asserted"].any()


def test_missing_baseline_runs_are_one_clear_error():
    summary = synthetic()
    with pytest.raises(InputError, match="expected finished runs of the variants"):
        validation.evaluate(summary[summary["variant"] != validation.BASELINE])


# ---- the experiment ---------------------------------------------------------------------------
def test_the_shipped_experiment_runs_the_properties_at_the_shipped_scale():
    experiment = load("validation")
    validation.check_experiment(experiment)
    assert experiment.replications >= 20
    run = dict(experiment.variants)[validation.BASELINE]["run"]
    assert (run["scale"], run["days"]) == (0.01, 365)
    assert run["warmup_years"] == SCHEMA["run"]["warmup_years"].default  # the model's default


def test_the_tiny_experiment_has_the_shipped_variants():
    shipped, tiny = (dict(load(x).variants) for x in ("validation", TINY))
    assert list(tiny) == list(shipped) == VARIANTS
    for name in VARIANTS:
        a, b = (validation.flat(s[name].params) for s in (shipped, tiny))
        assert {k: v for k, v in a.items() if not k.startswith("run.")} == \
            {k: v for k, v in b.items() if not k.startswith("run.")}


@pytest.mark.parametrize("old, new, expected", [
    ("B = 450_000", "B = 250_000", "variant \"more-money\": expected more money"),
    ("households_per_grid = 300 }", "households_per_grid = 300, mechanisms.staff_per_10k = 5.0 }",
     "also changes mechanisms.staff_per_10k"),
    ("department_capacity = 15.0", "department_capacity = 7.5", "changes nothing"),
    ("four_party_linkage = false", "four_party_linkage = true", "the four-party linkage off"),
])
def test_a_variant_against_its_relation_is_refused(tmp_path, old, new, expected):
    text = TINY.read_text(encoding="utf-8")
    assert old in text
    path = tmp_path / "bad.toml"
    path.write_text(text.replace(old, new), encoding="utf-8")
    with pytest.raises(InputError, match=re.escape(expected)):
        validation.check_experiment(load(path))


# ---- the report -------------------------------------------------------------------------------
def test_the_report_says_how_it_was_made_and_what_holds(tmp_path):
    made = {"command": "shequ check", "date": "2024-11-10", "version": "0", "experiment": "x",
            "name": "validation", "replications": 20, "variants": 7, "seed": 1, "scale": 0.01,
            "days": 365, "warmup": 1, "results": "results/validation"}
    text = validation.markdown(validation.evaluate(synthetic()), made)
    assert f"All {ASSERTED} asserted properties hold" in text and "quick check" not in text
    assert validation.LITTLE in text


def test_the_scale_section_compares_every_class_with_its_margin():
    summary = synthetic()
    classes = sorted(set(summary["class"]))
    full = summary[summary["variant"] == validation.BASELINE].groupby("class")[
        list(validation.SCALE_OUTCOMES)].mean()
    full.loc[classes[0], "response_rate"] += 0.5  # one gap far beyond any margin
    table = validation.scale_table(summary, full)
    assert len(table) == len(classes) * len(validation.SCALE_OUTCOMES)
    assert table["within"].sum() == len(table) - 1
    made = {"scale": 0.01, "replications": 20}
    assert f"**{len(table) - 1} of {len(table)} within" in "\n".join(
        validation.scale_section(table, made))


# ---- end to end -------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def tiny(tmp_path_factory):
    """The tiny experiment run once through `shequ check` (in this process): its exit code, the
    result folder and the report."""
    folder = tmp_path_factory.mktemp("check")
    results, out = folder / "results", folder / "docs" / "validation.md"
    code = main(["check", str(TINY), "--workers", "0", "--results", str(results), "--out",
                 str(out), "--no-progress"])
    return code, results, out


def check(tiny, *extra) -> int:
    _, results, out = tiny
    return main(["check", str(TINY), "--workers", "0", "--results", str(results), "--out",
                 str(out), "--no-progress", *extra])


def test_check_runs_the_experiment_and_reports_every_property(tiny):
    code, results, out = tiny
    text = out.read_text(encoding="utf-8")
    failed = text.count("| **fails** |")
    assert code == (1 if failed else 0)
    assert text.count("| holds |") + failed == ASSERTED
    assert "3 replications of each of 7 variants" in text and "quick check" in text
    for name in VARIANTS[1:]:
        assert f"| {name} |" in text
    manifest = pd.read_parquet(results / "manifest")
    assert len(manifest) == 21 and (manifest["status"] == "ok").all()


def test_a_planted_violation_fails_the_command_naming_it(tiny, monkeypatch, capsys):
    real = validation.finished
    monkeypatch.setattr(validation, "finished", lambda *a: plant(real(*a), "smaller-grids",
                                                                 "mean_trust", -0.05))
    capsys.readouterr()
    assert check(tiny) == 1
    err = capsys.readouterr().err
    assert "fails: smaller-grids" in err and "mean_trust" in err
    assert "smaller-grids on `mean_trust`" in tiny[2].read_text(encoding="utf-8")


def test_every_property_holding_exits_0_and_replaces_the_report(tiny, monkeypatch, capsys):
    real = validation.finished

    def as_baseline(*args):  # every variant's outcomes those of the baseline: no harm anywhere
        summary = real(*args)
        base = summary[summary["variant"] == validation.BASELINE]
        return pd.concat([base.assign(variant=v) for v in VARIANTS], ignore_index=True)

    monkeypatch.setattr(validation, "finished", as_baseline)
    capsys.readouterr()
    assert check(tiny) == 0
    assert f"All {ASSERTED} asserted properties hold" in tiny[2].read_text(encoding="utf-8")
    assert "nothing to run" in capsys.readouterr().out  # the batch resumed: no run again


def test_check_in_chinese_gives_the_same_verdict_in_chinese(tiny, tmp_path, capsys):
    _, results, _ = tiny  # its report may have been rewritten by another test: made again here
    codes = [main(["check", str(TINY), "--workers", "0", "--results", str(results), "--out",
                   str(tmp_path / f"{lang}.md"), "--no-progress", "--lang", lang])
             for lang in ("en", "zh")]
    assert codes[0] == codes[1]
    english = (tmp_path / "en.md").read_text(encoding="utf-8")
    text = (tmp_path / "zh.md").read_text(encoding="utf-8")
    assert text.startswith("# 模型验证\n") and "--lang zh` 于" in text
    assert text.count("| 成立 |") == english.count("| holds |")
    assert text.count("| **不成立** |") == english.count("| **fails** |")
    assert f"{ASSERTED} 项断言的性质中" in capsys.readouterr().out  # the batch resumed


# ---- bad input --------------------------------------------------------------------------------
def test_a_report_file_shequ_did_not_write_is_refused_before_any_run(tmp_path, capsys):
    out = tmp_path / "validation.md"
    out.write_text("my notes\n", encoding="utf-8")
    code = main(["check", str(TINY), "--workers", "0", "--results", str(tmp_path / "res"),
                 "--out", str(out)])
    err = capsys.readouterr().err
    assert code == 2 and err.startswith("shequ: error: --out") and err.count("\n") == 1
    assert out.read_text(encoding="utf-8") == "my notes\n"
    assert not (tmp_path / "res").exists()


@pytest.mark.parametrize("argv, expected", [
    ([str(DATA / "small.toml")], "expected the variants reform, more-money"),
    (["no-such-experiment"], "no-such-experiment"),
    ([str(TINY), "--workers", "2", "--cluster", "tcp://127.0.0.1:1"], "not both"),
])
def test_bad_input_is_one_line_and_runs_nothing(tmp_path, capsys, argv, expected):
    code = main(["check", *argv, "--results", str(tmp_path / "res"), "--out",
                 str(tmp_path / "v.md")])
    err = capsys.readouterr().err
    assert code == 2 and err.startswith("shequ: error:") and err.count("\n") == 1
    assert expected in err
    assert not (tmp_path / "res").exists() and not (tmp_path / "v.md").exists()


# ---- the whole report: calibration, stylised facts -------------------------------------------
FACTS_TINY = DATA / "stylised-facts-tiny.toml"
CALIBRATION = "# Calibration to x\n\nMade by y.\n\n## Fitted targets\n\n| a |\n|---|\n| 1 |\n"


def test_the_whole_report_holds_the_calibration_and_the_stylised_facts(tiny, tmp_path, capsys):
    from analysis import facts

    calibration = tmp_path / "calibration.md"
    calibration.write_text(CALIBRATION, encoding="utf-8")
    code = check(tiny, "--facts", str(FACTS_TINY), "--facts-results", str(tmp_path / "facts"),
                 "--calibration", str(calibration))
    text = tiny[2].read_text(encoding="utf-8")
    heads = [line for line in text.splitlines() if line.startswith("## ")]
    assert heads == ["## Calibration", "## Stylised facts", "## Metamorphic properties",
                     "## Little's law"]
    assert "### Fitted targets" in text and "Made by y." in text
    assert text.startswith("# Validation\n")
    rows = [line for line in text.split("## Stylised facts")[1].split("## Metamorphic")[0]
            .splitlines() if line.startswith("| ") and not line.startswith("| fact")]
    assert len(rows) == len(facts.FACTS)
    failed = sum(row.endswith("| **no** |") for row in rows)
    err = capsys.readouterr().err
    assert err.count("fails: stylised fact") == failed
    assert code == (1 if failed or "| **fails** |" in text else 0)


@pytest.mark.parametrize("argv, expected", [
    (["--calibration", "{tmp}/none.md"], "--calibration"),
    (["--calibration", "{tmp}/notes.md"], "starting \"# Calibration\""),
    (["--facts", str(TINY)], "expected the stylised facts' variants"),
])
def test_a_bad_calibration_or_facts_experiment_is_one_line(tmp_path, capsys, argv, expected):
    (tmp_path / "notes.md").write_text("my notes\n", encoding="utf-8")
    argv = [a.replace("{tmp}", str(tmp_path)) for a in argv]
    code = main(["check", str(TINY), "--workers", "0", "--results", str(tmp_path / "res"),
                 "--out", str(tmp_path / "v.md"), *argv])
    err = capsys.readouterr().err
    assert code == 2 and err.startswith("shequ: error:") and err.count("\n") == 1
    assert expected in err
    assert not (tmp_path / "res").exists() and not (tmp_path / "v.md").exists()

"""The best split of a fixed budget (`shequ optimise`): every candidate spends the total to the
yuan; the search recovers a known optimum of a small synthetic objective; the same seed gives the
same search whatever runs the rounds; the command resumes, confirms on fresh seeds and refuses
bad input."""

import json
import subprocess
import sys

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from analysis import optimise
from analysis.optimise import ClassSplit, NeedWeights, pick, search
from sim import funding

pytest.importorskip("optuna")  # the optional extra, installed by `.[test]`

COUNTS = {"A": 70, "B": 66, "C": 22, "D": 20}  # the published classification
TOTAL = 35_600_000


@pytest.fixture(scope="module")
def city():
    communities, classes, funds, _ = optimise.city_of(
        __import__("sim.scenario", fromlist=["load"]).load("xining-classified"))
    return communities, classes, funds


unit = st.floats(0, 1, allow_nan=False)


@settings(max_examples=60, deadline=None)
@given(u=st.tuples(unit, unit, unit), minimum=st.integers(0, 200_000))
def test_every_class_split_spends_the_total_to_the_yuan_and_keeps_the_minimum(city, u, minimum):
    communities, classes, _ = city
    space = ClassSplit(COUNTS, TOTAL, minimum)
    over = space.overrides(dict(zip(space.names, u)))["funding"]
    funds = funding.allocate(over, communities, classes, "test")
    assert funds.sum() == TOTAL
    assert funds.min() >= minimum
    for c in COUNTS:  # evenly within a class: at most a yuan apart
        assert np.ptp(funds[classes == c]) <= 1


def test_the_default_class_shares_are_the_reform_and_the_reference_is_found_again(city):
    communities, classes, funds = city
    from sim.parameters import SCHEMA

    shares = {"scheme": "class_shares", "total": TOTAL, "minimum": 0,
              "class_shares": SCHEMA["funding"]["class_shares"].default}
    assert (funding.allocate(shares, communities, classes, "test") == funds).all()
    space = ClassSplit(COUNTS, TOTAL)
    parts = np.array([funds[classes == c].sum() for c in COUNTS]) / TOTAL
    u = space.params_of(parts)
    assert np.allclose(space.parts(u), parts, atol=1e-8)
    described = space.describe(u)
    assert described["fund_B"] == pytest.approx(300_000, abs=1)


def test_a_minimum_beyond_the_total_is_refused(city):
    communities, classes, _ = city
    from sim.errors import InputError

    with pytest.raises(InputError, match="funding.minimum"):
        funding.allocate({"scheme": "class_shares", "total": TOTAL, "minimum": 250_000,
                          "class_shares": dict.fromkeys("ABCD", 1.0)}, communities, classes, "t")


def test_needs_weights_divide_the_total_exactly(city):
    communities, classes, _ = city
    space = NeedWeights(COUNTS, TOTAL, 50_000, 4.0, (communities, classes))
    over = space.overrides(dict.fromkeys(space.names, 0.7))["funding"]
    funds = funding.allocate(over, communities, classes, "test")
    assert funds.sum() == TOTAL and funds.min() >= 50_000
    assert sum(space.describe(dict.fromkeys(space.names, 0.7))[f"part_{c}"]
               for c in COUNTS) == pytest.approx(1)


def synthetic(target, noise=0.002, seed=7):
    """A known optimum: minus the squared distance of the class parts from `target`, with the
    same noise for every candidate of a replication (common random numbers)."""
    space = ClassSplit(COUNTS, TOTAL)
    rng = np.random.default_rng(seed)
    shocks = rng.normal(0, noise, 3)

    def evaluate(label, candidates):
        out = {}
        for name, over in candidates.items():
            parts = np.array([over["funding"]["class_shares"][c] for c in COUNTS])
            out[name] = -np.sum((parts - target) ** 2) + shocks
        return out

    return space, evaluate


def test_the_search_recovers_a_known_optimum():
    target = np.array([0.15, 0.45, 0.25, 0.15])
    space, evaluate = synthetic(target)
    found = search(space, evaluate, rounds=10, candidates=8, seed=3, direction="maximize",
                   log=lambda line: None)
    best = pick(found, "maximize", 1)[0]
    parts = np.array([best.overrides["funding"]["class_shares"][c] for c in COUNTS])
    assert np.abs(parts - target).max() < 0.08, parts
    first = max(c.value for c in found if c.round == 1)
    assert best.value > first  # the search did better than its random start


def test_the_search_does_not_depend_on_the_order_results_come_in():
    space, evaluate = synthetic(np.array([0.25, 0.25, 0.25, 0.25]))

    def backwards(label, candidates):  # a round whose runs finish in another order
        return dict(reversed(list(evaluate(label, dict(reversed(list(candidates.items()))))
                                  .items())))

    a = search(space, evaluate, rounds=3, candidates=4, seed=5, direction="maximize",
               log=lambda line: None)
    b = search(space, backwards, rounds=3, candidates=4, seed=5, direction="maximize",
               log=lambda line: None)
    assert [c.params for c in a] == [c.params for c in b]


def shequ(*args, cwd):
    return subprocess.run([sys.executable, "-m", "sim", *args], capture_output=True, text=True,
                          cwd=cwd)


def test_the_command_confirms_on_fresh_seeds_resumes_and_is_the_same_on_any_workers(tmp_path):
    (tmp_path / "quick.toml").write_text(
        'extends = "%s"\nname = "quick"\n[run]\nwarmup_years = 0\n'
        % (__import__("sim.scenario", fromlist=["SCENARIO_DIR"]).SCENARIO_DIR
           / "xining-classified.toml").resolve())
    common = ["quick.toml", "--scale", "0.001", "--days", "5", "--rounds", "2", "--candidates",
              "2", "--replications", "1", "--confirm", "1", "--confirm-replications", "2",
              "--no-progress"]
    first = shequ("optimise", *common, "--workers", "0", "--results", "r0", "--out", "o0",
                  cwd=tmp_path)
    assert first.returncode == 0, first.stderr
    assert "paired replications" in first.stdout
    result = json.loads((tmp_path / "o0" / "optimise.json").read_text())
    # rounds x candidates, then 2 configs x 2 seeds; each run's own time from the manifest
    assert result["made_by_this_invocation"] == result["runs_in_all"] == 2 * 2 * 1 + 2 * 2
    assert result["worker_seconds"] > 0
    page = (tmp_path / "o0" / "optimise.md").read_text()
    assert result["best"]["candidate"] != "r01c01"  # the reference is the baseline, not a pick
    confirm = (tmp_path / "o0" / "rounds" / "confirm.toml").read_text()
    round1 = (tmp_path / "o0" / "rounds" / "round-01.toml").read_text()
    assert "seeds = [" in confirm and "seeds = [" not in round1  # fresh seeds, listed
    again = shequ("optimise", *common, "--workers", "0", "--results", "r0", "--out", "o0",
                  cwd=tmp_path)
    assert again.returncode == 0, again.stderr
    resumed = json.loads((tmp_path / "o0" / "optimise.json").read_text())
    assert resumed["made_by_this_invocation"] == 0 and resumed["runs_in_all"] == 8  # resumed
    assert (tmp_path / "o0" / "optimise.md").read_text() == page  # the same report page
    two = shequ("optimise", *common, "--workers", "2", "--results", "r2", "--out", "o2",
                cwd=tmp_path)
    assert two.returncode == 0, two.stderr
    assert ((tmp_path / "o0" / "optimise.csv").read_text()
            == (tmp_path / "o2" / "optimise.csv").read_text())
    best = shequ("validate", "o0/best.toml", cwd=tmp_path)
    assert best.returncode == 0 and "funds 35,600,000 yuan" in best.stdout


@pytest.mark.parametrize("args, says", [
    (["--objective", "nothing"], "--objective nothing: expected an outcome"),
    (["--objective", "escalation_share_departments"], "better higher or lower"),
    (["--class", "E"], "--class E: expected city, worst"),
    (["--minimum", "300000"], "--minimum 300,000: expected at most 200,000"),
    (["--confirm-replications", "1"], "expected at least 2"),
    (["--confirm", "0"], "--confirm 0: expected at least 1"),
    (["--scale", "2"], "--scale 2: expected a share of the residents in (0, 1]"),
    (["--decide", "needs", "--max-weight", "0"], "--max-weight 0: expected a weight above 0"),
    (["--decide", "needs", "--total", "30000000"], "--total 30,000,000: expected the scenario's"),
])
def test_bad_input_is_one_line_exit_2_and_nothing_written(tmp_path, args, says):
    out = shequ("optimise", *args, "--out", "o", "--results", "r", cwd=tmp_path)
    assert out.returncode == 2, out.stderr
    assert says in out.stderr and "Traceback" not in out.stderr
    assert not (tmp_path / "o").exists() and not (tmp_path / "r").exists()


def result(lang):
    """A Result of the synthetic search, with a made-up confirmation, in `lang`."""
    import argparse

    space, evaluate = synthetic(np.array([0.2, 0.4, 0.2, 0.2]))
    space.reference_funds = {"A": 150_000, "B": 300_000, "C": 150_000, "D": 100_000}
    found = search(space, evaluate, rounds=2, candidates=3, seed=1, direction="maximize",
                   log=lambda line: None)
    best = pick(found, "maximize", 2)
    confirmed = [optimise.Confirmed(c.name, 0.95 - 0.01 * i, d, d - 0.003, d + 0.003, 0.8, 10,
                                    {"resolved_share": (d, d - 0.003, d + 0.003)})
                 for i, (c, d) in enumerate(zip(best, (0.002, -0.002)))]
    args = argparse.Namespace(scenario="xining-classified", decide="classes", minimum=0,
                              rounds=2, candidates=3, replications=3, confirm=2,
                              confirm_replications=10, seed=1, scale=None, days=None)
    return optimise.Result(args, "xining-classified", optimise.Objective("resolved_share"), space,
                           found, best, confirmed, confirmed[0], 0, 1.0,
                           {"scale": 0.01, "days": 365}, 0.948, lang=lang)


def test_the_report_page_answers_first_in_english_and_in_chinese():
    en, zh = result("en"), result("zh")
    assert en.markdown().split("\n")[4] == "## The answer"
    assert "raises Resolved, of every grievance that arose city-wide by 0.20 pp" in en.sentence()
    assert "includes zero" in en.sentence()  # [-0.1, +0.5]: not told apart from the reference
    assert zh.markdown().split("\n")[4] == "## 结论" and "The answer" not in zh.markdown()
    assert "全市已解决" in zh.sentence() and "提高" in zh.sentence()
    assert len(zh.figure()) > 20_000 and "方案" in zh.summary_text()


def test_a_chinese_figure_without_a_cjk_font_is_refused(monkeypatch):
    from sim.errors import InputError
    from sim.viz import labels as viz_labels

    monkeypatch.setattr(viz_labels, "setup_fonts", lambda lang="en": None)
    viz_labels.require_fonts("en")  # English needs none
    with pytest.raises(InputError, match="--lang zh: expected a CJK font.*fonts-noto-cjk"):
        viz_labels.require_fonts("zh")


def test_a_candidate_is_named_in_the_store_by_what_makes_its_runs(tmp_path):
    from analysis.search import Rounds

    rounds = Rounds(tmp_path / "r", None, "optimise", "xining-classified", scale=0.01, days=365,
                    seed=1, executor=(None, 1, None))
    over = {"funding": {"scheme": "class_shares", "class_shares": {"A": 1.0}}}
    assert rounds.variant(over, None) == rounds.variant(json.loads(json.dumps(over)), None)
    assert rounds.variant(over, None) != rounds.variant(over, [1, 2])
    assert rounds.variant(over, None) != rounds.at_scale(0.1).variant(over, None)
    other = {"funding": {"scheme": "class_shares", "class_shares": {"A": 2.0}}}
    assert rounds.variant(over, None) != rounds.variant(other, None)
    text = rounds.text("round-01", {"r01c01": over, "r01c02": over, "r01c03": other}, None, 3)
    assert text.count("[[variants]]") == 2 and "# r01c01, r01c02" in text


def test_replications_stay_paired_and_one_pair_gives_no_probability():
    import pandas as pd

    def summary(values):
        from sim.labels import MAIN

        return pd.DataFrame([{"replication": r, "class": k, **dict.fromkeys(MAIN, v)}
                             for r, v in enumerate(values) for k in ("city", "A")])

    objective = optimise.Objective("resolved_share")
    nan = float("nan")
    assert list(objective.per_replication(summary([0.9, nan, 0.8]))[[0, 2]]) == [0.9, 0.8]
    assert np.isnan(objective.per_replication(summary([0.9, nan, 0.8]))[1])
    tables = {"reference": summary([0.9, 0.8, 0.7]), "c": summary([0.95, nan, nan])}
    (only,) = optimise.confirm(objective, tables, "reference")
    assert only.n == 1 and np.isnan(only.p_better)

"""The visual side without a browser: labels, the levers and the model they drive (also mid-run),
the graph, the class panels and the monitors, a grievance's story, replay from a result store,
films with captions and static figures, the server's addresses and the app's browser files."""

import json
import re
import string
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from sim.grievances import UNREPORTED, State
from sim.model import GovernanceModel
from sim.parameters import CLASSES, MEASURES
from sim.scenario import load
from sim.viz import animate, controls, graph, plots, replay, story
from sim.viz.cli import write_figures
from sim.viz.controls import CONTROLS, TeachingModel
from sim.viz.labels import LABELS, cjk_font, text

ROOT = Path(__file__).resolve().parent.parent
QUICK = {"residents_per_building": 5, "warmup_years": 0}  # no warm-up year: quick tests
SMALL = {"scale": 0.005, "days": 20, "overrides": QUICK}


def fields(label: str) -> set[str]:
    return {f for _, f, _, _ in string.Formatter().parse(label) if f}


@pytest.fixture(scope="module")
def model():
    """A small reform run of 60 days, stepped once for the module (as the app runs it: to the
    end of its reported period)."""
    m = TeachingModel(policy="xining-classified", scale=0.01, days=60, overrides=QUICK, watch=True)
    return m.run()


# ---- labels ---------------------------------------------------------------------------------
def test_every_label_has_both_languages_with_the_same_placeholders():
    for key, (en, zh) in LABELS.items():
        assert en.strip() and zh.strip(), key
        assert fields(en) == fields(zh), key
        assert re.search(r"[\u4e00-\u9fff]", zh), f"{key}: Chinese label without Chinese"


def test_text_fills_placeholders_and_rejects_unknown_languages():
    assert text("fund", "en", cls="B") == "Fund of a class-B community (yuan a year)"
    assert text("fund", "zh", cls="B") == "B 类社区经费（元/年）"
    with pytest.raises(ValueError, match="language"):
        text("title", "fr")


def test_a_cjk_font_is_found_where_one_is_installed():
    installed = any("CJK" in p.name for p in Path("/usr/share/fonts").rglob("*.tt*")) \
        if Path("/usr/share/fonts").exists() else False
    if not installed:
        pytest.skip("no CJK font installed (Debian: fonts-noto-cjk)")
    assert cjk_font()


# ---- levers and the model they drive ---------------------------------------------------------
@pytest.mark.parametrize("scenario", ["xining-classified", "xining-uniform", "needs-based",
                                      "classified-thresholds-moved", "uniform-with-measures"])
def test_levers_at_their_defaults_change_nothing(scenario):
    """Defaults are read from the scenario shown: untouched levers give no override."""
    base = load(scenario)
    values = {c.name: c.default(base.params) for c in CONTROLS}
    assert controls.teaching_overrides(base, values) == {}


def test_untouched_levers_give_the_identical_run():
    base = load("xining-classified")
    values = {c.name: c.default(base.params) for c in CONTROLS}
    a = TeachingModel(policy="xining-classified", scale=0.005, days=20, rng=3, controls=values)
    b = GovernanceModel(scenario="xining-classified", scale=0.005, days=20, rng=3)
    pd.testing.assert_frame_equal(a.run().summary(), b.run().summary())


# A value away from each lever's default, and where it must show in the scenario's parameters.
MOVED = {
    "funding_scheme": ("needs_based", lambda p: p["funding"]["scheme"] == "needs_based"),
    "fund_A": (200_000, lambda p: p["funding"]["by_class"]["A"] > 150_000),
    "fund_B": (100_000, lambda p: p["funding"]["by_class"]["B"] < 300_000),
    "fund_C": (300_000, lambda p: p["funding"]["by_class"]["C"] > 150_000),
    "fund_D": (300_000, lambda p: p["funding"]["by_class"]["D"] > 100_000),
    "hold_total": (False, lambda p: p["funding"]["total"] == 0),
    "households_per_grid": (800, lambda p: p["mechanisms"]["households_per_grid"] == 800),
    "four_party_linkage": (False, lambda p: p["mechanisms"]["four_party_linkage"] is False),
    **{f"measure_{m}": (False, lambda p, m=m: all(m not in p["measures"][c] for c in CLASSES))
       for m in MEASURES},
    "commercial_share_min": (0.7, lambda p: p["classification"]["commercial_share_min"] == 0.7),
    "old_residents_max_a": (2500, lambda p: p["classification"]["old_residents_max_a"] == 2500),
    "population_min_b": (8000, lambda p: p["classification"]["population_min_b"] == 8000),
    "old_residents_min_b": (2500, lambda p: p["classification"]["old_residents_min_b"] == 2500),
}


def test_every_lever_is_declared_once_and_tested():
    names = [c.name for c in CONTROLS]
    assert len(names) == len(set(names))
    assert set(names) == set(MOVED)


@pytest.mark.parametrize("name", [c.name for c in CONTROLS])
def test_every_lever_is_used(name):
    """Moving a lever changes the model's world (no lever declared and never read)."""
    value, check = MOVED[name]
    others = {}
    if name == "hold_total":
        others = {"fund_B": 400_000}  # holding the total or not matters once an amount moves
    m = TeachingModel(policy="xining-classified", scale=1e-4, days=1, **others, **{name: value})
    assert m.control_overrides, name
    assert check(m.p), (name, m.control_overrides)


def test_holding_the_total_keeps_the_moved_class_and_scales_the_others():
    m = TeachingModel(policy="xining-classified", scale=1e-4, days=1, fund_B=400_000,
                      hold_total=True)
    assert int(m.funds.sum()) == 35_600_000
    amounts = m.p["funding"]["by_class"]
    assert amounts["B"] == 400_000  # the slider moved shows what the model uses
    assert amounts["A"] / amounts["D"] == pytest.approx(150 / 100, rel=1e-3)
    assert amounts["A"] < 150_000 and amounts["C"] < 150_000
    assert m.levers["fund_A"] == amounts["A"] and m.levers["hold_total"]
    free = TeachingModel(policy="xining-classified", scale=1e-4, days=1, fund_B=400_000,
                         hold_total=False)
    assert free.p["funding"]["by_class"]["B"] == 400_000
    assert int(free.funds.sum()) == 35_600_000 + 66 * 100_000


def test_moved_thresholds_keep_the_total_when_held():
    m = TeachingModel(policy="xining-classified", scale=1e-4, days=1, old_residents_max_a=2500,
                      old_residents_min_b=2500)
    counts = {c: int(np.sum(m.classes == c)) for c in CLASSES}
    assert counts == {"A": 55, "B": 81, "C": 22, "D": 20}
    assert int(m.funds.sum()) == 35_600_000


def test_exact_amounts_add_up_when_a_small_change_can_make_them():
    counts = {"A": 55, "B": 81, "C": 22, "D": 20}
    ideal = {"A": 141_083.3, "B": 282_166.6, "C": 141_083.3, "D": 94_055.5}
    amounts = controls.exact_amounts(ideal, counts, 35_600_000)
    assert sum(counts[c] * amounts[c] for c in CLASSES) == 35_600_000
    assert all(abs(amounts[c] - ideal[c]) < 50 for c in CLASSES)


def test_a_measure_switched_on_goes_to_the_classes_of_the_reform():
    m = TeachingModel(policy="xining-uniform", scale=1e-4, days=1, measure_deliberation=True)
    assert {c for c in CLASSES if "deliberation" in m.p["measures"][c]} == {"B", "C"}


def test_the_funding_scheme_lever_takes_labels_in_either_language():
    for label in (text("scheme_per_capita", "en"), text("scheme_per_capita", "zh"), "per_capita"):
        assert controls.scheme_of(label) == "per_capita"
    with pytest.raises(ValueError):
        controls.scheme_of("by lottery")


# ---- levers mid-run ----------------------------------------------------------------------------
DAY0 = {"policy": "xining-classified", "scale": 0.003, "days": 15, "overrides": QUICK}


@pytest.mark.parametrize("policy, levers", [
    ("xining-classified", {"households_per_grid": 800, "fund_B": 400_000,
                           "measure_owners_committees": False, "measure_red_property": False}),
    ("xining-classified", {"four_party_linkage": False, "measure_security_patrols": False,
                           "measure_central_households": False, "measure_deliberation": False,
                           "measure_purchased_services": False}),
    ("classified-no-linkage", {"four_party_linkage": True}),
    ("xining-uniform", {"measure_owners_committees": True, "measure_deliberation": True,
                        "funding_scheme": "needs_based"}),
])
def test_a_lever_moved_before_the_first_day_is_the_run_built_with_it(policy, levers):
    """The mid-run mechanics rebuild exactly what the model builds from the parameters."""
    moved = TeachingModel(**(DAY0 | {"policy": policy}))
    moved.request(**levers)
    assert not moved.pending and not moved.changes  # before the first day: at once, unmarked
    built = TeachingModel(**(DAY0 | {"policy": policy}), **levers)
    pd.testing.assert_frame_equal(moved.run().summary(), built.run().summary())


def test_a_lever_moved_mid_run_acts_from_the_next_day():
    m = TeachingModel(**DAY0)
    for _ in range(10):
        m.step()
    workers, interval = len(m.grid_workers), m.patrols.interval.copy()
    shown = m.request(households_per_grid=1000)
    assert shown["households_per_grid"] == 1000 and m.pending == {"households_per_grid": 1000}
    assert m.p["mechanisms"]["households_per_grid"] == 400  # not yet: from the next day
    m.step()
    assert m.p["mechanisms"]["households_per_grid"] == 1000 and not m.pending
    assert len(m.grid_workers) < workers / 2
    visited = np.isfinite(interval)
    assert np.all(m.patrols.interval[visited] >= interval[visited])  # rarer visits
    assert np.any(m.patrols.interval[visited] > interval[visited])
    assert m.changes == [controls.Change(day=10, values={"households_per_grid": 1000})]
    assert plots.daily(m)["day"].max() == 10  # the change's day is the day just run


def test_mid_year_funding_redivides_the_rest_of_the_year_pro_rata():
    m = TeachingModel(**(DAY0 | {"days": 365}))
    for _ in range(100):
        m.step()
    before, old = m.spending.balance.copy(), m.funds.copy()
    shown = m.request(fund_B=400_000)
    assert shown["fund_B"] == 400_000 and shown["fund_A"] < 150_000  # the others move, visibly
    m.apply_pending()  # what the next day does first
    assert m.p["funding"]["by_class"] == {c: shown[f"fund_{c}"] for c in CLASSES}
    assert int(m.funds.sum()) == int(old.sum()) == 35_600_000  # the city total held
    rest = (m.funds - old) * m.scale * 265 / 365  # the year's 265 days left, pro rata
    assert np.allclose(m.spending.balance, np.maximum(before + rest, 0))
    assert rest[m.classes == "B"].min() > 0 > rest[m.classes == "A"].max()
    assert [c.fund for c in m.committees] == m.funds.tolist()
    assert m.fund_history[-1] == (100, plots.class_funds(m))
    m.step()
    assert m.changes[0].day == 100 and m.changes[0].values["fund_B"] == 400_000


def test_levers_that_define_the_city_wait_for_a_new_run():
    m = TeachingModel(**DAY0)
    with pytest.raises(ValueError, match="new run"):
        m.request(old_residents_max_a=2500)
    with pytest.raises(TypeError, match="unknown"):
        m.request(budget=1)


# ---- graph and class panels ------------------------------------------------------------------
def test_default_communities_are_one_of_each_class(model):
    view = graph.layout(model)
    assert sorted(model.classes[view.communities]) == sorted(model.class_labels)
    drawn = model.buildings["community"].to_numpy()[view.buildings]
    assert set(drawn) == set(view.communities)
    xy = np.array(list(view.pos.values()))
    assert np.all((xy >= 0) & (xy <= [view.ncols, view.nrows]))


def test_communities_by_number_or_name():
    names = [f"community-{i:03d}" for i in range(1, 179)]
    assert graph.parse_communities("3, community-010", names) == [2, 9]
    assert graph.parse_communities("", names) is None
    with pytest.raises(ValueError, match="from 1 to 178"):
        graph.parse_communities("999", names)


def test_the_graph_shows_the_models_own_state(model):
    view = graph.layout(model)
    reported, silent = graph.open_grievances(model)
    g = model.grievances
    is_open = g.state[: len(g)] == State.OPEN
    assert reported.sum() + silent.sum() == is_open.sum()
    assert silent.sum() == (is_open & (g.level[: len(g)] == UNREPORTED)).sum()
    at = graph.institutions(model, view)
    drawn = set(view.communities)
    assert len(at["grid_worker"]) == sum(w.community in drawn for w in model.grid_workers)
    assert len(at["office"]) == len(view.communities)
    sat = graph.building_satisfaction(model)
    b = model.residents.building
    assert sat[b[0]] == pytest.approx(model.residents.satisfaction[b == b[0]].mean())


def test_the_graph_shows_what_the_institutions_do():
    """Day by day the picture follows the behaviours: the ring marks the buildings walked today
    (every building of a route in turn, as often as its grid's size allows), company markers
    follow the red/black list and the companies leaving, owners' committees are there while they
    exist."""
    m = TeachingModel(policy="xining-classified", scale=0.01, days=200, overrides=QUICK)
    view = graph.layout(m)
    b = view.buildings
    walked = np.zeros(len(b))
    listed = set()
    for _ in range(200):
        m.step()
        walked += graph.snapshot(m, view).visited
        at = graph.institutions(m, view)
        drawn = [c for c in m.companies if c.community in view.communities]
        assert sorted(at["black_company"]) == sorted(
            int(c.cell.coordinate) for c in drawn if c.rating == "black")
        assert len(at["company"]) + len(at["red_company"]) + len(at["black_company"]) == len(drawn)
        listed |= {c.rating for c in drawn}
        owners = {int(o.cell.coordinate) for o in m.owners_committees
                  if o.community in view.communities}
        assert set(at["owners"]) == owners
    interval = m.patrols.interval[b]
    patrolled = np.isfinite(interval)
    assert patrolled.all() and (walked > 0).all()  # every building of every route, in turn
    expected = 200 * np.maximum(m.patrols.span[b], 1) / interval
    assert np.all(np.abs(walked - expected) <= 2 + 0.1 * expected)
    assert {"red", "black"} <= listed  # two quarters' lists, shown


def test_the_class_panels_read_the_daily_table(model):
    data = plots.series(model)
    table = plots.daily(model)
    assert set(data) == set(plots.panels(table)) >= set(plots.PANELS)
    for panel in data:
        assert set(data[panel]) == {*model.class_labels, "city"}
        assert len(data[panel]["city"]) == model.days
    left = data["funds_left"]["city"]
    assert left.iloc[-1] == pytest.approx(model.spending.balance.sum() / model.scale / model.funds.sum())
    assert 0 <= left.min() and left.max() <= 1
    city = table[table["class"] == "city"].set_index("day").iloc[-30:]
    resolved = city[plots.flow(city, "resolved")].sum()
    due = resolved + city[plots.flow(city, "dropped_reported")].sum()
    assert data["resolution_rate"]["city"].iloc[-1] == pytest.approx(resolved / due)


def test_the_monitors_show_kpis_of_reported_cases_and_the_whole_iceberg(model):
    table = plots.daily(model)
    shown = plots.monitors(table)
    city = table[table["class"] == "city"].set_index("day")
    assert shown["resolution_rate"] == pytest.approx(
        plots.series(model)["resolution_rate"]["city"].iloc[-1])
    assert shown["mean_trust"] == pytest.approx(city["mean_trust"].iloc[-1])
    iceberg = [n for n in plots.ICEBERG if plots.has(table, n)]
    for name in iceberg:  # where the model's daily table has them
        assert name in shown and 0 <= shown[name] <= (1 if name.endswith("_share") else 1e4)
    earlier = plots.monitors(table, day=20)
    assert earlier["mean_trust"] == pytest.approx(city["mean_trust"].loc[20])
    empty = plots.monitors(table.iloc[:0])
    assert all(np.isnan(v) for v in empty.values())


def test_the_apps_plots_are_svg_with_the_changes_marked_and_the_previous_run():
    from sim.viz import chart

    m = TeachingModel(**(SMALL | {"days": 40}), policy="xining-classified")
    for _ in range(15):
        m.step()
    m.request(households_per_grid=900, measure_deliberation=False)
    for _ in range(10):
        m.step()
    before = plots.frame(m)
    html = chart.plots_html(plots.frame(m), before, "en")
    panels = plots.panels(plots.daily(m))
    assert html.count("<svg viewBox") == len(panels)
    assert html.count('class="shequ-mark" data-day="15"') == len(panels)
    assert "day 16: grids of 900 households; deliberation councils (B, C) off" in html
    assert html.count('stroke="#9e9e9e"') >= len(panels)  # the previous run's city line
    assert "previous run: xining-classified" in html
    assert chart.y_range("funds_left", []) == (0.0, 1.0)


def test_figures_of_a_run(model, tmp_path):
    written = write_figures(model, tmp_path, lang="zh")
    assert [p.name for p in written] == ["graph.png", "rates.png", "overview.png"]
    for path in written:
        assert path.stat().st_size > 20_000


# ---- a grievance's story ------------------------------------------------------------------------
def test_stories_of_every_kind_are_told_in_both_languages(model):
    g = model.grievances
    n = len(g)
    kinds = {
        "resolved": np.flatnonzero(g.state[:n] == State.RESOLVED),
        "dropped unvoiced": np.flatnonzero((g.state[:n] == State.DROPPED) & (g.level[:n] == UNREPORTED)),
        "open": np.flatnonzero(g.state[:n] == State.OPEN),
        "hotline": np.flatnonzero(g.level[:n] == -1),
    }
    for kind, ids in kinds.items():
        assert len(ids), kind
        for lang in ("en", "zh"):
            lines = story.tell(model, int(g.gid[ids[0]]), lang)  # told by its number for life
            assert len(lines) >= 3 and all("{" not in line for line in lines), (kind, lines)
    first = story.tell(model, int(g.gid[kinds["resolved"][0]]), "en")
    assert any("**resolved**" in line for line in first)
    assert any("arose" in line for line in first)


def test_picking_a_story_never_changes_the_run():
    a = TeachingModel(policy="xining-classified", **SMALL)
    b = TeachingModel(policy="xining-classified", **SMALL)
    rng = np.random.default_rng(0)
    picks = []
    for _ in range(20):
        a.step()
        b.step()
        picks.append(story.pick(a, rng, [0, 1]))
        story.tell(a, picks[-1]) if picks[-1] is not None else None
    pd.testing.assert_frame_equal(a.summary(), b.summary())
    assert picks[-1] is not None
    for _ in range(40):  # rows move as closed grievances leave the table; numbers do not
        a.step()
    for gid in picks[-5:]:
        f = story.facts(a, gid)
        assert f is None or f["gid"] == gid
        assert (story.tell(a, gid) == []) == (f is None)


# ---- replay --------------------------------------------------------------------------------------
SPEC = {"scenario": "xining-classified", "seed": 7, "scale": 0.005, "days": 15,
        "overrides": {"mechanisms": {"households_per_grid": 600}}}


def test_a_spec_rebuilds_the_identical_run():
    a = replay.build(SPEC).run()
    b = GovernanceModel(scenario="xining-classified", rng=7, scale=0.005, days=15,
                        households_per_grid=600).run()
    pd.testing.assert_frame_equal(a.summary(), b.summary())


@pytest.mark.parametrize("layout", ["table", "run-folder", "run-manifest"])
def test_a_run_is_found_in_a_result_store(tmp_path, layout):
    if layout == "table":
        rows = pd.DataFrame([{"run_id": "r0", **SPEC, "overrides": "{}"},
                             {"run_id": "r1", **SPEC, "overrides": json.dumps(SPEC["overrides"])}])
        rows.to_parquet(tmp_path / "manifest.parquet")
    elif layout == "run-folder":
        (tmp_path / "runs" / "r1").mkdir(parents=True)
        (tmp_path / "runs" / "r1" / "manifest.json").write_text(json.dumps(SPEC))
    else:  # a `shequ run` folder: every parameter in `params`
        m = GovernanceModel(scenario="xining-classified", rng=7, scale=0.005, days=15,
                            households_per_grid=600)
        from sim.outputs import manifest
        (tmp_path / "manifest.json").write_text(json.dumps(manifest(m), default=str))
    spec = replay.read_spec(tmp_path, "r1")
    assert spec["seed"] == 7 and spec["days"] == 15
    a = replay.build(spec).run()
    b = replay.build(SPEC).run()
    pd.testing.assert_frame_equal(a.summary(), b.summary())


@pytest.fixture(scope="module")
def batch_folder(tmp_path_factory):
    """A small batch of the project's own engine: 2 x 2 sweep points x 2 replications."""
    from sim.batch import load, run_batch

    out = tmp_path_factory.mktemp("batch") / "sweep"
    run_batch(load(ROOT / "tests" / "data" / "experiments" / "sweep.toml"), out, workers=0,
              progress=False)
    return out


def test_any_run_of_a_batch_is_rebuilt_identically(batch_folder):
    stored = pd.read_parquet(batch_folder / "summary")
    for run in sorted(stored["run_id"].unique())[1::3]:
        spec = replay.read_spec(batch_folder, run)
        rebuilt = replay.build(spec).run().summary()
        mine = stored[stored["run_id"] == run][rebuilt.columns].reset_index(drop=True)
        pd.testing.assert_frame_equal(rebuilt, mine, check_dtype=False)


def test_a_batch_run_opens_in_the_app_as_it_was(batch_folder):
    """`shequ viz --store DIR --run ID`: the app's model with untouched levers is the stored run."""
    import argparse

    from sim.viz.cli import app_config

    run = "xining-classified.p00003.r00001"
    args = argparse.Namespace(scenario=None, scale=None, days=None, seed=None, lang="en",
                              communities="1,2", store=batch_folder, run_id=run)
    config = app_config(args)
    assert config.replay == {"store": str(batch_folder), "run": run}
    assert config.communities == [0, 1]
    base = controls.base_scenario(config.scenario, config.overrides, config.scale, config.days)
    levers = {c.name: c.default(base.params) for c in CONTROLS}
    m = TeachingModel(**config.fixed_params(), controls=levers).run()
    assert m.control_overrides == {}
    stored = pd.read_parquet(batch_folder / "summary" / f"{run}.parquet")
    pd.testing.assert_frame_equal(m.summary(), stored[m.summary().columns], check_dtype=False)


def test_an_unknown_run_is_one_clear_error(tmp_path):
    from sim.errors import InputError
    with pytest.raises(InputError, match='no run "nope"'):
        replay.read_spec(tmp_path, "nope")
    with pytest.raises(InputError, match="no such folder"):
        replay.read_spec(tmp_path / "missing", "r1")


def test_overrides_flatten_to_model_keywords():
    assert replay.flat({"mechanisms": {"households_per_grid": 800},
                        "funding.total": 0, "seed": 3}) == {
        "mechanisms__households_per_grid": 800, "funding__total": 0, "seed": 3}


# ---- films -------------------------------------------------------------------------------------------
def test_frame_days_cover_the_run():
    assert animate.frame_days(10, 3) == [1, 3, 6, 9, 10]
    assert len(animate.frame_days(365)) in range(70, 80)


def test_a_gif_film(tmp_path):
    from PIL import Image

    m = TeachingModel(policy="xining-classified", **SMALL)
    out = animate.film(m, tmp_path / "run.gif", every=5, dpi=40)
    with Image.open(out) as gif:
        assert gif.n_frames == len(animate.frame_days(20, 5))
    assert m.steps == 20


def test_an_mp4_film(tmp_path):
    import shutil
    if not shutil.which("ffmpeg"):
        pytest.skip("ffmpeg not installed (Debian: apt-get install ffmpeg)")
    m = TeachingModel(policy="xining-classified", **(SMALL | {"days": 6}))
    out = animate.film(m, tmp_path / "run.mp4", every=3, dpi=40)
    assert out.read_bytes()[4:8] == b"ftyp"


def viz_command(*args, cwd):
    return subprocess.run([sys.executable, "-m", "sim.viz", *map(str, args)], cwd=cwd,
                          capture_output=True, text=True, timeout=120, check=False)


@pytest.mark.parametrize("args, fragment", [
    (["animate", "--out", "film.avi"], "--out film.avi"),
    (["animate", "--out", "f.gif", "--communities", "999"], "--communities 999"),
    (["animate", "nowhere", "--out", "f.gif"], "nowhere"),
    (["animate", "--out", "f.gif", "--run", "r1"], "--store and --run"),
    (["viz", "--store", "missing", "--run", "r1"], "--store missing"),
    (["animate", "--out", "f.gif", "--beside", "nowhere"], "--beside nowhere"),
])
def test_bad_visual_commands_are_one_clear_line(tmp_path, monkeypatch, capsys, args, fragment):
    from sim.viz.cli import main

    monkeypatch.chdir(tmp_path)
    assert main(args) == 2
    captured = capsys.readouterr()
    lines = captured.err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("shequ: error: "), captured.err
    assert fragment in lines[0] and captured.out == ""
    assert list(tmp_path.iterdir()) == []


def test_a_bad_command_as_a_user_meets_it(tmp_path):
    result = viz_command("animate", "--out", "film.avi", cwd=tmp_path)
    assert result.returncode == 2 and "Traceback" not in result.stderr
    assert result.stderr.startswith("shequ: error: --out film.avi")


def quick_scenario(folder: Path, name: str = "xining-uniform") -> Path:
    """A shipped scenario without its warm-up year, for quick commands."""
    path = folder / f"{name}-quick.toml"
    path.write_text(f'extends = "{ROOT / "scenarios" / name}.toml"\n[run]\nwarmup_years = 0\n')
    return path


def test_animate_command_writes_a_film(tmp_path):
    result = viz_command("animate", quick_scenario(tmp_path), "--out", "u.gif", "--days", "4",
                         "--every", "2", "--dpi", "40", "--lang", "zh", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert (tmp_path / "u.gif").stat().st_size > 10_000


def test_a_film_frame_has_a_title_in_words_and_a_caption():
    from sim.viz import captions, figures

    m = TeachingModel(policy="xining-classified", **SMALL)
    for _ in range(12):
        m.step()
    view = graph.layout(m)
    for lang, day in (("en", "Day 12 · "), ("zh", "第 12 天 · ")):
        fig = figures.frame_figure(m, view, lang)
        words = [t.get_text() for t in fig.texts]
        assert fig._suptitle.get_text() == text("scn_xining-classified", lang)  # not a file name
        head = next(w for w in words if w.startswith(day))
        assert head.endswith(text("scn_xining-classified", lang))
        sentence = captions.sentence(m, lang)
        assert any(sentence.split("\n")[0][:20] in w for w in words)
    reported, silent = graph.open_grievances(m)
    assert f"{int(reported.sum() + silent.sum()):,} grievances are open" in captions.sentence(m)
    assert f"{int(silent.sum()):,} of them never voiced" in captions.sentence(m)


def test_a_side_by_side_film_of_two_scenarios_with_the_same_seed(tmp_path):
    from PIL import Image

    uniform = TeachingModel(policy="xining-uniform", **(SMALL | {"days": 6}))
    reform = TeachingModel(policy="xining-classified", **(SMALL | {"days": 6}), rng=uniform.seed)
    out = animate.film(uniform, tmp_path / "pair.gif", every=3, dpi=30, beside=reform,
                       title="Before and after")
    with Image.open(out) as gif:
        assert gif.n_frames == len(animate.frame_days(6, 3))
        assert gif.size[0] > gif.size[1]
    assert uniform.steps == reform.steps == 6


# ---- serving the app -------------------------------------------------------------------------
def test_a_port_in_use_is_one_clear_line(monkeypatch, capsys, tmp_path):
    import socket

    from sim.viz.cli import main

    monkeypatch.chdir(tmp_path)
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        assert main(["viz", "--port", str(port)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith(f"shequ: error: --port {port}: the port is already "
                                               "in use"), err


def test_every_address_students_can_use_is_printed_with_a_warning(monkeypatch):
    import ipaddress

    from sim.viz import server

    assert not any(ipaddress.ip_address(a).is_loopback for a in server.own_addresses())
    monkeypatch.setattr(server, "own_addresses", lambda: ["10.0.0.7", "192.168.1.20"])
    assert server.addresses("127.0.0.1", 8765) == ["http://localhost:8765/"]
    assert server.addresses("0.0.0.0", 8765) == ["http://localhost:8765/", "http://10.0.0.7:8765/",
                                                 "http://192.168.1.20:8765/"]
    assert server.network_warning("127.0.0.1") is None
    assert "reachable from the network" in server.network_warning("0.0.0.0")


def test_the_first_start_says_what_it_fetches_and_how_big_then_needs_no_network(tmp_path,
                                                                                monkeypatch):
    """A stand-in npm registry on localhost serves one small package."""
    import base64
    import hashlib
    import http.server
    import io
    import tarfile
    import threading

    from sim.viz import assets

    data = io.BytesIO()
    with tarfile.open(fileobj=data, mode="w:gz") as tar:
        for name, body in (("package/package.json", b'{"name": "tiny"}'),
                           ("package/dist/app.js", b"x" * 300_000)):
            info = tarfile.TarInfo(name)
            info.size = len(body)
            tar.addfile(info, io.BytesIO(body))
    tarball = data.getvalue()
    integrity = "sha512-" + base64.b64encode(hashlib.sha512(tarball).digest()).decode()

    class Registry(http.server.BaseHTTPRequestHandler):
        def do_GET(self):
            port = self.server.server_address[1]
            body = tarball if self.path.endswith(".tgz") else json.dumps(
                {"dist": {"tarball": f"http://127.0.0.1:{port}/tiny-1.0.0.tgz",
                          "integrity": integrity, "unpackedSize": 300_016}}).encode()
            self.send_response(200)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args):
            pass

    registry = http.server.HTTPServer(("127.0.0.1", 0), Registry)
    threading.Thread(target=registry.serve_forever, daemon=True).start()
    monkeypatch.setenv("NPM_CONFIG_REGISTRY", f"http://127.0.0.1:{registry.server_address[1]}/")
    monkeypatch.setattr(assets, "packages", lambda: [("tiny", "1.0.0")])
    lines = []
    try:
        assert assets.ensure_assets(tmp_path, announce=lines.append) == []
    finally:
        registry.shutdown()
    assert "tiny@1.0.0" in lines[0] and "0.3 MB" in lines[0] and "need no network" in lines[0]
    assert lines[-1].endswith("(100%)") and len(lines) >= 2
    assert (tmp_path / "tiny@1.0.0" / "dist" / "app.js").stat().st_size == 300_000
    later = []
    assert assets.ensure_assets(tmp_path, announce=later.append) == [] and later == []


@pytest.mark.slow
def test_served_on_the_network_the_app_prints_every_address(tmp_path):
    """`shequ viz --host 0.0.0.0`: the addresses and the warning, as a teacher sees them."""
    import time as clock

    proc = subprocess.Popen([sys.executable, "-m", "sim.viz", "viz", "--host", "0.0.0.0",
                             "--port", "0", "--scale", "0.002"], cwd=tmp_path, text=True,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    lines = []
    try:
        deadline = clock.time() + 90
        while clock.time() < deadline and not any("warning" in line for line in lines):
            line = proc.stdout.readline()
            if not line:
                break
            lines.append(line.strip())
    finally:
        proc.terminate()
        proc.wait(10)
    head = next(line for line in lines if line.startswith("Shequ app at http://localhost:"))
    port = head.split(":")[2].split("/")[0]
    from sim.viz.server import own_addresses

    students = [line for line in lines if line.startswith("students: http://")]
    assert len(students) == len(own_addresses()), lines
    assert all(line.endswith(f":{port}/") for line in students)
    assert any("reachable from the network" in line for line in lines), lines


# ---- the app's browser files ------------------------------------------------------------------
def test_the_assets_are_the_packages_solaras_page_loads():
    from sim.viz import assets

    names = dict(assets.packages())
    assert "requirejs" in names and "font-awesome" in names
    assert any(n.startswith("@widgetti/solara-vuetify") for n in names)


def test_a_download_that_does_not_match_its_integrity_is_refused():
    import base64
    import hashlib

    from sim.viz.assets import check_integrity

    data = b"package bytes"
    good = "sha512-" + base64.b64encode(hashlib.sha512(data).digest()).decode()
    check_integrity(data, {"integrity": good}, "x@1")
    with pytest.raises(OSError, match="integrity"):
        check_integrity(b"tampered", {"integrity": good}, "x@1")
    with pytest.raises(OSError, match="shasum"):
        check_integrity(data, {"shasum": "0" * 40}, "x@1")


def test_chinese_glyphs_keep_their_font_in_a_new_browser_tab():
    """Solara gives each browser tab its own copy of matplotlib's settings, taken from those
    outside any tab: a CJK family set once, inside the first tab, is missing in the next. Every
    figure sets the fonts again, so Chinese is never drawn as boxes (a missing-glyph warning)."""
    import io
    import warnings

    import matplotlib
    from matplotlib.figure import Figure

    from sim.viz.labels import setup_fonts

    family = setup_fonts("zh")
    if not family:
        pytest.skip("no CJK font installed")
    saved = matplotlib.rcParams["font.family"]
    try:
        matplotlib.rcParams["font.family"] = ["sans-serif"]  # a new tab's copy
        assert setup_fonts("zh") == family
        assert family in matplotlib.rcParams["font.family"]
        fig = Figure()
        fig.text(0.5, 0.5, "已解决（占全部产生的诉求）")
        with warnings.catch_warnings():
            warnings.simplefilter("error")  # "Glyph ... missing from font(s)" would raise
            fig.savefig(io.BytesIO(), format="png")
    finally:
        matplotlib.rcParams["font.family"] = saved

"""The app's page rendered headless with solara's test renderer: Mesa's controls step and reset
the model, the policy levers act from the next day, the city's settings wait for Reset (and the
previous run stays in the plots), the panels follow."""

import time

import ipyvuetify as v
import ipywidgets as widgets
import pytest
import solara

from sim.viz.app import AppConfig, make_page, ticks
from sim.viz.controls import CONTROLS

DAYS = 40
QUICK = {"residents_per_building": 5, "warmup_years": 0}  # no warm-up year: a quick page


def walk(widget):
    yield widget
    for child in getattr(widget, "children", None) or []:
        if isinstance(child, widgets.Widget):
            yield from walk(child)


class Rendered:
    """The page rendered as `solara run` serves it (its own layout: no solara app bar)."""

    def __init__(self, config: AppConfig):
        page, self.built = make_page(config)
        self.box, self.rc = solara.render(page(), handle_error=False)

    def all(self, kind=widgets.Widget):
        return [w for w in walk(self.box) if isinstance(w, kind)]

    def by_class(self, name: str) -> list:
        def classes(w):
            attributes = getattr(w, "attributes", None) or {}
            return f"{getattr(w, 'class_', '') or ''} {attributes.get('class', '')}".split()
        return [w for w in walk(self.box) if name in classes(w)]

    def button(self, label: str):
        return self.rc.find(v.Btn, children=[label]).widget

    def image(self, name: str) -> bytes:
        return next(w.value for w in self.all(widgets.Image) if f"shequ-{name}" in w._dom_classes)

    def html(self, name: str) -> str:
        return next(w.unsafe_innerHTML for w in walk(self.by_class(f"shequ-{name}")[0])
                    if hasattr(w, "unsafe_innerHTML"))

    def text(self, name: str) -> str:
        """The words of a card: its texts and its inputs' labels."""
        words = []
        for w in walk(self.by_class(f"shequ-{name}")[0]):
            children = getattr(w, "children", None)
            words += [c for c in (children if isinstance(children, list) else [children])
                      if isinstance(c, str)]
            words += [w.label] if isinstance(getattr(w, "label", None), str) else []
        return " ".join(words)

    def lever(self, name: str, kind=v.Slider):
        return next(w for w in walk(self.by_class(f"shequ-lever-{name}")[0]) if isinstance(w, kind))

    def wait(self, condition, timeout: float = 15):
        deadline = time.time() + timeout
        while not condition():
            if time.time() > deadline:
                raise AssertionError("timed out waiting for the page")
            time.sleep(0.05)


@pytest.fixture
def app():
    rendered = Rendered(AppConfig(days=DAYS, overrides=QUICK))
    yield rendered
    rendered.rc.close()


def test_the_page_has_mesas_controls_the_levers_the_monitors_and_the_panels(app):
    for label in ("Reset", "▶", "Step", "Another grievance"):
        app.button(label)
    for control in CONTROLS:
        if control.kind.startswith("Slider"):
            app.lever(control.name)
    checkboxes = [w.label for w in app.all(v.Checkbox)]
    for control in CONTROLS:
        if control.kind == "Checkbox":
            assert control.label("en") in checkboxes
    assert len(app.image("graph")) > 10_000
    assert app.html("plots").count("<svg") >= 4
    assert "Day 0 of 40" in app.html("facts")
    monitors = app.html("monitors")
    assert "Of reported cases" in monitors and "satisfaction" in monitors
    about = app.html("about")
    assert all(f"{k}. " in about for k in (1, 2, 3))
    words = " ".join(str(w.children) for w in app.all(v.Html))
    for jargon in ("Use Threads", "Time:", "Play Interval", "Render Interval"):
        assert jargon not in words


def test_step_advances_one_day_and_the_panels_follow(app):
    model = app.built.last
    graph, plots = app.image("graph"), app.html("plots")
    app.button("Step").click()
    assert model.steps == 1
    app.wait(lambda: "Day 1 of 40" in app.html("facts"))
    assert app.html("plots") != plots
    app.wait(lambda: app.image("graph") != graph)  # drawn in its own thread, once the run rests
    for _ in range(4):
        app.button("Step").click()
    assert model.steps == 5
    story = app.html("story")
    assert "Grievance #" in story and "arose" in story


def test_a_lever_acts_from_the_next_day_and_the_city_waits_for_reset(app):
    first = app.built.last
    for _ in range(3):
        app.button("Step").click()
    workers = len(first.grid_workers)
    app.lever("households_per_grid").v_model = 800
    app.wait(lambda: first.pending == {"households_per_grid": 800})
    assert first.p["mechanisms"]["households_per_grid"] == 400  # not before the next day
    app.wait(lambda: "from day 4" in app.text("levers"))
    app.button("Step").click()
    assert first.p["mechanisms"]["households_per_grid"] == 800
    assert len(first.grid_workers) < workers and app.built.count == 1  # the same run goes on
    app.wait(lambda: "day 4: grids of 800 households" in app.html("plots"))
    assert 'data-day="3"' in app.html("plots")
    app.wait(lambda: "Grid of 800 households" in app.html("facts"))
    # The city's settings wait for Reset, which starts a new run with them.
    scenario = next(w for w in walk(app.by_class("shequ-scenario")[0]) if isinstance(w, v.Select))
    scenario.v_model = next(t for t in scenario.items if "Before the reform" in str(t))
    app.wait(lambda: "Waiting for Reset: Scenario xining-uniform" in app.text("runcard"))
    app.lever("old_residents_max_a").v_model = 2500
    app.wait(lambda: "Classification thresholds" in app.text("runcard"))
    assert app.built.last is first and first.policy.name == "xining-classified"
    speed = next(w for w in walk(app.by_class("shequ-runcard")[0]) if isinstance(w, v.Slider))
    speed.v_model = 5  # the slider's sixth value: 40 days a second
    app.wait(lambda: "40 days a second" in app.text("runcard"))
    assert f"Step: the next {ticks(40)[0]} day(s)" in app.text("runcard")
    app.button("Reset").click()  # Mesa's Reset
    app.wait(lambda: app.built.count == 2)
    rebuilt = app.built.last
    assert rebuilt.policy.name == "xining-uniform" and rebuilt.steps == 0
    assert rebuilt.p["classification"]["old_residents_max_a"] == 2500
    assert rebuilt.seed == first.seed and not rebuilt.changes
    app.wait(lambda: "previous run: xining-classified" in app.html("plots"))
    assert "previous run:" in app.html("monitors")


def test_funding_and_switches_before_day_1(app):
    model = app.built.last
    app.lever("fund_B").v_model = 400_000
    app.wait(lambda: model.p["funding"]["by_class"]["B"] == 400_000)  # before day 1: at once
    used = model.p["funding"]["by_class"]
    assert used["A"] < 150_000 and int(model.funds.sum()) == 35_600_000
    app.wait(lambda: app.lever("fund_A").v_model == used["A"])  # the sliders show what is used
    assert f"{used['A']:,}" in app.text("levers") and "35,600,000" in app.text("levers")
    linkage = next(w for w in app.all(v.Checkbox) if w.label == "Four-party linkage meetings")
    linkage.v_model = False
    app.wait(lambda: model.p["mechanisms"]["four_party_linkage"] is False)
    assert not model.linkages
    select = next(w for w in walk(app.by_class("shequ-lever-funding_scheme")[0])
                  if isinstance(w, v.Select))
    select.v_model = "by need"
    app.wait(lambda: model.p["funding"]["scheme"] == "needs_based")
    app.wait(lambda: "by need" in app.html("facts"))
    assert app.built.count == 1


def test_the_story_panel_can_pick_another_grievance(app):
    for _ in range(29):
        app.built.last.step()  # quietly: the page redraws once, at the Step below
    app.button("Step").click()
    seen = {app.html("story")}
    for _ in range(5):
        app.button("Another grievance").click()
        seen.add(app.html("story"))
    assert len(seen) > 1


def test_the_page_in_chinese():
    app = Rendered(AppConfig(days=DAYS, lang="zh", overrides=QUICK))
    assert "第 0 天 / 共 40 天" in app.html("facts")
    app.button("Step").click()
    assert "政策参数" in app.text("levers") and "按 Reset 后生效" in app.text("city")
    assert app.button("换一件诉求")
    assert "已受理诉求" in app.html("monitors") and "试一试" in app.text("about")
    assert "Step：前进 1 天" in app.text("runcard")  # Mesa's buttons, said in Chinese
    app.rc.close()


def test_a_replayed_run_shows_where_it_comes_from(tmp_path):
    import json

    from sim.model import GovernanceModel
    from sim.outputs import manifest
    from sim.viz import replay

    run = GovernanceModel(scenario="xining-uniform", rng=11, scale=0.005, days=10,
                          warmup_years=0)
    (tmp_path / "manifest.json").write_text(json.dumps(manifest(run) | {"run_id": "r7"}, default=str))
    spec = replay.read_spec(tmp_path, "r7")
    app = Rendered(AppConfig(scenario=spec["scenario"], scale=spec["scale"], days=spec["days"],
                             seed=spec["seed"], overrides=spec["overrides"],
                             replay={"store": str(tmp_path), "run": "r7"}))
    facts = app.html("facts")
    assert "Replay of run <b>r7</b>" in facts and "seed 11" in facts and "Day 0 of 10" in facts
    city = app.by_class("shequ-city")[0]
    sliders = [w for w in walk(city) if isinstance(w, v.Slider)]
    assert len(sliders) == 6 and sum(bool(w.disabled) for w in sliders) == 2  # scale and seed
    assert "keeps its own scenario, scale and seed" in app.text("city")
    app.rc.close()

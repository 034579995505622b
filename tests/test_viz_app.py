"""The app's page rendered headless with solara's test renderer: Mesa's controls step and reset
the model, the levers rebuild it, the panels follow."""

import time

import ipyvuetify as v
import ipywidgets as widgets
import pytest
import solara

from sim.viz.app import AppConfig, make_page
from sim.viz.controls import CONTROLS

DAYS = 40


def walk(widget):
    yield widget
    for child in getattr(widget, "children", None) or []:
        if isinstance(child, widgets.Widget):
            yield from walk(child)


class Rendered:
    """The page rendered inside solara's AppLayout (which holds the sidebar)."""

    def __init__(self, config: AppConfig):
        page, self.built = make_page(config)

        @solara.component
        def App():
            with solara.AppLayout() as main:
                page()
            return main

        self.box, self.rc = solara.render(App(), handle_error=False)

    def all(self, kind=widgets.Widget):
        return [w for w in walk(self.box) if isinstance(w, kind)]

    def by_class(self, name: str) -> list:
        return [w for w in walk(self.box) if name in str(getattr(w, "class_", "") or "").split()]

    def button(self, label: str):
        return self.rc.find(v.Btn, children=[label]).widget

    def image(self, name: str) -> bytes:
        return next(w.value for w in self.all(widgets.Image) if f"shequ-{name}" in w._dom_classes)

    def html(self, name: str) -> str:
        return next(w.unsafe_innerHTML for w in walk(self.by_class(f"shequ-{name}")[0])
                    if hasattr(w, "unsafe_innerHTML"))

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
    rendered = Rendered(AppConfig(days=DAYS))
    yield rendered
    rendered.rc.close()


def test_the_page_has_mesas_controls_the_levers_and_the_panels(app):
    for label in ("Reset", "▶", "Step", "Another grievance"):
        app.button(label)
    sliders = [c for c in CONTROLS if c.kind.startswith("Slider")]
    for control in sliders:
        app.lever(control.name)
    checkboxes = [w.label for w in app.all(v.Checkbox)]
    for control in CONTROLS:
        if control.kind == "Checkbox":
            assert control.label("en") in checkboxes
    assert len(app.image("graph")) > 10_000 and len(app.image("plots")) > 10_000
    assert "Day 0 of 40" in app.html("facts")


def test_step_advances_one_day_and_the_panels_follow(app):
    model = app.built.last
    graph, plots = app.image("graph"), app.image("plots")
    app.button("Step").click()
    assert model.steps == 1
    app.wait(lambda: "Day 1 of 40" in app.html("facts"))
    assert app.image("graph") != graph and app.image("plots") != plots
    for _ in range(4):
        app.button("Step").click()
    assert model.steps == 5
    story = app.html("story")
    assert "Grievance #" in story and "arose" in story


def test_a_lever_restarts_the_run_with_it_and_reset_keeps_it(app):
    first = app.built.last
    app.button("Step").click()
    graph = app.image("graph")
    app.lever("households_per_grid").v_model = 800
    app.wait(lambda: app.built.count == 2)
    rebuilt = app.built.last
    assert rebuilt.p["mechanisms"]["households_per_grid"] == 800
    assert len(rebuilt.grid_workers) < len(first.grid_workers)
    assert rebuilt.seed == first.seed
    app.wait(lambda: "Grid of 800 households" in app.html("facts"))
    assert app.image("graph") != graph
    for _ in range(3):
        app.button("Step").click()
    app.wait(lambda: "Day 3 of 40" in app.html("facts"))
    app.button("Reset").click()  # Mesa's Reset builds the model itself, with the levers' values
    app.wait(lambda: "Day 0 of 40" in app.html("facts"))
    assert "Grid of 800 households" in app.html("facts")


def test_switches_and_the_scheme_select(app):
    linkage = next(w for w in app.all(v.Checkbox) if w.label == "Four-party linkage meetings")
    linkage.v_model = False
    app.wait(lambda: app.built.count == 2)
    assert app.built.last.p["mechanisms"]["four_party_linkage"] is False
    assert not app.built.last.linkages
    select = app.all(v.Select)[0]
    select.v_model = "by need"
    app.wait(lambda: app.built.count == 3)
    assert app.built.last.p["funding"]["scheme"] == "needs_based"
    app.wait(lambda: "by need" in app.html("facts"))


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
    app = Rendered(AppConfig(days=DAYS, lang="zh"))
    request_close = app.rc.close
    assert "第 0 天 / 共 40 天" in app.html("facts")
    app.button("Step").click()
    assert "政策参数" in str(app.by_class("shequ-levers")[0].children)
    assert app.button("换一件诉求")
    request_close()


def test_a_replayed_run_shows_where_it_comes_from(tmp_path):
    import json

    from sim.model import GovernanceModel
    from sim.outputs import manifest
    from sim.viz import replay

    run = GovernanceModel(scenario="xining-uniform", rng=11, scale=0.005, days=10)
    (tmp_path / "manifest.json").write_text(json.dumps(manifest(run) | {"run_id": "r7"}, default=str))
    spec = replay.read_spec(tmp_path, "r7")
    app = Rendered(AppConfig(scenario=spec["scenario"], scale=spec["scale"], days=spec["days"],
                             seed=spec["seed"], overrides=spec["overrides"],
                             replay={"store": str(tmp_path), "run": "r7"}))
    facts = app.html("facts")
    assert "Replay of run <b>r7</b>" in facts and "seed 11" in facts and "Day 0 of 10" in facts
    assert not [w for w in app.all(v.Slider) if w.label == "Random seed"]  # the run's own seed
    app.rc.close()

"""The teaching app: a Mesa SolaraViz page (`shequ viz`).

    app bar   the title
    sidebar   Mesa's controls: Reset, play/pause, Step, the play interval (speed), the seed;
              then the policy levers: funding by class (holding the city total or not), grid
              size, four-party linkage, each type measure, the classification thresholds
    main      the neighbourhood graph of a few communities | rates and funds by class
              one grievance's story                         | what this run is

SolaraViz runs the model (its ModelController steps, plays and resets it; its ModelCreator
holds the run's fixed settings and the seed). The page lays its panels out itself rather than
through SolaraViz's `components` grid, whose browser side (vue-grid-layout for Vue 2) fails under
the Vue 3 front end of solara with ipyvuetify 3 ("GlobalVue.use is not a function"). A lever
moved restarts the run with it at once (after a short pause, so that a dragged slider builds one
model, not twenty); Mesa's Reset rebuilds with the levers' current values too.

The settings of a served app (scenario, scale, language, communities drawn, a replayed run) come
from `AppConfig`; `solara run sim.viz.app` reads them from the environment variable
`SHEQU_VIZ` (JSON), which `shequ viz` sets. `make_page(config)` builds the page for any config
(tests render it with `solara.render`).
"""

import html
import json
import os
import re
import time
from dataclasses import asdict, dataclass, field

import numpy as np
import reacton.ipywidgets as rw
import solara
import solara.lab
from mesa.visualization import SolaraViz
from mesa.visualization.utils import update_counter

from sim.errors import InputError
from sim.parameters import CLASSES, MEASURES
from sim.viz import figures, graph, story
from sim.viz.controls import (
    CONTROLS,
    Control,
    TeachingModel,
    base_scenario,
    scheme_label,
)
from sim.viz.labels import LABELS, check_lang, setup_fonts, text

ENV = "SHEQU_VIZ"
APP_SCALE = 0.01  # 20,000 residents: a day takes about a millisecond; drawing takes the time
APP_RESIDENTS_PER_BUILDING = 5  # so that a drawn community has a graph of ~10-25 buildings
DEBOUNCE_S = 0.35  # a lever waits this long for the next change before the run restarts

GROUPS = (  # the levers, grouped under a heading each
    ("group_funding", ("funding_scheme", *(f"fund_{c}" for c in CLASSES), "hold_total")),
    ("group_mechanisms", ("households_per_grid", "four_party_linkage")),
    ("group_measures", tuple(f"measure_{m}" for m in MEASURES)),
    ("group_classification", ("commercial_share_min", "old_residents_max_a", "population_min_b",
                              "old_residents_min_b")),
)


@dataclass
class AppConfig:
    """What a served app shows. `overrides` are scenario keys (`key` or `section__key`)."""

    scenario: str | None = None
    scale: float | None = APP_SCALE
    days: int | None = None
    seed: int | None = None
    overrides: dict = field(default_factory=lambda: {"residents_per_building": APP_RESIDENTS_PER_BUILDING})
    communities: list[int] | None = None  # drawn; None = one of each class
    lang: str = "en"
    replay: dict | None = None  # {"store": ..., "run": ...} when replaying a stored run
    play_interval: int = 50  # ms between days when playing (drawing a day takes ~0.3 s more)

    def to_env(self) -> str:
        return json.dumps(asdict(self))

    @classmethod
    def from_env(cls) -> "AppConfig":
        raw = os.environ.get(ENV)
        return cls(**json.loads(raw)) if raw else cls()

    def fixed_params(self) -> dict:
        """The settings every model of this app is built with (Mesa's fixed model_params)."""
        fixed = {"policy": self.scenario, "scale": self.scale, "days": self.days,
                 "overrides": dict(self.overrides)}
        if self.replay or self.seed is not None:
            fixed["rng"] = self.seed
        return {k: v for k, v in fixed.items() if v is not None}


def markdown_html(lines: list[str]) -> str:
    """Our few markdown marks (**bold**) as HTML, everything else escaped."""
    def one(line):
        return re.sub(r"\*\*(.+?)\*\*", r"<b>\1</b>", html.escape(line))
    return "".join(f"<p style='margin:0 0 0.35em 0'>{one(line)}</p>" for line in lines)


def drawn(model, draw, *args):
    """`draw(*args)` while the model is not in the middle of a day (see TeachingModel.lock)."""
    with model.lock:
        return draw(*args)


def image(png: bytes, name: str):
    return rw.Image(value=png, format="png", layout={"width": "100%", "height": "auto"},
                    _dom_classes=[f"shequ-{name}"])


@dataclass
class Built:
    """How many models a page has built (its first, and one a lever change) and the last one
    (each browser session builds its own model, so two tabs never step the same one)."""

    count: int = 0
    last: TeachingModel | None = None


def make_page(config: AppConfig):
    """The page for `config`, and its `Built` record."""
    lang = check_lang(config.lang)
    setup_fonts(lang)
    fixed = config.fixed_params()
    base = base_scenario(fixed.get("policy"), fixed.get("overrides"), fixed.get("scale"),
                         fixed.get("days"))
    defaults = {c.name: c.default(base.params) for c in CONTROLS}
    seed = int(base["run"]["seed"])
    built = Built()
    story_rng = np.random.default_rng()  # the app's own: picking never touches the model's streams

    def build(controls: dict, rng=None) -> TeachingModel:
        model = TeachingModel(**{**fixed, **({"rng": rng} if rng is not None else {})},
                              controls=dict(controls))
        built.count, built.last = built.count + 1, model
        return model

    def first_model():
        return build(defaults)

    def mesa_params(holder: dict) -> dict:
        """SolaraViz's model_params: the fixed settings, the levers' values (a dict the levers
        keep current, so Mesa's Reset uses them) and the seed as Mesa's own slider."""
        params = dict(fixed) | {"controls": holder}
        if "rng" not in fixed:
            params["rng"] = {"type": "SliderInt", "label": text("seed", lang), "value": seed,
                             "min": 1, "max": max(100, seed), "step": 1}
        return params

    @solara.component
    def GraphPanel(m, picked: solara.Reactive):
        update_counter.get()  # redraw when Mesa steps the model
        view = solara.use_memo(lambda: graph.layout(m, config.communities), [m])
        model_id, gid = picked.value
        gid = gid if model_id == id(m) else None
        png = solara.use_memo(lambda: figures.png(drawn(m, figures.graph_figure, m, view, lang, gid)),
                              [m, update_counter.value, gid])
        return image(png, "graph")

    @solara.component
    def PlotsPanel(m):
        update_counter.get()
        png = solara.use_memo(lambda: figures.png(drawn(m, figures.plots_figure, m, lang)),
                              [m, update_counter.value])
        return image(png, "plots")

    @solara.component
    def StoryPanel(m, picked: solara.Reactive):
        update_counter.get()
        communities = solara.use_memo(lambda: graph.layout(m, config.communities).communities, [m])
        model_id, gid = picked.value

        def choose():
            picked.set((id(m), drawn(m, story.pick, m, story_rng, communities)))

        def keep_one():  # pick a grievance once there is one (of a drawn community if there is
            # one), and anew after a reset
            if model_id != id(m) or gid is None or m.grievances.community[gid] not in communities:
                choose()
        solara.use_effect(keep_one, [m, update_counter.value])
        mine = model_id == id(m) and gid is not None
        lines = drawn(m, story.tell, m, gid, lang) if mine else [text("no_grievance", lang)]
        with solara.Card(text("story_title", lang), classes=["shequ-story"]) as card:
            solara.HTML(tag="div", unsafe_innerHTML=markdown_html(lines))
            solara.Button(text("another", lang), on_click=choose, outlined=True, small=True)
        return card

    @solara.component
    def FactsPanel(m):
        update_counter.get()
        with solara.Card(text("facts_title", lang), classes=["shequ-facts"]) as card:
            solara.HTML(tag="div", unsafe_innerHTML=markdown_html(drawn(m, facts, m, config, lang)))
        return card

    @solara.component
    def Levers(model: solara.Reactive, holder: dict):
        values = solara.use_reactive(dict(holder))
        version = solara.use_reactive(0)
        error = solara.use_reactive(None)

        def change(name, value):
            values.set({**values.value, name: value})
            holder[name] = value
            version.set(version.value + 1)

        def restart():  # in a thread, so the page stays live; a newer change cancels this one
            mine = version.value
            if not mine:
                return
            time.sleep(DEBOUNCE_S)
            if version.value != mine:
                return
            try:
                new = build(holder, rng=model.value.seed)
            except InputError as e:
                error.set(str(e))
                return
            error.set(None)
            model.value = new
        solara.lab.use_task(restart, dependencies=[version.value])
        with solara.Sidebar() as side, solara.Card(text("levers_title", lang), classes=["shequ-levers"]):
            for heading, names in GROUPS:
                solara.Text(text(heading, lang), style={"font-weight": "bold", "margin-top": "8px"})
                for name in names:
                    control = next(c for c in CONTROLS if c.name == name)
                    LeverInput(control, values.value[name], lambda v, n=name: change(n, v))
            if error.value:
                solara.Error(error.value)
            solara.Text(text("apply_hint", lang), style={"font-size": "0.85em", "color": "#666"})
        return side

    @solara.component
    def LeverInput(control: Control, value, on_value):
        label = control.label(lang)
        if control.kind == "Checkbox":
            return solara.Checkbox(label=label, value=bool(value), on_value=on_value)
        if control.kind == "Select":
            labels = {scheme_label(s, lang): s for s in ("by_class", "per_capita", "needs_based")}
            return solara.Select(label, values=list(labels),
                                 value=scheme_label(value, lang) if value in labels.values() else value,
                                 on_value=lambda v: on_value(labels.get(v, v)))
        shown = f"{value:.2f}" if control.kind == "SliderFloat" else f"{int(value):,}"
        slider = solara.SliderFloat if control.kind == "SliderFloat" else solara.SliderInt
        lo, hi = min(control.lo, value), max(control.hi, value)
        with solara.Column(gap="0px", classes=[f"shequ-lever-{control.name}"]) as box:
            solara.Text(f"{label}: {shown}", style={"font-size": "0.9em"})
            slider("", value=value, min=lo, max=hi, step=control.step, on_value=on_value)
        return box

    @solara.component
    def SidebarLevers(model: solara.Reactive, holder: dict):
        # One component deeper than SolaraViz's own sidebar, so the levers come after Mesa's
        # controls (solara orders sidebar parts by their depth in the page).
        return Levers(model, holder)

    @solara.component
    def Page():
        initial = solara.use_memo(first_model, [])
        model = solara.use_reactive(initial)
        holder = solara.use_memo(lambda: dict(defaults), [])
        params = solara.use_memo(lambda: mesa_params(holder), [])
        picked = solara.use_reactive((None, None))  # (id of the model, grievance id of the story)
        update_counter.get()  # redraw when Mesa steps the model
        m = model.value
        with solara.Column(style={"padding": "0 8px"}) as main:
            SolaraViz(model, components=[], model_params=params, name=text("title", lang),
                      play_interval=config.play_interval)
            SidebarLevers(model, holder)
            with solara.Columns([1, 1]):
                GraphPanel(m, picked)
                with solara.Column():
                    PlotsPanel(m)
                    StoryPanel(m, picked)
                    FactsPanel(m)
        return main

    return Page, built


def facts(m, config: AppConfig, lang: str) -> list[str]:
    """What this run is: scenario, classes, money, mechanisms, measures (from the model itself)."""
    counts = ", ".join(f"{c} {int(np.sum(m.classes == c))}" for c in m.class_labels)
    per = {c: m.funds[m.classes == c] for c in m.class_labels}
    funds = ", ".join(f"{c} {int(v.mean()):,}" for c, v in per.items() if len(v))
    total = int(m.funds.sum())
    scheme = m.p["funding"]["scheme"]
    if all(len(set(v.tolist())) <= 1 for v in per.values()):
        money = text("fact_funds", lang, funds=funds, total=total)
    else:
        name = text(f"scheme_{scheme}", lang) if f"scheme_{scheme}" in LABELS else scheme
        money = text("fact_funds_scheme", lang, scheme=name, funds=funds, total=total)
    mech = m.p["mechanisms"]
    on = [text(f"measure_{x}", lang) for x in MEASURES
          if any(x in m.p["measures"][c] for c in CLASSES)]
    lines = [text("fact_scenario", lang, name=m.policy.name, seed=m.seed, inv=round(1 / m.scale)),
             text("fact_day", lang, day=m.steps, days=m.days),
             text("fact_classes", lang, counts=counts), money,
             text("fact_mechanisms", lang, grid=mech["households_per_grid"],
                  linkage=text("on" if mech["four_party_linkage"] else "off", lang)),
             text("fact_measures", lang, measures=", ".join(on) or text("none", lang))]
    if config.replay:
        lines.insert(0, text("replay", lang, run=config.replay.get("run"),
                             store=config.replay.get("store")))
    return lines


@solara.component
def Page():
    """The served app (`solara run sim.viz.app`), its settings read from $SHEQU_VIZ."""
    page = solara.use_memo(lambda: make_page(AppConfig.from_env())[0], [])
    return page()

"""The teaching app (`shequ viz`): a Solara page around a Mesa model, laid out for a classroom
projector (1024 x 768 up to 1920 x 1080, nothing over the pictures).

    top bar   the title; Mesa's Reset / ▶ play, ❚❚ pause / Step (its ModelController); the day;
              a button that hides the levers (more room for the pictures)
    left      the speed (days a second); the policy levers, which act from the next day (funding
              by class, holding the city total or not; grid size; four-party linkage; each type
              measure); the city, which applies at Reset (scenario, scale, seed, the
              classification thresholds)
    main      monitors: the city's KPIs of reported cases, the whole-iceberg outcomes (every
              grievance) and the residents' means, each beside the previous run's
              the neighbourhood graph of one community of each class | the class panels
              one grievance's story | this run | about, and three things to try

Mesa runs the model: its ModelController steps, plays and resets it (a Reset builds a
`TeachingModel` with the page's settings, its `model_parameters`), and its `update_counter`
redraws the page after each tick. SolaraViz's own frame is not used: it fixes its labels in
English jargon ("Play Interval (ms)", "Render Interval (steps)", "Use Threads", "Time: 13.0"),
its sidebar covers the page at projector widths, and its components grid fails under the Vue 3
front end ("GlobalVue.use is not a function"). Mesa's three buttons keep Mesa's labels (Mesa
does not let them be changed; a line in the chosen language says what they do).

Speed: the speed slider sets Mesa's render interval (days a tick) and play interval, so that a
year plays in about 20 s at the fastest speed with the plots redrawn several times a second and
every day plotted; the plots are SVG (`chart`, a few milliseconds to draw), the graph a matplotlib
picture drawn in its own thread at most once a second while the run plays, from a snapshot read
with the model locked (`graph.snapshot`).

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
import reacton.ipyvuetify as rv
import reacton.ipywidgets as rw
import solara
from mesa.visualization.solara_viz import ModelController
from mesa.visualization.utils import force_update, update_counter

from sim.errors import InputError
from sim.parameters import CLASSES, MEASURES
from sim.scenario import shipped_scenarios
from sim.viz import chart, figures, graph, plots, story
from sim.viz.controls import (
    CONTROL,
    CONTROLS,
    SCHEMES,
    Control,
    TeachingModel,
    base_scenario,
    probe,
    scheme_label,
    teaching_overrides,
)
from sim.viz.labels import LABELS, check_lang, setup_fonts, text

ENV = "SHEQU_VIZ"
APP_SCALE = 0.01  # 20,000 residents: a day takes a few milliseconds; drawing takes the time
APP_RESIDENTS_PER_BUILDING = 5  # so that a drawn community has a graph of ~10-25 buildings
SPEEDS = (1, 2, 5, 10, 20, 40)  # days a second the speed slider offers
REDRAWS = 5  # redraws a second aimed at (every day is plotted at each), leaving the browser
# time to show each; drawing a tick's page takes about TICK_MS, taken off Mesa's wait
TICK_MS = 100
GRAPH_EVERY_S = 1.0  # the graph picture is redrawn at most this often while the run plays
GRAPH_POLL_S = 0.2
SCALES = (0.002, 0.005, 0.01, 0.02)  # the scale choices (1 in 500 ... 1 in 50)

GROUPS = (  # the levers, grouped under a heading each
    ("group_funding", ("funding_scheme", *(f"fund_{c}" for c in CLASSES), "hold_total")),
    ("group_mechanisms", ("households_per_grid", "four_party_linkage")),
    ("group_measures", tuple(f"measure_{m}" for m in MEASURES)),
    ("group_classification", ("commercial_share_min", "old_residents_max_a", "population_min_b",
                              "old_residents_min_b")),
)
POLICY = tuple(c.name for c in CONTROLS if not c.city)


def residents_per_building(scale: float) -> int:
    """Residents a building at a scale, so that a drawn community keeps ~10-25 buildings."""
    return max(APP_RESIDENTS_PER_BUILDING, round(APP_RESIDENTS_PER_BUILDING * scale / APP_SCALE))


def ticks(speed: float) -> tuple[int, int]:
    """Mesa's render interval (days a tick, which is also what its Step button advances) and
    play interval (ms) for `speed` days a second: a day a tick up to 5 days a second, then as
    many as keep about 5 ticks a second (drawing a tick's page takes 0.05-0.3 s)."""
    days = max(1, round(speed / REDRAWS))
    return days, max(1, round(1000 * days / speed) - TICK_MS)


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
    speed: int = 5  # days a second at most when playing (at 5 or less, Step is one day)

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


def div(name: str, **kwargs):
    """A plain <div> with the class `name` (laid out by the page's CSS)."""
    return rv.Html(tag="div", class_=name, **kwargs)


@dataclass
class Built:
    """How many models a page has shown (its first, and one each Reset) and the last one (each
    browser session builds its own model, so two tabs never step the same one)."""

    count: int = 0
    last: TeachingModel | None = None


CSS = """
.shequ-app { display: flex; flex-direction: column; height: 100vh; overflow: hidden;
             font-size: 15px; }
.shequ-bar { flex: 0 0 auto; display: flex; align-items: center; gap: 14px; flex-wrap: wrap;
             padding: 4px 12px; border-bottom: 2px solid #5e35b1; background: #f5f3fa; }
.shequ-title { font-size: 1.15em; font-weight: bold; color: #311b92; }
.shequ-run { width: 250px; }
.shequ-day { font-size: 1.15em; font-weight: bold; min-width: 9em; }
.shequ-body { flex: 1 1 auto; display: flex; min-height: 0; }
.shequ-side { flex: 0 0 280px; width: 280px; overflow-y: auto; padding: 8px;
              border-right: 1px solid #ddd; }
.shequ-side .v-card { margin-bottom: 10px; }
.shequ-side .v-card-title { white-space: normal; line-height: 1.25; font-size: 1.1em; }
.shequ-hidden { display: none; }
.shequ-main { flex: 1 1 auto; min-width: 0; overflow-y: auto; padding: 8px 12px; }
.shequ-monitors { display: flex; flex-wrap: wrap; gap: 8px; margin-bottom: 8px; }
.shequ-group { flex: 3 1 240px; border-left: 4px solid #5e35b1; padding: 2px 8px;
               background: #faf9fd; }
.shequ-group.residents { flex: 2 1 160px; }
.shequ-group.iceberg { border-color: #e65100; background: #fffaf5; }
.shequ-group.residents { border-color: #2e7d32; background: #f7fbf7; }
.shequ-head { font-size: 0.8em; color: #444; }
.shequ-tiles { display: flex; gap: 10px; }
.shequ-tile { flex: 1 1 0; min-width: 0; }
.shequ-value { font-size: 1.45em; font-weight: bold; line-height: 1.15; white-space: nowrap; }
.shequ-label { font-size: 0.74em; color: #333; line-height: 1.2; }
.shequ-before { font-size: 0.72em; color: #777; }
.shequ-pictures { display: grid; grid-template-columns: minmax(0, 1fr) minmax(0, 1fr);
                  gap: 12px; align-items: start; }
.shequ-graph-box img { max-width: 100%; max-height: calc(100vh - 230px); width: auto;
                       height: auto; display: block; margin: 0 auto; }
.shequ-keys { display: flex; flex-wrap: wrap; gap: 2px 10px; font-size: 0.78em; }
.shequ-scale { font-size: 0.78em; display: flex; align-items: center; gap: 4px; }
.shequ-bar-colours { display: inline-block; width: 90px; height: 10px; }
.shequ-plot-title { font-weight: bold; font-size: 0.9em; }
.shequ-legend-line { font-size: 0.8em; display: flex; flex-wrap: wrap; gap: 0 10px; }
.shequ-panels { display: grid; grid-template-columns: repeat(auto-fill, minmax(300px, 1fr));
                gap: 2px 10px; }
.shequ-panel { width: 100%; height: auto; display: block; font-family: sans-serif; }
.shequ-marks { font-size: 0.8em; } .shequ-marks ol { margin: 0; padding-left: 1.6em; }
.shequ-cards { display: grid; grid-template-columns: repeat(auto-fit, minmax(300px, 1fr));
               gap: 12px; margin-top: 12px; }
.shequ-note { font-size: 0.82em; color: #555; display: block; }
.shequ-heading { display: block; font-weight: bold; margin-top: 6px; }
.shequ-pending { color: #bf360c; font-weight: bold; }
"""


def make_page(config: AppConfig):
    """The page for `config`, and its `Built` record."""
    lang = check_lang(config.lang)
    setup_fonts(lang)
    fixed = config.fixed_params() | {"watch": True}  # the warm-up runs while a model is made
    base = base_scenario(fixed.get("policy"), fixed.get("overrides"), fixed.get("scale"),
                         fixed.get("days"))
    defaults = {c.name: c.default(base.params) for c in CONTROLS}
    built = Built()
    story_rng = np.random.default_rng()  # the app's own: picking never touches the model's streams

    def first_model() -> TeachingModel:
        return TeachingModel(**fixed, controls=dict(defaults))

    def first_params(model: TeachingModel) -> dict:
        """Mesa's model_parameters: what Reset builds the next run with."""
        return dict(fixed) | {"controls": dict(model.levers), "rng": model.seed}

    @solara.component
    def Page():
        initial = solara.use_memo(first_model, [])
        model = solara.use_reactive(initial)
        params = solara.use_reactive(solara.use_memo(lambda: first_params(initial), []))
        speed = solara.use_reactive(config.speed)
        days_a_tick = solara.use_reactive(ticks(config.speed)[0])
        wait_ms = solara.use_reactive(ticks(config.speed)[1])
        threads = solara.use_reactive(False)  # Mesa's drawing thread: off (it traces each line)
        side = solara.use_reactive(True)
        picked = solara.use_reactive((None, None))  # (id of the model, grievance id of the story)
        m = model.value
        if built.last is not m:
            built.count, built.last = built.count + 1, m
        previous = use_previous(m)
        with div("shequ-app") as page:
            solara.Title(text("title", lang))
            solara.Style(CSS)
            with div("shequ-bar"):
                solara.Text(text("title", lang), classes=["shequ-title"])
                with div("shequ-run"):
                    ModelController(model, model_parameters=params, play_interval=wait_ms,
                                    render_interval=days_a_tick, use_threads=threads)
                DayLabel(m)
                solara.Button(text("hide_levers" if side.value else "show_levers", lang),
                              on_click=lambda: side.set(not side.value), text=True,
                              classes=["shequ-toggle"])
            with div("shequ-body"):
                with div("shequ-side" + ("" if side.value else " shequ-hidden")):
                    RunCard(m, params, speed, days_a_tick, wait_ms)
                    PolicyLevers(m, params)
                    CityCard(m, params)
                with div("shequ-main"):
                    Monitors(m, previous)
                    with div("shequ-pictures"):
                        GraphPanel(m, picked)
                        PlotsPanel(m, previous)
                    with div("shequ-cards"):
                        StoryPanel(m, picked)
                        FactsPanel(m)
                        AboutPanel()
        return page

    def use_previous(m) -> plots.Frame | None:
        """The run shown before this one (kept at a Reset, if it ran a day), for comparison."""
        shown = solara.use_ref(None)
        previous = solara.use_ref(None)
        if shown.current is not m:
            old = shown.current
            if old is not None and old.steps > 0:
                previous.current = drawn(old, plots.frame, old)
            shown.current = m
        return previous.current

    @solara.component
    def DayLabel(m):
        update_counter.get()
        return solara.Text(text("fact_day", lang, day=m.period_day, days=m.days),
                           classes=["shequ-day"])

    @solara.component
    def RunCard(m, params, speed, days_a_tick, wait_ms):
        def set_speed(value):
            speed.set(value)
            days_a_tick.set(ticks(value)[0])
            wait_ms.set(ticks(value)[1])
        with solara.Card(text("run_title", lang), classes=["shequ-runcard"]) as card:
            solara.Text(text("speed", lang, speed=speed.value), classes=["shequ-note"])
            solara.SliderValue("", value=speed.value, values=list(SPEEDS), on_value=set_speed)
            solara.Text(text("mesa_buttons", lang, days=days_a_tick.value), classes=["shequ-note"])
            waiting = next_run_words(m, params.value)
            if waiting:
                solara.Text(text("next_run", lang, what=waiting), classes=["shequ-pending"])
        return card

    @solara.component
    def PolicyLevers(m, params):
        version = solara.use_reactive(0)  # a request changes the model, not a reactive: redraw
        error = solara.use_reactive(None)
        version.get()
        if m.pending:
            update_counter.get()  # the "from day N" notes go once the day has run
        shown = m.shown()

        def change(name, value):
            try:
                now = m.request(**{name: value})
            except (InputError, ValueError) as e:
                error.set(str(e))
                return
            error.set(None)
            controls = params.value["controls"] | {k: now[k] for k in POLICY}
            params.value = params.value | {"controls": controls}
            version.set(version.value + 1)
            if not m.pending:  # applied at once (before day 1): redraw as after a day
                force_update()
        day = m.period_day + 1
        by_class = shown["funding_scheme"] == "by_class"
        with solara.Card(text("levers_title", lang), classes=["shequ-levers"]) as card:
            solara.Text(text("apply_hint", lang), classes=["shequ-note"])
            for heading, names in GROUPS[:3]:
                solara.Text(text(heading, lang), classes=["shequ-heading"])
                for name in names:
                    LeverInput(CONTROL[name], shown[name], lambda v, n=name: change(n, v),
                               day if name in m.pending else None,
                               disabled=name.startswith("fund_") and not by_class)
                if heading == "group_funding":
                    solara.Text(funding_note(m, shown), classes=["shequ-note"])
            if error.value:
                solara.Error(error.value)
        return card

    def funding_note(m, shown) -> str:
        if shown["funding_scheme"] != "by_class":
            return text("scheme_note", lang, scheme=scheme_label(shown["funding_scheme"], lang))
        if shown["hold_total"]:
            return text("hold_note", lang, total=int(m.pending_funds().sum()))
        return ""

    @solara.component
    def LeverInput(control: Control, value, on_value, pending_day: int | None = None,
                   disabled: bool = False):
        label = control.label(lang)
        note = f" · {text('lever_from_day', lang, day=pending_day)}" if pending_day else ""
        with solara.Column(gap="0px", classes=[f"shequ-lever-{control.name}"]) as box:
            if control.kind == "Checkbox":
                solara.Checkbox(label=label + note, value=bool(value), on_value=on_value)
            elif control.kind == "Select":
                labels = {scheme_label(s, lang): s for s in SCHEMES}
                shown = scheme_label(value, lang) if value in labels.values() else value
                solara.Select(label + note, values=list(labels), value=shown,
                              on_value=lambda v: on_value(labels.get(v, v)))
            else:
                shown = f"{value:.2f}" if control.kind == "SliderFloat" else f"{int(value):,}"
                slider = solara.SliderFloat if control.kind == "SliderFloat" else solara.SliderInt
                lo, hi = min(control.lo, value), max(control.hi, value)
                solara.Text(f"{label}: {shown}{note}", style={"font-size": "0.9em"})
                slider("", value=value, min=lo, max=hi, step=control.step, on_value=on_value,
                       disabled=disabled)
        return box

    @solara.component
    def CityCard(m, params):
        error = solara.use_reactive(None)
        p = params.value
        fixed_run = bool(config.replay)

        def set_next(**changes):
            """Settings of the next run, checked now (a bad one is refused with its reason)."""
            new = p | {k: v for k, v in changes.items() if k != "controls"}
            new["controls"] = p["controls"] | changes.get("controls", {})
            try:
                check_next_run(new)
            except InputError as e:
                error.set(str(e))
                return
            error.set(None)
            params.value = new

        def choose(title):
            name = titles(lang).get(title, title)
            fresh = base_scenario(name, p.get("overrides"), p.get("scale"), p.get("days"))
            set_next(policy=name, controls={c.name: c.default(fresh.params) for c in CONTROLS})

        def rescale(scale):
            overrides = dict(p.get("overrides") or {}) | {
                "residents_per_building": residents_per_building(scale)}
            set_next(scale=scale, overrides=overrides)
        with solara.Card(text("city_title", lang), classes=["shequ-city"]) as card:
            solara.Text(text("city_hint", lang), classes=["shequ-note"])
            if fixed_run:
                solara.Text(text("replay_fixed", lang), classes=["shequ-note"])
            names = titles(lang)
            current = next((t for t, n in names.items() if same_scenario(n, p.get("policy"))),
                           str(p.get("policy") or "xining-classified"))
            solara.Select(text("scenario", lang), values=list(names) if current in names
                          else [current, *names], value=current, on_value=choose,
                          disabled=fixed_run, classes=["shequ-scenario"])
            scale = float(p.get("scale") or APP_SCALE)
            choices = sorted(set(SCALES) | {scale})
            solara.Text(f"{text('scale', lang)}: " + text(
                "scale_value", lang, inv=round(1 / scale),
                residents=round(m.p["city"]["population"] * scale)), style={"font-size": "0.9em"})
            solara.SliderValue("", value=scale, values=choices, on_value=rescale,
                               disabled=fixed_run)
            seed_now = int(p.get("rng") or m.seed)
            solara.Text(f"{text('seed', lang)}: {seed_now}", style={"font-size": "0.9em"})
            solara.SliderInt("", value=seed_now, min=1, max=max(100, seed_now),
                             on_value=lambda v: set_next(rng=int(v)), disabled=fixed_run)
            solara.Text(text("group_classification", lang), classes=["shequ-heading"])
            for name in GROUPS[3][1]:
                LeverInput(CONTROL[name], p["controls"].get(name, m.levers[name]),
                           lambda v, n=name: set_next(controls={n: v}))
            if error.value:
                solara.Error(error.value)
        return card

    def next_run_words(m, p: dict) -> str:
        """What the next run (at Reset) will differ in from this one, in words ("" if nothing)."""
        words = []
        if not same_scenario(p.get("policy"), str(m.policy.path or m.policy.name)):
            words.append(f"{text('scenario', lang)} {scenario_name(p.get('policy'))}")
        if p.get("rng") is not None and int(p["rng"]) != m.seed:
            words.append(f"{text('seed', lang)} {p['rng']}")
        if p.get("scale") and float(p["scale"]) != m.scale:
            words.append(text("scale_value", lang, inv=round(1 / float(p["scale"])),
                              residents=round(m.p["city"]["population"] * float(p["scale"]))))
        moved = [n for n in GROUPS[3][1] if p["controls"].get(n, m.levers[n]) != m.levers[n]]
        if moved:
            words.append(text("group_classification", lang))
        return "; ".join(words)

    @solara.component
    def Monitors(m, previous):
        update_counter.get()
        table = drawn(m, plots.daily, m)
        now = plots.monitors(table)
        before = None
        if previous is not None:
            day = int(table["day"].max()) if len(table) else None
            before = plots.monitors(previous.table, day)
        return solara.HTML(tag="div", unsafe_innerHTML=monitors_html(now, before, lang),
                           classes=["shequ-monitors"])

    @solara.component
    def GraphPanel(m, picked: solara.Reactive):
        """The graph picture, redrawn in its own thread: at once when the run stands still or
        the story's grievance changes, at most once a second while it plays."""
        view = solara.use_memo(lambda: drawn(m, graph.layout, m, drawable(m, config.communities)),
                               [m])
        model_id, gid = picked.value
        gid = gid if model_id == id(m) else None

        def draw(key):
            state = drawn(m, graph.snapshot, m, view, key[2])
            return id(m), key, figures.app_graph_png(state, view, lang)
        first = solara.use_memo(lambda: draw((m.steps, m.revision, gid)), [m])
        latest = solara.use_reactive(first)  # (id of the model, (day, levers, story), picture)
        shown = latest.value if latest.value[0] == id(m) else first

        def watch(cancel):
            drawn_key, drawn_at, last_steps = shown[1], 0.0, m.steps
            while not cancel.wait(GRAPH_POLL_S):
                key = (m.steps, m.revision, gid)
                still = m.steps == last_steps
                last_steps = m.steps
                if key != drawn_key and (still or time.monotonic() - drawn_at >= GRAPH_EVERY_S):
                    latest.set(draw(key))
                    drawn_key, drawn_at = key, time.monotonic()
        solara.use_thread(watch, dependencies=[m, gid], intrusive_cancel=False)
        png = shown[2]
        with div("shequ-graph-box") as box:
            image(png, "graph")
            solara.HTML(tag="div", unsafe_innerHTML=graph.legend_html(lang),
                        classes=["shequ-legend"])
        return box

    @solara.component
    def PlotsPanel(m, previous):
        update_counter.get()
        before = solara.use_memo(
            lambda: plots.series(None, data=previous) if previous is not None else {}, [previous])
        data = drawn(m, plots.frame, m)
        return solara.HTML(tag="div", classes=["shequ-plots"],
                           unsafe_innerHTML=chart.plots_html(data, previous, lang, before))

    @solara.component
    def StoryPanel(m, picked: solara.Reactive):
        update_counter.get()
        communities = solara.use_memo(
            lambda: graph.layout(m, drawable(m, config.communities)).communities, [m])
        model_id, gid = picked.value

        def choose():
            picked.set((id(m), drawn(m, story.pick, m, story_rng, communities)))

        def keep_one():  # pick a grievance once there is one (of a drawn community if there is
            # one), anew after a reset and when the one told has left the grievance table
            f = drawn(m, story.facts, m, gid) if model_id == id(m) and gid is not None else None
            if f is None or f["community"] not in communities:
                choose()
        solara.use_effect(keep_one, [m, update_counter.value])
        mine = model_id == id(m) and gid is not None
        lines = (drawn(m, story.tell, m, gid, lang) if mine else []) or [text("no_grievance", lang)]
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
    def AboutPanel():
        lines = [text("about_intro", lang)]
        for k in (1, 2, 3):
            lines += [f"**{text(f'try_{k}_title', lang)}**", text(f"try_{k}", lang)]
        with solara.Card(text("about_title", lang), classes=["shequ-about"]) as card:
            solara.HTML(tag="div", unsafe_innerHTML=markdown_html(lines))
        return card

    return Page, built


def drawable(model, communities: list[int] | None) -> list[int] | None:
    """The communities asked for, where this city has them (else one of each class)."""
    chosen = [c for c in communities or [] if c < model.n_communities]
    return chosen or None


def titles(lang: str = "en") -> dict[str, str]:
    """Shipped scenarios a class can choose, by their title in words (those with a title)."""
    return {text(f"scn_{name}", lang): name for name in shipped_scenarios()
            if f"scn_{name}" in LABELS}


def scenario_name(policy) -> str:
    return os.path.splitext(os.path.basename(str(policy)))[0] if policy else "xining-classified"


def same_scenario(a, b) -> bool:
    return scenario_name(a) == scenario_name(b)


def check_next_run(p: dict) -> None:
    """Raise InputError if the settings of a next run cannot build a city (before Reset)."""
    fresh = base_scenario(p.get("policy"), p.get("overrides"), p.get("scale"), p.get("days"))
    overrides = teaching_overrides(fresh, p["controls"])
    probe(fresh, overrides)


MONITOR_GROUPS = (("monitors_kpi", "kpi", plots.KPIS),
                  ("monitors_iceberg", "iceberg", plots.ICEBERG),
                  ("monitors_residents", "residents", plots.RESIDENTS))


def shown_value(name: str, value: float, lang: str) -> str:
    if not np.isfinite(value):
        return text("not_yet", lang)
    if name == "open_per_1000":
        return f"{value:.1f}"
    return f"{value:.1%}" if name in plots.KPIS or name.endswith("_share") else f"{value:.0%}"


def monitors_html(now: dict, before: dict | None, lang: str) -> str:
    """Number tiles in three groups: the KPIs (reported cases), the whole iceberg (every
    grievance; where the model reports it) and the residents' means."""
    groups = []
    for head, kind, names in MONITOR_GROUPS:
        tiles = []
        for name in (n for n in names if n in now):
            was = ""
            if before is not None and name in before:
                value = shown_value(name, before[name], lang)
                was = (f'<div class="shequ-before">'
                       f'{html.escape(text("m_before", lang, value=value))}</div>')
            tiles.append(f'<div class="shequ-tile" data-name="{name}"><div class="shequ-value">'
                         f'{shown_value(name, now[name], lang)}</div><div class="shequ-label">'
                         f'{html.escape(text(f"m_{name}", lang))}</div>{was}</div>')
        if tiles:
            groups.append(f'<div class="shequ-group {kind}"><div class="shequ-head">'
                          f'{html.escape(text(head, lang))}</div>'
                          f'<div class="shequ-tiles">{"".join(tiles)}</div></div>')
    return "".join(groups)


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
             text("fact_day", lang, day=m.period_day, days=m.days),
             text("fact_classes", lang, counts=counts), money,
             text("fact_mechanisms", lang, grid=mech["households_per_grid"],
                  linkage=text("on" if mech["four_party_linkage"] else "off", lang)),
             text("fact_measures", lang, measures=", ".join(on) or text("none", lang)),
             text("fact_institutions", lang, companies=len(m.companies),
                  black=sum(c.rating == "black" for c in m.companies),
                  committees=len(m.owners_committees), three_no=int(m.three_no.sum()),
                  linkages=len(m.linkages))]
    if config.replay:
        lines.insert(0, text("replay", lang, run=config.replay.get("run"),
                             store=config.replay.get("store")))
    return lines


@solara.component
def Layout(children=[]):  # noqa: B006 — solara's layout signature
    """The page takes the whole window (no solara app bar or drawer around it)."""
    return rv.Html(tag="div", children=children)


@solara.component
def Page():
    """The served app (`solara run sim.viz.app`), its settings read from $SHEQU_VIZ."""
    page = solara.use_memo(lambda: make_page(AppConfig.from_env())[0], [])
    return page()

"""The classroom's pages (课堂网页), served by `shequ classroom` (sim/classroom/serve.py).

    /                 the student's page: the join code → the seat; their community's outcomes
                      (the KPIs, the whole iceberg, its own counts) and the day; their choice
                      (the spending plan, the patrol focus, the joint meetings), made with
                      widgets built from the `Choice` fields and submitted to the class
    /teacher?key=K    the teacher's page: play, pause, step, speed, end (the `TeacherLoop`); every
                      seat's community and choice; the league table by class

Every tab reads the one class of this process (`serve.CURRENT`); what a tab holds for itself
(the code typed, the draft of a choice, a message) is Solara's per-tab state. A tab's screen id is
its Solara kernel's. Each tab looks at the class once a second and redraws when the class has
changed (a day run, a seat taken, a choice applied), and tells the session every few seconds
that its screen is alive (`Session.touch`); a tab closed tells it the screen was lost
(`Session.disconnect`: the seat is kept for its student for the session's grace). After a join
the tab's address carries the seat's code and token, so a reload takes the seat back.
"""

import html
import json
import math
import secrets
import time
from urllib.parse import parse_qs, urlencode

import reacton.ipyvuetify as rv
import solara

from sim import labels as outcomes
from sim import outputs
from sim.choices import FIELDS, Choice, compounds_of
from sim.classroom import serve
from sim.classroom.seats import SeatError
from sim.classroom.session import ICEBERG, KPIS
from sim.errors import InputError
from sim.viz.labels import text

REFRESH_S = 1.0  # a tab looks at the class this often
HEARTBEAT_S = 5.0  # and tells the session its screen is alive this often
SPEEDS = (1, 2, 5, 10, 20, 40)  # days a second the teacher can choose, as the teaching app's
COUNTS = ("arisen", "reported", "silent", "found", "resolved", "linkage_settled")
CHOICE_GROUPS = (("cls_group_spending", ("reserve_share", "priority_categories", "spending")),
                 ("cls_group_patrol", ("patrol_focus", "patrol_share")),
                 ("cls_group_meeting", ("joint_meeting", "agenda")))
SCENARIO_KEYS = ("reserve_share", "priority_categories", "spending")  # default: the scenario's
PUNCTUATION = {"en": {"is": ": ", "then": "; ", "list": ", "},  # a field: its value; the next
               "zh": {"is": "：", "then": "；", "list": "、"}}

CSS = """
.cls-page { max-width: 1100px; margin: 0 auto; padding: 8px 16px; font-size: 15px; }
.cls-bar { display: flex; align-items: center; gap: 16px; flex-wrap: wrap; padding: 4px 0;
           border-bottom: 2px solid #5e35b1; margin-bottom: 8px; }
.cls-title { font-size: 1.2em; font-weight: bold; color: #311b92; }
.cls-day { font-size: 1.2em; font-weight: bold; }
.cls-tiles { display: flex; flex-wrap: wrap; gap: 8px; margin: 6px 0; }
.cls-tile { flex: 1 1 130px; border-left: 4px solid #5e35b1; background: #faf9fd;
            padding: 2px 8px; }
.cls-tile.iceberg { border-color: #e65100; background: #fffaf5; }
.cls-value { font-size: 1.4em; font-weight: bold; }
.cls-label { font-size: 0.78em; color: #333; }
.cls-table { border-collapse: collapse; font-size: 0.88em; margin: 4px 0 12px 0; }
.cls-table th, .cls-table td { border-bottom: 1px solid #ddd; padding: 2px 8px; text-align: left; }
.cls-table th { background: #f5f3fa; }
.cls-note { font-size: 0.85em; color: #555; }
.cls-heading { font-weight: bold; margin-top: 8px; }
"""


# ---- what every page reads from the class -------------------------------------------------------

def glance(cls) -> tuple:
    """What the pages show changes when this does: the day, the end, the loop, the seats' holders,
    the choices made and applied."""
    s = cls.session
    with s.lock:
        seats = tuple((seat.screen, seat.lost, seat.name) for seat in s.seats)
        choices = s.model.choices
        return (s.model.steps, s.ended, cls.loop.playing, cls.loop.speed, seats,
                len(choices.log), tuple(sorted(choices.pending)))


def use_glance(cls, screen: str | None = None) -> tuple:
    """Redraw the tab when the class changes; keep its screen alive (the student's)."""
    seen = solara.use_reactive(glance(cls))

    def watch(cancel):
        beat = 0.0
        while not cancel.wait(REFRESH_S):
            if screen is not None and time.monotonic() - beat >= HEARTBEAT_S:
                cls.session.touch(screen)
                beat = time.monotonic()
            now = glance(cls)
            if now != seen.value:
                seen.set(now)
    solara.use_thread(watch, dependencies=[cls, screen], intrusive_cancel=False)
    return seen.value


def lost_screen():
    """A tab closed: its screen is lost, its seat kept for its student (Session.disconnect)."""
    screen = solara.get_kernel_id()

    def lost():
        if serve.CURRENT is not None:
            serve.CURRENT.session.disconnect(screen)
    return lost


solara.lab.on_kernel_start(lost_screen)


def query(router) -> dict[str, str]:
    return {k: v[0] for k, v in parse_qs(router.search or "").items()}


def day_line(session, lang: str) -> str:
    if session.ended:
        return text("cls_ended", lang, day=session.day)
    return text("cls_day", lang, day=session.day, days=session.model.days)


# ---- words and tables ---------------------------------------------------------------------------

def value_words(name: str, value, lang: str) -> str:
    """A choice field's value in words."""
    if name in ("priority_categories", "patrol_focus"):
        words = [text(f"cat_{v}", lang) if name == "priority_categories" else
                 text("ch_compound", lang, n=v) for v in value]
        return PUNCTUATION[lang]["list"].join(words) or text("none", lang)
    if isinstance(value, bool):
        return text("on" if value else "off", lang)
    if isinstance(value, float):
        return f"{value:.0%}"
    return text(f"ch_{value}", lang)


def choice_words(choice: Choice, lang: str) -> str:
    """What a choice changes, in words (the default: the usual way)."""
    made = choice.to_dict()
    if not made:
        return text("cls_default", lang)
    marks = PUNCTUATION[lang]
    return marks["then"].join(
        text(f"ch_{k}", lang) + marks["is"] + value_words(k, getattr(choice, k), lang)
        for k in FIELDS if k in made)


def shown(name: str, value, lang: str) -> str:
    """An outcome in its display unit ("not yet" before it has a value)."""
    if math.isnan(value):  # nothing to count yet
        return text("not_yet", lang)
    return outcomes.shown(name, float(value)) + (
        "%" if outcomes.OUTCOMES[name].unit == "share" else "")


def holder(session, seat, lang: str) -> str:
    """Who holds a seat, as the teacher's table says it."""
    if seat.screen is None or session.expired(seat):
        return text("cls_free", lang)
    name = seat.name or text("cls_joined", lang)
    return text("cls_lost", lang, name=name) if seat.lost else name


def line(words: str, *classes: str):
    """A line of words of its own (a <div>)."""
    return rv.Html(tag="div", class_=" ".join(classes), children=[words])


def tiles_html(row, lang: str) -> str:
    """The community's KPIs (of reported cases) and whole-iceberg outcomes, as number tiles."""
    tiles = []
    for name in KPIS + ICEBERG:
        kind = "iceberg" if name in ICEBERG else "kpi"
        tiles.append(f'<div class="cls-tile {kind}" data-name="{name}"><div class="cls-value">'
                     f'{html.escape(shown(name, row[name], lang))}</div><div class="cls-label">'
                     f'{html.escape(outcomes.label(name, lang, short=True))}</div></div>')
    return "".join(tiles)


def counts_html(row, lang: str) -> str:
    """The community's own counts so far (the reported period's flows)."""
    cells = [(text(f"cls_n_{k}", lang), f"{int(row[f'cum_{k}']):,}") for k in COUNTS]
    cells += [(text("cls_n_spent", lang), f"{int(row['cum_spent']):,}"),
              (text("cls_fund", lang), f"{int(row['fund']):,}")]
    return table_html([label for label, _ in cells], [[value for _, value in cells]], "counts")


def table_html(head: list[str], rows: list[list[str]], name: str) -> str:
    out = [f'<table class="cls-table cls-{name}"><tr>']
    out += [f"<th>{html.escape(h)}</th>" for h in head]
    for row in rows:
        out.append("</tr><tr>" + "".join(f"<td>{html.escape(str(v))}</td>" for v in row))
    return "".join(out) + "</tr></table>"


def seats_html(session, table, lang: str, with_codes: bool = True) -> str:
    """Every seat: code, student, community, class, choice, outcomes (the teacher's table)."""
    names = KPIS + ICEBERG
    head = [text("cls_col_seat", lang), *([text("cls_codes", lang)] if with_codes else []),
            text("cls_col_student", lang), text("cls_col_community", lang), text("class", lang),
            text("cls_col_choice", lang), *(outcomes.label(n, lang, short=True) for n in names)]
    seats = {s.number: s for s in session.seats}
    rows = [[r["seat"], *([seats[r["seat"]].code] if with_codes else []),
             holder(session, seats[r["seat"]], lang), r["name"], r["class"],
             choice_words(Choice.from_dict(json.loads(r["choice"])), lang),
             *(shown(n, r[n], lang) for n in names)] for _, r in table.iterrows()]
    return table_html(head, rows, "seats")


def league_html(session, table, lang: str) -> str:
    names = ("resolved_share", "resolution_rate", "unmet_days_per_1000")
    head = [text("class", lang), text("cls_col_rank", lang), text("cls_col_seat", lang),
            text("cls_col_student", lang), text("cls_col_community", lang),
            *(outcomes.label(n, lang, short=True) for n in names)]
    seats = {s.number: s for s in session.seats}
    rows = [[r["class"], r["rank"], r["seat"], holder(session, seats[r["seat"]], lang), r["name"],
             *(shown(n, r[n], lang) for n in names)] for _, r in table.iterrows()]
    return table_html(head, rows, "league")


# ---- the student's page -------------------------------------------------------------------------

@solara.component
def StudentPage():
    cls = serve.CURRENT
    return Student(cls) if cls is not None else solara.Text(text("cls_no_class"))


@solara.component
def Student(cls):
    lang, session = cls.lang, cls.session
    screen = solara.use_memo(solara.get_kernel_id, [])
    router = solara.use_router()
    message = solara.use_reactive("")
    seen = use_glance(cls, screen)

    def rejoin():  # a reload: the address keeps the seat's code and token
        q = query(router)
        if "code" in q and "token" in q and screen not in session.by_screen:
            join(q["code"], "", q["token"])
    solara.use_effect(rejoin, [])

    def join(code: str, name: str, token: str | None = None):
        try:
            seat = session.join(code, screen, name, token)
        except SeatError as e:
            message.set(str(e))
            return
        message.set("")
        router.push("/?" + urlencode({"code": seat.code, "token": seat.token}))

    def leave():
        session.leave(screen)
        router.push("/")
    try:
        seat, why = session.seat_of(screen), ""
    except SeatError as e:
        seat, why = None, (str(e) if screen in session.gone else "")
    with rv.Html(tag="div", class_="cls-page cls-student") as page:
        solara.Title(text("cls_title", lang))
        solara.Style(CSS)
        with rv.Html(tag="div", class_="cls-bar"):
            solara.Text(text("cls_title", lang), classes=["cls-title"])
            solara.Text(day_line(session, lang), classes=["cls-day"])
        if seat is None:
            JoinForm(lang, join)
        else:
            SeatView(session, seat, screen, lang, message, seen)
            solara.Button(text("cls_leave", lang), on_click=leave, text=True,
                          classes=["cls-leave"])
        for said in (why, message.value):
            if said:
                solara.Error(said, classes=["cls-message"])
    return page


@solara.component
def JoinForm(lang: str, join):
    code = solara.use_reactive("")
    name = solara.use_reactive("")
    with solara.Card(classes=["cls-join"]) as card:
        solara.InputText(text("cls_code", lang), value=code, continuous_update=True,
                         classes=["cls-code"])
        solara.InputText(text("cls_name", lang), value=name, continuous_update=True,
                         classes=["cls-name"])
        solara.Button(text("cls_join", lang), on_click=lambda: join(code.value, name.value),
                      color="primary", classes=["cls-join-button"])
    return card


@solara.component
def SeatView(session, seat, screen: str, lang: str, message, seen: tuple):
    """The seat's community now (`seen`: the class as last glanced at, so that a change redraws
    it) and the student's choice."""
    with session.lock:
        row = outputs.communities(session.model).set_index("community").loc[seat.community]
        current = session.model.choices.current.get(seat.community, Choice())
        compounds = [int(j) for j in compounds_of(session.model, seat.community)]
        scenario = {k: session.model.p["funding"][k] for k in SCENARIO_KEYS}
    with rv.Html(tag="div", class_="cls-seat") as box:
        line(text("cls_seat", lang, seat=seat.number, name=seat.community_name, cls=row["class"]),
             "cls-heading", "cls-seat-label")
        line(text("cls_outcomes", lang), "cls-heading")
        solara.HTML(tag="div", unsafe_innerHTML=tiles_html(row, lang), classes=["cls-tiles"])
        line(text("cls_counts", lang), "cls-heading")
        solara.HTML(tag="div", unsafe_innerHTML=counts_html(row, lang))
        line(text("cls_now", lang, choice=choice_words(current, lang)), "cls-note", "cls-current")
        if not session.ended:
            ChoiceForm(session, screen, lang, draft_of(current, scenario), compounds, scenario,
                       message)
    return box


def draft_of(choice: Choice, scenario: dict) -> dict:
    """The form's first values: the choice in force, the scenario's where it keeps those."""
    draft = {k: getattr(choice, k) for k in FIELDS}
    for k in SCENARIO_KEYS:
        if draft[k] is None:
            draft[k] = scenario[k]
    return draft | {k: list(v) for k, v in draft.items() if isinstance(v, (list, tuple))}


def choice_of(draft: dict, scenario: dict) -> dict:
    """The choice a form's values make: the fields that differ from the usual way (the
    scenario's values for the spending plan, the defaults for the others)."""
    made = {}
    for k, value in draft.items():
        usual = scenario[k] if k in SCENARIO_KEYS else FIELDS[k].default
        if isinstance(value, (list, tuple)):
            value, usual = sorted(value), sorted(usual)
        if value != usual:
            made[k] = draft[k]
    return made


@solara.component
def ChoiceForm(session, screen: str, lang: str, first: dict, compounds: list[int],
               scenario: dict, message):
    draft = solara.use_reactive(first)
    done = solara.use_reactive("")

    def submit():
        try:
            day = session.choose(screen, choice_of(draft.value, scenario))
        except InputError as e:  # SeatError too
            done.set("")
            message.set(str(e))
            return
        message.set("")
        done.set(text("cls_submitted", lang, day=day + 1))
    with solara.Card(text("cls_choice", lang), classes=["cls-choice"]) as card:
        line(text("cls_choice_hint", lang), "cls-note")
        for heading, names in CHOICE_GROUPS:
            line(text(heading, lang), "cls-heading")
            for name in names:
                ChoiceInput(name, draft, compounds, lang)
        solara.Button(text("cls_submit", lang), on_click=submit, color="primary",
                      classes=["cls-submit"])
        if done.value:
            solara.Success(done.value, classes=["cls-submitted"])
    return card


@solara.component
def ChoiceInput(name: str, draft, compounds: list[int], lang: str):
    """One field's widget, from its declaration (`sim.choices.FIELDS`): a list of categories or
    of compounds, one of a few words, true or false, or a share."""
    p, value, label = FIELDS[name], draft.value[name], text(f"ch_{name}", lang)

    def put(v):
        draft.set(draft.value | {name: v})
    with solara.Column(gap="0px", classes=[f"cls-field-{name}"]) as box:
        if name in ("priority_categories", "patrol_focus"):
            options = ({text(f"cat_{c}", lang): c for c in p.choices} if p.choices else
                       {text("ch_compound", lang, n=j): j for j in compounds})
            words = {v: k for k, v in options.items()}
            solara.SelectMultiple(label, values=[words[v] for v in value if v in words],
                                  all_values=list(options),
                                  on_value=lambda chosen: put([options[w] for w in chosen]))
        elif p.choices:
            options = {text(f"ch_{c}", lang): c for c in p.choices}
            solara.Select(label, values=list(options), value=text(f"ch_{value}", lang),
                          on_value=lambda w: put(options[w]))
        elif isinstance(p.default, bool):
            solara.Checkbox(label=label, value=bool(value), on_value=put)
        else:
            line(f"{label}{PUNCTUATION[lang]['is']}{value:.0%}", "cls-field-label")
            solara.SliderFloat("", value=float(value), min=p.lo, max=p.hi, step=0.05,
                               on_value=lambda v: put(round(float(v), 2)))
    return box


# ---- the teacher's page -------------------------------------------------------------------------

@solara.component
def TeacherPage():
    cls = serve.CURRENT
    return TeacherGate(cls) if cls is not None else solara.Text(text("cls_no_class"))


@solara.component
def TeacherGate(cls):
    """The teacher's page for the address with the class's key; a message for any other."""
    router = solara.use_router()
    if not secrets.compare_digest(query(router).get("key", ""), cls.key):
        return solara.Error(text("cls_key_needed", cls.lang), classes=["cls-message"])
    return Teacher(cls)


@solara.component
def Teacher(cls):
    lang = cls.lang
    seen = use_glance(cls)
    session, loop = cls.session, cls.loop
    period = text(f"cls_{session.period}", lang)
    with session.lock:
        table = session.outcomes()
        league = session.league()
    plots = solara.use_memo(lambda: city_plots(session, lang),
                            dependencies=[session.model.steps, lang])
    with rv.Html(tag="div", class_="cls-page cls-teacher") as page:
        solara.Title(text("cls_teacher_title", lang))
        solara.Style(CSS)
        with rv.Html(tag="div", class_="cls-bar"):
            solara.Text(text("cls_teacher_title", lang), classes=["cls-title"])
            solara.Text(day_line(session, lang), classes=["cls-day"])
            solara.Text(text("cls_playing" if loop.playing else "cls_paused", lang),
                        classes=["cls-state"])
        if not session.ended:
            TeacherControls(cls, period, lang, seen)
        line(text("cls_seats", lang), "cls-heading")
        solara.HTML(tag="div", unsafe_innerHTML=seats_html(session, table, lang))
        line(text("cls_league", lang), "cls-heading")
        solara.HTML(tag="div", unsafe_innerHTML=league_html(session, league, lang))
        line(text("cls_city", lang), "cls-heading")
        solara.Image(plots, classes=["cls-plots"])
    return page


def city_plots(session, lang: str) -> bytes:
    """The city's plots of the teaching app (rates and funds left by class, day by day), drawn
    from the class's one model (at most once a day: the page redraws when the day changes)."""
    from sim.viz.figures import plots_figure, png

    with session.lock:
        fig = plots_figure(session.model, lang, size=(9.0, 5.4))
        return png(fig, dpi=90)


@solara.component
def TeacherControls(cls, period: str, lang: str, seen: tuple):
    """Play, pause, step, to the period's end, end; the speed (`seen`: the class as last glanced
    at, so that the buttons follow the loop)."""
    loop, session = cls.loop, cls.session

    def run_period():
        loop.pause()
        session.run_period()
    with rv.Html(tag="div", class_="cls-controls") as box:
        with solara.Row():
            solara.Button(text("cls_play", lang), on_click=loop.play, color="primary",
                          disabled=loop.playing)
            solara.Button(text("cls_pause", lang), on_click=loop.pause, disabled=not loop.playing)
            solara.Button(text("cls_step", lang), on_click=lambda: loop.step(1))
            solara.Button(text("cls_period", lang, period=period), on_click=run_period)
            solara.Button(text("cls_end", lang), on_click=loop.end, color="error", outlined=True)
        line(text("cls_speed", lang, speed=f"{loop.speed:g}"), "cls-note")
        solara.SliderValue("", value=min(SPEEDS, key=lambda s: abs(s - loop.speed)),
                           values=list(SPEEDS), on_value=loop.set_speed)
        line(text("cls_hold", lang, period=period), "cls-note")
    return box


@solara.component
def Layout(children=[]):  # noqa: B006 — solara's layout signature
    """The pages take the whole window (no solara app bar or drawer around them)."""
    return rv.Html(tag="div", children=children)


routes = [solara.Route(path="/", component=StudentPage, layout=Layout),
          solara.Route(path="teacher", component=TeacherPage)]

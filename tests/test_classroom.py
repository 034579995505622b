"""Tests of the classroom session (sim/classroom): seats and codes, screens lost and back, choices
reaching the shared model, the log, and the replay to identical tables. Fast: a 1:333 city, 40
days, no warm-up, a fake clock."""

import json
import threading
import time
from contextlib import nullcontext
from pathlib import Path

import pandas as pd
import pytest

from sim import outputs
from sim.cli import main
from sim.choices import Choice
from sim.classroom import SeatError, Session, replay
from sim.classroom import seats as seating
from sim.classroom.log import read
from sim.classroom.loop import TeacherLoop
from sim.errors import InputError

ROOT = Path(__file__).resolve().parent.parent
SMALL = dict(scenario="xining-classified", scale=0.003, days=40, seed=7,
             overrides={"warmup_years": 0})
TIGHT = {"funding__scheme": "uniform", "funding__uniform": 20_000, "funding__total": 0}  # short
TABLES = {"daily": outputs.daily, "summary": lambda m: m.summary(),
          "communities": outputs.communities}


class Clock:
    """Seconds that move only when the test says so."""

    def __init__(self):
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock():
    return Clock()


@pytest.fixture
def session(tmp_path, clock):
    s = Session(**SMALL, seats=4, log=tmp_path / "class.jsonl", code_seed=3, grace_s=60,
                clock=clock)
    yield s
    s.end()


def codes(session) -> list[str]:
    return [seat.code for seat in session.seats]


# ---------------------------------------------------------------- choices and the replay

def test_choices_from_several_seats_reach_the_model_and_replay_identically(tmp_path):
    log = tmp_path / "class.jsonl"
    s = Session(**(SMALL | {"overrides": SMALL["overrides"] | TIGHT}), seats=3, log=log,
                code_seed=1)
    one, two, three = (s.join(code, f"screen{k}", f"student {k}")
                       for k, code in enumerate(codes(s)))
    focus = mixed_focus(s.model, three.community)
    assert s.choose("screen0", {"reserve_share": 0.3, "agenda": "dispute"}) == 0
    s.step(3)
    s.choose("screen2", Choice(patrol_focus=focus, patrol_share=0.8))
    s.choose("screen1", {"joint_meeting": False})
    s.choose("screen0", {"spending": "first_come"})  # replaces its first choice whole
    s.run_period()
    assert s.day == 7
    s.choose("screen1", {"joint_meeting": True, "priority_categories": ["dispute"]})
    s.step(9)
    s.end()
    model = s.model
    assert model.choices.current[one.community] == Choice(spending="first_come")
    assert not model.spending.even[one.community] and model.spending.share[one.community] == 0.1
    assert model.choices.meeting[two.community]
    assert set(model.choices.current) == {one.community, two.community, three.community}
    header, logged, end = read(log)
    at_day_3 = sorted([one.community, two.community, three.community])  # by community
    assert [(d - model.warmup_days, c) for d, c, _ in logged] == [
        (0, one.community), *[(3, c) for c in at_day_3], (7, two.community)]
    assert logged == model.choices.log and end == model.steps == 16
    assert [r["seat"] for r in header["seats"]] == [1, 2, 3]
    again = replay(log)
    assert again.steps == model.steps and again.choices.log == model.choices.log
    for name, table in TABLES.items():
        pd.testing.assert_frame_equal(table(model), table(again), check_exact=True, obj=name)
    without = replay_without_choices(log, tmp_path)  # the choices did change the model
    assert without.spending.even[one.community] and not again.spending.even[one.community]
    changed = without.building_community == three.community
    assert (without.patrols.interval[changed] != again.patrols.interval[changed]).any()


def mixed_focus(model, community: int) -> tuple[int, ...]:
    """A compound of the community that shares a grid with others (a focus that changes a walk)."""
    compound = model.buildings["compound"].to_numpy()
    for worker in model.grid_workers:
        if worker.community == community and len(set(compound[worker.route])) > 1:
            return (int(compound[worker.route[0]]),)
    raise AssertionError(f"community {community} has no grid of several compounds")


def replay_without_choices(log, tmp_path):
    """The same class with its choice lines taken out (what the choices change in the tables is
    tested in tests/test_choices.py, on the whole city)."""
    lines = log.read_text().splitlines()
    bare = tmp_path / "bare.jsonl"
    bare.write_text("\n".join([lines[0], lines[-1]]) + "\n")
    return replay(bare)


def test_the_log_is_written_as_the_class_goes(session):
    session.join(codes(session)[0], "a")
    session.choose("a", {"agenda": "property"})
    session.step()
    lines = session.log.path.read_text().splitlines()
    assert json.loads(lines[0])["shequ"] == "classroom"
    assert json.loads(lines[1]) == {"day": 0, "period_day": 0, "seat": 1,
                                    "community": session.seats[0].community,
                                    "choice": {"agenda": "property"}}


def test_all_screens_read_the_same_day_while_the_teacher_steps(session):
    """Readers in threads (as Solara sessions are) never see half a day or an error."""
    seen, errors = {k: [] for k in range(3)}, []

    def read_screen(k):
        try:
            for _ in range(30):
                with session.lock:
                    seen[k].append((session.day, int(session.model.counts["new_arisen"].sum())
                                    if session.day else 0))
                session.outcomes()
        except Exception as e:  # noqa: BLE001 — reported below
            errors.append(e)
    threads = [threading.Thread(target=read_screen, args=(k,)) for k in range(3)]
    for t in threads:
        t.start()
    session.step(10)
    for t in threads:
        t.join()
    assert errors == []
    for days in seen.values():
        assert [d for d, _ in days] == sorted(d for d, _ in days)  # never back in time
    assert session.day == 10


# ---------------------------------------------------------------- seats and screens

def test_codes_are_distinct_share_the_class_prefix_and_come_from_the_secure_source():
    assert isinstance(seating.code_source(), __import__("random").SystemRandom)
    prefix, made = seating.make_codes(40, seating.code_source(5))
    assert len(set(made)) == 40 and all(c.startswith(prefix + "-") for c in made)
    assert seating.make_codes(40, seating.code_source(5)) == (prefix, made)
    assert seating.make_codes(40, seating.code_source(6))[1] != made
    assert all(set(c.replace("-", "")) <= set(seating.ALPHABET) for c in made)


def test_seats_spread_over_the_classes(session):
    classes = [session.model.classes[s.community] for s in session.seats]
    assert classes == ["A", "B", "C", "D"]


@pytest.mark.parametrize("typed, words", [
    ("hello", "expected a code like K7P-4QXM"),
    ("", "expected a code like K7P-4QXM"),
    ("O01-IIII", "expected a code like K7P-4QXM"),  # look-alikes are never in a code
])
def test_a_bad_code_is_one_clear_message(session, typed, words):
    with pytest.raises(SeatError, match=words):
        session.join(typed, "a")
    assert session.by_screen == {}


def test_a_stale_code_names_the_class_it_needs(session):
    other = "ZZZ-2345" if session.prefix != "ZZZ" else "YYY-2345"
    with pytest.raises(SeatError, match=f"is for another class .* begin {session.prefix}-"):
        session.join(other, "a")
    unknown = next(f"{session.prefix}-{x}" for x in ("2345", "2346")
                   if f"{session.prefix}-{x}" not in codes(session))
    with pytest.raises(SeatError, match="is not a seat of this class"):
        session.join(unknown, "a")


def test_codes_are_read_as_typed(session):
    code = codes(session)[2]
    seat = session.join(" " + code.lower().replace("-", " ") + " ", "a", "Li")
    assert seat.code == code and seat.name == "Li"


def test_two_students_claiming_one_seat(session):
    code = codes(session)[0]
    first = session.join(code, "a", "Li")
    with pytest.raises(SeatError, match=r"seat 1 \(community-\d+\) is taken by Li on another "
                                        r"screen.*after 60 s"):
        session.join(code, "b", "Wang")
    assert session.seat_of("a") is first and first.screen == "a"  # kept by its holder
    with pytest.raises(SeatError, match="this screen holds no seat"):
        session.choose("b", {"agenda": "dispute"})
    assert session.model.choices.pending == {}


def test_one_screen_one_seat(session):
    session.join(codes(session)[0], "a")
    with pytest.raises(SeatError, match=r"this screen already holds seat 1 .*leave it first"):
        session.join(codes(session)[1], "a")
    assert session.seats[1].screen is None
    assert session.join(codes(session)[0], "a") is session.seats[0]  # joining again: the same


def test_a_lost_screen_keeps_its_seat_for_its_student(session, clock):
    code = codes(session)[1]
    seat = session.join(code, "a", "Li")
    token = seat.token
    session.disconnect("a")
    clock.now += 10
    with pytest.raises(SeatError, match="is taken by Li"):
        session.join(code, "b", "Wang")
    back = session.join(code, "c", token=token)  # Li again, from a new tab, with the token
    assert back is seat and back.screen == "c" and back.name == "Li" and back.token == token
    with pytest.raises(SeatError, match="taken back from another screen"):
        session.choose("a", {"agenda": "dispute"})
    session.choose("c", {"agenda": "dispute"})


def test_a_seat_lost_longer_than_the_grace_goes_to_the_next_student(session, clock):
    code = codes(session)[1]
    session.join(code, "a", "Li")
    session.choose("a", {"joint_meeting": False})
    session.step()
    session.disconnect("a")
    clock.now += 61
    seat = session.join(code, "b", "Wang")
    assert seat.screen == "b" and seat.name == "Wang"
    with pytest.raises(SeatError, match="connection was lost for more than 60 s"):
        session.choose("a", {"agenda": "dispute"})
    # the community kept Li's choice until Wang changes it
    assert session.model.choices.current[seat.community] == Choice(joint_meeting=False)


def test_leaving_frees_the_seat_at_once(session):
    code = codes(session)[3]
    session.join(code, "a", "Li")
    session.leave("a")
    assert session.join(code, "b", "Wang").screen == "b"
    assert session.outcomes().loc[3, "student"] == "Wang"


def test_a_bad_choice_names_the_seat_and_the_field(session):
    session.join(codes(session)[0], "a")
    with pytest.raises(InputError, match=r'seat 1 \(community-\d+\)\'s choice: choice "patrol_share"'):
        session.choose("a", {"patrol_share": 2})
    other = int((session.model.compound_community != session.seats[0].community).nonzero()[0][0])
    with pytest.raises(InputError, match=f"compound {other} is not in community"):
        session.choose("a", {"patrol_focus": [other]})
    assert session.model.choices.pending == {}


def test_after_the_end_nobody_joins_or_chooses(session):
    session.join(codes(session)[0], "a")
    session.step(2)
    session.end()
    for call in (lambda: session.join(codes(session)[1], "b"),
                 lambda: session.choose("a", {"agenda": "dispute"})):
        with pytest.raises(SeatError, match=r"this class has ended \(day 2\)"):
            call()
    assert session.step(3) == 2


# ---------------------------------------------------------------- what the screens show

def test_the_league_ranks_seats_within_their_class(tmp_path):
    session = Session(**SMALL, seats=12, log=tmp_path / "class.jsonl")
    session.step(30)
    league = session.league()
    session.end()
    assert len(league) == 12 and league["resolved_share"].notna().sum() >= 6
    assert list(league.columns[:6]) == ["seat", "student", "community", "name", "class", "choice"]
    assert (league.groupby("class")["rank"].min() == 1).all()
    for _, part in league.groupby("class"):
        known = part["resolved_share"].notna()
        assert part["resolved_share"][known].is_monotonic_decreasing
        assert list(known) == sorted(known, reverse=True)  # none resolved or given up yet: last


# ---------------------------------------------------------------- the log's file

def test_an_existing_log_is_never_overwritten(tmp_path):
    log = tmp_path / "class.jsonl"
    log.write_text("a teacher's notes\n")
    with pytest.raises(InputError, match="expected a new file, but it exists"):
        Session(**SMALL, log=log)
    assert log.read_text() == "a teacher's notes\n"


@pytest.mark.parametrize("lines, words", [
    (['{"shequ": "run"}'], "line 1: expected a classroom log's header"),
    (["not json"], "line 1: expected one JSON object a line"),
    (['{"shequ": "classroom", "spec": {}}', "[1]"], "line 2: expected one JSON object a line"),
    (['{"shequ": "classroom", "spec": {}}', '{"day": -1, "community": 0, "choice": {}}'],
     'line 2: key "day": expected a whole number >= 0, got -1'),
    (['{"shequ": "classroom", "spec": {}}', '{"day": 3, "community": 0, "choice": {"x": 1}}'],
     'line 2: unknown choice "x"'),
    (['{"shequ": "classroom", "spec": {}}', '{"end": 3}', '{"end": 4}'],
     "line 3: expected nothing after the class's end line"),
    (['{"shequ": "classroom", "spec": {}}', '{"day": 5, "community": 0, "choice": {}}',
      '{"day": 4, "community": 0, "choice": {}}'], 'line 3: key "day": expected days in order'),
])
def test_a_bad_log_is_one_clear_message(tmp_path, lines, words):
    log = tmp_path / "bad.jsonl"
    log.write_text("\n".join(lines) + "\n")
    with pytest.raises(InputError, match=words):
        replay(log)


# ---------------------------------------------------------------- the commands

@pytest.fixture
def quick_scenario(tmp_path):
    """The reform without its warm-up years: a class starts at once."""
    path = tmp_path / "quick.toml"
    path.write_text(f'extends = "{ROOT / "scenarios" / "xining-classified.toml"}"\n'
                    'name = "quick"\n[run]\nwarmup_years = 0\n')
    return path


def classroom(argv, words, monkeypatch, capsys):
    """`shequ classroom ARGV` with the teacher typing `words`; returns (exit code, out, err)."""
    typed = iter(words)

    def read(prompt):
        try:
            return next(typed)
        except StopIteration:
            raise EOFError from None
    monkeypatch.setattr("builtins.input", read)
    code = main(["classroom", *argv])
    out, err = capsys.readouterr()
    return code, out, err


def test_the_classroom_command_runs_a_class_that_animate_replays(tmp_path, quick_scenario,
                                                                   monkeypatch, capsys):
    log, film = tmp_path / "class.jsonl", tmp_path / "class.gif"
    code, out, _ = classroom([str(quick_scenario), "--scale", "0.003", "--days", "20",
                              "--seats", "3", "--communities", "community-002,5,9",
                              "--log", str(log), "--port", "0"], ["", "d", "q"],
                             monkeypatch, capsys)
    assert code == 0
    assert "   1  community-002" in out and "   3  community-009" in out
    assert "http://localhost:" in out and "the class ended on day 8" in out
    header, choices, end = read(log)
    assert header["spec"]["scenario"] == str(quick_scenario) and end == 8
    assert [s["community"] for s in header["seats"]] == [1, 4, 8]
    assert main(["animate", "--classroom", str(log), "--out", str(film), "--every", "4"]) == 0
    assert film.stat().st_size > 0


@pytest.mark.parametrize("argv, words", [
    (["--communities", "community-999"], "--communities community-999: community 'community-999'"),
    (["--communities", "3,3"], "--communities 3,3: expected each community once"),
    (["--seats", "500"], "--seats 500: expected at most 178"),
    (["--period", "year"], "argument --period: invalid choice"),
])
def test_a_bad_classroom_command_is_one_line_and_writes_nothing(tmp_path, quick_scenario,
                                                                monkeypatch, capsys, argv, words):
    log = tmp_path / "class.jsonl"
    with pytest.raises(SystemExit) if "--period" in argv else nullcontext():
        code, _, err = classroom([str(quick_scenario), "--scale", "0.003", "--log", str(log),
                                  "--port", "0", *argv], [], monkeypatch, capsys)
        assert code == 2 and err.count("\n") == 1 and words in err
    if "--period" in argv:
        assert words in capsys.readouterr().err
    assert not log.exists()


def test_a_classroom_log_is_never_overwritten_by_the_command(tmp_path, monkeypatch, capsys):
    log = tmp_path / "class.jsonl"
    log.write_text("notes\n")
    code, _, err = classroom(["--log", str(log)], [], monkeypatch, capsys)
    assert code == 2 and "expected a new file, but it exists" in err
    assert log.read_text() == "notes\n"


def test_animate_a_class_takes_its_city_from_the_log(tmp_path, capsys):
    log, film = tmp_path / "bad.jsonl", tmp_path / "class.gif"
    log.write_text('{"shequ": "classroom", "spec": {}}\n{"day": 3}\n')
    assert main(["animate", "--classroom", str(log), "--out", str(film)]) == 2
    assert f'{log} line 2: key "community"' in capsys.readouterr().err
    assert main(["animate", "--classroom", str(log), "--seed", "3", "--out", str(film)]) == 2
    assert "expected no --seed with it" in capsys.readouterr().err
    assert not film.exists()


# ---------------------------------------------------------------- the teacher's loop

def wait_for(condition, seconds: float = 20.0) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.02)
    return False


def test_the_teachers_loop_plays_holds_steps_and_ends(session):
    loop = TeacherLoop(session, speed=40)
    loop.play()
    assert wait_for(lambda: not loop.playing)  # held at the week's end, for the choices
    assert session.day == 7
    assert loop.step(3) == 10
    loop.hold_at_period_end = False
    loop.set_speed(20)
    loop.play()
    assert wait_for(lambda: session.day >= 12)
    loop.pause()
    time.sleep(0.2)  # a day already under way finishes
    paused = session.day
    time.sleep(0.3)
    assert session.day == paused and not loop.playing
    loop.end()
    assert not loop.thread.is_alive() and session.ended
    with pytest.raises(ValueError, match="expected days a second above 0, at most 40"):
        loop.set_speed(0)

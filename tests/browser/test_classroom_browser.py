"""The classroom's pages in a real browser: a class served in this process (as `shequ classroom`
serves it) and opened in headless Chromium (Debian's /usr/bin/chromium through playwright; no
browser is downloaded) as a teacher's page and three students' pages at once.

Each student joins with their code (one after a stale code) and submits a choice with the page's
widgets; the choices must reach the shared model (its pending, then its applied choices) and the
log; the teacher steps, plays (held at the week's end), sets the speed and pauses the class
from their page, and every page shows the same day; a student's
page closed mid-class leaves the others and the teacher going on, its seat kept for its student;
a reload takes the seat back with the token; the teacher ends the class, and the log replays to
the class's tables exactly."""

import importlib.util
import json
import re
import time

import pandas as pd
import pytest

from sim import outputs
from sim.choices import Choice
from sim.classroom import Session, TeacherLoop, replay
from sim.classroom.serve import ClassServer
from sim.viz.screenshots import chromium, launch
from sim.viz.server import free_port

if not chromium():
    pytest.skip("no Chromium at /usr/bin/chromium: install Debian's chromium "
                "(apt-get install chromium fonts-noto-cjk) to run the browser test",
                allow_module_level=True)
if importlib.util.find_spec("playwright") is None:
    pytest.skip("the Python playwright package is not installed (pip install -e '.[test]')",
                allow_module_level=True)

CLASS = {"scenario": "xining-classified", "scale": 0.02, "days": 40, "seed": 7,  # a week: some
         "overrides": {"warmup_years": 0, "residents_per_building": 10}}  # grievances each
TABLES = {"daily": outputs.daily, "summary": lambda m: m.summary(),
          "communities": outputs.communities}


@pytest.fixture
def served(tmp_path):
    """A class of three seats, its loop and its pages, served on a free port of this computer."""
    session = Session(**CLASS, seats=3, log=tmp_path / "class.jsonl", code_seed=1)
    loop = TeacherLoop(session)
    server = ClassServer(session, loop)
    server.start("127.0.0.1", free_port(), announce=lambda line: None)
    server.url = f"http://localhost:{server.server.config.port}/"
    yield server
    loop.end()
    server.stop()


def wait_for(condition, timeout: float = 30, what: str = "the page"):
    deadline = time.time() + timeout
    while not condition():
        if time.time() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.1)


def day_shown(page) -> int:
    found = re.search(r"Day (\d+) of", page.locator(".cls-day").inner_text(timeout=10_000))
    return int(found.group(1)) if found else -1


def join(page, url: str, code: str, name: str) -> None:
    page.goto(url)
    page.locator(".cls-code input").fill(code, timeout=60_000)
    page.locator(".cls-name input").fill(name)
    page.get_by_role("button", name="Join").click()


def submit(page) -> None:
    page.get_by_role("button", name="Submit my choice").click()
    page.locator(".cls-submitted").wait_for(timeout=20_000)


def no_meetings(page) -> None:
    page.locator(".cls-field-joint_meeting input[type=checkbox]").click()


def first_come(page) -> None:
    page.locator(".cls-field-spending .v-field").click()
    page.get_by_role("option", name="first come, first paid").click()


def more_reserve(page) -> None:
    thumb = page.locator(".cls-field-reserve_share [role=slider]")
    thumb.focus()
    thumb.press("ArrowRight")
    thumb.press("ArrowRight")  # 10 % -> 20 %
    wait_for(lambda: "20%" in page.locator(".cls-field-reserve_share").inner_text(),
             what="the reserve to move to 20 %")


@pytest.mark.slow  # about 55 s: four pages load, a lost screen is noticed, play and pause
def test_a_teacher_and_three_students_in_one_class(served, tmp_path):
    from playwright.sync_api import sync_playwright

    session, model, errors = served.session, served.session.model, []
    seats = session.seats
    with sync_playwright() as p:
        browser = launch(p, str(tmp_path / "profile"))
        teacher = browser.new_page()
        students = [browser.new_page() for _ in seats]
        for page in (teacher, *students):
            page.on("pageerror", lambda e: errors.append(str(e)))
        try:
            teacher.goto(served.url + "teacher?key=wrong")
            teacher.locator(".cls-message").wait_for(timeout=60_000)
            assert "the teacher's" in teacher.locator(".cls-message").inner_text()
            teacher.goto(served.url + served.teacher_path())
            teacher.locator(".cls-seats").wait_for(timeout=60_000)

            # the students join (the third with a stale code first) and choose at once
            join(students[2], served.url, "ABC-2345", "Chen")
            students[2].locator(".cls-message").wait_for(timeout=30_000)
            assert "for another class" in students[2].locator(".cls-message").inner_text()
            students[2].locator(".cls-code input").fill(seats[2].code)
            students[2].get_by_role("button", name="Join").click()
            for page, seat, name in zip(students[:2], seats, ("Ana", "Bo")):
                join(page, served.url, seat.code, name)
            for page, seat, make in zip(students, seats, (no_meetings, first_come, more_reserve)):
                page.locator(".cls-seat-label").wait_for(timeout=30_000)
                assert f"Seat {seat.number}: {seat.community_name}" in page.locator(
                    ".cls-seat-label").inner_text()
                make(page)
                submit(page)
                assert "acts from day 1" in page.locator(".cls-submitted").inner_text()
            chosen = {seats[0].community: Choice(joint_meeting=False),
                      seats[1].community: Choice(spending="first_come"),
                      seats[2].community: Choice(reserve_share=0.2)}
            assert model.choices.pending == chosen  # in the shared model, for the next day
            wait_for(lambda: all(n in teacher.locator(".cls-seats").inner_text()
                                 for n in ("Ana", "Bo", "Chen")), what="the students' names")

            # the teacher steps a day: the choices act, are logged, every page shows the day
            teacher.get_by_role("button", name="Step a day").click()
            for page in (teacher, *students):
                wait_for(lambda page=page: day_shown(page) == 1, what="day 1 on every page")
            assert model.choices.current == chosen and not model.choices.pending
            logged = [json.loads(line) for line in session.log.path.read_text().splitlines()[1:]]
            assert {(r["seat"], r["community"], json.dumps(r["choice"])) for r in logged} == {
                (s.number, s.community, c.to_json()) for s, c in zip(seats, chosen.values())}
            assert "Reserve held back for priority cases" in teacher.locator(
                ".cls-seats").inner_text()
            for page, words in zip(students, ("Hold the joint meetings: off",
                                              "Spending rule: first come, first paid",
                                              "share of the fund): 20%")):
                wait_for(lambda page=page, words=words: words in page.locator(
                    ".cls-current").inner_text(), what="the choice in force on its student's page")

            # a student's page closes: the others and the teacher go on
            students[2].close()
            wait_for(lambda: "connection lost" in teacher.locator(".cls-seats").inner_text(),
                     what="the teacher to see the lost screen")
            no_meetings(students[0])  # the meetings back on, from the next day
            submit(students[0])
            teacher.get_by_role("button", name="Run to the week's end").click()
            for page in (teacher, *students[:2]):
                wait_for(lambda page=page: day_shown(page) == 7, what="day 7 on the pages left")
            assert model.choices.current[seats[0].community] == Choice()
            arisen = outputs.communities(model)["cum_arisen"]
            for page, seat in zip(students[:2], seats):  # the community's own counts, as now
                counts = page.locator(".cls-counts td").first
                wait_for(lambda counts=counts, seat=seat: counts.inner_text() == f"{int(
                    arisen[seat.community]):,}", what="the student's page to show day 7's counts")
            assert sum(arisen[s.community] for s in seats[:2]) > 0  # not a page of zeros
            late = browser.new_page()
            join(late, served.url, seats[2].code, "Someone")
            late.locator(".cls-message").wait_for(timeout=30_000)
            assert "is taken by Chen on another screen" in late.locator(".cls-message").inner_text()

            # a reload takes the seat back with the token the address keeps
            students[1].reload()
            students[1].locator(".cls-seat-label").wait_for(timeout=60_000)
            assert f"Seat {seats[1].number}" in students[1].locator(".cls-seat-label").inner_text()
            assert day_shown(students[1]) == 7

            # play at the fastest speed: held at the week's end; play slowly, then pause
            speed = teacher.locator(".cls-controls [role=slider]")
            speed.focus()
            speed.press("End")
            wait_for(lambda: served.loop.speed == 40, what="the fastest speed")
            teacher.get_by_role("button", name="Play").click()
            for page in (teacher, *students[:2]):
                wait_for(lambda page=page: day_shown(page) == 14, what="play to hold on day 14")
            wait_for(lambda: "paused" in teacher.locator(".cls-state").inner_text(),
                     what="the teacher's page to say the class holds")
            speed.press("Home")
            wait_for(lambda: served.loop.speed == 1, what="the slowest speed")
            teacher.get_by_role("button", name="Play").click()
            wait_for(lambda: day_shown(teacher) >= 15, what="play to go on from day 14")
            teacher.get_by_role("button", name="Pause").click()
            wait_for(lambda: not served.loop.playing, what="the pause")
            time.sleep(1.5)  # a day under way finishes; then nothing moves
            paused = session.day
            time.sleep(2)
            assert session.day == paused < 21
            for page in (teacher, *students[:2]):
                wait_for(lambda page=page: day_shown(page) == paused, what="the day paused on")

            teacher.get_by_role("button", name="End the class").click()
            for page in (teacher, students[0]):
                wait_for(lambda page=page: f"The class has ended (day {paused})" in page.locator(
                    ".cls-day").inner_text(), what="the end on every page")
        except Exception:
            teacher.screenshot(path=str(tmp_path / "teacher.png"), full_page=True)
            raise
        finally:
            browser.close()
    assert session.ended and not errors, errors
    again = replay(session.log.path)
    assert again.steps == model.steps and again.choices.log == model.choices.log
    for name, table in TABLES.items():
        pd.testing.assert_frame_equal(table(model), table(again), check_exact=True, obj=name)

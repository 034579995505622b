"""The app in a real browser: `python -m sim.viz viz` served on localhost, opened in headless
Chromium (Debian's /usr/bin/chromium driven by the Python playwright package; no browser is
downloaded). Step, play, pause and a lever must change the plots and the graph."""

import importlib.util
import re
import time

import pytest

from sim.viz.screenshots import AppServer, chromium, launch

if not chromium():
    pytest.skip("no Chromium at /usr/bin/chromium: install Debian's chromium "
                "(apt-get install chromium fonts-noto-cjk) to run the browser test",
                allow_module_level=True)
if importlib.util.find_spec("playwright") is None:
    pytest.skip("the Python playwright package is not installed (pip install -e '.[test]')",
                allow_module_level=True)

DAYS = 365  # long enough that play cannot reach the end before pause, even on a busy machine


def day_shown(page) -> int:
    """The day the facts panel shows (-1 before it shows one)."""
    found = re.search(r"Day (\d+) of", page.locator(".shequ-facts").inner_text(timeout=10_000))
    return int(found.group(1)) if found else -1


def wait_for(condition, timeout: float = 45, what: str = "the page"):
    deadline = time.time() + timeout
    while not condition():
        if time.time() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.1)


def settled_day(page) -> int:
    """The day shown, once it has stopped changing (a day in flight when paused may finish)."""
    last = day_shown(page)
    for _ in range(40):
        page.wait_for_timeout(500)
        now = day_shown(page)
        if now == last:
            return now
        last = now
    raise AssertionError("the day kept changing after pause")


def pictures(page) -> tuple[bytes, bytes]:
    """The graph and the plots as the browser shows them."""
    return (page.locator("img.shequ-graph").screenshot(),
            page.locator("img.shequ-plots").screenshot())


def test_step_play_pause_and_a_lever_change_the_plots_and_the_graph(tmp_path):
    from playwright.sync_api import sync_playwright

    errors = []
    with AppServer("--days", str(DAYS)) as app, sync_playwright() as p:
        browser = launch(p, str(tmp_path / "profile"))
        page = browser.new_page()
        page.on("pageerror", lambda e: errors.append(str(e)))
        try:
            play_with(page, app.url)
        except Exception as e:  # keep what the browser and the server saw, for the report
            page.screenshot(path=str(tmp_path / "failure.png"), full_page=True)
            raise AssertionError(f"{e}\npage errors: {errors}\nscreenshot: "
                                 f"{tmp_path / 'failure.png'}\nserver log:\n"
                                 f"{app.output()[-4000:]}") from e
        page.screenshot(path=str(tmp_path / "app.png"), full_page=True)
        browser.close()
        server_log = app.output()
    assert (tmp_path / "app.png").stat().st_size > 50_000
    assert not errors, errors
    assert "Traceback" not in server_log, server_log


def play_with(page, url: str) -> None:
    """Step, play, pause, move a lever; after each, the graph and the plots must have changed."""
    page.goto(url)
    step = page.get_by_role("button", name="Step")
    step.wait_for(timeout=45_000)
    page.locator("img.shequ-graph").wait_for(timeout=30_000)
    wait_for(lambda: day_shown(page) == 0, what="the first page")
    start = pictures(page)

    step.click()
    wait_for(lambda: day_shown(page) == 1, what="day 1 after Step")
    page.wait_for_timeout(500)
    stepped = pictures(page)
    assert stepped[0] != start[0], "the graph did not change after Step"
    assert stepped[1] != start[1], "the plots did not change after Step"

    page.get_by_role("button", name="▶").click()
    wait_for(lambda: day_shown(page) >= 6, what="play to reach day 6")
    page.get_by_role("button", name="❚❚").click()
    page.get_by_role("button", name="▶").wait_for(timeout=45_000)
    paused_at = settled_day(page)
    page.wait_for_timeout(1000)
    assert day_shown(page) == paused_at, "the model kept running after pause"
    played = pictures(page)
    assert played[0] != stepped[0] and played[1] != stepped[1]

    thumb = page.locator(".shequ-lever-households_per_grid [role=slider]")
    thumb.focus()
    thumb.press("ArrowRight")
    thumb.press("ArrowRight")  # 400 -> 500 households a grid worker
    wait_for(lambda: "Grid of 500 households" in page.locator(".shequ-facts").inner_text(),
             what="the run to restart with grids of 500 households")
    wait_for(lambda: day_shown(page) == 0, what="the restarted run")
    page.wait_for_timeout(800)
    moved = pictures(page)
    assert moved[0] != played[0], "the graph did not change after the lever"
    assert moved[1] != played[1], "the plots did not change after the lever"

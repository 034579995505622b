"""The app in a real browser: `python -m sim.viz viz` served on localhost, opened in headless
Chromium (Debian's /usr/bin/chromium driven by the Python playwright package; no browser is
downloaded). On a projector's 1024 x 768 (and on 1920 x 1080) nothing may lie over the graph;
Step, play and pause must change the plots and the graph; a lever moved mid-run must act from
the next day (the model's parameter, as the page reads it, and the day marked in the plots); and
at the fastest speed a year must play in a minute at most, the plots redrawn at least twice a
second with every day plotted (slow)."""

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

PROJECTOR = {"width": 1024, "height": 768}
FULL_HD = {"width": 1920, "height": 1080}

# Every visible element whose box overlaps the target's (the target, its parents and its
# children aside), and the points of the target where another element is on top.
OVERLAPS = """(selector) => {
  const target = document.querySelector(selector);
  const g = target.getBoundingClientRect();
  const found = [];
  for (const el of document.querySelectorAll('body *')) {
    if (el === target || el.contains(target) || target.contains(el)) continue;
    const st = getComputedStyle(el);
    if (st.display === 'none' || st.visibility === 'hidden' || st.opacity === '0') continue;
    const r = el.getBoundingClientRect();
    const w = Math.min(r.right, g.right) - Math.max(r.left, g.left);
    const h = Math.min(r.bottom, g.bottom) - Math.max(r.top, g.top);
    if (r.width >= 1 && r.height >= 1 && w > 1 && h > 1)
      found.push(`${el.tagName}.${el.className} ${Math.round(r.left)},${Math.round(r.top)}`);
  }
  for (const fx of [0.1, 0.5, 0.9]) for (const fy of [0.1, 0.5, 0.9]) {
    const top = document.elementFromPoint(g.left + fx * g.width, g.top + fy * g.height);
    if (top !== target) found.push(`covered at ${fx},${fy} by ${top && top.tagName}`);
  }
  return {box: [g.left, g.top, g.width, g.height], found,
          inside: g.left >= 0 && g.top >= 0 && g.right <= innerWidth && g.bottom <= innerHeight};
}"""

# Counts the redraws of the plots (each replaces their SVG) from now on.
COUNT_REDRAWS = """() => {
  window.redraws = [];
  const plots = document.querySelector('.shequ-plots');
  new MutationObserver(() => window.redraws.push(performance.now()))
    .observe(plots, {childList: true, subtree: true, characterData: true});
}"""

# Points of the city line in the first panel (one per day plotted).
CITY_POINTS = """() => {
  const path = document.querySelector('.shequ-plots svg path[stroke="#000000"]');
  return path ? (path.getAttribute('d').match(/[ML]/g) || []).length : 0;
}"""


def day_shown(page) -> int:
    """The day the top bar shows (-1 before it shows one)."""
    found = re.search(r"Day (\d+) of", page.locator(".shequ-day").inner_text(timeout=10_000))
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


def pictures(page) -> tuple[bytes, str]:
    """The graph as the browser shows it, and the plots' SVG."""
    return (page.locator("img.shequ-graph").screenshot(),
            page.locator(".shequ-plots").inner_html())


def facts(page) -> str:
    return page.locator(".shequ-facts").inner_text()


def open_app(page, url: str) -> None:
    page.goto(url)
    page.get_by_role("button", name="Step").wait_for(timeout=60_000)
    page.locator("img.shequ-graph").wait_for(timeout=30_000)
    wait_for(lambda: day_shown(page) == 0, what="the first page")


def run_in_browser(tmp_path, check, *server_args, viewport=PROJECTOR):
    """`check(page)` on the app in Chromium; on failure, what the browser and the server saw."""
    from playwright.sync_api import sync_playwright

    errors = []
    with AppServer(*server_args) as app, sync_playwright() as p:
        browser = launch(p, str(tmp_path / "profile"), viewport)
        page = browser.new_page()
        page.on("pageerror", lambda e: errors.append(str(e)))
        try:
            open_app(page, app.url)
            result = check(page)
        except Exception as e:
            page.screenshot(path=str(tmp_path / "failure.png"), full_page=True)
            raise AssertionError(f"{e}\npage errors: {errors}\nscreenshot: "
                                 f"{tmp_path / 'failure.png'}\nserver log:\n"
                                 f"{app.output()[-4000:]}") from e
        browser.close()
        server_log = app.output()
    assert not errors, errors
    assert "Traceback" not in server_log, server_log
    return result


def nothing_over_the_graph(page, size: dict) -> None:
    page.set_viewport_size(size)
    page.wait_for_timeout(500)
    seen = page.evaluate(OVERLAPS, "img.shequ-graph")
    assert not seen["found"], f"at {size}: over the graph {seen['box']}: {seen['found']}"
    assert seen["inside"], f"at {size}: the graph {seen['box']} is not wholly in the window"
    assert seen["box"][2] >= 0.3 * size["width"], f"at {size}: the graph is small: {seen['box']}"


def test_on_a_projector_step_play_pause_and_a_lever_mid_run(tmp_path):
    def check(page):
        nothing_over_the_graph(page, FULL_HD)
        nothing_over_the_graph(page, PROJECTOR)
        start = pictures(page)
        page.get_by_role("button", name="Step").click()
        wait_for(lambda: day_shown(page) == 1, what="day 1 after Step")
        page.wait_for_timeout(1200)  # the graph is redrawn once the run rests
        stepped = pictures(page)
        assert stepped[0] != start[0], "the graph did not change after Step"
        assert stepped[1] != start[1], "the plots did not change after Step"

        page.get_by_role("button", name="▶").click()
        wait_for(lambda: day_shown(page) >= 6, what="play to reach day 6")
        page.get_by_role("button", name="❚❚").click()
        page.get_by_role("button", name="▶").wait_for(timeout=45_000)
        paused_at = settled_day(page)
        page.wait_for_timeout(1500)
        assert day_shown(page) == paused_at, "the model kept running after pause"
        played = pictures(page)
        assert played[0] != stepped[0] and played[1] != stepped[1]

        thumb = page.locator(".shequ-lever-households_per_grid [role=slider]")
        thumb.focus()
        thumb.press("ArrowRight")
        thumb.press("ArrowRight")  # 400 -> 500 households a grid worker, from the next day
        levers = page.locator(".shequ-levers")
        wait_for(lambda: f"from day {paused_at + 1}" in levers.inner_text(),
                 what="the lever to say when it acts")
        assert "Grid of 400 households" in facts(page)  # the model's parameter: not yet
        assert "data-day" not in page.locator(".shequ-plots").inner_html()
        page.get_by_role("button", name="Step").click()
        wait_for(lambda: day_shown(page) == paused_at + 1, what="the next day")
        wait_for(lambda: "Grid of 500 households" in facts(page),
                 what="the model's grid size to change on the next day")
        plots = page.locator(".shequ-plots")
        wait_for(lambda: f'data-day="{paused_at}"' in plots.inner_html(),
                 what="the plots to mark the day of the change")
        assert f"day {paused_at + 1}: grids of 500 households" in plots.inner_text()
        assert page.locator(".shequ-mark").count() >= 4  # one line in each panel
        nothing_over_the_graph(page, PROJECTOR)

    run_in_browser(tmp_path, check, "--days", "365")


@pytest.mark.slow
def test_a_year_at_the_fastest_speed_with_the_plots_redrawn_twice_a_second(tmp_path):
    def check(page):
        speed = page.locator(".shequ-runcard [role=slider]")
        speed.focus()
        speed.press("End")  # the fastest speed
        runcard = page.locator(".shequ-runcard")
        wait_for(lambda: "40 days a second" in runcard.inner_text(), what="the fastest speed")
        page.evaluate(COUNT_REDRAWS)
        start = time.perf_counter()
        page.get_by_role("button", name="▶").click()
        wait_for(lambda: day_shown(page) >= 365, timeout=120, what="a year of play")
        seconds = time.perf_counter() - start
        redraws = page.evaluate("window.redraws")
        span = (redraws[-1] - redraws[0]) / 1000 if len(redraws) > 1 else 0
        per_second = (len(redraws) - 1) / span if span else 0
        page.wait_for_timeout(1000)
        points = page.evaluate(CITY_POINTS)
        print(f"a year of play: {seconds:.1f} s; {len(redraws)} redraws of the plots in "
              f"{span:.1f} s ({per_second:.1f} a second); {points} days in the city line")
        return seconds, per_second, points

    seconds, per_second, points = run_in_browser(tmp_path, check, "--days", "365")
    assert seconds <= 60, f"a year took {seconds:.1f} s at the fastest speed"
    assert per_second >= 2, f"the plots were redrawn {per_second:.1f} times a second"
    assert points == 365, f"the city line has {points} days of 365"

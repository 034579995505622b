"""Make the README's pictures with the project's own commands: `python -m sim.viz.screenshots`.

- docs/images/app.png, docs/images/app-zh.png: the app (`shequ viz`, English and `--lang zh`)
  in headless Chromium at a projector's 1024 x 768, after 200 days of play with the grid size
  moved on about day 120 (the plots mark the day);
- docs/images/film-frame.png: the last frame of a film made by `shequ animate` (one year, with
  its title and caption);
- docs/images/film-side-by-side.png: the last frame of `shequ animate xining-uniform --beside
  xining-classified` (before and after the reform, same city and seed);
- docs/images/classroom-teacher.png, classroom-student.png (and -zh): `shequ classroom` with four
  seats in headless Chromium at 1024 x 768, after four students joined and chose and the teacher
  ran four weeks from their page;
- docs/images/report-first-page.png, report-first-page-zh.png: the first page of the funding
  reform's report (`shequ report results/funding-reform --baseline xining-uniform`, English and
  `--lang zh`, made into a temporary folder from the result folder `shequ batch funding-reform`
  wrote) as Chromium prints it on screen.

`--only app film classroom report` makes some of them.

Needs Debian's chromium (/usr/bin/chromium, or $CHROMIUM) and the Python `playwright` package;
no browser is downloaded.
"""

import argparse
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
IMAGES = ROOT / "docs" / "images"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]


def chromium() -> str | None:
    path = os.environ.get("CHROMIUM", "/usr/bin/chromium")
    return path if Path(path).is_file() else shutil.which("chromium")


class Served:
    """A Shequ command serving pages in a subprocess, until the block ends: started by
    `__enter__`, ready once `ready(output)` (the command's output so far) says so."""

    what = "the pages"

    def __init__(self, *args: str, timeout: float = 90):
        self.args, self.timeout = args, timeout

    def start(self, command: list[str], **popen) -> str:
        """Run `command` and wait until it serves; its output so far."""
        self.log = tempfile.TemporaryFile(mode="w+")
        self.proc = subprocess.Popen(command, stdout=self.log, stderr=subprocess.STDOUT, cwd=ROOT,
                                     text=True, **popen)
        deadline = time.time() + self.timeout
        out = ""
        while time.time() < deadline:
            self.log.seek(0)
            out = self.log.read()
            if self.ready(out):
                return out
            if self.proc.poll() is not None:
                break
            time.sleep(0.2)
        self.__exit__(None, None, None)
        raise RuntimeError(f"{self.what} did not start:\n{out}")

    def ready(self, out: str) -> bool:
        raise NotImplementedError

    def __exit__(self, *exc):
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
        self.log.close()


class AppServer(Served):
    """`python -m sim.viz viz …` in a subprocess, until the block ends; `.url` once it listens."""

    what = "the app"

    def __enter__(self):
        from sim.viz.server import free_port

        out = self.start([sys.executable, "-m", "sim.viz", "viz", "--port", str(free_port()),
                          *self.args])
        self.url = out.split("Shequ app at", 1)[1].split()[0]
        return self

    def ready(self, out: str) -> bool:
        return "Shequ app at" in out

    def output(self) -> str:
        self.log.seek(0)
        return self.log.read()


PROJECTOR = {"width": 1024, "height": 768}  # a classroom projector


def launch(playwright, user_data_dir: str, viewport: dict | None = None):
    """Debian's chromium, headless, with a fresh profile; never a downloaded browser."""
    return playwright.chromium.launch_persistent_context(
        user_data_dir, executable_path=chromium(), args=CHROMIUM_ARGS, headless=True,
        viewport=viewport or PROJECTOR, device_scale_factor=1)


def play_to(page, day: int, timeout: float = 240) -> None:
    """Play until the top bar shows `day` (or later), then pause and let the page settle."""
    page.get_by_role("button", name="▶").click()
    shown = page.locator(".shequ-day")
    deadline = time.time() + timeout
    while time.time() < deadline:
        found = re.search(r"(\d+)", shown.inner_text())
        if found and int(found.group(1)) >= day:
            break
        time.sleep(0.2)
    page.get_by_role("button", name="❚❚").click()
    time.sleep(2.5)


def app_picture(out: Path, lang: str = "en", moved_on: int = 120, days_played: int = 200) -> Path:
    from playwright.sync_api import sync_playwright

    with AppServer("--lang", lang) as app, sync_playwright() as p, \
            tempfile.TemporaryDirectory() as profile:
        browser = launch(p, profile, PROJECTOR)
        page = browser.new_page()
        page.goto(app.url)
        page.get_by_role("button", name="Step").wait_for(timeout=60_000)
        page.locator(".shequ-graph").wait_for(timeout=30_000)
        speed = page.locator(".shequ-runcard [role=slider]")
        speed.focus()
        speed.press("ArrowRight")  # 10 days a second
        play_to(page, moved_on)
        grid = page.locator(".shequ-lever-households_per_grid [role=slider]")
        grid.focus()
        for _ in range(8):
            grid.press("ArrowRight")  # 400 -> 800 households a grid worker, from the next day
        play_to(page, days_played)
        page.screenshot(path=str(out))
        browser.close()
    return out


class ClassServer(Served):
    """`python -m sim classroom …` in a subprocess (its console closed: the teacher's page runs
    it), until the block ends: `.teacher` (the teacher's page), `.student` (the students') and
    `.codes` once it serves."""

    SEAT = re.compile(r"^\s*\d+\s+\S+\s+[A-Z]\s+([2-9A-Z]{3}-[2-9A-Z]{4})\s*$", re.MULTILINE)
    TEACHER = "the teacher's page (keep its key to yourself): "
    what = "the class"

    def __init__(self, *args: str, timeout: float = 240):
        super().__init__(*args, timeout=timeout)

    def __enter__(self):
        from sim.viz.server import free_port

        self.folder = tempfile.TemporaryDirectory()
        out = self.start([sys.executable, "-m", "sim", "classroom", "--port", str(free_port()),
                          "--log", str(Path(self.folder.name) / "class.jsonl"), *self.args],
                         stdin=subprocess.DEVNULL)
        self.teacher = out.split(self.TEACHER, 1)[1].split()[0]
        self.student = self.teacher.split("teacher?", 1)[0]
        self.codes = self.SEAT.findall(out)
        return self

    def ready(self, out: str) -> bool:
        return self.TEACHER in out

    def __exit__(self, *exc):
        super().__exit__(*exc)
        self.folder.cleanup()


def classroom_pictures(teacher_out: Path, student_out: Path, lang: str = "en",
                       weeks: int = 4) -> list[Path]:
    """The teacher's page and a student's after `weeks` weeks of a class of four, each student
    having chosen (no meetings; first come, first paid; a larger reserve; disputes first)."""
    from playwright.sync_api import sync_playwright

    names = ("Ana", "Bo", "Chen", "Dana")
    with ClassServer("--seats", "4", "--lang", lang) as served, sync_playwright() as p, \
            tempfile.TemporaryDirectory() as profile:
        browser = launch(p, profile, PROJECTOR)
        teacher = browser.new_page()
        teacher.goto(served.teacher)
        teacher.locator(".cls-seats").wait_for(timeout=120_000)
        students = [browser.new_page() for _ in served.codes]
        for page, code, name, choose in zip(students, served.codes, names, CHOOSE):
            page.goto(served.student)
            page.locator(".cls-code input").fill(code, timeout=120_000)
            page.locator(".cls-name input").fill(name)
            page.locator(".cls-join-button").click()
            page.locator(".cls-choice").wait_for(timeout=60_000)
            choose(page)
            page.locator(".cls-submit").click()
            page.locator(".cls-submitted").wait_for(timeout=30_000)
        period = teacher.locator(".cls-controls button").nth(3)  # to the week's end
        for week in range(1, weeks + 1):
            period.click()
            teacher.wait_for_function(
                f"() => document.querySelector('.cls-day').innerText.match(/\\b{7 * week}\\b/)",
                timeout=120_000)
        teacher.wait_for_timeout(2500)  # every page has redrawn
        teacher.screenshot(path=str(teacher_out), full_page=True)
        students[2].bring_to_front()
        students[2].screenshot(path=str(student_out), full_page=True)
        browser.close()
    return [teacher_out, student_out]


def no_meetings(page) -> None:
    page.locator(".cls-field-joint_meeting input[type=checkbox]").click()


def first_come(page) -> None:
    page.locator(".cls-field-spending .v-field").click()
    page.get_by_role("option").nth(1).click()  # first come, first paid


def more_reserve(page) -> None:
    thumb = page.locator(".cls-field-reserve_share [role=slider]")
    thumb.focus()
    for _ in range(4):
        thumb.press("ArrowRight")  # 10 % -> 30 %


def disputes_first(page) -> None:
    page.locator(".cls-field-agenda .v-field").click()
    page.get_by_role("option").nth(2).click()  # neighbour disputes


CHOOSE = (no_meetings, first_come, more_reserve, disputes_first)


def film_frame(out: Path, scenario: str = "xining-classified", *extra: str) -> Path:
    """Make a one-year film as `shequ animate` does, and keep its last frame."""
    from PIL import Image

    with tempfile.TemporaryDirectory() as tmp:
        film = Path(tmp) / "film.gif"
        subprocess.run([sys.executable, "-m", "sim.viz", "animate", scenario, "--out", str(film),
                        "--every", "28", "--dpi", "90", *extra], check=True, cwd=ROOT)
        with Image.open(film) as gif:
            gif.seek(gif.n_frames - 1)
            gif.convert("RGB").save(out)
    return out


def report_picture(out: Path, lang: str = "en", results: Path = ROOT / "results" / "funding-reform",
                   baseline: str = "xining-uniform") -> Path:
    """The first screen of a batch's report, in Chromium at a laptop's 1200 x 1500."""
    from playwright.sync_api import sync_playwright

    from analysis.report import write

    with tempfile.TemporaryDirectory() as tmp, sync_playwright() as p:
        page_path, _ = write(results, Path(tmp) / "report", baseline, lang)
        context = launch(p, str(Path(tmp) / "profile"), {"width": 1200, "height": 1500})
        page = context.new_page()
        page.goto(page_path.resolve().as_uri())
        page.wait_for_load_state("load")
        page.screenshot(path=str(out))
        context.close()
    return out


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m sim.viz.screenshots", description=__doc__.split("\n")[0])
    parser.add_argument("--out", type=Path, default=IMAGES, help="folder (default docs/images)")
    parser.add_argument("--only", nargs="+", choices=("app", "film", "classroom", "report"),
                        default=["app", "film", "classroom", "report"],
                        help="which pictures (default: all)")
    args = parser.parse_args(argv)
    args.out.mkdir(parents=True, exist_ok=True)
    if not chromium():
        print("no chromium at /usr/bin/chromium (Debian: apt-get install chromium "
              "fonts-noto-cjk); set $CHROMIUM to another path", file=sys.stderr)
        return 1
    makers = {
        "app": [lambda: app_picture(args.out / "app.png"),
                lambda: app_picture(args.out / "app-zh.png", "zh")],
        "film": [lambda: film_frame(args.out / "film-frame.png"),
                 lambda: film_frame(args.out / "film-side-by-side.png", "xining-uniform",
                                    "--beside", "xining-classified")],
        "classroom": [lambda: classroom_pictures(args.out / "classroom-teacher.png",
                                                 args.out / "classroom-student.png"),
                      lambda: classroom_pictures(args.out / "classroom-teacher-zh.png",
                                                 args.out / "classroom-student-zh.png", "zh")],
        "report": [lambda: report_picture(args.out / "report-first-page.png"),
                   lambda: report_picture(args.out / "report-first-page-zh.png", "zh")]}
    for make in (m for kind in args.only for m in makers[kind]):
        made = make()
        for path in made if isinstance(made, list) else [made]:
            print(f"wrote {path.relative_to(ROOT) if path.is_relative_to(ROOT) else path}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

"""Make the README's pictures with the project's own commands: `python -m sim.viz.screenshots`.

- docs/images/app.png, docs/images/app-zh.png: the app (`shequ viz`, English and `--lang zh`)
  in headless Chromium after 90 days of play;
- docs/images/film-frame.png: the last frame of a film made by `shequ animate` (one year).

Needs Debian's chromium (/usr/bin/chromium, or $CHROMIUM) and the Python `playwright` package;
no browser is downloaded.
"""

import argparse
import os
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


class AppServer:
    """`python -m sim.viz viz …` in a subprocess, until the block ends; `.url` once it listens."""

    def __init__(self, *args: str, timeout: float = 90):
        self.args, self.timeout, self.url = args, timeout, None

    def __enter__(self):
        from sim.viz.server import free_port

        port = free_port()
        self.log = tempfile.TemporaryFile(mode="w+")
        self.proc = subprocess.Popen([sys.executable, "-m", "sim.viz", "viz", "--port", str(port),
                                      *self.args], stdout=self.log, stderr=subprocess.STDOUT,
                                     cwd=ROOT, text=True)
        deadline = time.time() + self.timeout
        while time.time() < deadline:
            self.log.seek(0)
            out = self.log.read()
            if "Shequ app at" in out:
                self.url = out.split("Shequ app at", 1)[1].split()[0]
                return self
            if self.proc.poll() is not None:
                break
            time.sleep(0.2)
        self.__exit__(None, None, None)
        raise RuntimeError(f"the app did not start:\n{out}")

    def output(self) -> str:
        self.log.seek(0)
        return self.log.read()

    def __exit__(self, *exc):
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
        self.log.close()


def launch(playwright, user_data_dir: str):
    """Debian's chromium, headless, with a fresh profile; never a downloaded browser."""
    return playwright.chromium.launch_persistent_context(
        user_data_dir, executable_path=chromium(), args=CHROMIUM_ARGS, headless=True,
        viewport={"width": 1600, "height": 1050}, device_scale_factor=1)


def app_picture(out: Path, lang: str = "en", days_played: int = 90) -> Path:
    from playwright.sync_api import sync_playwright

    with AppServer("--lang", lang) as app, sync_playwright() as p, \
            tempfile.TemporaryDirectory() as profile:
        browser = launch(p, profile)
        page = browser.new_page()
        page.goto(app.url)
        step = page.get_by_role("button", name="Step")
        step.wait_for(timeout=60_000)
        page.locator(".shequ-graph").wait_for(timeout=30_000)
        page.get_by_role("button", name="▶").click()
        facts = page.locator(".shequ-facts")
        marker = {"en": f"Day {days_played} of", "zh": f"第 {days_played} 天"}[lang]
        deadline = time.time() + 240
        while marker not in facts.inner_text() and time.time() < deadline:
            time.sleep(0.2)
        page.get_by_role("button", name="❚❚").click()
        time.sleep(2)
        page.evaluate("window.scrollTo(0, 0)")
        page.screenshot(path=str(out))
        browser.close()
    return out


def film_frame(out: Path, scenario: str = "xining-classified") -> Path:
    """Make a one-year film as `shequ animate` does, and keep its last frame."""
    from PIL import Image

    with tempfile.TemporaryDirectory() as tmp:
        film = Path(tmp) / "film.gif"
        subprocess.run([sys.executable, "-m", "sim.viz", "animate", scenario, "--out", str(film),
                        "--every", "14", "--dpi", "90"], check=True, cwd=ROOT)
        with Image.open(film) as gif:
            gif.seek(gif.n_frames - 1)
            gif.convert("RGB").save(out)
    return out


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m sim.viz.screenshots", description=__doc__.split("\n")[0])
    parser.add_argument("--out", type=Path, default=IMAGES, help="folder (default docs/images)")
    args = parser.parse_args(argv)
    args.out.mkdir(parents=True, exist_ok=True)
    if not chromium():
        print("no chromium at /usr/bin/chromium (Debian: apt-get install chromium "
              "fonts-noto-cjk); set $CHROMIUM to another path", file=sys.stderr)
        return 1
    for path in (app_picture(args.out / "app.png"), app_picture(args.out / "app-zh.png", "zh"),
                 film_frame(args.out / "film-frame.png")):
        print(f"wrote {path.relative_to(ROOT) if path.is_relative_to(ROOT) else path}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

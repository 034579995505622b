"""Films of a run for slides: the neighbourhood graph and the class panels, a frame every few
days, with a title in words and a caption (the day, the policy, a sentence of what is happening);
or two runs of the same city and seed side by side (e.g. before and after the reform) as one
film. Written as a GIF (Pillow) or an MP4 (ffmpeg) with matplotlib's movie writers."""

import shutil
from pathlib import Path

import numpy as np
from matplotlib import animation

from matplotlib.figure import Figure

from sim.errors import InputError
from sim.viz import graph, story
from sim.viz.captions import period_day
from sim.viz.figures import frame_figure, pair_figure

WRITERS = {".gif": "pillow", ".mp4": "ffmpeg"}


def check_out(out: Path) -> str:
    """The writer for the film's file name, before anything runs."""
    out = Path(out)
    writer = WRITERS.get(out.suffix.lower())
    if writer is None:
        raise InputError(f"--out {out}: expected a file name ending in .gif or .mp4")
    if writer == "ffmpeg" and not shutil.which("ffmpeg"):
        raise InputError(f"--out {out}: an MP4 needs ffmpeg, which is not installed (Debian: "
                         "apt-get install ffmpeg); expected a .gif name, or ffmpeg on the PATH")
    parent = out.parent if str(out.parent) else Path(".")
    if parent.exists() and not parent.is_dir():
        raise InputError(f"--out {out}: expected a file in a folder, but {parent} is a file")
    return writer


def frame_days(days: int, every: int | None = None, frames: int = 73) -> list[int]:
    """Days after which a frame is taken: every `every` days (default: about `frames` frames),
    always the first and the last day."""
    every = every or max(1, round(days / frames))
    return sorted({1, *range(every, days + 1, every), days})


def film(model, out: Path, lang: str = "en", communities: list[int] | None = None,
         every: int | None = None, fps: int = 8, dpi: int = 80, progress=None,
         story_seed: int = 0, beside=None, title: str | None = None,
         last_day: int | None = None) -> Path:
    """Run `model` to the last day of its reported period (or to `last_day` of it: a class that
    ended early), writing a frame every `every` days into `out`; with `beside` (another run of the
    same city and seed), the two side by side. `title`: the film's title (default: the policy's
    title in words)."""
    out = Path(out)
    kind = check_out(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    models = [model] if beside is None else [model, beside]
    views = [graph.layout(m, communities) for m in models]
    rng = np.random.default_rng(story_seed)  # the film's own: never the model's streams
    days = frame_days(last_day or model.days, every)
    writer = animation.PillowWriter(fps=fps) if kind == "pillow" else \
        animation.FFMpegWriter(fps=fps, codec="h264", extra_args=["-pix_fmt", "yuv420p"])
    fig = Figure(figsize=(13.0, 7.2) if beside is None else (13.0, 7.6))
    gid = None
    with writer.saving(fig, str(out), dpi=dpi):
        for k, day in enumerate(days):
            for m in models:
                while period_day(m) < day and m.running:
                    m.step()
            fig.clear()
            if beside is None:
                if gid is None or k % 15 == 0:  # a new highlighted grievance now and then
                    gid = story.pick(model, rng, views[0].communities)
                frame_figure(model, views[0], lang, highlight=gid, figure=fig, title=title)
            else:
                pair_figure(models, views, lang, figure=fig, title=title)
            writer.grab_frame()
            if progress:
                progress(k + 1, len(days))
    return out

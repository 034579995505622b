"""The figures of the visual side, as matplotlib `Figure`s (no pyplot, so the app's threads
and sessions never share state): the graph with its legend, the four class panels, and the two
side by side (a film frame; the static figures of a run)."""

import io

from matplotlib.figure import Figure

from sim.viz import graph, plots
from sim.viz.labels import setup_fonts, text


def graph_figure(model, view: graph.GraphView, lang: str = "en", highlight: int | None = None,
                 size: tuple[float, float] = (6.4, 7.4), title: bool = True) -> Figure:
    """The neighbourhood graph of the drawn communities, its colour bar and its legend."""
    setup_fonts(lang)
    fig = Figure(figsize=size)
    ax = fig.add_axes((0.0, 0.25, 1.0, 0.70 if title else 0.74))
    nodes = graph.draw_graph(ax, model, view, lang, highlight)
    draw_key(fig, nodes, lang, bottom=0.0, height=0.25, story=highlight is not None)
    if title:
        fig.suptitle(text("graph_title", lang, day=model.steps, days=model.days), fontsize=11,
                     y=0.985)
    return fig


def draw_key(fig, nodes, lang: str, bottom: float, height: float, left: float = 0.0,
             width: float = 1.0, story: bool = True) -> None:
    """Colour bar of satisfaction (its name above it) and the legend, in a band of the figure."""
    cax = fig.add_axes((left + width * 0.25, bottom + height * 0.74, width * 0.5, height * 0.07))
    bar = fig.colorbar(nodes, cax=cax, orientation="horizontal")
    bar.ax.tick_params(labelsize=7.5, pad=1)
    bar.ax.set_title(text("satisfaction_bar", lang), fontsize=8.5, pad=3)
    handles = graph.legend_handles(lang, story=story)
    fig.legend([h for h, _ in handles], [label for _, label in handles], ncol=3, fontsize=8,
               frameon=False, loc="lower center", bbox_to_anchor=(left + width / 2, bottom),
               handletextpad=0.3, columnspacing=1.0, borderaxespad=0.2, labelspacing=0.35)


def plots_figure(model, lang: str = "en", size: tuple[float, float] = (6.4, 5.2),
                 title: bool = True) -> Figure:
    """Response, resolution and satisfaction rates and funds left, by class."""
    setup_fonts(lang)
    fig = Figure(figsize=size)
    axes = fig.subplots(2, 2, sharex=True)
    fig.subplots_adjust(left=0.1, right=0.98, bottom=0.1, top=0.86 if title else 0.93,
                        wspace=0.25, hspace=0.25)
    plots.draw_plots(list(axes.flat), model, lang)
    if title:
        fig.suptitle(text("plots_title", lang), fontsize=10.5)
    return fig


def frame_figure(model, view: graph.GraphView, lang: str = "en", highlight: int | None = None,
                 size: tuple[float, float] = (13.0, 7.2), figure: Figure | None = None) -> Figure:
    """Graph and plots side by side: a frame of a film, a run's overview figure (drawn on
    `figure` when given, e.g. the one a movie writer records)."""
    setup_fonts(lang)
    fig = figure if figure is not None else Figure(figsize=size)
    gax = fig.add_axes((0.0, 0.22, 0.5, 0.70))
    nodes = graph.draw_graph(gax, model, view, lang, highlight)
    draw_key(fig, nodes, lang, bottom=0.0, height=0.22, width=0.5, story=highlight is not None)
    axes = [fig.add_axes((0.565 + 0.235 * (k % 2), 0.55 - 0.42 * (k // 2), 0.18, 0.33))
            for k in range(4)]
    plots.draw_plots(axes, model, lang)
    for ax in axes[:2]:
        ax.tick_params(labelbottom=False)
    name = getattr(model.policy, "name", "")
    fig.suptitle(text("film_title", lang, name=name, day=model.steps), fontsize=13, y=0.985)
    return fig


def png(fig: Figure, dpi: int = 80) -> bytes:
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=dpi, pil_kwargs={"compress_level": 1})  # speed over size
    return buffer.getvalue()

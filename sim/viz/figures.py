"""The figures of the visual side, as matplotlib `Figure`s (no pyplot, so the app's threads
and sessions never share state): the graph with its legend, the four class panels, and the two
side by side (a film frame; the static figures of a run), two runs side by side (a film that
compares them), and the app's picture of the graph."""

import io
import textwrap

from matplotlib.figure import Figure
from matplotlib.patches import Rectangle

from sim.viz import captions, graph, plots
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
        fig.suptitle(text("graph_title", lang, day=captions.period_day(model), days=model.days),
                     fontsize=11, y=0.985)
    return fig


def app_graph_png(state: graph.GraphState, view: graph.GraphView, lang: str = "en",
                  width: float = 5.6, dpi: int = 100) -> bytes:
    """The app's picture of the graph: the panels alone, drawn from a snapshot (the legend and
    the day are HTML around it), with titles large enough for a projector."""
    setup_fonts(lang)
    fig = Figure(figsize=(width, width * view.nrows / view.ncols))
    ax = fig.add_axes((0.0, 0.0, 1.0, 1.0))
    graph.draw_state(ax, state, view, lang, fontsize=10)
    return png(fig, dpi=dpi)


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
                 size: tuple[float, float] = (13.0, 7.2), figure: Figure | None = None,
                 title: str | None = None) -> Figure:
    """Graph and plots side by side, a title in words above and a caption below (the day, the
    policy, what is happening): a frame of a film, a run's overview figure (drawn on `figure`
    when given, e.g. the one a movie writer records)."""
    setup_fonts(lang)
    fig = figure if figure is not None else Figure(figsize=size)
    gax = fig.add_axes((0.0, 0.345, 0.5, 0.585))
    nodes = graph.draw_graph(gax, model, view, lang, highlight, fontsize=7.5)
    draw_key(fig, nodes, lang, bottom=0.13, height=0.215, width=0.5, story=highlight is not None)
    axes = [fig.add_axes((0.565 + 0.235 * (k % 2), 0.61 - 0.35 * (k // 2), 0.18, 0.27))
            for k in range(4)]
    plots.draw_plots(axes, model, lang)
    for ax in axes[:2]:
        ax.tick_params(labelbottom=False)
    fig.suptitle(title or captions.policy_title(model, lang), fontsize=13, y=0.985)
    draw_caption(fig, captions.caption(model, lang), left=0.02)
    return fig


CAPTION_BAND = 0.125  # share of the figure's height under the caption


def draw_caption(fig, lines: tuple[str, str], left: float, width: float = 0.96,
                 fontsize: float = 10.5) -> None:
    """The caption band at the bottom: a bold line (day, policy) and the sentence under it."""
    head, words = lines
    fig.patches.append(Rectangle((left - 0.01, 0.0), width + 0.02, CAPTION_BAND,
                                 transform=fig.transFigure, facecolor="#f3f0fa",
                                 edgecolor="none", zorder=-1))
    top = CAPTION_BAND - 0.012
    fig.text(left, top, head, fontsize=fontsize + 1, weight="bold", va="top")
    fig.text(left, top - (fontsize + 6) / 72 / fig.get_figheight(),
             fill(words, width * fig.get_figwidth(), fontsize), fontsize=fontsize, va="top",
             linespacing=1.25)


def fill(words: str, inches: float, fontsize: float) -> str:
    """The sentence cut into lines `inches` wide (Chinese, without spaces: by characters)."""
    cjk = " " not in words.strip()
    per_inch = 72 / fontsize * (1.0 if cjk else 1.85)
    most = max(10, int(inches * per_inch))
    if cjk:
        return "\n".join(words[k:k + most] for k in range(0, len(words), most))
    return textwrap.fill(words, most)


def pair_figure(models, views, lang: str = "en", size: tuple[float, float] = (13.0, 7.6),
                figure: Figure | None = None, title: str | None = None) -> Figure:
    """Two runs of the same city and seed side by side (e.g. before and after the reform): each
    its graph, its resolution and funds-left panels and its caption."""
    setup_fonts(lang)
    fig = figure if figure is not None else Figure(figsize=size)
    nodes = None
    for k, (model, view) in enumerate(zip(models, views)):
        x0 = 0.5 * k
        fig.text(x0 + 0.25, 0.925, captions.policy_title(model, lang), ha="center", fontsize=11,
                 weight="bold")
        nodes = graph.draw_graph(fig.add_axes((x0 + 0.01, 0.40, 0.48, 0.51)), model, view, lang,
                                 fontsize=7)
        axes = [fig.add_axes((x0 + 0.05 + 0.23 * j, 0.18, 0.18, 0.15)) for j in range(2)]
        plots.draw_plots(axes, model, lang, shown=("resolution_rate", "funds_left"))
        draw_caption(fig, (text("film_caption", lang, day=captions.period_day(model),
                                policy=model.policy.name),
                           captions.sentence(model, lang)), left=x0 + 0.02, width=0.46,
                     fontsize=9.5)
    cax = fig.add_axes((0.4, 0.375, 0.2, 0.012))
    bar = fig.colorbar(nodes, cax=cax, orientation="horizontal")
    bar.ax.tick_params(labelsize=7, pad=1)
    bar.ax.set_title(text("satisfaction_bar", lang), fontsize=8, pad=2)
    seed = models[0].seed
    fig.suptitle(title or text("side_by_side", lang, seed=seed, left=models[0].policy.name,
                               right=models[1].policy.name), fontsize=13, y=0.985)
    return fig


def png(fig: Figure, dpi: int = 80) -> bytes:
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=dpi, pil_kwargs={"compress_level": 1})  # speed over size
    return buffer.getvalue()

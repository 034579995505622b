"""The neighbourhood graph of a few communities, drawn with matplotlib from the model's public
state: `model.space.G` (buildings and their links), `model.buildings`, `model.compounds`, the
resident table, the grievance table and the institutions' agents at their buildings.

Each community gets a panel: buildings are circles coloured by their residents' mean
satisfaction, on a halo coloured by the kind of their compound; open grievances are small dots
around their building; grid workers, party branches, property companies, owners' committees,
the community office and four-party linkages are drawn as distinct markers beside their
building. The same drawing serves the app, the films and the static figures.

`snapshot(model, view)` reads what the drawing needs (the app holds the model's lock for that
only, a few milliseconds) and `draw_state` draws it without touching the model.
"""

import html
from dataclasses import dataclass, field

import matplotlib.colors as mcolors
import networkx as nx
import numpy as np
from matplotlib import colormaps
from matplotlib.collections import LineCollection
from matplotlib.lines import Line2D
from matplotlib.patches import FancyBboxPatch

from sim.institutions import (
    CommunityCommittee,
    FourPartyLinkage,
    GridWorker,
    OwnersCommittee,
    PartyBranch,
    PropertyCompany,
)
from sim.grievances import UNREPORTED, State
from sim.viz.labels import text

SATISFACTION_CMAP = "RdYlGn"
SATISFACTION_RANGE = (0.55, 0.85)  # colour scale of mean satisfaction (its spread is narrow)
HALO = {"old": "#d9b38c", "commercial": "#9ecae1"}  # compound kinds; others grey
HALO_OTHER = "#d9d9d9"
REPORTED, SILENT = "#d7301f", "#969696"  # open grievances

# Institutions: marker, face colour, size (points²), offset direction (degrees from east).
MARKERS = {
    "office": ("p", "#ffd92f", 150, 90),
    "grid_worker": ("^", "#2171b5", 55, 200),
    "branch": ("*", "#e31a1c", 150, 35),
    "company": ("s", "#737373", 60, 325),
    "red_company": ("s", "#e31a1c", 60, 325),
    "black_company": ("s", "#000000", 60, 325),  # on the black list this quarter
    "owners": ("D", "#6a51a3", 50, 270),
}


@dataclass
class GraphView:
    """The drawn communities and their layout: building id -> (x, y), panels one unit wide."""

    communities: list[int]
    pos: dict[int, np.ndarray] = field(default_factory=dict)
    panel: dict[int, tuple[float, float]] = field(default_factory=dict)  # community -> origin
    ncols: int = 2
    nrows: int = 1

    @property
    def buildings(self) -> np.ndarray:
        return np.array(sorted(self.pos), dtype=np.int64)


def default_communities(model) -> list[int]:
    """One community of each class, the one of median population in its class (a typical one)."""
    pop = model.communities["population"].to_numpy()
    chosen = []
    for label in model.class_labels:
        members = np.flatnonzero(model.classes == label)
        order = members[np.argsort(pop[members], kind="stable")]
        chosen.append(int(order[len(order) // 2]))
    return chosen


def parse_communities(spec: str | None, names: list[str]) -> list[int] | None:
    """Communities named on the command line: numbers (1-based, as in `community-017`) or names,
    comma-separated; None for the default."""
    if not spec:
        return None
    chosen = []
    for item in (s.strip() for s in spec.split(",") if s.strip()):
        if item in names:
            chosen.append(names.index(item))
        elif item.isdigit() and 1 <= int(item) <= len(names):
            chosen.append(int(item) - 1)
        else:
            raise ValueError(f"community {item!r}: expected a name or a number from 1 to {len(names)}")
    return chosen


def layout(model, communities: list[int] | None = None) -> GraphView:
    """Positions of the buildings of a few communities, each community in its own panel."""
    communities = list(communities) if communities else default_communities(model)
    ncols = 2 if len(communities) <= 4 else 3
    view = GraphView(communities, ncols=ncols, nrows=-(-len(communities) // ncols))
    building_comm = model.buildings["community"].to_numpy()
    compound = model.buildings["compound"].to_numpy()
    for k, c in enumerate(communities):
        x0, y0 = k % ncols, view.nrows - 1 - k // ncols
        view.panel[c] = (x0, y0)
        nodes = np.flatnonzero(building_comm == c)
        sub = model.space.G.subgraph(nodes.tolist())
        # Edge length: buildings of one compound sit close, compounds further apart.
        spaced = nx.Graph()
        spaced.add_nodes_from(sub.nodes)
        spaced.add_edges_from((u, v, {"length": 1.0 if compound[u] == compound[v] else 2.0})
                              for u, v in sub.edges)
        if len(nodes) == 1:
            raw = {int(nodes[0]): np.zeros(2)}
        elif nx.is_connected(spaced) and len(nodes) <= 80:
            raw = nx.kamada_kawai_layout(spaced, weight="length")
        else:
            raw = nx.spring_layout(spaced, seed=1)
        xy = np.array([raw[n] for n in nodes], dtype=float)
        xy -= xy.mean(axis=0)
        span = np.abs(xy).max() or 1.0
        xy = xy / span * 0.36 + np.array([x0 + 0.5, y0 + 0.42])
        view.pos.update({int(n): p for n, p in zip(nodes, xy)})
    return view


def building_satisfaction(model) -> np.ndarray:
    """Mean satisfaction of each building's residents (NaN for an empty building)."""
    r = model.residents
    n = len(model.buildings)
    sums = np.bincount(r.building, weights=r.satisfaction, minlength=n)
    counts = np.bincount(r.building, minlength=n)
    return np.where(counts > 0, sums / np.maximum(counts, 1), np.nan)


def open_grievances(model) -> tuple[np.ndarray, np.ndarray]:
    """Open grievances per building: (reported, not yet voiced)."""
    g, n = model.grievances, len(model.buildings)
    ids = g.open_ids[g.state[g.open_ids] == State.OPEN]
    silent = g.level[ids] == UNREPORTED
    return (np.bincount(g.building[ids[~silent]], minlength=n),
            np.bincount(g.building[ids[silent]], minlength=n))


def institutions(model, view: GraphView) -> dict[str, list[int]]:
    """Buildings of the drawn institutions, by marker kind (a building once per agent)."""
    drawn = set(view.pos)
    out: dict[str, list[int]] = {k: [] for k in (*MARKERS, "linkage")}
    kinds = [(CommunityCommittee, "office"), (GridWorker, "grid_worker"), (PartyBranch, "branch"),
             (PropertyCompany, "company"), (OwnersCommittee, "owners"),
             (FourPartyLinkage, "linkage")]
    for cls, kind in kinds:
        for agent in model.agents_by_type.get(cls, []):
            b = int(agent.cell.coordinate)
            if b in drawn:
                key = kind
                if kind == "company":
                    key = ("black_company" if agent.rating == "black" else
                           "red_company" if agent.red else kind)
                out[key].append(b)
    return out


@dataclass
class GraphState:
    """What the graph shows of a model at one moment, per drawn building (`view.buildings`
    order) unless said otherwise."""

    edges: list[tuple[int, int, bool]]  # building, building, same compound
    halo: list[str]  # colour of the building's compound kind
    residents: np.ndarray
    satisfaction: np.ndarray  # the residents' mean satisfaction
    reported: np.ndarray  # open grievances, reported
    silent: np.ndarray  # open grievances, not yet voiced
    institutions: dict[str, list[int]]  # marker kind -> buildings (all ids)
    highlight: int | None  # the building of the story's grievance
    visited: np.ndarray  # walked by its grid worker today
    titles: dict[int, tuple[str, str, float, float]]  # community -> class, name, fund, funds left


def snapshot(model, view: GraphView, highlight: int | None = None) -> GraphState:
    """Read what `draw_state` needs from the model (`highlight`: a grievance's number)."""
    b = view.buildings
    compound = model.buildings["compound"].to_numpy()
    kinds = model.compounds["kind"].to_numpy()[compound[b]]
    reported, silent = open_grievances(model)
    found = model.grievances.record(highlight) if highlight is not None else None
    hb = None if found is None else int(found["building"])
    names = model.communities["name"].to_numpy()
    balance, funds = model.spending.balance, model.spending.funds
    titles = {c: (str(model.classes[c]), str(names[c]), float(model.funds[c]),
                  balance[c] / funds[c] if funds[c] else float("nan")) for c in view.panel}
    return GraphState(
        edges=[(u, v, bool(compound[u] == compound[v]))
               for u, v in model.space.G.subgraph(b.tolist()).edges],
        halo=[HALO.get(k, HALO_OTHER) for k in kinds], residents=model.building_residents[b],
        satisfaction=building_satisfaction(model)[b], reported=reported[b], silent=silent[b],
        institutions=institutions(model, view), highlight=hb, titles=titles,
        visited=model.patrols.visited_today(model.day)[b])


def draw_graph(ax, model, view: GraphView, lang: str = "en", highlight: int | None = None,
               fontsize: float = 8.5):
    """Draw the drawn communities' graph on `ax`; returns the satisfaction scatter (for a
    colour bar). `highlight` is a grievance's number (gid) whose building gets a ring."""
    return draw_state(ax, snapshot(model, view, highlight), view, lang, fontsize)


def draw_state(ax, state: GraphState, view: GraphView, lang: str = "en", fontsize: float = 8.5):
    """Draw a snapshot of the graph on `ax`; returns the satisfaction scatter."""
    ax.clear()
    ax.set_axis_off()
    ax.set_xlim(-0.02, view.ncols + 0.02)
    ax.set_ylim(-0.02, view.nrows + 0.02)
    ax.set_aspect("equal")
    b = view.buildings
    xy = np.array([view.pos[i] for i in b]).reshape(-1, 2)
    pos = view.pos
    unit = 1.0 / max(view.ncols, view.nrows)  # marker sizes shrink when panels do
    ax.add_collection(LineCollection([(pos[u], pos[v]) for u, v, same in state.edges if same],
                                     colors="#9e9e9e", linewidths=1.0, zorder=1))
    ax.add_collection(LineCollection([(pos[u], pos[v]) for u, v, same in state.edges if not same],
                                     colors="#bdbdbd", linewidths=0.8, linestyles="--", zorder=1))
    ax.scatter(xy[:, 0], xy[:, 1], s=900 * unit, c=state.halo, alpha=0.55, linewidths=0, zorder=2)
    residents = state.residents
    sizes = (60 + 260 * np.sqrt(residents / max(residents.max(), 1))) * unit
    nodes = ax.scatter(xy[:, 0], xy[:, 1], s=sizes, c=state.satisfaction, cmap=SATISFACTION_CMAP,
                       norm=mcolors.Normalize(*SATISFACTION_RANGE), edgecolors="#424242",
                       linewidths=0.6, zorder=3)
    walked = xy[state.visited]
    ax.scatter(walked[:, 0], walked[:, 1], s=1200 * unit, facecolors="none", edgecolors="#2171b5",
               linewidths=1.4, linestyles=(0, (2, 1.5)), zorder=5)
    draw_grievances(ax, state, view, unit)
    draw_institutions(ax, state, view, unit)
    if state.highlight in pos:
        ax.scatter(*pos[state.highlight], s=1500 * unit, facecolors="none", edgecolors="#000000",
                   linewidths=2.2, zorder=6)
    draw_titles(ax, state, view, lang, fontsize)
    return nodes


def ring(center: np.ndarray, k: int, radius: float, start: float = 0.0) -> np.ndarray:
    angles = start + 2 * np.pi * np.arange(k) / max(k, 1)
    return center + radius * np.column_stack([np.cos(angles), np.sin(angles)])


def draw_grievances(ax, state: GraphState, view: GraphView, unit: float, most: int = 8) -> None:
    points, colours, overflow = [], [], []
    for i, k_rep, k_sil in zip(view.buildings, state.reported.tolist(), state.silent.tolist()):
        k = k_rep + k_sil
        if not k:
            continue
        shown = min(k, most)
        points.append(ring(view.pos[i], shown, 0.05, start=np.pi / 2))
        colours += [REPORTED] * min(k_rep, shown) + [SILENT] * (shown - min(k_rep, shown))
        if k > most:
            overflow.append((i, k))
    if points:
        p = np.concatenate(points)
        ax.scatter(p[:, 0], p[:, 1], s=90 * unit, c=colours, edgecolors="white",
                   linewidths=0.6, zorder=5)
    for i, k in overflow:
        ax.annotate(str(k), view.pos[i] + [0.05, 0.05], fontsize=7, color=REPORTED, zorder=6)


def draw_institutions(ax, state: GraphState, view: GraphView, unit: float) -> None:
    for kind, buildings in state.institutions.items():
        if kind == "linkage":
            if buildings:
                p = np.array([view.pos[i] for i in buildings])
                ax.scatter(p[:, 0], p[:, 1], s=1150 * unit, facecolors="none", edgecolors="#e31a1c",
                           linewidths=1.0, linestyles=":", zorder=4)
            continue
        marker, colour, size, angle = MARKERS[kind]
        points, seen = [], {}
        for i in buildings:
            n = seen.get(i, 0)
            seen[i] = n + 1
            a = np.deg2rad(angle + 24 * n)
            points.append(view.pos[i] + 0.062 * np.array([np.cos(a), np.sin(a)]))
        if points:
            p = np.array(points)
            ax.scatter(p[:, 0], p[:, 1], marker=marker, s=size * unit * 2, c=colour,
                       edgecolors="#252525", linewidths=0.5, zorder=4)


def draw_titles(ax, state: GraphState, view: GraphView, lang: str, fontsize: float = 8.5) -> None:
    for c, (x0, y0) in view.panel.items():
        cls, name, fund, left = state.titles[c]
        label = text("community_label", lang, cls=cls, name=name, fund=f"{fund / 1000:,.0f}")
        extra = f"{text('funds_left', lang)}: {left:.0%}" if fund else ""
        ax.text(x0 + 0.5, y0 + 0.965, label, ha="center", va="top", fontsize=fontsize, weight="bold")
        ax.text(x0 + 0.5, y0 + 0.895, extra, ha="center", va="top", fontsize=fontsize - 1.5,
                color="#525252")
        ax.add_patch(_panel_frame(x0, y0))


def _panel_frame(x0, y0):
    return FancyBboxPatch((x0 + 0.02, y0 + 0.02), 0.96, 0.96, boxstyle="round,pad=0,rounding_size=0.03",
                          facecolor="none", edgecolor="#d9d9d9", linewidth=0.8, zorder=0)


def legend_handles(lang: str = "en", story: bool = True) -> list:
    """The legend: every drawn mark with its name (the story's ring only where there is one)."""
    def dot(colour, marker="o", size=8, edge="#424242", face=None, ls="none", **kw):
        return Line2D([], [], marker=marker, color="none", markerfacecolor=face or colour,
                      markeredgecolor=edge, markersize=size, linestyle=ls, **kw)

    cmap = colormaps[SATISFACTION_CMAP]
    handles = [
        (dot(cmap(0.8), size=9), "legend_building"),
        (dot(HALO["old"], size=12, edge="none"), "legend_old"),
        (dot(HALO["commercial"], size=12, edge="none"), "legend_commercial"),
        (dot(HALO_OTHER, size=12, edge="none"), "legend_other"),
        (dot(REPORTED, size=5, edge="white"), "legend_reported"),
        (dot(SILENT, size=5, edge="white"), "legend_silent"),
        (dot(MARKERS["grid_worker"][1], "^", 7, "#252525"), "legend_grid_worker"),
        (dot(MARKERS["branch"][1], "*", 10, "#252525"), "legend_branch"),
        (dot(MARKERS["company"][1], "s", 6, "#252525"), "legend_company"),
        (dot(MARKERS["red_company"][1], "s", 6, "#252525"), "legend_red_company"),
        (dot(MARKERS["black_company"][1], "s", 6, "#252525"), "legend_black_company"),
        (dot(MARKERS["owners"][1], "D", 5, "#252525"), "legend_owners"),
        (dot(MARKERS["office"][1], "p", 9, "#252525"), "legend_office"),
        (dot("none", "o", 11, "#e31a1c", face="none"), "legend_linkage"),
        (dot("none", "o", 12, "#2171b5", face="none", ls="none"), "legend_visited"),
        (dot("none", "o", 11, "#000000", face="none", markeredgewidth=2), "legend_story"),
    ]
    return [(h, text(key, lang)) for h, key in handles if story or key != "legend_story"]


# The same legend for the app, as HTML (crisp at any size): a unicode sign and its colour.
SIGNS = {"o": "●", "^": "▲", "*": "★", "s": "■", "D": "◆", "p": "⬟"}


def legend_html(lang: str = "en") -> str:
    """The legend and the satisfaction colour scale, as HTML beside the app's graph picture."""
    def sign(char, colour, size="1em", ring=None):
        style = f"color:{colour};font-size:{size}"
        if ring:
            style = ("display:inline-block;width:0.8em;height:0.8em;border-radius:50%;"
                     f"border:2px {ring}")
            char = ""
        return f'<span class="shequ-sign" style="{style}">{char}</span>'
    cmap = colormaps[SATISFACTION_CMAP]
    items = [
        (sign("●", mcolors.to_hex(cmap(0.8))), "legend_building"),
        (sign("●", HALO["old"], "1.3em"), "legend_old"),
        (sign("●", HALO["commercial"], "1.3em"), "legend_commercial"),
        (sign("●", HALO_OTHER, "1.3em"), "legend_other"),
        (sign("●", REPORTED, "0.8em"), "legend_reported"),
        (sign("●", SILENT, "0.8em"), "legend_silent"),
        *((sign(SIGNS[MARKERS[k][0]], MARKERS[k][1]), f"legend_{k}")
          for k in ("grid_worker", "branch", "company", "red_company", "black_company", "owners",
                    "office")),
        (sign("", "", ring="dotted #e31a1c"), "legend_linkage"),
        (sign("", "", ring="dashed #2171b5"), "legend_visited"),
        (sign("", "", ring="solid #000000"), "legend_story"),
    ]
    stops = ", ".join(mcolors.to_hex(cmap(x)) for x in np.linspace(0, 1, 7))
    low, high = SATISFACTION_RANGE
    scale = (f'<div class="shequ-scale"><span>{low:.0%}</span><span class="shequ-bar-colours" '
             f'style="background:linear-gradient(to right, {stops})"></span><span>{high:.0%}</span>'
             f' <span>{html.escape(text("satisfaction_bar", lang))}</span></div>')
    keys = "".join(f'<span class="shequ-key">{s} {html.escape(text(k, lang))}</span>'
                   for s, k in items)
    return f'{scale}<div class="shequ-keys">{keys}</div>'

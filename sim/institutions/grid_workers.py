"""Grid workers (网格员) and the other visitors who find silent grievances: the C measure's
security-patrol volunteers (治安巡逻志愿队) and the D measure's party-member central households
(党员中心户).

A grid worker has a grid of buildings on the graph and a daily capacity in households visited,
whatever the grid's size. It walks its route, the grid's buildings in turn, so a building is
visited every grid households ÷ capacity days: larger grids, rarer visits. A silent grievance can
be found only when its household is visited: its resident tells the visitor (`visit_disclosure`),
or a neighbour who knows of it does (`neighbour_tip` × the share of the building's residents who
are not migrants: where neighbours know each other, more is found). The grid blows the whistle
(网格吹哨): a grievance of a department's kind that a grid worker finds, or hears of from its
resident, goes straight to the city departments (部门响应), instead of waiting out the lower
levels of the ladder.

Some 1,800 grid workers patrol every day, so the patrol is one verb vectorised over the kind's
columns (`Patrols`, per building, the grid's part of it), and the Mesa agents carry each worker's
grid and route. A sampled building at a small scale stands for several real ones, so a
grievance's household has its own place on the building's route (drawn when it arises): its
visits come every interval days, as a real household's do.
"""

import numpy as np

from sim.institutions.base import Institution


class GridWorker(Institution):
    """Grid worker (网格员): patrols the buildings of its grid (`route`, in order), `capacity`
    households a day, and blows the whistle."""

    def __init__(self, model, cell, community, *, households: float, capacity: float,
                 route: np.ndarray):
        super().__init__(model, cell, community)
        self.households = households  # of its grid, at full scale
        self.capacity = capacity  # households visited a day
        self.route = route  # building ids, in the order walked

    @property
    def interval(self) -> float:
        """Days between two visits to a building of the grid."""
        return self.households / self.capacity


class Patrols:
    """The visitors' columns, per building: when grid workers, volunteers and central households
    come, and how likely a visit is to find a silent grievance there.

    Grid workers: a building's households are walked from day `start` (mod `interval`) for `span`
    days; a grievance's household comes at `start + u × span`, u its place on the route."""

    def __init__(self, model, workers: list[GridWorker]):
        m, b = model.p["mechanisms"], model.p["behaviour"]
        n = len(model.buildings)
        households = building_households(model)
        self.interval = np.full(n, np.inf)
        self.start = np.zeros(n)
        self.span = households / m["grid_worker_capacity"]
        for worker in workers:  # each building walked where its grid's route reaches it
            walked = np.cumsum(households[worker.route]) - households[worker.route]
            self.interval[worker.route] = worker.interval
            self.start[worker.route] = walked / worker.capacity
        community = model.building_community
        self.volunteers = np.where(model.measure("security_patrols")[community],
                                   m["volunteer_visit_days"], np.inf)
        self.households = np.where(model.measure("central_households")[community],
                                   m["central_household_visit_days"], np.inf)
        migrants = np.bincount(model.residents.building, model.residents.migrant, minlength=n)
        settled = 1 - migrants / np.maximum(model.building_residents, 1)
        tip = b["neighbour_tip"] * settled  # neighbours who know each other tell the visitor
        self.find = 1 - (1 - b["visit_disclosure"]) * (1 - tip)
        self.walk = (self.interval.copy(), self.start.copy(), self.span.copy())  # default routes

    def focus(self, model, community: int, compounds: tuple[int, ...], share: float) -> None:
        """A community's own patrol plan: in each of its grids with buildings of the focus
        `compounds` and others, the worker spends `share` of its visits walking the focus buildings
        (in route order) and the rest walking the others, so each part's buildings come round as
        often as that share of the worker's capacity allows; a grid wholly in or out of the focus,
        or no focus, walks its route as by default."""
        own = model.building_community == community
        for columns, default in zip((self.interval, self.start, self.span), self.walk):
            columns[own] = default[own]
        if not compounds:
            return
        inside = np.isin(model.buildings["compound"].to_numpy(), compounds)
        households = building_households(model)
        for worker in model.grid_workers:
            part = inside[worker.route]
            if worker.community == community and part.any() and not part.all():
                self.split(worker, worker.route[part], share, households)
                self.split(worker, worker.route[~part], 1 - share, households)

    def split(self, worker: GridWorker, buildings: np.ndarray, share: float,
              households: np.ndarray) -> None:
        """Part of a worker's route walked with `share` of its capacity (none: never visited)."""
        h = households[buildings]
        if share <= 0:
            self.interval[buildings] = np.inf
            return
        rate = worker.capacity * share
        whole = households[worker.route].sum()
        self.interval[buildings] = worker.interval * h.sum() / max(whole, 1e-12) / share
        self.start[buildings] = (np.cumsum(h) - h) / rate
        self.span[buildings] = h / rate

    def visits(self, day: int, building: np.ndarray, u: np.ndarray) -> tuple[np.ndarray, ...]:
        """Is each grievance's household visited today, (by its grid worker, by volunteers, by a
        central household)? `u`: its place on the building's route, in [0, 1)."""
        grid = self.start[building] + u * self.span[building]
        return (came(day, grid, self.interval[building]),
                came(day, u * self.volunteers[building], self.volunteers[building]),
                came(day, u * self.households[building], self.households[building]))

    def visited_today(self, day: int) -> np.ndarray:
        """Buildings a grid worker walks today (for the pictures)."""
        since = np.mod(day - self.start, self.interval, where=np.isfinite(self.interval),
                       out=np.full(len(self.start), np.inf))
        return since < np.maximum(self.span, 1.0)


def came(day: int, phase: np.ndarray, interval: np.ndarray) -> np.ndarray:
    """Did a visit due every `interval` days from `phase` fall on `day` (in [day - 1, day))?"""
    every = np.isfinite(interval)
    t = np.where(every, interval, 1.0)
    return every & (np.floor((day - phase) / t) > np.floor((day - 1 - phase) / t))


def building_households(model) -> np.ndarray:
    """Households of each building, at full scale."""
    return model.building_residents / model.scale / model.p["city"]["household_size"]


def place(model) -> list[GridWorker]:
    """One worker a grid of at most `households_per_grid` households: a community's buildings,
    in graph order, cut into equal grids by households; each worker's office at its route's
    first building. A building (at a small scale, many real ones) belongs to the grid its first
    household falls in."""
    m = model.p["mechanisms"]
    per_grid, capacity = m["households_per_grid"], m["grid_worker_capacity"]
    households = model.communities["population"].to_numpy() / model.p["city"]["household_size"]
    grids = np.maximum(1, np.ceil(households / per_grid)).astype(int)
    in_building = building_households(model)
    workers = []
    for i in range(model.n_communities):
        own = np.flatnonzero(model.building_community == i)
        size = households[i] / grids[i]
        walked = np.cumsum(in_building[own]) - in_building[own]
        grid_of = np.minimum((walked // max(size, 1e-9)).astype(int), grids[i] - 1)
        for k in range(grids[i]):
            route = own[grid_of == k]
            office = route[0] if len(route) else own[k % len(own)]
            workers.append(GridWorker(model, model.cell(office), i, households=size,
                                      capacity=capacity, route=route))
    return workers

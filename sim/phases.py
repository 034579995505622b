"""The daily phases that touch residents (DESIGN §5), each vectorised over the resident table or
the grievance table: no Python loop over residents or grievances anywhere here.

Phase 4 (route and handle) lives in `sim.ladder`.
"""

import numpy as np
import scipy.sparse as sp
import networkx as nx

from sim import kernels, outputs
from sim.grievances import NEVER, UNREPORTED, AT_HOTLINE, Channel, State
from sim.institutions.property_companies import effort_by_compound
from sim.metrics import ESCALATED, IN_TIME, OLD, REPORTED, RESOLVED, SATISFIED, VISITED
from sim.parameters import CATEGORIES, CHANNELS, COMPOUND_KINDS

CAT = {name: i for i, name in enumerate(CATEGORIES)}


# ---- 1. arise -------------------------------------------------------------------------------
def arise(model) -> np.ndarray:
    """New grievances: Poisson counts per building and category, then a resident of the building
    drawn for each. Returns the new grievance ids."""
    rng = model.stream("arise")
    # Candidates arise at the rate no policy lowers (a Poisson total, cells by their share of
    # it); prevention then keeps each with the ratio of the policy's rate to that rate. Every
    # draw is made per candidate, so two policies see the same candidates (common random numbers).
    n = rng.poisson(model.arise_cumulative[-1])
    u = rng.random((9, n))
    cell = np.searchsorted(model.arise_cumulative, u[0] * model.arise_cumulative[-1], side="right")
    building, category = np.divmod(cell, len(CATEGORIES))
    resident = (model.building_start[building]
                + (u[1] * model.building_residents[building]).astype(np.int64))
    share = np.array([model.p["behaviour"]["intractable_share"][c] for c in CATEGORIES])
    kept = u[2] < model.arise_kept[cell]
    r = model.residents
    resident, building, category, u = resident[kept], building[kept], category[kept], u[:, kept]
    ids = model.grievances.add(resident=resident, community=r.community[resident],
                               compound=r.compound[resident], building=building,
                               category=category, day_arisen=np.full(len(resident), model.day),
                               intractable=u[3] < share[category], u_voice=u[4], u_channel=u[5],
                               u_visit=u[6], u_satisfied=u[7], u_route=u[8],
                               cohort=model.reporting)
    model.counts.add("new_arisen", r.community[resident])
    if model.reporting:
        model.cohort.arisen += np.bincount(r.community[resident], minlength=model.n_communities)
        add_by_category(model.arisen_by_category, r.community[resident], category)
    return ids


def add_by_category(table: np.ndarray, community: np.ndarray, category: np.ndarray) -> None:
    """Count grievances into a (community × category) table."""
    table += np.bincount(community.astype(np.int64) * len(CATEGORIES) + category,
                         minlength=table.size).reshape(table.shape)


def arise_rates(model) -> tuple[np.ndarray, np.ndarray]:
    """Expected new grievances per building and category per day: before prevention (set by the
    city alone) and after the policy's prevention measures."""
    b = model.p["behaviour"]
    compound = model.buildings["compound"].to_numpy()
    kind = model.compound_kind[compound]
    community = model.buildings["community"].to_numpy()
    base = np.array([b["arise_rate"][c] for c in CATEGORIES]) / 365.0
    mult = np.array([[b["arise_multiplier"][k][c] for c in CATEGORIES] for k in COMPOUND_KINDS])
    rates = model.building_residents[:, None] * base[None, :] * mult[kind]
    infra = model.communities["infrastructure"].to_numpy()[community]
    rates[:, CAT["infrastructure"]] *= 1 + b["infrastructure_effect"] * (1 - infra)
    potential = rates.copy()
    # A property company's effort prevents property grievances (sim/institutions).
    worked = effort_by_compound(model)
    rates[:, CAT["property"]] *= 1 - b["effort_prevention"] * worked[compound]
    self_managed = (model.compound_has_committee & ~model.compound_has_company
                    & model.compound_old)[compound]
    for cat in ("property", "sanitation"):
        rates[:, CAT[cat]] *= 1 - b["self_management_prevention"] * self_managed
    rates[:, CAT["security"]] *= 1 - b["patrol_prevention"] * model.measure("security_patrols")[community]
    return potential, rates


# ---- 2. voice -------------------------------------------------------------------------------
def voice(model, ids: np.ndarray) -> None:
    """Each new grievance is voiced by a channel or kept silent (exit, voice, loyalty)."""
    b, r, g = model.p["behaviour"], model.residents, model.grievances
    who = g.resident[ids]
    trust = r.trust[who]
    logit = (b["voice_base"] + b["voice_trust"] * (trust - 0.5) + b["voice_elderly"] * r.elderly[who]
             + b["voice_migrant"] * r.migrant[who] + b["voice_party"] * r.party_member[who]
             + b["voice_experience"] * np.minimum(r.last_outcome[who], 0))  # exit
    voiced = g.u_voice[ids] < 1 / (1 + np.exp(-logit))
    w = np.array([b["channel_weight"][c] for c in CHANNELS], dtype=float)
    weights = np.tile(w, (len(ids), 1))
    weights[:, Channel.APP] *= np.where(r.elderly[who], b["elderly_app_factor"], 1.0)
    weights[:, Channel.HOTLINE] *= np.exp(b["hotline_distrust"] * (0.5 - trust))
    cum = np.cumsum(weights, axis=1)
    channel = (g.u_channel[ids][:, None] * cum[:, -1:] > cum).sum(axis=1)
    model.counts.add("new_silent", g.community[ids[~voiced]])
    for ch in (Channel.APP, Channel.HOTLINE, Channel.GRID):
        model.counts.add(f"new_voiced_{CHANNELS[ch]}", g.community[ids[voiced & (channel == ch)]])
    hotline = ids[voiced & (channel == Channel.HOTLINE) & g.cohort[ids]]  # its topics (summary)
    add_by_category(model.hotline_by_category, g.community[hotline], g.category[hotline])
    report(model, ids[voiced], channel[voiced], whistle=channel[voiced] == Channel.GRID)


def report(model, ids: np.ndarray, channel: np.ndarray, whistle: np.ndarray) -> None:
    """Grievances reach the system today: the hotline queue, or the ladder's entry level — or,
    where a grid worker heard of or found one of a department's kind, the departments (the grid
    blows the whistle, 网格吹哨). A grid worker, party member or patrol that hears of it is its
    first contact."""
    g, ladder = model.grievances, model.ladder
    g.channel[ids] = channel
    g.day_reported[ids] = model.day
    g.day_level[ids] = model.day
    entry = ladder.entry[g.category[ids]]
    blown = whistle & ladder.whistled[g.category[ids]]
    g.level[ids] = np.where(channel == Channel.HOTLINE, AT_HOTLINE,
                            np.where(blown, ladder.top, entry))
    g.max_level[ids] = g.level[ids]
    g.whistled[ids] = blown
    model.counts.add("new_reported", g.community[ids])
    model.counts.add("new_whistled", g.community[ids[blown]])
    in_person = ids[(channel == Channel.GRID) | (channel == Channel.FOUND)]
    model.ladder.respond(in_person)


# ---- 3. discover ----------------------------------------------------------------------------
def discover(model) -> None:
    """Grid workers patrol their grids, security-patrol volunteers (C) and party-member central
    households (D) visit: a silent grievance whose household is visited today may be found, the
    resident or a neighbour telling the visitor (sim/institutions/grid_workers.py). What a grid
    worker finds of a department's kind it sends straight to the departments (the whistle)."""
    g, patrols = model.grievances, model.patrols
    ids = g.open_ids
    silent = ids[g.level[ids] == UNREPORTED]
    building = g.building[silent]
    grid, volunteer, household = patrols.visits(model.day, building, g.u_route[silent])
    miss = 1 - patrols.find[building]
    chance = 1 - miss ** (grid.astype(int) + volunteer + household)
    u = model.stream("discover").random(len(silent))
    found = u < chance
    by_grid = found & grid & (u < 1 - miss)  # the grid worker's own question found it
    model.counts.add("new_found", g.community[silent[found]])
    report(model, silent[found], np.full(int(found.sum()), Channel.FOUND), whistle=by_grid[found])


# ---- 5. close and return visit ----------------------------------------------------------------
def close_and_visit(model) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Give-ups and missed responses; then a sampled return visit (回访) of each reported case
    closed today asks whether the resident is satisfied, and the cohort's closed cases are
    counted. Returns the rows closed today, what each case got (`performance`) and each
    resident's evaluation of it (`case_satisfaction`), for `evaluate`."""
    b, m, g, day = model.p["behaviour"], model.p["mechanisms"], model.grievances, model.day
    ids = g.open_ids
    unreported = g.level[ids] == UNREPORTED
    gave_up = np.where(unreported, day - g.day_arisen[ids] >= b["silent_patience_days"],
                       day - g.day_reported[ids] >= b["reported_patience_days"])
    dropped = ids[gave_up]
    close(model, dropped, State.DROPPED)
    model.given_up.add(g.resident[dropped], g.day_arisen[dropped].astype(np.int32) + model.horizon)
    model.counts.add("new_dropped_silent", g.community[dropped[unreported[gave_up]]])
    model.counts.add("new_dropped_reported", g.community[dropped[~unreported[gave_up]]])
    ids = ids[~gave_up]
    waiting = ids[(g.level[ids] != UNREPORTED) & (g.day_responded[ids] == NEVER)
                  & ~g.response_missed[ids]]
    late = waiting[day - g.day_reported[waiting] >= m["response_deadline_days"]]
    g.response_missed[late] = True
    model.counts.add("new_response_missed", g.community[late])

    closed = np.flatnonzero(g.day_closed[: g.n] == day)
    reported = g.level[closed] != UNREPORTED
    visited = (g.u_visit[closed] < m["return_visit_share"]) & reported
    perf = performance(model, closed)
    evaluation = case_satisfaction(model, closed, perf)
    happy = g.u_satisfied[closed] < evaluation
    g.satisfied[closed[visited]] = happy[visited]
    model.counts.add("new_return_visits", g.community[closed[visited]])
    model.counts.add("new_satisfied", g.community[closed[visited & happy]])
    count_cohort(model, closed[g.cohort[closed]])
    model.closed_today = len(closed)
    return closed, perf, evaluation


def close(model, ids: np.ndarray, state: State) -> None:
    model.grievances.close(ids, state, model.day)


def count_cohort(model, ids: np.ndarray) -> None:
    """Count the closed cases of the cohort (grievances that arose in the reported period): each
    once, when it closes, by community and outcome, so that none is lost for being open when the
    period ends."""
    g = model.grievances
    reported = g.level[ids] != UNREPORTED
    resolved = g.state[ids] == State.RESOLVED
    in_time = (g.day_responded[ids] != NEVER) & ~g.response_missed[ids]
    old = model.compound_old[g.compound[ids]]
    entry = model.ladder.entry[g.category[ids]]
    escalated = np.where(g.max_level[ids] > entry, g.max_level[ids], 0).astype(np.int64)
    kinds = (reported * REPORTED | resolved * RESOLVED | in_time * IN_TIME
             | (g.satisfied[ids] >= 0) * VISITED | (g.satisfied[ids] == 1) * SATISFIED
             | old * OLD | escalated << ESCALATED)
    model.cohort.close(g.community[ids], kinds)
    # Grievance-days of unmet need: to resolution, or the whole horizon if never resolved.
    days = np.where(resolved, np.minimum(g.day_closed[ids] - g.day_arisen[ids], model.horizon),
                    model.horizon)
    model.unmet_days += np.bincount(g.community[ids], days, minlength=model.n_communities)
    done = ids[resolved]
    days = np.minimum(g.day_closed[done] - g.day_reported[done], model.resolution_days.shape[1] - 1)
    np.add.at(model.resolution_days, (model.class_index[g.community[done]], days), 1)


def performance(model, ids: np.ndarray) -> np.ndarray:
    """What the resident got: 1 for a case resolved at once, decaying with the days it took;
    0 for a case never resolved."""
    g = model.grievances
    days = g.day_closed[ids] - g.day_arisen[ids]
    resolved = g.state[ids] == State.RESOLVED
    return resolved * np.exp(-days / model.p["behaviour"]["delay_scale_days"])


def case_satisfaction(model, ids: np.ndarray, perf: np.ndarray) -> np.ndarray:
    """Expectation-disconfirmation (Oliver 1980; Van Ryzin 2004): the resident's evaluation of a
    closed case rises with performance and with performance above their expectation — as a
    probability (logistic, so that no share of cases is clipped to one value). It is the chance of
    saying "satisfied" at the return visit, and the share of what the grievance took from their
    satisfaction that its closing gives back. `perf`: the cases' `performance`."""
    b = model.p["behaviour"]
    expected = model.residents.expectation[model.grievances.resident[ids]]
    logit = (b["case_satisfaction_base"] + b["case_satisfaction_performance"] * perf
             + b["case_satisfaction_disconfirmation"] * (perf - expected))
    return 1 / (1 + np.exp(-logit))


# ---- 6. evaluate ----------------------------------------------------------------------------
def evaluate(model, closed: np.ndarray, perf: np.ndarray, evaluation: np.ndarray) -> None:
    """Residents whose grievance closed today get back the share of its loss their evaluation
    gives (never more than it took), and their expectation adapts to what they got (`perf`)."""
    b, r, g = model.p["behaviour"], model.residents, model.grievances
    who = g.resident[closed]
    back = (evaluation * g.loss[closed]).astype(np.float32)
    np.add.at(r.satisfaction, who, back)
    r.satisfaction[who] = np.minimum(r.satisfaction[who], 1.0)
    r.expectation[who] += b["expectation_learning"] * (perf - r.expectation[who])
    r.last_outcome[who] = np.where(g.state[closed] == State.RESOLVED, 1, -1)


# ---- 7. influence ---------------------------------------------------------------------------
def influence(model) -> None:
    """Each day, satisfaction moves back toward its reference level and toward the neighbourhood
    (own and neighbouring buildings), and every open grievance — silent or reported — takes a
    little of its resident's; trust moves toward the neighbourhood and the resident's own
    satisfaction (for a migrant, less `migrant_trust_gap`). Each grievance keeps the loss it caused (decaying as satisfaction recovers), so
    that its closing can give back part or all of it (evaluate)."""
    b, r, g = model.p["behaviour"], model.residents, model.grievances
    a, back = b["influence_rate"], b["satisfaction_recovery"]
    settle(model, "satisfaction", a, back, b["satisfaction_reference"])
    open_ = g.open_ids
    burden = np.float32(b["grievance_burden"])
    kernels.take_burden(r.satisfaction, g.resident[open_], model.given_up.residents(model.day),
                        burden)
    g.loss[open_] = g.loss[open_] * np.float32(1 - a - back) + burden
    # Migrants trust less than their satisfaction would make them: their target is less the gap.
    settle(model, "trust", a, b["trust_learning"], r.satisfaction, gap=b["migrant_trust_gap"])


class GivenUp:
    """Grievances given up unresolved — never voiced or found, or reported and never resolved:
    the problem is still there, so it weighs on its resident as an open grievance does until the
    horizon (silent + reported patience, from the day it arose) has passed."""

    def __init__(self):
        self.resident = np.empty(0, np.int32)
        self.until = np.empty(0, np.int32)

    def add(self, residents: np.ndarray, until: np.ndarray) -> None:
        self.resident = np.concatenate([self.resident, residents])
        self.until = np.concatenate([self.until, until])

    def residents(self, day: int) -> np.ndarray:
        """Residents with a given-up grievance still weighing today (one entry per grievance)."""
        live = self.until > day
        if not live.all():
            self.resident, self.until = self.resident[live], self.until[live]
        return self.resident


def settle(model, name: str, a: float, rate: float, target, gap: float = 0.0) -> None:
    """A resident column moves: x <- (1 - a - rate) x + a · (mean of the neighbourhood) +
    rate · target, in float32, with its building sums (before the move) kept for the outputs.
    `target`: a level, or a column less `gap` for migrants. Residents are sorted by building, so
    a building's residents are one slice: the buildings' sums are one `reduceat` (in float32: six
    times faster than float64, relative error ~1e-5 over a building), the neighbourhood means come
    from them, and the move is one compiled pass (sim/kernels.py)."""
    col, start, count = model.residents.get(name), model.building_start, model.building_residents
    occupied = count > 0
    sums = np.zeros(len(model.buildings))
    sums[occupied] = np.add.reduceat(col, start[occupied])
    model.building_sums[name] = sums
    pull = (model.neighbourhood @ sums / model.neighbourhood_residents).astype(np.float32)
    pull *= np.float32(a)
    keep = np.float32(1 - a - rate)
    if np.isscalar(target):
        kernels.settle_toward_level(col, start, count, pull, keep, np.float32(rate * target))
    else:
        kernels.settle_toward(col, start, count, pull, keep, np.float32(rate), target,
                              model.residents.migrant, np.float32(gap))


def neighbourhood(model) -> tuple[sp.csr_array, np.ndarray]:
    """Adjacency of the building graph plus each building itself; and the residents it spans."""
    graph = model.space.G
    adj = nx.to_scipy_sparse_array(graph, nodelist=range(len(model.buildings)), format="csr")
    w = (adj + sp.eye_array(adj.shape[0], format="csr")).tocsr()
    spanned = w @ model.building_residents.astype(float)
    return w, np.maximum(spanned, 1.0)


# ---- 8. account (the fund's books: sim/institutions/committees.py) -------------------------
def account(model) -> None:
    """Close the day's books: in the reported period the day's flows, the grievance-days of unmet
    need and residents' satisfaction and trust are added to the period's totals (and to the
    daily rows); the cohort's counts were made as its cases closed. Closed cases then leave the
    grievance table."""
    g = model.grievances
    if model.reporting:
        model.totals.values += model.counts.values
        open_ = g.open_ids
        model.open_today = np.bincount(g.community[open_], minlength=model.n_communities)
        model.open_reported = np.bincount(g.community[open_[g.level[open_] != UNREPORTED]],
                                          minlength=model.n_communities)
        model.open_days += model.open_today
        for name in ("satisfaction", "trust"):  # summed per community (record_day reads them)
            model.mood_today[name] = np.bincount(model.building_community,
                                                 model.building_sums[name],
                                                 minlength=model.n_communities)
            model.mood_days[name] += model.mood_today[name]
        model.reported_days += 1
        if model.record_daily:
            outputs.record_day(model)
        model.city_totals = dict(zip(outputs.FLOWS, model.totals.values.sum(axis=1)))
        model.datacollector.collect(model)
        if model.day == model.report_end - 1:
            model.spending.period_unspent = model.spending.unspent_now()
    model.counts.reset()
    g.compact(closed_today=model.closed_today)

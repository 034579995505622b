"""The daily phases that touch residents (DESIGN §5), each vectorised over the resident table or
the grievance table: no Python loop over residents or grievances anywhere here.

Phase 4 (route and handle) lives in `sim.ladder`.
"""

import numpy as np
import scipy.sparse as sp
import networkx as nx

from sim import outputs
from sim.grievances import NEVER, UNREPORTED, AT_HOTLINE, Channel, State
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
    u = rng.random((8, n))
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
                               u_visit=u[6], u_satisfied=u[7])
    model.counts.add("new_arisen", r.community[resident])
    return ids


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
    red = model.measure("red_property")[community] & model.compound_has_company[compound]
    self_managed = (model.compound_has_committee & ~model.compound_has_company
                    & (model.compound_kind == COMPOUND_KINDS.index("old")))[compound]
    linked = model.compound_linked[compound]
    rates[:, CAT["property"]] *= 1 - b["red_property_prevention"] * red
    for cat in ("property", "dispute"):
        rates[:, CAT[cat]] *= 1 - b["linkage_prevention"] * linked
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
             + b["voice_experience"] * r.last_outcome[who])
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
    report(model, ids[voiced], channel[voiced])


def report(model, ids: np.ndarray, channel: np.ndarray) -> None:
    """Grievances reach the system today: the hotline queue, or the ladder's entry level. A grid
    worker, party member or patrol that hears of it is its first contact."""
    g = model.grievances
    g.channel[ids] = channel
    g.day_reported[ids] = model.day
    g.day_level[ids] = model.day
    entry = model.ladder.entry[g.category[ids]]
    g.level[ids] = np.where(channel == Channel.HOTLINE, AT_HOTLINE, entry)
    g.max_level[ids] = g.level[ids]
    model.counts.add("new_reported", g.community[ids])
    in_person = ids[(channel == Channel.GRID) | (channel == Channel.FOUND)]
    model.ladder.respond(in_person)


# ---- 3. discover ----------------------------------------------------------------------------
def discover(model) -> None:
    """Grid-worker patrols, patrol volunteers (C) and party-member central households (D) find
    silent grievances."""
    g = model.grievances
    silent = g.open_ids[g.level[g.open_ids] == UNREPORTED]
    rate = model.discovery_rate[g.community[silent]]
    found = silent[model.stream("discover").random(len(silent)) < 1 - np.exp(-rate)]
    model.counts.add("new_found", g.community[found])
    report(model, found, np.full(len(found), Channel.FOUND))


def discovery_rates(model) -> np.ndarray:
    """Per community: daily rate of finding a given silent grievance."""
    b = model.p["behaviour"]
    patrol = np.zeros(model.n_communities)
    workers = np.zeros(model.n_communities)
    for w in model.grid_workers:
        patrol[w.community] += w.discovery_rate(b["patrol_rate"])
        workers[w.community] += 1
    patrol /= np.maximum(workers, 1)
    familiar = 1 + b["familiarity_effect"] * (model.familiarity - 0.5)
    return (patrol * np.maximum(familiar, 0)
            + b["volunteer_patrol_rate"] * model.measure("security_patrols")
            + b["central_household_rate"] * model.measure("central_households"))


# ---- 5. close and return visit ----------------------------------------------------------------
def close_and_visit(model) -> tuple[np.ndarray, np.ndarray]:
    """Give-ups and missed responses; then a sampled return visit (回访) of each reported case
    closed today asks whether the resident is satisfied. Returns (closed ids, case satisfaction)."""
    b, m, g, day = model.p["behaviour"], model.p["mechanisms"], model.grievances, model.day
    ids = g.open_ids
    opened = ids[g.state[ids] == State.OPEN]
    unreported = g.level[opened] == UNREPORTED
    gave_up = np.where(unreported, day - g.day_arisen[opened] >= b["silent_patience_days"],
                       day - g.day_reported[opened] >= b["reported_patience_days"])
    dropped = opened[gave_up]
    close(model, dropped, State.DROPPED)
    model.counts.add("new_dropped_silent", g.community[dropped[unreported[gave_up]]])
    model.counts.add("new_dropped_reported", g.community[dropped[~unreported[gave_up]]])
    waiting = opened[~unreported & (g.day_responded[opened] == NEVER) & ~g.response_missed[opened]]
    late = waiting[day - g.day_reported[waiting] >= m["response_deadline_days"]]
    g.response_missed[late] = True
    model.counts.add("new_response_missed", g.community[late])

    closed = ids[g.day_closed[ids] == day]
    satisfaction = case_satisfaction(model, closed)
    visited = (g.u_visit[closed] < m["return_visit_share"]) & (g.level[closed] != UNREPORTED)
    happy = g.u_satisfied[closed] < satisfaction
    g.satisfied[closed[visited]] = happy[visited]
    model.counts.add("new_return_visits", g.community[closed[visited]])
    model.counts.add("new_satisfied", g.community[closed[visited & happy]])
    g.prune()
    return closed, satisfaction


def close(model, ids: np.ndarray, state: State) -> None:
    g = model.grievances
    g.state[ids] = state
    g.day_closed[ids] = model.day


def performance(model, ids: np.ndarray) -> np.ndarray:
    """What the resident got: 1 for a case resolved at once, decaying with the days it took;
    0 for a case never resolved."""
    g = model.grievances
    days = g.day_closed[ids] - g.day_arisen[ids]
    resolved = g.state[ids] == State.RESOLVED
    return resolved * np.exp(-days / model.p["behaviour"]["delay_scale_days"])


def case_satisfaction(model, ids: np.ndarray) -> np.ndarray:
    """Expectation-disconfirmation (Oliver 1980; Van Ryzin 2004): satisfaction rises with
    performance and with performance above the resident's expectation."""
    b = model.p["behaviour"]
    perf = performance(model, ids)
    expected = model.residents.expectation[model.grievances.resident[ids]]
    s = (b["satisfaction_base"] + b["satisfaction_performance"] * perf
         + b["satisfaction_disconfirmation"] * (perf - expected))
    return np.clip(s, 0.0, 1.0)


# ---- 6. evaluate ----------------------------------------------------------------------------
def evaluate(model, closed: tuple[np.ndarray, np.ndarray]) -> None:
    """Residents whose grievance closed today update satisfaction, expectation and trust."""
    ids, s_case = closed
    b, r, g = model.p["behaviour"], model.residents, model.grievances
    who = g.resident[ids]
    perf = performance(model, ids)
    r.satisfaction[who] += b["satisfaction_learning"] * (s_case - r.satisfaction[who])
    r.expectation[who] += b["expectation_learning"] * (perf - r.expectation[who])
    r.trust[who] += b["trust_learning"] * (r.satisfaction[who] - r.trust[who])
    r.last_outcome[who] = np.where(g.state[ids] == State.RESOLVED, 1, -1)


# ---- 7. influence ---------------------------------------------------------------------------
def influence(model) -> None:
    """Satisfaction and trust move toward the mean of one's own and neighbouring buildings."""
    r, rate = model.residents, np.float32(model.p["behaviour"]["influence_rate"])
    occupied = model.building_residents > 0
    for name in ("satisfaction", "trust"):
        col = r.get(name)
        sums = np.zeros(len(model.buildings))
        # Residents are sorted by building, so a building's residents are one slice.
        # Summed in float32 (six times faster than float64; relative error ~1e-5 over a building).
        sums[occupied] = np.add.reduceat(col, model.building_start[occupied])
        model.building_sums[name] = sums
        if rate:
            local = (model.neighbourhood @ sums / model.neighbourhood_residents).astype(np.float32)
            pull = np.repeat(local, model.building_residents)
            pull -= col
            pull *= rate
            col += pull


def neighbourhood(model) -> tuple[sp.csr_array, np.ndarray]:
    """Adjacency of the building graph plus each building itself; and the residents it spans."""
    graph = model.space.G
    adj = nx.to_scipy_sparse_array(graph, nodelist=range(len(model.buildings)), format="csr")
    w = (adj + sp.eye_array(adj.shape[0], format="csr")).tocsr()
    spanned = w @ model.building_residents.astype(float)
    return w, np.maximum(spanned, 1.0)


# ---- 8. account -----------------------------------------------------------------------------
class Ledger:
    """Each community's fund for the year, at the run's scale (yuan × scale), and its use."""

    def __init__(self, model):
        self.model = model
        self.funds = model.funds.astype(float) * model.scale
        self.balance = self.funds.copy()
        self.allocated = model.funds.astype(np.int64).copy()  # full-scale yuan, all years
        self.unspent = np.zeros(model.n_communities)  # full-scale yuan left at year ends
        self.overdraft = model.p["funding"]["allow_overdraft"]

    def charge(self, community: np.ndarray, cost: np.ndarray) -> np.ndarray:
        """Pay what the funds allow, first come first served; returns which were paid."""
        order = np.argsort(community, kind="stable")
        c, x = community[order], cost[order]
        cum = np.cumsum(x)
        starts = np.searchsorted(c, c, side="left")
        within = cum - np.concatenate([[0.0], cum])[starts]
        ok = (x == 0) | self.overdraft | (within <= self.balance[c])
        paid = np.empty(len(order), dtype=bool)
        paid[order] = ok
        self.balance -= np.bincount(community[paid], cost[paid], minlength=self.model.n_communities)
        counts, scale = self.model.counts, self.model.scale
        counts.add("new_spent", community[paid], cost[paid] / scale)
        counts.add("new_shortfall", community[~paid], cost[~paid] / scale)
        counts.add("new_unfunded", community[~paid])
        return paid

    def open_year(self) -> None:
        """A new budget year (scheduled event): what was left is recorded, funds arrive anew."""
        self.unspent += np.maximum(self.balance, 0) / self.model.scale
        self.balance = self.funds.copy()
        self.allocated += self.model.funds

    def unspent_now(self) -> np.ndarray:
        """Full-scale yuan unspent so far, this year's balance included."""
        return self.unspent + np.maximum(self.balance, 0) / self.model.scale


def account(model) -> None:
    """Close the day's books: running totals, rows by class, the data collector."""
    model.totals.values += model.counts.values
    if model.record_daily:
        outputs.record_day(model)
    model.city_totals = dict(zip(outputs.FLOWS, model.totals.values.sum(axis=1)))
    model.datacollector.collect(model)
    model.counts.reset()

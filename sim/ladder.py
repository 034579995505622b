"""Phase 4, route and handle: the 12345 hotline and the four-level ladder (微心愿"四级分办").

Levels: in-service party members do what they can (在职党员尽力办) → grassroots organisations
(property company, owners' committee, community committee; 基层组织有效办) → linked co-building
units (联点单位精准办) → city departments (有诉必应马上办). Each handler is a pool with a daily
capacity; the oldest cases are taken first; an attempt costs money, may fail, and a case that
overstays its level's deadline — or cannot be paid for — climbs to the next level.
"""

import numpy as np

from sim.grievances import AT_HOTLINE, NEVER, State
from sim.institutions.property_companies import effort_by_compound
from sim.parameters import CATEGORIES, LEVELS
from sim.phases import CAT, close
from sim.scaling import SampledPools

PARTY, GRASSROOTS, CO_BUILDING, DEPARTMENTS = range(4)
DAY_BITS = 15  # model days fit in 15 bits (run.days + warm-up + run-on < 32,768)
LADDERS = {4: (0, 1, 2, 3), 3: (1, 2, 3), 2: (1, 3), 1: (3,)}  # levels in use, by ladder_levels
def categories(*names: str) -> np.ndarray:
    """A lookup by category code: is the category one of these?"""
    return np.isin(np.arange(len(CATEGORIES)), [CAT[n] for n in names])


COMPANY_CASES = categories("property", "sanitation")  # taken by a company or self-management
LINKAGE_CASES = categories("property", "dispute")  # cross-party cases for the joint meeting
DELIBERATED = categories("dispute", "infrastructure")  # helped by deliberation councils


class Ladder:
    """Handler pools, their daily capacities, success and costs; the day's handling."""

    def __init__(self, model):
        self.model = model
        m, b = model.p["mechanisms"], model.p["behaviour"]
        self.enabled = LADDERS[m["ladder_levels"]]
        self.next_level = np.array([min([x for x in self.enabled if x > lv], default=lv)
                                    for lv in range(4)], dtype=np.int8)
        first = lambda lowest: min(x for x in self.enabled if x >= lowest) if any(  # noqa: E731
            x >= lowest for x in self.enabled) else self.enabled[-1]
        self.entry = np.array([first(PARTY if c == "micro_wish" else GRASSROOTS)
                               for c in CATEGORIES], dtype=np.int8)
        self.top = self.enabled[-1]  # where a grid worker's whistle sends a case
        self.whistled = np.isin(CATEGORIES, m["whistle_categories"])
        self.deadline = np.array([m["level_deadline_days"][lv] for lv in LEVELS])
        self.hotline_direct = np.array([b["hotline_direct"][c] for c in CATEGORIES])
        self.success = np.array([[b["success"][lv][c] for c in CATEGORIES] for lv in LEVELS])
        self.cost = np.array([[b["cost"][lv][c] for c in CATEGORIES] for lv in LEVELS], float)
        self.lay_out_pools()
        self.set_capacity()
        self.sampled = SampledPools(self) if model.scale < 1 else None
        n_cmp = len(model.compounds)
        self.company_attempts, self.company_resolved = np.zeros(n_cmp), np.zeros(n_cmp)
        self.owners_resolved = np.zeros(n_cmp)  # by self-management, since the last quarter
        self.deliberation = model.measure("deliberation")
        self.refresh_success()

    def lay_out_pools(self) -> None:
        """The handlers' pools, one after another, and the state each keeps: the smoothed waiting
        cases (see todays_capacity) and each compound's smoothed joint-meeting queue."""
        model = self.model
        n, k = model.n_communities, len(model.compounds)
        self.offset = dict(party=0, committee=n, company=2 * n, owners=2 * n + k,
                           co_building=2 * n + 2 * k, departments=3 * n + 2 * k,
                           hotline=3 * n + 2 * k + 1)
        size = 3 * n + 2 * k + 2
        # The ladder's pools are contiguous, the hotline's comes last.
        self.pools = {"ladder": slice(0, self.offset["hotline"]),
                      "hotline": slice(self.offset["hotline"], size)}
        self.noise_bits = 63 - 2 * DAY_BITS - size.bit_length()  # see allocate
        # Smoothed waiting cases per pool: new ones (never handled) and the others.
        self.workload = np.zeros((2, size))
        # A day's weight in the smoothed workload (see todays_capacity).
        self.alpha = 1.5 * model.scale / (1 + 0.5 * model.scale)
        self.linkage_queue = np.zeros(k)  # smoothed, per compound

    def set_capacity(self) -> None:
        """Capacity (cases a day, at the run's scale) of every pool, read from the agents; called
        again when the teaching app's levers change the institutions."""
        model, m, o = self.model, self.model.p["mechanisms"], self.offset
        n, k = model.n_communities, len(model.compounds)
        base, extra = np.zeros(self.workload.shape[1]), np.zeros(self.workload.shape[1])
        for branch in model.branches:  # level one: the branches' mobilised party members
            base[branch.community] += branch.capacity(m["party_member_capacity"])
        for c in model.committees:
            base[n + c.community], extra[n + c.community] = c.capacity(
                m["staff_capacity"], m["purchased_capacity_share"])
        # A compound's company or owners' committee, whenever it has one (they come and go).
        residents = model.compounds["population"].to_numpy()
        base[o["company"]:o["company"] + k] = residents * m["property_company_capacity"]
        base[o["owners"]:o["owners"] + k] = residents * m["owners_committee_capacity"]
        for u in model.liaison_units:
            base[o["co_building"] + u.community] = u.daily_capacity
        base[o["departments"]] = model.department.daily_capacity
        base[o["hotline"]] = model.hotline.daily_capacity
        self.base, self.extra = base * model.scale, extra * model.scale
        self.capacity = self.base + self.extra
        # Share of a pool's capacity that is its own staff's (the rest: purchased services).
        self.own = np.divide(self.base, self.capacity, out=np.zeros_like(self.base),
                             where=self.capacity > 0)

    def refresh_success(self) -> None:
        """What the compounds' handlers are today: a company's effort makes its attempts succeed
        more often; an old compound without a company costs more to handle (three-no)."""
        model, b = self.model, self.model.p["behaviour"]
        self.company_multiplier = 1 + b["effort_success"] * effort_by_compound(model)
        self.cost_multiplier = np.where(model.compound_old & ~model.compound_has_company,
                                        b["old_cost_multiplier"], 1.0)

    # ---- the day ------------------------------------------------------------------------------
    def route_and_handle(self) -> None:
        """The morning's waiting cases, found once: escalating keeps a case waiting, the hotline
        closes some and sends the rest onto the ladder (still waiting), so what the handlers
        take is the morning's cases still open at a level of the ladder."""
        waiting = self.waiting()
        self.escalate_overdue(waiting)
        self.answer_hotline(waiting)
        g = self.model.grievances
        self.handle(waiting[(g.state[waiting] == State.OPEN) & (g.level[waiting] >= 0)])

    def waiting(self) -> np.ndarray:
        """Open cases at the hotline or on the ladder, except those waiting for a joint meeting."""
        g = self.model.grievances
        ids = g.open_ids
        return ids[(g.level[ids] >= AT_HOTLINE) & ~g.in_linkage[ids]]

    def escalate_overdue(self, ids: np.ndarray) -> None:
        """A case (of the waiting `ids`) longer at its level than the level's deadline climbs."""
        g, day = self.model.grievances, self.model.day
        level = g.level[ids]
        ids, level = ids[level >= 0], level[level >= 0]
        self.escalate(ids[day - g.day_level[ids] >= self.deadline[level]])

    def escalate(self, ids: np.ndarray) -> None:
        """Up one level of the ladder (the top level keeps its cases)."""
        g = self.model.grievances
        new = self.next_level[g.level[ids]]
        moved = new != g.level[ids]
        ids, new = ids[moved], new[moved]
        g.level[ids], g.day_level[ids], g.in_linkage[ids] = new, self.model.day, False
        g.max_level[ids] = np.maximum(g.max_level[ids], new)
        for level in (GRASSROOTS, CO_BUILDING, DEPARTMENTS):
            self.model.counts.add(f"new_escalated_{LEVELS[level]}", g.community[ids[new == level]])

    def respond(self, ids: np.ndarray) -> None:
        """First contact (响应): in time unless its deadline already passed."""
        g = self.model.grievances
        first = ids[g.day_responded[ids] == NEVER]
        g.day_responded[first] = self.model.day
        self.model.counts.add("new_responded_in_time", g.community[first[~g.response_missed[first]]])

    def answer_hotline(self, waiting: np.ndarray) -> None:
        """12345 answers what it can today of its queue (of the `waiting` cases), settles some
        contacts itself, transfers the rest."""
        model, g = self.model, self.model.grievances
        queued = waiting[g.level[waiting] == AT_HOTLINE]
        pool = np.full(len(queued), self.offset["hotline"])
        taken, _ = self.allocate(queued, pool, self.pools["hotline"])
        ids = queued[taken]
        self.respond(ids)
        settle = self.hotline_direct[g.category[ids]] * ~g.intractable[ids]
        direct = model.stream("handle").random(len(ids)) < settle
        self.resolve(ids[direct])
        model.counts.add("new_hotline_direct", g.community[ids[direct]])
        moved = ids[~direct]
        g.level[moved] = self.entry[g.category[moved]]
        g.max_level[moved] = np.maximum(g.max_level[moved], g.level[moved])
        g.day_level[moved] = model.day
        model.counts.add("new_hotline_transferred", g.community[moved])

    def handle(self, waiting: np.ndarray) -> None:
        """Every level's handlers take today's cases (`waiting`: open, at a level of the ladder)
        up to capacity, pay and try to resolve them. All levels act on the morning's queues, so a
        case that climbs today waits a day."""
        model, g = self.model, self.model.grievances
        level = g.level[waiting]
        pool = self.pool_of(waiting, level)
        taken, purchased = self.allocate(waiting, pool, self.pools["ladder"])
        ids, level, pool, purchased = waiting[taken], level[taken], pool[taken], purchased[taken]
        self.respond(ids)
        g.day_attempted[ids] = model.day
        cost = self.cost_of(ids, level, pool, purchased)
        paid = model.spending.charge(g.community[ids].astype(np.int64), cost, g.category[ids])
        self.escalate(ids[~paid])  # no money: the problem climbs
        ids, level, pool = ids[paid], level[paid], pool[paid]
        ok = model.stream("handle").random(len(ids)) < self.success_of(ids, level, pool)
        self.resolve(ids[ok])
        self.book_companies(ids, pool, ok)
        failed = ids[~ok & (level == GRASSROOTS)]
        if model.linkages:
            cross = LINKAGE_CASES[g.category[failed]] & model.compound_linked[g.compound[failed]]
            g.in_linkage[failed[cross]] = True

    def resolve(self, ids: np.ndarray) -> None:
        close(self.model, ids, State.RESOLVED)
        self.model.counts.add("new_resolved", self.model.grievances.community[ids])

    def hold_joint_meetings(self) -> None:
        """The four-party joint meeting (联席会, a scheduled event): each compound's meeting takes
        at most `linkage_agenda` cross-party cases, the longest waiting first, and settles each
        with a chance that grows with the parties at the table; the rest climb the ladder.
        A community's own choice (sim/choices.py) may put one category first on its agenda, or
        hold no meeting: its waiting cases then climb."""
        model, g = self.model, self.model.grievances
        ids = g.open_ids
        queued = ids[g.in_linkage[ids]]
        chosen = model.choices.agenda[g.community[queued]]
        later = (chosen >= 0) & (g.category[queued] != chosen)  # not the chosen category
        # By compound, the chosen category first, then the longest waiting first.
        order = np.lexsort((g.day_level[queued], later, g.compound[queued]))
        queued = queued[order]
        compound = g.compound[queued]
        place = np.arange(len(queued)) - np.searchsorted(compound, compound, side="left")
        held = model.choices.meeting[g.community[queued]]
        agenda = (place < self.agenda_seats(compound)) & held
        table = np.zeros(len(model.compounds))
        for linkage in model.linkages:
            table[linkage.compound] = linkage.table()
        chance = model.p["mechanisms"]["linkage_success"] * table[compound]
        ok = (agenda & (model.stream("linkage").random(len(queued)) < chance)
              & ~g.intractable[queued])
        self.resolve(queued[ok])
        model.counts.add("new_linkage_settled", g.community[queued[ok]])
        self.escalate(queued[~ok])
        g.in_linkage[queued[~ok]] = False
        for linkage in model.linkages:
            linkage.meetings += int(model.choices.meeting[linkage.community])

    def agenda_seats(self, compound: np.ndarray) -> np.ndarray:
        """Cases each compound's meeting takes, from the sorted compounds of its queue.

        The agenda holds `linkage_agenda` real cases and a sampled case stands for 1/scale of
        them, so as with the handlers' capacity (see todays_capacity) the agenda acts on the
        smoothed queue, W <- W + a (queue - W) at each meeting: a meeting takes the share
        min(1, agenda·scale / W) of its queue, rounded at random — in the full city (a = 1)
        exactly the agenda's cases, or the whole queue when shorter."""
        model = self.model
        queue = np.bincount(compound, minlength=len(model.compounds))
        self.linkage_queue += self.alpha * (queue - self.linkage_queue)
        seats = model.p["mechanisms"]["linkage_agenda"] * model.scale
        share = np.minimum(1.0, seats / np.maximum(self.linkage_queue, 1e-12))
        u = model.stream("linkage").random(len(queue))
        return np.floor(queue * share + u)[compound]

    # ---- helpers --------------------------------------------------------------------------------
    def allocate(self, ids: np.ndarray, pool: np.ndarray, pools: slice) -> tuple[np.ndarray, np.ndarray]:
        """Within each pool, cases never tried first, then those tried longest ago, then the oldest
        reported (ties at random), up to today's capacity.
        Returns (taken, taken beyond own capacity — i.e. by purchased services)."""
        g = self.model.grievances
        cap_all, cap_base = self.todays_capacity(pool, pools, g.day_attempted[ids] == NEVER,
                                                 self.model.day - g.day_level[ids])
        # One sort key: pool, then day last tried (never = -1 first), then day reported (15 bits
        # each: model days < 32,768, as the grievance table's), then a random tie-break in the
        # bits left of 63.
        bits = self.noise_bits
        noise = self.model.stream("handle").integers(0, 1 << bits, len(ids))
        key = (((pool.astype(np.int64) << DAY_BITS | (g.day_attempted[ids] + 1)) << DAY_BITS
                | g.day_reported[ids]) << bits) | noise
        order = np.argsort(key)
        ps = pool[order] - pools.start
        queue = np.bincount(ps, minlength=pools.stop - pools.start)
        rank = np.arange(len(ps)) - (np.cumsum(queue) - queue)[ps]  # place in its pool's queue
        taken, purchased = np.empty(len(ids), bool), np.empty(len(ids), bool)
        taken[order] = rank < cap_all[ps]
        purchased[order] = rank >= cap_base[ps]
        return taken, purchased & taken

    def todays_capacity(self, pool: np.ndarray, pools: slice, new: np.ndarray,
                        age: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Cases each pool takes today: (all, own staff only), for a range of pools.

        Capacity acts in two tiers, as in the full city: new cases (never handled) first, then the
        others. In the full city a pool takes its new cases up to its capacity C and, of the
        others, the share of what the new ones leave. A sampled case stands for 1/scale real ones,
        so at a small scale a pool's capacity is a fraction of a case a day and whole-case queues
        would make waits 1/scale times too long: capacity acts on workloads that stand for the full
        city's queue. W_new and W_old, each pool's waiting cases smoothed as W <- W + a (waiting -
        W) with a = 1.5 s / (1 + 0.5 s) at scale s (a = 1 in the full city: today's queue), give a
        pool the share min(1, C / W_new) of its new cases and min(1, max(0, C - W_new) / W_old)
        of the others. That serves the city-wide pools (the departments and the hotline). A
        community's or a compound's pool looks to its peers instead (sim/scaling.py): its new
        cases meet a shadow queue of the full city's, and its kept cases' workload is mostly its
        peers'. Cases a pool keeps (tried and failed, to be tried again) never slow its first
        contact with new ones, so more money never slows response."""
        rng = self.model.stream("handle")
        size = pools.stop - pools.start
        p = pool - pools.start
        fresh, kept = np.bincount(p[new], minlength=size), np.bincount(p[~new], minlength=size)
        capacity = self.capacity[pools]
        w_new, w_old = self.workload[0, pools], self.workload[1, pools]  # views: updated in place
        w_new += self.alpha * (fresh - w_new)
        w_old += self.alpha * (kept - w_old)
        first = fresh * np.minimum(1.0, capacity / np.maximum(w_new, 1e-12))
        used = w_new
        sampled = self.sampled
        if sampled is not None and sampled.has_peers[pools].any():  # see sim/scaling.py
            peers = sampled.has_peers[pools]
            taken, by_new = sampled.new_cases(pools, p, age, new, capacity)
            first, used = np.where(peers, taken, first), np.where(peers, by_new, used)
            w_old = sampled.kept_workload(w_old, pools)
        then = np.minimum(1.0, np.maximum(capacity - used, 0.0) / np.maximum(w_old, 1e-12))
        u = rng.random((2, size))
        expected = first + kept * then
        cap_all = np.floor(expected + u[0]).astype(np.int64)  # stochastic rounding
        cap_base = np.floor(cap_all * self.own[pools] + u[1]).astype(np.int64)
        return cap_all, cap_base

    def pool_of(self, ids: np.ndarray, level: np.ndarray) -> np.ndarray:
        """The handler of each case at its level."""
        model, g, o = self.model, self.model.grievances, self.offset
        community, compound = g.community[ids].astype(np.int64), g.compound[ids].astype(np.int64)
        pool = np.where(level == PARTY, o["party"] + community,
                        np.where(level == CO_BUILDING, o["co_building"] + community, o["departments"]))
        here = level == GRASSROOTS
        community, compound = community[here], compound[here]
        own = COMPANY_CASES[g.category[ids[here]]]
        company = own & model.compound_has_company[compound]
        owners = own & ~company & model.compound_has_committee[compound]
        pool[here] = np.where(company, o["company"] + compound,
                              np.where(owners, o["owners"] + compound, o["committee"] + community))
        return pool

    def is_community(self, pool: np.ndarray) -> np.ndarray:
        """Pools paid from the community's fund: party members' materials and the committee."""
        return pool < self.offset["company"]

    def cost_of(self, ids, level, pool, purchased) -> np.ndarray:
        g, b = self.model.grievances, self.model.p["behaviour"]
        cost = self.cost[level, g.category[ids]] * self.cost_multiplier[g.compound[ids]]
        cost = cost + purchased * b["purchased_service_cost"]
        return np.where(self.is_community(pool), cost, 0.0)

    def success_of(self, ids, level, pool) -> np.ndarray:
        model, g, b, o = self.model, self.model.grievances, self.model.p["behaviour"], self.offset
        cat, community = g.category[ids], g.community[ids]
        p = self.success[level, cat]
        # Neighbours who know each other settle disputes (party members and grassroots).
        p += ((level <= GRASSROOTS) * (cat == CAT["dispute"]) * b["mediation_familiarity"]
              * (model.familiarity[community] - 0.5))
        # The grassroots handlers are told apart by their pools.
        committee = (pool >= o["committee"]) & (pool < o["company"])
        deliberated = DELIBERATED[cat] & self.deliberation[community]
        p += committee * deliberated * b["deliberation_bonus"]
        company = (pool >= o["company"]) & (pool < o["owners"])
        p = np.where(company, p * self.company_multiplier[g.compound[ids]], p)
        owners = (pool >= o["owners"]) & (pool < o["co_building"])
        p = np.where(owners, b["self_management_success"], p)
        return np.clip(p, 0.0, 1.0) * ~g.intractable[ids]

    def book_companies(self, ids, pool, ok) -> None:
        """Keep each company's record for the quarterly rating, and what self-management
        resolved for the owners' committees' quarterly stock-taking."""
        o, n = self.offset, len(self.model.compounds)
        company = (pool >= o["company"]) & (pool < o["owners"])
        compound = self.model.grievances.compound[ids[company]]
        self.company_attempts += np.bincount(compound, minlength=n)
        self.company_resolved += np.bincount(compound[ok[company]], minlength=n)
        owners = (pool >= o["owners"]) & (pool < o["co_building"]) & ok
        self.owners_resolved += np.bincount(self.model.grievances.compound[ids[owners]],
                                            minlength=n)

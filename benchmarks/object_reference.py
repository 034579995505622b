"""The resident rules written object-per-agent, leanly, the Mesa way: the reference of DESIGN §8.

    python -m benchmarks.object_reference [--residents 100000] [--days 60]

`ObjectResidentsModel` is `GovernanceModel` with each resident a Mesa `CellAgent` on its
building's cell, and the four resident phases — arise, voice, evaluate, influence — done by the
agents with the same rules and parameters as the vectorised phases of `sim.phases`, written as
leanly as Mesa allows: one `do` over the residents a day (or `shuffle_do`, `order=`), each
decision one draw of Python's `random` (seeded from the run seed), no other loop over all
residents, and no numpy call per agent.

- arise: a geometric skip over each building's residents (one draw a skip, at the chance
  1 - exp(-rate) that a resident has a grievance today) stops at the residents who have; each of
  those draws how many (the Poisson count given at least one, as the quantile of one draw) and,
  for each, its category (by the building's rates), its intractability, voice and channel (and the
  two uniforms the shared return visit reads). Residents passed over cost nothing, as they would
  in any lean hand-written model; one draw per resident per day instead (`do("arise")`) costs
  Mesa's `do` a second time: about 300 ns more per resident-day at 100,000 residents.
- voice: at arising, by the rules of `phases.voice` (`min(0, last outcome)`: exit after a failure).
- evaluate: for each closed grievance its resident gets back the share of its loss that the
  case's satisfaction gives, and its expectation and last outcome follow (`phases.evaluate`).
- influence (`do("influence")`): each resident recovers toward the reference and moves toward
  its neighbourhood's mean, carries the burden of its open and given-up grievances (the model
  marks those residents from the grievances, each resident reads its mark), and its trust
  follows, toward its satisfaction (less the trust gap for a migrant; `phases.influence`). The
  building sums of the neighbourhood means are added up as the residents write their new values,
  and corrected when evaluate changes a satisfaction: no extra loop over the agents.

The institutional phases (discover, the ladder, close and visit, account) are shared. The
benchmark steps the vectorised model and two object models (`do`, `shuffle_do`) side by side in
one process, in turns of a few days, the same days and the same residents, and times only the four
resident phases on each side; the bar (DESIGN §8, ≥ 300×) is against `do`.
tests/test_object_reference.py checks that objects and vectorised phases give the same
distributions of outcomes over seeds.
"""

import argparse
import bisect
import math
import random
import sys
import time
from contextlib import contextmanager

import numpy as np
from mesa.discrete_space import CellAgent

from sim import phases
from sim.grievances import Channel, State
from sim.model import GovernanceModel
from sim.parameters import CATEGORIES, CHANNELS

SPEED_BAR = 300.0  # DESIGN §8: vectorised ≥ 300× faster per resident-day (than `do`)
FULL_CITY = 2_000_000
ORDERS = ("do", "shuffle_do")  # how Mesa steps the residents


class ResidentAgent(CellAgent):
    """One resident as an object: the same state as a row of `sim.residents`."""

    def __init__(self, model, cell, rid: int, row: dict):
        super().__init__(model)
        self.cell = cell
        self.rid = rid
        self.building, self.compound, self.community = row["building"], row["compound"], row["community"]
        self.elderly, self.migrant, self.party_member = row["elderly"], row["migrant"], row["party_member"]
        self.satisfaction, self.expectation = row["satisfaction"], row["expectation"]
        self.trust, self.last_outcome = row["trust"], row["last_outcome"]
        self.burden = 0  # open and given-up grievances weighing today (marked by the model)

    def arise(self) -> None:
        """One or more grievances today (the model's skip stopped here): how many is the
        quantile of one draw in the Poisson count given at least one; for each, one draw of its
        category, of its intractability, of voice and channel, and the two uniforms the shared
        return visit reads."""
        m = self.model
        rate, cumulative = m.daily_rate[self.building], m.category_cumulative[self.building]
        p = math.exp(-rate) * rate  # P(1)
        k, below, target = 1, p, m.draw() * -math.expm1(-rate)  # P(k ≤ 1), u · P(k ≥ 1)
        while target >= below and p > 0:
            k += 1
            p *= rate / k
            below += p
        last = len(cumulative) - 1
        for _ in range(k):
            category = min(bisect.bisect_right(cumulative, m.draw() * rate), last)
            intractable = m.draw() < m.intractable_share[category]
            voiced, channel = self.voice()
            m.new.append((self.rid, category, intractable, voiced, channel, m.draw(), m.draw()))

    def voice(self) -> tuple[bool, int]:
        """Voice or keep silent; if voicing, by which channel (the rules of `phases.voice`)."""
        m, b = self.model, self.model.p["behaviour"]
        logit = (b["voice_base"] + b["voice_trust"] * (self.trust - 0.5)
                 + b["voice_elderly"] * self.elderly + b["voice_migrant"] * self.migrant
                 + b["voice_party"] * self.party_member
                 + b["voice_experience"] * min(self.last_outcome, 0))
        voiced = m.draw() < 1 / (1 + math.exp(-logit))
        weights = [b["channel_weight"][c] for c in CHANNELS]
        if self.elderly:
            weights[0] *= b["elderly_app_factor"]
        weights[1] *= math.exp(b["hotline_distrust"] * (0.5 - self.trust))
        pick, channel = m.draw() * sum(weights), 0
        while pick > weights[channel] and channel < len(weights) - 1:
            pick -= weights[channel]
            channel += 1
        return voiced, channel

    def evaluate(self, performance: float, case_satisfaction: float, loss: float,
                 resolved: bool) -> None:
        """Expectation-disconfirmation after a grievance closed: part of what it took comes back."""
        m, before = self.model, self.satisfaction
        self.satisfaction = min(1.0, before + case_satisfaction * loss)
        m.satisfaction_sums[self.building] += self.satisfaction - before
        self.expectation += m.expectation_learning * (performance - self.expectation)
        self.last_outcome = 1 if resolved else -1

    def influence(self) -> None:
        """Recover toward the reference, move toward the mean of one's own and neighbouring
        buildings, carry one's open and given-up grievances; trust follows (for a migrant,
        toward less than satisfaction). Tomorrow's building sums are added up on the way."""
        m, building = self.model, self.building
        s = m.keep_satisfaction * self.satisfaction + m.pull_satisfaction[building]
        if self.burden:
            s = max(0.0, s - m.grievance_burden * self.burden)
            self.burden = 0
        t = m.keep_trust * self.trust + m.pull_trust[building] + m.trust_learning * s
        if self.migrant:
            t -= m.migrant_trust_step
        self.satisfaction, self.trust = s, t
        m.satisfaction_sums[building] += s
        m.trust_sums[building] += t


class ObjectResidentsModel(GovernanceModel):
    """GovernanceModel with object residents, stepped by `order` ("do" or "shuffle_do");
    `resident_seconds` times their four phases."""

    def __init__(self, *, order: str = "do", **kwargs):
        if order not in ORDERS:
            raise ValueError(f"order: expected one of {ORDERS}, got {order!r}")
        super().__init__(**kwargs)
        self.order = order
        self.draw = random.Random(self.seed + 1).random  # each resident decision: one draw
        b = self.p["behaviour"]
        # What the residents read, as plain Python numbers: per building, a resident's daily
        # rate of new grievances and its cumulative rates by category; the rules' constants.
        per_head = self.arise_rates / np.maximum(self.building_residents, 1)[:, None]
        self.daily_rate = per_head.sum(axis=1).tolist()
        self.category_cumulative = np.cumsum(per_head, axis=1).tolist()
        self.intractable_share = [b["intractable_share"][c] for c in CATEGORIES]
        self.expectation_learning = b["expectation_learning"]
        a, k = b["influence_rate"], b["trust_learning"]
        self.keep_satisfaction = 1 - a - b["satisfaction_recovery"]
        self.keep_trust, self.trust_learning = 1 - a - k, k
        self.grievance_burden = b["grievance_burden"]
        self.migrant_trust_step = k * b["migrant_trust_gap"]
        # Residents are sorted by building: each building's residents, and their daily rate.
        self.skips = [(start, start + count, rate) for start, count, rate in
                      zip(self.building_start.tolist(), self.building_residents.tolist(),
                          self.daily_rate) if count and rate > 0]
        columns = {name: column.tolist() for name, column in self.residents.columns.items()}
        cells = [self.space[i] for i in range(len(self.buildings))]
        self.people = [ResidentAgent(self, cells[building], i,
                                     {name: column[i] for name, column in columns.items()})
                       for i, building in enumerate(columns["building"])]
        # Building sums of satisfaction and trust, kept up to date by the residents.
        building = self.residents.building
        self.satisfaction_sums, self.trust_sums = (
            np.bincount(building, np.array([getattr(p, name) for p in self.people]),
                        minlength=len(self.buildings)).tolist()
            for name in ("satisfaction", "trust"))
        self.resident_seconds = 0.0

    @contextmanager
    def timed(self):
        start = time.perf_counter()
        yield
        self.resident_seconds += time.perf_counter() - start

    def step(self) -> None:
        with self.timed():
            self.arise_objects()  # and voice, as each grievance arises
        phases.discover(self)
        self.ladder.route_and_handle()
        closed, _, _ = phases.close_and_visit(self)
        with self.timed():
            self.evaluate_objects(closed)
            self.influence_objects()
        self.write_back()  # the shared phases and the data collector read the resident table
        phases.account(self)
        if self.day >= self.report_end - 1 and (
                self.cohort_open == 0 or self.day >= self.report_end - 1 + self.horizon):
            self.running = False

    def arise_objects(self) -> None:
        """The residents' grievances of the day, and their voice, into the grievance table."""
        # A geometric skip over each building's residents (one draw a skip): the residents passed
        # over have no new grievance today, each with the chance exp(-rate).
        self.new, draw, people = [], self.draw, self.people
        for i, end, rate in self.skips:
            while True:
                i += int(-math.log(1.0 - draw()) / rate)
                if i >= end:
                    break
                people[i].arise()
                i += 1
        rid, category, intractable, voiced, channel, u_visit, u_satisfied = (
            np.array(column) for column in (zip(*self.new) if self.new else [[]] * 7))
        rid, category = rid.astype(np.int64), category.astype(np.int64)
        r = self.residents
        ids = self.grievances.add(resident=rid, community=r.community[rid],
                                  compound=r.compound[rid], building=r.building[rid],
                                  category=category,
                                  day_arisen=np.full(len(rid), self.day),
                                  intractable=intractable.astype(bool), u_visit=u_visit,
                                  u_satisfied=u_satisfied,
                                  u_route=np.array([self.draw() for _ in range(len(rid))]),
                                  cohort=self.reporting)
        self.counts.add("new_arisen", r.community[rid])
        if self.reporting:
            self.cohort.arisen += np.bincount(r.community[rid], minlength=self.n_communities)
            self.arisen_by_category += np.bincount(
                r.community[rid].astype(np.int64) * len(CATEGORIES) + category,
                minlength=self.arisen_by_category.size).reshape(self.arisen_by_category.shape)
        self.voice_objects(ids, voiced.astype(bool), channel.astype(np.int64))

    def voice_objects(self, ids: np.ndarray, voiced: np.ndarray, channel: np.ndarray) -> None:
        """Count the residents' choices; the voiced grievances reach the system."""
        g = self.grievances
        self.counts.add("new_silent", g.community[ids[~voiced]])
        for ch, name in enumerate(CHANNELS):
            self.counts.add(f"new_voiced_{name}", g.community[ids[voiced & (channel == ch)]])
        phases.report(self, ids[voiced], channel[voiced], whistle=channel[voiced] == Channel.GRID)

    def evaluate_objects(self, ids: np.ndarray) -> None:
        """Each grievance closed today is evaluated by its resident."""
        g, people = self.grievances, self.people
        performance = phases.performance(self, ids)
        s_case = phases.case_satisfaction(self, ids, performance)
        for who, perf, s, loss, state in zip(g.resident[ids].tolist(), performance.tolist(),
                                             s_case.tolist(), g.loss[ids].tolist(),
                                             g.state[ids].tolist()):
            people[who].evaluate(perf, s, loss, state == State.RESOLVED)

    def influence_objects(self) -> None:
        """Neighbourhood means from the building sums (before the move), the residents with open
        or given-up grievances marked, the open grievances' losses carried; the residents move."""
        b, g, n = self.p["behaviour"], self.grievances, len(self.buildings)
        a = b["influence_rate"]
        self.building_sums = {"satisfaction": np.array(self.satisfaction_sums),
                              "trust": np.array(self.trust_sums)}
        local = {name: self.neighbourhood @ sums / self.neighbourhood_residents
                 for name, sums in self.building_sums.items()}
        self.pull_satisfaction = (a * local["satisfaction"] + b["satisfaction_recovery"]
                                  * b["satisfaction_reference"]).tolist()
        self.pull_trust = (a * local["trust"]).tolist()
        self.satisfaction_sums, self.trust_sums = [0.0] * n, [0.0] * n  # tomorrow's
        open_, people = g.open_ids, self.people
        for who in g.resident[open_].tolist() + self.given_up.residents(self.day).tolist():
            people[who].burden += 1
        g.loss[open_] = g.loss[open_] * np.float32(self.keep_satisfaction) + np.float32(
            self.grievance_burden)
        # Mesa's `do` with the method itself (a little leaner than with its name).
        getattr(self.agents_by_type[ResidentAgent], self.order)(ResidentAgent.influence)

    def write_back(self) -> None:
        """Agent state into the resident table, for the shared institutional phases."""
        r = self.residents
        for name in ("satisfaction", "expectation", "trust", "last_outcome"):
            r.get(name)[:] = [getattr(p, name) for p in self.people]


@contextmanager
def timing(resident_phases: list[str]):
    """Time the vectorised model's resident phases, into its `resident_seconds`, by wrapping
    them in `sim.phases` (so the model's own `step` is what runs)."""
    originals = {name: getattr(phases, name) for name in resident_phases}

    def wrap(fn):
        def timed(model, *args, **kwargs):
            start = time.perf_counter()
            try:
                return fn(model, *args, **kwargs)
            finally:
                model.resident_seconds += time.perf_counter() - start
        return timed

    for name, fn in originals.items():
        setattr(phases, name, wrap(fn))
    try:
        yield
    finally:
        for name, fn in originals.items():
            setattr(phases, name, fn)


def measure(residents: int, days: int, seed: int = 1, block: int = 10) -> dict:
    """Build the vectorised model and the object models (`do`, `shuffle_do`) of one city and
    seed, and step them in turn, `block` days each time (who goes first rotates), `days` days of
    the reported period each. In blocks, not day by day, so that a model's day finds the caches
    as its own previous day left them, as in a run of its own (day by day, the object models'
    memory would evict the vectorised model's columns, adding about a sixth to its time).
    Returns, per model, the seconds of its resident phases on each day, its whole days' seconds
    and its build time."""
    kw = dict(scenario="xining-classified", scale=residents / FULL_CITY, days=days, rng=seed,
              warmup_years=0)
    models, build = {}, {}
    for name in ("vectorised", *ORDERS):
        start = time.perf_counter()
        models[name] = (GovernanceModel(**kw) if name == "vectorised"
                        else ObjectResidentsModel(order=name, **kw))
        models[name].resident_seconds = 0.0
        build[name] = time.perf_counter() - start
    names = list(models)
    daily, wall = {name: [] for name in names}, dict.fromkeys(names, 0.0)
    with timing(["arise", "voice", "evaluate", "influence"]):
        for turn, first in enumerate(range(0, days, block)):
            for name in names[turn % len(names):] + names[:turn % len(names)]:
                model = models[name]
                for _ in range(first, min(first + block, days)):
                    before, start = model.resident_seconds, time.perf_counter()
                    model.step()
                    wall[name] += time.perf_counter() - start
                    daily[name].append(model.resident_seconds - before)
    n = len(models["vectorised"].residents)
    assert all(len(m.residents) == n for m in models.values())
    return {"residents": n, "days": days, "block": block, "wall": wall, "build": build,
            "daily": {k: np.array(v) for k, v in daily.items()}}


def report(r: dict) -> dict:
    """Print the figures; returns ns per resident-day and speed-ups (every day counted)."""
    n, days, daily = r["residents"], r["days"], r["daily"]
    ns = {name: t.sum() / (n * days) * 1e9 for name, t in daily.items()}
    print(f"resident phases (arise, voice, evaluate, influence), {n:,} residents, {days} days, "
          f"side by side (one process, in turns of {r['block']} days)")
    print(f"  {'':34} {'ns per resident-day':>19}  {'speed-up':>8}  (median of the days' ratios)")
    print(f"  {'vectorised (sim.phases)':34} {ns['vectorised']:19.1f}")
    out = {"ns": ns}
    for order, label in (("do", "object-per-agent, lean (do)"),
                         ("shuffle_do", "object-per-agent (shuffle_do)")):
        speedup = ns[order] / ns["vectorised"]
        median = float(np.median(daily[order] / daily["vectorised"]))
        bar = (f"   bar >= {SPEED_BAR:.0f} x: {'PASS' if speedup >= SPEED_BAR else 'FAIL'}"
               if order == "do" else "")
        print(f"  {label:34} {ns[order]:19.1f}  {speedup:6.0f} x  ({median:.0f} x){bar}")
        out[order] = speedup
    w, b = r["wall"], r["build"]
    print(f"  whole days: vectorised {w['vectorised']:.2f} s; do {w['do']:.2f} s; shuffle_do "
          f"{w['shuffle_do']:.2f} s (built in {b['vectorised']:.2f}, {b['do']:.2f}, "
          f"{b['shuffle_do']:.2f} s)")
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.object_reference",
                                     description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--residents", type=int, default=100_000)
    parser.add_argument("--days", type=int, default=60)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args(argv)
    report(measure(args.residents, args.days, args.seed))
    return 0


if __name__ == "__main__":
    sys.exit(main())

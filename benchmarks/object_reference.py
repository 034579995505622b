"""The resident rules written object-per-agent, the Mesa way, as the reference for DESIGN §8:

    python -m benchmarks.object_reference [--residents 100000] [--days 20]

`ObjectResidentsModel` is `GovernanceModel` with each resident a Mesa `CellAgent` on its
building's cell, and the four resident phases — arise, voice, evaluate, influence — done by the
agents (`shuffle_do`) with the same rules and parameters as the vectorised phases of
`sim.phases`. The institutional phases (discover, the ladder, close and visit, account) are
shared. The benchmark runs both models side by side at the same size and times the resident
phases per resident-day; tests/test_object_reference.py checks that both give the same
distributions of outcomes over seeds.
"""

import argparse
import math
import sys
import time
from contextlib import contextmanager

import numpy as np
from mesa.discrete_space import CellAgent

from sim import phases
from sim.grievances import State
from sim.model import GovernanceModel
from sim.parameters import CATEGORIES, CHANNELS

SPEED_BAR = 300.0  # DESIGN §8: vectorised ≥ 300× faster per resident-day
FULL_CITY = 2_000_000


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

    def arise(self) -> None:
        """Grievances of the day: a Poisson draw per category at the building's per-head rate."""
        m = self.model
        for category, k in enumerate(m.rng_objects.poisson(m.rate_per_head[self.building])):
            m.new_grievances.extend([(self.rid, category)] * int(k))

    def voice(self) -> tuple[bool, int]:
        """Voice or keep silent; if voicing, by which channel (the rules of `phases.voice`)."""
        m, b = self.model, self.model.p["behaviour"]
        logit = (b["voice_base"] + b["voice_trust"] * (self.trust - 0.5)
                 + b["voice_elderly"] * self.elderly + b["voice_migrant"] * self.migrant
                 + b["voice_party"] * self.party_member
                 + b["voice_experience"] * min(self.last_outcome, 0))
        voiced = m.rng_objects.random() < 1 / (1 + math.exp(-logit))
        weights = [b["channel_weight"][c] for c in CHANNELS]
        if self.elderly:
            weights[0] *= b["elderly_app_factor"]
        weights[1] *= math.exp(b["hotline_distrust"] * (0.5 - self.trust))
        pick, channel = m.rng_objects.random() * sum(weights), 0
        while pick > weights[channel] and channel < len(weights) - 1:
            pick -= weights[channel]
            channel += 1
        return voiced, channel

    def evaluate(self, performance: float, case_satisfaction: float, loss: float,
                 resolved: bool) -> None:
        """Expectation-disconfirmation after a grievance closed: part of what it took comes back."""
        b = self.model.p["behaviour"]
        self.satisfaction = min(1.0, self.satisfaction + case_satisfaction * loss)
        self.expectation += b["expectation_learning"] * (performance - self.expectation)
        self.last_outcome = 1 if resolved else -1

    def influence(self) -> None:
        """Recover toward the reference, move toward the mean of one's own and neighbouring
        buildings, carry one's open grievances; trust follows."""
        m, b = self.model, self.model.p["behaviour"]
        a, back = b["influence_rate"], b["satisfaction_recovery"]
        s = ((1 - a - back) * self.satisfaction + a * m.local["satisfaction"][self.building]
             + back * b["satisfaction_reference"])
        self.satisfaction = max(0.0, s - b["grievance_burden"] * m.burdens.get(self.rid, 0))
        k = b["trust_learning"]
        self.trust = (1 - a - k) * self.trust + a * m.local["trust"][self.building] + k * self.satisfaction


class ObjectResidentsModel(GovernanceModel):
    """GovernanceModel with object residents; `resident_seconds` times their four phases."""

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.rng_objects = np.random.default_rng(self.seed + 1)
        self.rate_per_head = self.arise_rates / np.maximum(self.building_residents, 1)[:, None]
        columns = self.residents.columns
        self.people = [ResidentAgent(self, self.space[int(columns["building"][i])], i,
                                     {k: columns[k][i].item() for k in columns})
                       for i in range(len(self.residents))]
        self.resident_seconds = 0.0

    @contextmanager
    def timed(self):
        start = time.perf_counter()
        yield
        self.resident_seconds += time.perf_counter() - start

    def step(self) -> None:
        with self.timed():
            new = self.arise_objects()
            self.voice_objects(new)
        phases.discover(self)
        self.ladder.route_and_handle()
        self.write_back()  # the shared phases read the resident table
        closed = phases.close_and_visit(self)
        with self.timed():
            self.evaluate_objects(closed)
            self.influence_objects()
        self.write_back()
        phases.account(self)
        if self.day >= self.report_end - 1 and (
                self.cohort_open == 0 or self.day >= self.report_end - 1 + self.horizon):
            self.running = False

    def arise_objects(self) -> np.ndarray:
        self.new_grievances = []
        self.agents_by_type[ResidentAgent].shuffle_do("arise")
        rid = np.array([r for r, _ in self.new_grievances], dtype=np.int64)
        category = np.array([c for _, c in self.new_grievances], dtype=np.int8)
        r = self.residents
        share = np.array([self.p["behaviour"]["intractable_share"][c] for c in CATEGORIES])
        ids = self.grievances.add(resident=rid, community=r.community[rid], compound=r.compound[rid],
                                  building=r.building[rid], category=category,
                                  day_arisen=np.full(len(rid), self.day),
                                  intractable=self.rng_objects.random(len(rid)) < share[category],
                                  u_visit=self.rng_objects.random(len(rid)),
                                  u_satisfied=self.rng_objects.random(len(rid)),
                                  cohort=self.reporting)
        self.counts.add("new_arisen", r.community[rid])
        if self.reporting:
            self.cohort.arisen += np.bincount(r.community[rid], minlength=self.n_communities)
        return ids

    def voice_objects(self, ids: np.ndarray) -> None:
        g = self.grievances
        decisions = [self.people[int(g.resident[i])].voice() for i in ids]
        voiced = np.array([v for v, _ in decisions], dtype=bool)
        channel = np.array([c for _, c in decisions], dtype=np.int64)
        self.counts.add("new_silent", g.community[ids[~voiced]])
        for ch, name in enumerate(CHANNELS):
            self.counts.add(f"new_voiced_{name}", g.community[ids[voiced & (channel == ch)]])
        phases.report(self, ids[voiced], channel[voiced])

    def evaluate_objects(self, ids) -> None:
        g = self.grievances
        performance = phases.performance(self, ids)
        s_case = phases.case_satisfaction(self, ids)
        for i, perf, s, loss in zip(ids.tolist(), performance.tolist(), s_case.tolist(),
                                    g.loss[ids].tolist()):
            self.people[int(g.resident[i])].evaluate(perf, s, loss, g.state[i] == State.RESOLVED)

    def influence_objects(self) -> None:
        n = len(self.buildings)
        sums = {"satisfaction": [0.0] * n, "trust": [0.0] * n}
        for person in self.people:
            sums["satisfaction"][person.building] += person.satisfaction
            sums["trust"][person.building] += person.trust
        self.local = {}
        for name, values in sums.items():
            self.building_sums[name] = np.array(values)
            self.local[name] = (self.neighbourhood @ self.building_sums[name]
                                / self.neighbourhood_residents).tolist()
        # Each resident's open grievances (and given-up ones still weighing), and their losses.
        b, g = self.p["behaviour"], self.grievances
        open_ = g.open_ids
        self.burdens = {}
        for rid in np.concatenate([g.resident[open_], self.given_up.residents(self.day)]).tolist():
            self.burdens[rid] = self.burdens.get(rid, 0) + 1
        keep = 1 - b["influence_rate"] - b["satisfaction_recovery"]
        g.loss[open_] = g.loss[open_] * np.float32(keep) + np.float32(b["grievance_burden"])
        self.agents_by_type[ResidentAgent].shuffle_do("influence")

    def write_back(self) -> None:
        """Agent state into the resident table, for the shared institutional phases."""
        r = self.residents
        for name in ("satisfaction", "expectation", "trust", "last_outcome"):
            r.get(name)[:] = [getattr(p, name) for p in self.people]


@contextmanager
def timing(resident_phases: list[str], clock: list[float]):
    """Time the vectorised model's resident phases by wrapping them in `sim.phases`."""
    originals = {name: getattr(phases, name) for name in resident_phases}

    def wrap(fn):
        def timed(*args, **kwargs):
            start = time.perf_counter()
            try:
                return fn(*args, **kwargs)
            finally:
                clock[0] += time.perf_counter() - start
        return timed

    for name, fn in originals.items():
        setattr(phases, name, wrap(fn))
    try:
        yield
    finally:
        for name, fn in originals.items():
            setattr(phases, name, fn)


def measure(residents: int, days: int, seed: int = 1) -> dict:
    scale = residents / FULL_CITY
    clock = [0.0]
    with timing(["arise", "voice", "evaluate", "influence"], clock):
        start = time.perf_counter()
        vector = GovernanceModel(scenario="xining-classified", scale=scale, days=days, rng=seed,
                                 warmup_years=0)
        vector.run()
        vector_wall = time.perf_counter() - start
    start = time.perf_counter()
    objects = ObjectResidentsModel(scenario="xining-classified", scale=scale, days=days, rng=seed,
                                   warmup_years=0)
    built = time.perf_counter()
    objects.run()
    object_wall = time.perf_counter() - built
    n = len(vector.residents)
    return {"residents": n, "days": vector.steps,  # the run-on days included, as timed
            "vector_ns": clock[0] / (n * vector.steps) * 1e9,
            "object_ns": objects.resident_seconds / (len(objects.people) * objects.steps) * 1e9,
            "vector_wall": vector_wall, "object_wall": object_wall,
            "object_build": built - start}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.object_reference",
                                     description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--residents", type=int, default=100_000)
    parser.add_argument("--days", type=int, default=20)
    args = parser.parse_args(argv)
    r = measure(args.residents, args.days)
    speedup = r["object_ns"] / r["vector_ns"]
    print(f"resident phases (arise, voice, evaluate, influence), {r['residents']:,} residents, "
          f"{r['days']} days, side by side")
    print(f"  vectorised (sim.phases)          {r['vector_ns']:10.1f} ns per resident-day")
    print(f"  object-per-agent (shuffle_do)    {r['object_ns']:10.1f} ns per resident-day")
    print(f"  speed-up                         {speedup:10.0f} x   bar >= {SPEED_BAR:.0f} x: "
          f"{'PASS' if speedup >= SPEED_BAR else 'FAIL'}")
    print(f"  whole runs: vectorised {r['vector_wall']:.2f} s; object-per-agent "
          f"{r['object_wall']:.2f} s (+ {r['object_build']:.2f} s to create the agents)")
    return 0


if __name__ == "__main__":
    sys.exit(main())

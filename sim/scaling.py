"""How a handler pool of a sampled city stands for the full city's (DESIGN §7, scale invariance).

At scale s a sampled case stands for 1/s real ones. A city-wide pool (the departments, the
hotline) still holds many sampled cases, but a community's or a compound's pool holds a case or
two where the full city's holds a queue: its own count says little about the queue it stands for,
and a case it keeps counts as 1/s real ones waiting. So a small pool looks to its peers — pools of
the same kind, in communities of the same class and, for a compound's company or owners'
committee, compounds of the same kind — whose workload per resident served stands for its own:

- **New cases** (never handled) meet a shadow queue: the full city's queue of new cases at the
  pool, in real cases by days waited, fed each day by a Poisson count at the peers' rate of new
  arrivals per resident, served oldest first up to the pool's real capacity, and left by the cases
  that reach the level's deadline (they climb). A sampled new case is taken today with the share
  of its day's cohort the shadow queue serves, so a pool near its capacity keeps the full city's
  waits (and late first contacts) while a quiet one takes everything.
- **Cases kept** (tried and failed, to be tried again) have what capacity the new ones leave; their
  workload is the weights s and 1 - s of the pool's own smoothed count and of a Poisson draw about
  its peers' (see Ladder.todays_capacity).

In the full city (s = 1) none of this acts: every pool is its own queue.
"""

import numpy as np


class SampledPools:
    """Peer groups and shadow queues of the ladder's pools at a scale below 1:1."""

    def __init__(self, ladder):
        self.ladder, self.model = ladder, ladder.model
        model = self.model
        n, k = model.n_communities, len(model.compounds)
        size = ladder.workload.shape[1]
        # Each pool's kind, in the ladder's order of pools (Ladder.lay_out_pools), its level, its
        # community's class and, for a compound's pool, the compound's kind (else -1).
        kind = np.repeat(np.arange(7), [n, n, k, k, n, 1, 1])  # party ... departments, hotline
        level = np.array([0, 1, 1, 1, 2, 3, 3])[kind]
        of_compound = (kind == 2) | (kind == 3)
        cls = np.full(size, -1)
        cls[~of_compound & (kind < 5)] = np.tile(model.class_index, 3)
        cls[of_compound] = np.tile(model.class_index[model.compound_community], 2)
        compound_kind = np.full(size, -1)
        compound_kind[of_compound] = np.tile(model.compound_kind, 2)
        key = np.stack([kind, cls, compound_kind], axis=1)
        self.group = np.unique(key, axis=0, return_inverse=True)[1].ravel()
        self.has_peers = np.bincount(self.group)[self.group] > 1
        people, compound_people = model.community_residents, model.compounds["population"]
        self.served = np.concatenate([people, people, compound_people, compound_people, people,
                                      [1, 1]]).astype(float)  # residents each pool serves
        self.deadline = ladder.deadline[level]
        # The shadow queues: real new cases waiting, by days at the level (0 = arrived today).
        self.backlog = np.zeros((size, int(self.deadline[self.has_peers].max(initial=1))))
        self.waiting = np.zeros(size, bool)  # a shadow queue holds cases from earlier days
        self.rate = np.zeros(self.group.max() + 1)  # smoothed new arrivals per resident served

    def active(self) -> np.ndarray:
        """Pools that take cases now: a compound's company or owners' committee only while it has
        one (a committee takes the compound's cases only when it has no company)."""
        model, o, k = self.model, self.ladder.offset, len(self.model.compounds)
        on = self.ladder.capacity > 0
        on[o["company"]:o["company"] + k] &= model.compound_has_company
        on[o["owners"]:o["owners"] + k] &= (model.compound_has_committee
                                            & ~model.compound_has_company)
        return on

    def group_rate(self, count: np.ndarray, pools: slice) -> tuple[np.ndarray, np.ndarray]:
        """Per peer group: the count of the range's active pools per resident they serve, and
        whether the group has an active pool in the range."""
        group, served, on = self.group[pools], self.served[pools], self.active()[pools]
        total = np.bincount(group, count * on, minlength=self.rate.size)
        residents = np.bincount(group, served * on, minlength=self.rate.size)
        here = residents > 0
        return np.divide(total, residents, out=np.zeros(self.rate.size), where=here), here

    def per_resident(self, count: np.ndarray, pools: slice) -> np.ndarray:
        """Each pool's peers' count per resident they serve, times the residents it serves."""
        return self.served[pools] * self.group_rate(count, pools)[0][self.group[pools]]

    def kept_workload(self, w: np.ndarray, pools: slice) -> np.ndarray:
        """The smoothed workload of cases kept: at scale s, the weights s and 1 - s of the pool's
        own and of a Poisson draw (the full city's queue varies about its mean) at its peers'."""
        s = self.model.scale
        drawn = self.model.stream("handle").poisson(self.per_resident(w, pools) / s) * s
        return np.where(self.has_peers[pools], s * w + (1 - s) * drawn, w)

    def new_cases(self, pools: slice, p: np.ndarray, age: np.ndarray, new: np.ndarray,
                  capacity: np.ndarray):
        """Today's shadow queues of new cases for a range of pools (p: each sampled case's pool
        in the range, age: its days at the level). Returns the new cases each pool takes today, in
        expectation, and the capacity they use (both in sampled cases), for pools with peers."""
        s, size = self.model.scale, pools.stop - pools.start
        backlog, deadline = self.backlog[pools], self.deadline[pools]
        arrived = np.bincount(p[new & (age == 0)], minlength=size).astype(float)
        alpha = self.ladder.alpha
        rate, here = self.group_rate(arrived, pools)
        self.rate[here] += alpha * (rate[here] - self.rate[here])
        expected = self.served[pools] * self.rate[self.group[pools]]
        arrivals = self.model.stream("handle").poisson(expected / s).astype(float)
        # A pool with nothing left from earlier days and no more arrivals than its capacity
        # serves them all (share 1, nothing left): only the others need the cohorts' shares.
        share, used = np.ones_like(backlog), arrivals * s
        busy = np.flatnonzero(self.waiting[pools] | (arrivals > capacity / s))
        rows = backlog[busy]
        rows[:, 0] = arrivals[busy]
        # Served oldest first up to the real capacity: the share of each day's cohort.
        older = np.cumsum(rows[:, ::-1], axis=1)[:, ::-1] - rows  # waiting longer
        served = np.clip(capacity[busy, None] / s - older, 0, rows)
        share[busy] = np.divide(served, rows, out=np.ones_like(rows), where=rows > 0)
        rows -= served
        used[busy] = served.sum(axis=1) * s
        # Tomorrow: a day older; those at the deadline climb.
        rows[:, 1:] = rows[:, :-1].copy()
        rows[:, 0] = 0
        rows[np.arange(rows.shape[1]) >= deadline[busy, None]] = 0
        backlog[busy] = rows
        self.waiting[pools.start + busy] = rows.any(axis=1)
        cohort = np.minimum(age, backlog.shape[1] - 1)
        taken = np.bincount(p[new], share[p[new], cohort[new]], minlength=size)
        return taken, used

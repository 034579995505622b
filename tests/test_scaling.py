"""How a small pool of a sampled city stands for the full city's (sim/scaling.py). The end-to-end
check — city and class rates at 1:100 against the full city's — is tests/test_full_city.py
(slow); these tests pin the parts."""

import numpy as np
import pytest

from sim.model import GovernanceModel

QUICK = dict(scenario="xining-classified", warmup_years=0, days=1, rng=1)


@pytest.fixture(scope="module")
def model():
    return GovernanceModel(scale=0.01, **QUICK)


def committee_pools(model):
    """The ladder's range of pools and the community committees' pools in it."""
    o, n = model.ladder.offset, model.n_communities
    return model.ladder.pools["ladder"], np.arange(o["committee"], o["committee"] + n)


def test_a_full_city_pool_is_its_own_queue():
    full = GovernanceModel(scale=1.0, population=610_000, **QUICK)
    assert full.ladder.sampled is None
    assert full.ladder.alpha == 1.0


def test_peers_are_pools_of_one_kind_class_and_compound_kind(model):
    sampled, o, k = model.ladder.sampled, model.ladder.offset, len(model.compounds)
    committees = sampled.group[o["committee"]:o["committee"] + model.n_communities]
    same_class = model.class_index[:, None] == model.class_index[None, :]
    assert np.array_equal(committees[:, None] == committees[None, :], same_class)
    companies = sampled.group[o["company"]:o["company"] + k]
    kind = model.class_index[model.compound_community] * 8 + model.compound_kind
    assert np.array_equal(companies[:, None] == companies[None, :], kind[:, None] == kind[None, :])
    assert not set(companies) & set(committees)
    assert not sampled.has_peers[o["departments"]] and not sampled.has_peers[o["hotline"]]


def test_the_shadow_queue_serves_the_oldest_first_and_loses_cases_at_their_deadline(model):
    """A committee's shadow queue of 4 real cases a day old, 6 two days old and 5 at the last day
    before the deadline, with no arrivals and room for 8 real cases today: the 5 oldest and 3 of
    the 6 are served; tomorrow the other 3 are a day older, the 4 likewise, the 5 gone."""
    sampled = model.ladder.sampled
    pools, committees = committee_pools(model)
    pool = committees[0]
    s, deadline = model.scale, int(sampled.deadline[pool])
    assert deadline == model.p["mechanisms"]["level_deadline_days"]["grassroots"] >= 3
    sampled.rate[:] = 0.0
    sampled.backlog[:] = 0.0
    sampled.backlog[pool, [1, 2, deadline - 1]] = 4, 6, 5
    sampled.waiting[:] = False
    sampled.waiting[pool] = True  # the queue holds cases from earlier days
    capacity = np.zeros(pools.stop - pools.start)
    capacity[pool] = 8 * s
    # Three sampled new cases at the pool: a day, two days and deadline - 1 days at the level.
    p = np.full(3, pool)
    age = np.array([1, 2, deadline - 1])
    taken, used = sampled.new_cases(pools, p, age, np.ones(3, bool), capacity)
    assert used[pool] == pytest.approx(8 * s)
    assert taken[pool] == pytest.approx(0 + 3 / 6 + 1)  # the share of each one's cohort served
    tomorrow = np.zeros(sampled.backlog.shape[1])
    tomorrow[[2, 3]] = 4, 3
    assert sampled.backlog[pool] == pytest.approx(tomorrow)
    assert sampled.waiting[pool]


def test_the_shadow_queue_is_fed_at_the_peers_rate_per_resident(model):
    """New arrivals at one committee raise every peer's expected arrivals by its residents' share;
    the other classes' committees are not fed."""
    sampled = model.ladder.sampled
    pools, committees = committee_pools(model)
    sampled.rate[:] = 0.0
    sampled.backlog[:] = 0.0
    first = committees[0]
    peers = committees[sampled.group[committees] == sampled.group[first]]
    others = committees[sampled.group[committees] != sampled.group[first]]
    p = np.full(40, first)
    capacity = np.zeros(pools.stop - pools.start)  # nothing served: the backlog keeps the draw
    for _ in range(400):
        sampled.new_cases(pools, p, np.zeros(40, int), np.ones(40, bool), capacity)
    rate = sampled.rate[sampled.group[first]]
    served = sampled.served[peers]
    assert rate == pytest.approx(40 / served.sum(), rel=0.05)
    assert sampled.backlog[others].sum() == 0
    # Yesterday's Poisson draws (now a day old) about each peer's share, in real cases.
    drawn = sampled.backlog[peers, 1]
    expected = served * rate / model.scale
    assert drawn.sum() == pytest.approx(expected.sum(), rel=0.1)
    assert np.corrcoef(drawn, expected)[0, 1] > 0.5


def test_a_kept_case_stands_for_its_peers_workload_not_a_queue_of_its_own(model):
    """A committee whose one sampled case was tried and failed, among idle peers: its workload is
    s cases (the case's weight), not the one case that would stand for 1/s real ones waiting."""
    sampled, s = model.ladder.sampled, model.scale
    pools, committees = committee_pools(model)
    w = np.zeros(pools.stop - pools.start)
    w[committees[0]] = 1.0
    peers = committees[sampled.group[committees] == sampled.group[committees[0]]]
    share = sampled.served[committees[0]] / sampled.served[peers].sum()
    kept = np.mean([sampled.kept_workload(w, pools)[committees[0]] for _ in range(2000)])
    assert kept == pytest.approx(s + (1 - s) * share, rel=0.1)
    assert kept < 0.1
    # A busy group: every committee holds one; each one's workload is about one (Poisson).
    w[committees] = 1.0
    kept = sampled.kept_workload(w, pools)
    assert np.mean(kept[committees]) == pytest.approx(1.0, rel=0.2)
    # The departments, their own peers, keep their own workload.
    o = model.ladder.offset
    w[o["departments"]] = 7.0
    assert sampled.kept_workload(w, pools)[o["departments"]] == 7.0

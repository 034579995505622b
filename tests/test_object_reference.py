"""The object-per-agent reference (benchmarks/object_reference.py) follows the same resident
rules as the vectorised phases: over seeds, both give the same distributions of outcomes; the
influence rule gives the same values, resident by resident; the lean reference's running
building sums are the sums of its residents' values.

Each metric's mean over 4 seeds must agree within 4 standard errors of the difference (plus 0.002
for near-deterministic means). Measured at this size over 12 seeds (vectorised vs objects, sd of
one run): arisen per resident 0.0701 vs 0.0691 (sd 0.004), voiced share 0.688 vs 0.688 (sd
0.020), hotline share 0.155 vs 0.165 (sd 0.022), resolved per reported 0.936 vs 0.933 (sd 0.008),
satisfaction at return visit 0.965 vs 0.962 (sd 0.010), mean satisfaction 0.7986 vs 0.7986 (sd
0.001), mean trust 0.7793 vs 0.7793 (sd 0.001); no difference above 1.1 standard errors."""

import numpy as np
import pytest

from benchmarks.object_reference import ObjectResidentsModel, ResidentAgent
from sim import phases
from sim.model import GovernanceModel

SEEDS = range(1, 5)
METRICS = ["arisen per resident", "voiced share", "hotline share", "resolved per reported",
           "satisfaction rate", "mean satisfaction", "mean trust"]


def outcomes(model) -> list[float]:
    s = model.run().summary().set_index("class").loc["city"]
    voiced = s.cum_voiced_app + s.cum_voiced_hotline + s.cum_voiced_grid
    return [s.cum_arisen / s.residents, voiced / s.cum_arisen, s.cum_voiced_hotline / s.cum_arisen,
            s.cum_resolved / s.cum_reported, s.satisfaction_rate, s.mean_satisfaction, s.mean_trust]


@pytest.fixture(scope="module")
def both():
    kw = dict(scenario="xining-classified", scale=0.002, days=30, warmup_years=0,
              reported_patience_days=30)
    vector = np.array([outcomes(GovernanceModel(rng=s, **kw)) for s in SEEDS])
    objects = np.array([outcomes(ObjectResidentsModel(rng=s, **kw)) for s in SEEDS])
    return vector, objects


def test_residents_are_mesa_agents():
    model = ObjectResidentsModel(scenario="xining-classified", scale=0.0005, days=2, rng=1,
                                 warmup_years=0)
    people = model.agents_by_type[ResidentAgent]
    assert len(people) == len(model.residents)
    assert all(p.cell is model.space[p.building] for p in list(people)[:50])


@pytest.mark.parametrize("i", range(len(METRICS)), ids=METRICS)
def test_same_distribution_over_seeds(both, i):
    vector, objects = both[0][:, i], both[1][:, i]
    se = np.sqrt(vector.var(ddof=1) / len(vector) + objects.var(ddof=1) / len(objects))
    assert abs(vector.mean() - objects.mean()) <= 4 * se + 0.002, (
        f"{METRICS[i]}: vectorised {vector.mean():.4f}, objects {objects.mean():.4f}, se {se:.4f}")


SMALL = dict(scenario="xining-classified", scale=0.0005, days=20, rng=3, warmup_years=0)


def test_influence_is_the_same_rule():
    """Three days of influence, with given-up grievances weighing on some residents (the burden
    and its floor at zero included): the same satisfaction and trust, resident by resident, as
    `phases.influence` (float32 against Python floats)."""
    vector, objects = GovernanceModel(**SMALL), ObjectResidentsModel(**SMALL)
    burden = vector.p["behaviour"]["grievance_burden"]
    burdened = np.concatenate([np.repeat(np.arange(0, len(vector.residents), 7), 3),
                               np.repeat(np.arange(3, len(vector.residents), 11),
                                         int(0.5 / burden))]).astype(np.int32)
    for model in (vector, objects):
        model.given_up.add(burdened, np.full(len(burdened), 100, np.int32))
        for _ in range(3):
            phases.influence(model) if model is vector else model.influence_objects()
    for name in ("satisfaction", "trust"):
        mine = np.array([getattr(p, name) for p in objects.people])
        np.testing.assert_allclose(mine, vector.residents.get(name), atol=2e-5)
    assert (vector.residents.satisfaction[burdened] == 0).any()  # the floor was reached


def test_running_sums_are_the_residents_sums():
    """Before each day's influence, the building sums the residents kept (as they moved, and
    as evaluate changed them) are the sums of their values."""
    model = ObjectResidentsModel(**SMALL)
    influence, checked = model.influence_objects, []

    def check():
        for name in ("satisfaction", "trust"):
            values = np.array([getattr(p, name) for p in model.people])
            sums = np.bincount(model.residents.building, values, minlength=len(model.buildings))
            np.testing.assert_allclose(getattr(model, f"{name}_sums"), sums, atol=1e-9)
        checked.append(model.closed_today)
        influence()

    model.influence_objects = check
    for _ in range(SMALL["days"]):
        model.step()
    assert len(checked) == SMALL["days"] and sum(checked) > 0  # evaluate did change some


def test_shuffle_do_is_an_order():
    model = ObjectResidentsModel(order="shuffle_do", **SMALL)
    model.step()
    assert model.order == "shuffle_do"
    with pytest.raises(ValueError):
        ObjectResidentsModel(order="loop", **SMALL)

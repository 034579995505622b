"""The institutions' behaviour (sim/institutions/): each verb's direction and its stated rates.
Small cities (1:500 and smaller), a few seeds; each tolerance is written down with what it
allows."""

import numpy as np
import pytest

from sim.grievances import Channel
from sim.institutions import Department, GridWorker, Hotline, OwnersCommittee, PropertyCompany
from sim.institutions.grid_workers import came
from sim.ladder import DEPARTMENTS
from sim.model import GovernanceModel
from sim.parameters import CATEGORIES

QUICK = dict(scenario="xining-classified", scale=0.002, warmup_years=0)


# ---- grid workers ------------------------------------------------------------------------------
def visit_days(patrols, building: int, u: float, days: int = 200) -> np.ndarray:
    b, where = np.array([building]), np.array([u])
    return np.array([d for d in range(days) if patrols.visits(d, b, where)[0][0]])


@pytest.mark.parametrize("per_grid", [400, 800])
def test_a_building_is_visited_every_grid_households_over_capacity_days(per_grid):
    """Real-sized buildings (5 residents a building at 1:20: ~38 households each): the days
    between two visits to a household are the grid's households ÷ the worker's capacity, ±1."""
    model = GovernanceModel(scenario="xining-classified", scale=0.05, days=1, rng=1,
                            residents_per_building=5, households_per_grid=per_grid)
    worker = next(w for w in model.grid_workers if len(w.route) >= 3)
    assert worker.households <= per_grid and worker.capacity == 40.0
    for building in worker.route[:3]:
        gaps = np.diff(visit_days(model.patrols, int(building), 0.5))
        assert len(gaps) >= 5
        assert (np.abs(gaps - worker.interval) <= 1).all(), (gaps, worker.interval)


def test_larger_grids_mean_rarer_visits_and_later_finding():
    """Grids of 800 households against 400: visits half as often, so silent grievances are found
    later (the mean days from arising to being found, over the cases found; 4 seeds paired)."""
    later = []
    for seed in (1, 2, 3, 4):
        mean = {}
        for per_grid in (400, 800):
            g = GovernanceModel(households_per_grid=per_grid, days=120, rng=seed, keep_grievances=True,
                                **QUICK).run().grievances.frame()
            found = g[g["channel"] == Channel.FOUND]
            mean[per_grid] = (found["day_reported"] - found["day_arisen"]).mean()
        later.append(mean[800] - mean[400])
    assert np.mean(later) > 1.0 and np.all(np.array(later) > 0), later


def test_came_is_once_an_interval():
    days = np.arange(100)
    hits = [came(int(d), np.array([3.5]), np.array([7.0]))[0] for d in days]
    assert sum(hits) == 14 and hits[4] and not hits[3]


def test_the_whistle_sends_department_cases_straight_to_the_departments():
    """A grievance of a department's kind (infrastructure, wages) that a grid worker finds or
    hears of enters at the departments on the day it is reported; others enter lower."""
    model = GovernanceModel(days=90, rng=2, keep_grievances=True, **QUICK).run()
    g = model.grievances.frame()
    kind = g["category"].isin(np.flatnonzero(model.ladder.whistled))
    told = g[(g["channel"] == Channel.GRID) & kind]  # heard of by a grid worker
    assert len(told) > 0 and told["whistled"].all()
    whistled = g[g["whistled"]]
    assert (whistled["max_level"] == DEPARTMENTS).all() and whistled["category"].isin(
        np.flatnonzero(model.ladder.whistled)).all()
    found = g[(g["channel"] == Channel.FOUND) & kind]  # by grid workers mostly, some by others
    assert 0.5 < found["whistled"].mean() <= 1.0
    assert model.totals["new_whistled"].sum() > 0
    app = g[(g["channel"] == Channel.APP) & kind]
    assert not app["whistled"].any() and (app["max_level"] < DEPARTMENTS).any()


# ---- property companies --------------------------------------------------------------------------
def test_without_black_list_loss_or_red_weight_effort_sits_at_its_minimum():
    model = GovernanceModel(days=1, rng=1, blacklist_loss=0.0, red_weight=0.0, **QUICK)
    low = model.p["behaviour"]["company_min_effort"]
    assert model.companies and all(c.effort == low for c in model.companies)
    model = GovernanceModel(days=1, rng=1, **QUICK)  # the defaults: red companies work harder
    red = [c.effort for c in model.companies if c.red]
    plain = [c.effort for c in model.companies if not c.red]
    assert red and plain and min(red) > max(plain) >= low


def test_a_company_black_listed_k_quarters_in_a_row_leaves_and_its_compound_is_three_no():
    model = GovernanceModel(days=1, rng=1, company_exit_rate=0.0, **QUICK)
    k = model.p["mechanisms"]["blacklist_exit_quarters"]
    old = next(c for c in model.companies
               if model.compounds["kind"].iloc[c.compound] == "old"
               and not model.compound_has_committee[c.compound])
    for quarter in range(k):
        assert old.stays(0.5), quarter
        old.rate(0.0, 0.5)  # below the threshold: black
        effort_before = old.effort
        old.choose_effort()
        assert old.effort >= effort_before  # a black listing raises the risk it sees
    assert not old.stays(0.99)
    model.leave(old)
    assert not model.compound_has_company[old.compound] and model.three_no[old.compound]
    assert old not in model.companies and model.company_left[old.compound]


def test_a_red_listing_halves_the_chance_of_leaving():
    model = GovernanceModel(days=1, rng=1, company_exit_rate=0.1, **QUICK)
    company = model.companies[0]
    company.rate(1.0, 0.5)  # red
    assert company.stays(0.06) and not company.stays(0.04)
    company.rate(0.0, 0.5)  # black
    assert not company.stays(0.09)


def test_companies_come_back_to_compounds_left_without_one():
    model = GovernanceModel(days=1, rng=1, company_entry_rate=100.0, **QUICK)
    company = model.companies[0]
    model.leave(company)
    model.companies_arrive(np.random.default_rng(0))
    assert model.compound_has_company[company.compound] and not model.company_left.any()


# ---- owners' committees -----------------------------------------------------------------------------
def test_owners_committees_form_in_b_old_compounds_at_about_the_declared_rate():
    """With no committee lapsing, the share of B's old compounds without a committee at the start
    that have one after a year is 1 - exp(-rate) (0.39 at 0.5 a year); tolerance 4 binomial sd
    (over the ~170 such compounds at any scale: compounds are never sampled)."""
    model = GovernanceModel(days=364, rng=3, committee_lapse_rate=0.0, **QUICK)
    b_old = ((model.classes[model.compound_community] == "B")
             & (model.compounds["kind"].to_numpy() == "old") & ~model.compound_has_committee)
    n = int(b_old.sum())
    model.run()
    formed = int((model.compound_has_committee & b_old).sum())
    p = 1 - np.exp(-model.p["mechanisms"]["committee_formation_rate"])
    assert n > 50 and abs(formed - n * p) <= 4 * np.sqrt(n * p * (1 - p)), (formed, n * p)
    assert all(isinstance(c, OwnersCommittee) for c in model.owners_committees)


def test_a_committee_without_success_for_a_year_lapses():
    model = GovernanceModel(days=1, rng=1, committee_lapse_rate=100.0, **QUICK)
    committee = model.owners_committees[0]
    for _ in range(3):
        committee.take_stock()
        assert not committee.lapses(0.0)
    committee.take_stock()
    assert committee.lapses(0.0)
    committee.resolved = 1
    committee.take_stock()
    assert not committee.lapses(0.0)


# ---- the four-party linkage ---------------------------------------------------------------------
def test_a_joint_meeting_takes_at_most_its_agenda():
    model = GovernanceModel(days=30, rng=1, linkage_agenda=1, linkage_success=1.0,
                            keep_grievances=True, **QUICK)
    settled = []
    original = model.ladder.hold_joint_meetings

    def meeting():
        before = model.totals["new_linkage_settled"].sum() + model.counts["new_linkage_settled"].sum()
        original()
        after = model.totals["new_linkage_settled"].sum() + model.counts["new_linkage_settled"].sum()
        settled.append(after - before)
    model.ladder.hold_joint_meetings = meeting
    model.run()
    assert all(n <= len(model.linkages) for n in settled)


# ---- the city's handlers ----------------------------------------------------------------------------
def test_city_handlers_scale_with_the_city():
    small = GovernanceModel(days=1, rng=1, population=1_000_000, **QUICK)
    large = GovernanceModel(days=1, rng=1, population=2_000_000, **QUICK)
    for kind in (Department, Hotline):
        a, b = (m.agents_by_type[kind][0].daily_capacity for m in (small, large))
        assert b == pytest.approx(2 * a)
    assert isinstance(large.grid_workers[0], GridWorker)
    assert all(isinstance(c, PropertyCompany) for c in large.companies)


# ---- community committees: the spending plan ----------------------------------------------------
def plan_on_day(day: int):
    """A small city's spending plan on `day` of its first budget year under the first-come rule
    (no even allowance in the way), every community holding 100 yuan (at the run's scale) of
    which 30 are the reserve."""
    model = GovernanceModel(days=1, rng=1, spending="first_come", reserve_share=0.3, **QUICK)
    plan = model.spending
    plan.year_start = model.day - day  # the budget year began `day` days ago
    plan.balance[:] = 100.0
    plan.reserve[:] = 30.0
    return plan


def categories(*names) -> np.ndarray:
    return np.array([CATEGORIES.index(n) for n in names], dtype=np.int8)


def test_priority_cases_are_paid_first_and_ordinary_ones_leave_the_reserve_alone():
    """Three ordinary cases of 30 yuan come before two priority cases of 30, with 70 free and 30
    in reserve: the priority cases are paid first, so the ordinary ones share the 10 free yuan
    left (at most one, straddling, by chance) and the reserve is untouched."""
    plan = plan_on_day(10)
    paid = plan.charge(np.zeros(5, dtype=np.int64), np.full(5, 30.0),
                       categories("property", "property", "dispute", "security", "micro_wish"))
    assert paid[3] and paid[4] and paid[:3].sum() <= 1
    assert plan.reserve[0] == 30.0


def test_before_its_release_the_reserve_pays_only_priority_cases():
    plan = plan_on_day(10)
    plan.balance[:] = 30.0  # nothing outside the reserve
    paid = plan.charge(np.zeros(2, dtype=np.int64), np.full(2, 30.0),
                       categories("dispute", "security"))
    assert list(paid) == [False, True]
    assert plan.reserve[0] == 0.0 and plan.balance[0] == 0.0


def test_from_the_release_day_the_reserve_opens_to_every_case():
    plan = plan_on_day(274)
    plan.balance[:] = 30.0
    paid = plan.charge(np.zeros(1, dtype=np.int64), np.full(1, 30.0), categories("dispute"))
    assert paid.all() and plan.reserve[0] == 0.0 and plan.balance[0] == 0.0


def refused_shares(reserve: float, seed: int) -> tuple[float, float]:
    """Over 150 days of a city with half the reform's funds: the shares of priority and of other
    cases the plan refused (a refused case climbs and may be charged again at the next level)."""
    model = GovernanceModel(days=150, rng=seed, reserve_share=reserve, total=0,
                            by_class=dict(A=75_000, B=150_000, C=75_000, D=50_000), **QUICK)
    tally = np.zeros((2, 2))  # [priority?, paid?]
    charge = model.spending.charge

    def counted(community, cost, category):
        paid = charge(community, cost, category)
        priority = model.spending.priority[community, category]
        np.add.at(tally, (priority.astype(int), paid.astype(int)), 1)
        return paid
    model.spending.charge = counted
    model.run()
    refused = tally[:, 0] / tally.sum(axis=1)
    return refused[1], refused[0]


def test_with_money_short_a_reserve_keeps_priority_cases_funded():
    """Half the funds, so communities run short: a third of the fund in reserve refuses priority
    cases (security, micro-wishes) less than half as often as no reserve, and other cases more
    often (the reserve is money they may not touch), on each of 3 seeds."""
    for seed in (1, 2, 3):
        none_priority, none_other = refused_shares(0.0, seed)
        some_priority, some_other = refused_shares(1 / 3, seed)
        assert none_priority > 0.1, "the city is not short of money: the test shows nothing"
        assert some_priority < none_priority / 2, (seed, none_priority, some_priority)
        assert some_other > none_other, (seed, none_other, some_other)

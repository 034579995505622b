"""Tests of communities' own choices (sim/choices.py) and the verbs they replace: the spending plan,
the grid workers' patrols, the four-party joint meetings.

Runs without choices stay what they were before choices existed: tests/test_reference.py
compares the same two runs (meetings-1to333, tight-budget-1to333) with the tables the model made
before the hook. Fast: 1:333 city, 60 days, no warm-up.
"""

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from sim import outputs
from sim.choices import FIELDS, Choice, compounds_of, markdown_table
from sim.errors import InputError
from sim.grievances import State
from sim.model import GovernanceModel
from sim.parameters import CATEGORIES

ROOT = Path(__file__).resolve().parent.parent
# The runs of tests/reference_tables.py (meetings-1to333, tight-budget-1to333): a reform city
# with frequent meetings; a tight uniform budget (shortfall happens).
RUNS = {
    "classified": dict(scenario="xining-classified", scale=0.003, days=60, rng=11,
                       warmup_years=0, linkage_meeting_days=3),
    "tight": dict(scenario="xining-uniform", scale=0.003, days=60, rng=5, warmup_years=0,
                  funding__scheme="uniform", funding__uniform=20_000, funding__total=0),
}
TABLES = {"daily": outputs.daily, "summary": lambda m: m.summary(),
          "communities": outputs.communities}


def run(name: str, plan: dict | None = None) -> GovernanceModel:
    """Run `RUNS[name]`; `plan`: {day: {community: Choice}} chosen before that day."""
    model = GovernanceModel(**RUNS[name])
    while model.running:
        for community, choice in (plan or {}).get(model.steps, {}).items():
            model.choices.choose(community, choice)
        model.step()
    return model


def assert_same_tables(a: GovernanceModel, b: GovernanceModel) -> None:
    for table, of in TABLES.items():
        pd.testing.assert_frame_equal(of(a), of(b), check_exact=True, obj=table)


def mixed_grid_community(model) -> int:
    """A community with a grid worker whose route holds old compounds and others."""
    compound = model.buildings["compound"].to_numpy()
    for worker in model.grid_workers:
        old = model.compound_old[compound[worker.route]]
        if old.any() and not old.all():
            return worker.community
    raise AssertionError("no grid mixes old compounds and others")


# ---------------------------------------------------------------- no choices: nothing changes

def test_runs_without_choices_choose_nothing():
    model = run("classified")
    assert model.choices.log == [] and model.choices.current == {}


def test_the_default_choice_is_the_default_verb():
    """`Choice()` for every community, and again later for one: the same tables as no choice."""
    base = run("tight")
    everyone = {c: Choice() for c in range(base.n_communities)}
    chosen = run("tight", {5: everyone, 20: {3: Choice()}})
    assert_same_tables(base, chosen)
    assert len(chosen.choices.log) == base.n_communities + 1


# ---------------------------------------------------------------- when a choice acts

def test_a_choice_acts_from_the_next_day_and_is_logged():
    model = GovernanceModel(**RUNS["tight"])
    for _ in range(4):
        model.step()
    choice = Choice(reserve_share=0.3, spending="first_come")
    assert model.choices.choose(6, choice) == 4  # the first day it acts on
    assert model.spending.share[6] == pytest.approx(0.1)  # not before the day boundary
    model.step()
    assert model.spending.share[6] == 0.3 and not model.spending.even[6]
    others = np.arange(model.n_communities) != 6
    assert np.all(model.spending.share[others] == 0.1) and model.spending.even[others].all()
    assert model.choices.log == [(4, 6, choice)] and model.choices.current == {6: choice}


def test_a_new_choice_replaces_the_old_one_whole():
    model = GovernanceModel(**RUNS["tight"])
    model.choices.choose(2, Choice(reserve_share=0.4, joint_meeting=False))
    model.step()
    model.choices.choose(2, Choice(agenda="dispute"))
    model.step()
    assert model.spending.share[2] == pytest.approx(0.1)  # back to the scenario's
    assert model.choices.meeting[2] and model.choices.agenda[2] == CATEGORIES.index("dispute")


# ---------------------------------------------------------------- the verbs replaced

def test_the_spending_plan_follows_the_choice():
    model = GovernanceModel(**RUNS["tight"])
    model.step()
    plan, c = model.spending, 9
    reserve, fund = plan.reserve[c], plan.funds[c]
    model.choices.choose(c, Choice(reserve_share=0.25, priority_categories=("property",)))
    model.step()
    assert plan.reserve[c] == pytest.approx(reserve + 0.15 * fund)  # held back: moved at once
    assert plan.priority[c].tolist() == [k == "property" for k in CATEGORIES]
    assert plan.priority[c + 1].tolist() == [k in ("security", "micro_wish") for k in CATEGORIES]


def test_a_reserve_never_holds_more_than_is_left():
    model = GovernanceModel(**RUNS["tight"])
    model.step()
    model.spending.balance[4] = 10.0
    model.choices.choose(4, Choice(reserve_share=1.0))
    model.step()
    assert model.spending.reserve[4] <= max(model.spending.balance[4], 0) + 1e-9


def test_first_come_spends_faster_than_even():
    """Without the even rule nor a reserve, a short fund is spent sooner: more spent by day 60."""
    even = run("tight")
    fast = Choice(spending="first_come", reserve_share=0.0)
    plan = {0: {c: fast for c in range(even.n_communities)}}
    fast = run("tight", plan)
    assert fast.totals["new_spent"].sum() > even.totals["new_spent"].sum()


def test_patrols_go_where_the_community_sends_them():
    model = GovernanceModel(**RUNS["tight"])
    c = mixed_grid_community(model)
    focus = tuple(int(j) for j in compounds_of(model, c) if model.compound_old[j])
    compound = model.buildings["compound"].to_numpy()
    before = model.patrols.interval.copy()
    model.choices.choose(c, Choice(patrol_focus=focus, patrol_share=1.0))
    model.step()
    own = model.building_community == c
    mixed = np.zeros(len(before), bool)
    for worker in model.grid_workers:
        old = model.compound_old[compound[worker.route]]
        if worker.community == c and old.any() and not old.all():
            mixed[worker.route] = True
    after = model.patrols.interval
    assert np.all(np.isinf(after[mixed & own & ~model.compound_old[compound]]))  # never walked
    sent = mixed & model.compound_old[compound]
    assert np.all(after[sent] <= before[sent]) and np.any(after[sent] < before[sent])
    assert np.array_equal(after[~own], before[~own])  # other communities' grids untouched
    model.choices.choose(c, Choice())
    model.step()
    assert np.array_equal(model.patrols.interval, before)  # back to the default routes


def test_a_patrol_focus_outlives_new_grids():
    """The teaching app's grid-size lever places the grid workers anew: the focus stays."""
    from sim.viz.controls import TeachingModel

    model = TeachingModel(policy="xining-uniform", scale=0.003, days=30, rng=5,
                          overrides={"warmup_years": 0})
    c = mixed_grid_community(model)
    focus = tuple(int(j) for j in compounds_of(model, c) if model.compound_old[j])
    model.choices.choose(c, Choice(patrol_focus=focus, patrol_share=1.0))
    model.step()
    model.request(households_per_grid=2000)  # fewer, larger grids from the next day
    model.step()
    compound = model.buildings["compound"].to_numpy()
    own = model.building_community == c
    elsewhere = own & ~model.compound_old[compound]
    assert np.isinf(model.patrols.interval[elsewhere]).any()  # still sent to the old compounds


def test_no_joint_meeting_no_settlement_and_the_cases_climb():
    base = run("tight")
    everyone = {c: Choice(joint_meeting=False) for c in range(base.n_communities)}
    none = run("tight", {0: everyone})
    assert base.totals["new_linkage_settled"].sum() > 0
    assert none.totals["new_linkage_settled"].sum() == 0
    assert (none.totals["new_escalated_co_building"].sum()
            > base.totals["new_escalated_co_building"].sum())
    assert all(lk.meetings == 0 for lk in none.linkages)


def test_the_agenda_takes_the_chosen_category_first(monkeypatch):
    """One seat at a compound's meeting, a property case waiting longer than a dispute: the
    default agenda settles the property case, a 'dispute' agenda the dispute."""
    settled = {}
    for agenda in ("oldest", "dispute"):
        model = GovernanceModel(**RUNS["tight"])
        for _ in range(10):
            model.step()
        g, linkage = model.grievances, model.linkages[0]
        ids = g.open_ids[:2]
        assert len(ids) == 2
        g.in_linkage[g.open_ids] = False
        g.in_linkage[ids], g.intractable[ids] = True, False
        g.compound[ids], g.community[ids] = linkage.compound, linkage.community
        g.category[ids] = [CATEGORIES.index("property"), CATEGORIES.index("dispute")]
        g.day_level[ids] = [1, 5]  # the property case has waited longer
        monkeypatch.setattr(model.ladder, "agenda_seats", lambda compound: np.ones(len(compound)))
        monkeypatch.setattr(model.ladder, "escalate", lambda ids: None)
        model.p["mechanisms"]["linkage_success"] = 1.0
        monkeypatch.setattr(linkage, "table", lambda: 1.0)
        model.choices.choose(linkage.community, Choice(agenda=agenda))
        model.choices.apply()
        model.ladder.hold_joint_meetings()
        resolved = ids[g.state[ids] != State.OPEN]
        settled[agenda] = [CATEGORIES[k] for k in g.category[resolved]]
    assert settled == {"oldest": ["property"], "dispute": ["dispute"]}


# ---------------------------------------------------------------- bad choices

@pytest.mark.parametrize("data, words", [
    ({"reserve_share": 1.5}, 'choice "reserve_share": expected a number from 0 to 1, got 1.5'),
    ({"reserve_share": True}, 'choice "reserve_share": expected a number'),
    ({"spending": "lavish"}, 'choice "spending": expected one of even, first_come'),
    ({"priority_categories": ["security", "parking"]},
     'choice "priority_categories": expected a list of categories'),
    ({"priority_categories": ["security", "security"]}, "(no repeats)"),
    ({"patrol_focus": [3, -1]}, 'choice "patrol_focus": expected a list of compound numbers'),
    ({"patrol_share": "half"}, 'choice "patrol_share": expected a number from 0 to 1'),
    ({"joint_meeting": "yes"}, 'choice "joint_meeting": expected true or false'),
    ({"agenda": "parking"}, 'choice "agenda": expected one of oldest, property, dispute'),
    ({"budget": 3}, 'unknown choice "budget": expected one of reserve_share'),
    ([1, 2], "expected a choice (an object of reserve_share"),
])
def test_bad_choices_are_one_clear_message(data, words):
    with pytest.raises(InputError) as error:
        Choice.from_dict(data, where="log.jsonl line 3")
    assert str(error.value).startswith("log.jsonl line 3: ")
    assert words in str(error.value)


def test_a_choice_must_fit_its_community():
    model = GovernanceModel(**RUNS["tight"])
    other = int(compounds_of(model, 1)[0])
    with pytest.raises(InputError, match=rf'"patrol_focus": compound {other} is not in commun'):
        model.choices.choose(0, Choice(patrol_focus=(other,)))
    with pytest.raises(InputError, match="expected a community number from 0 to"):
        model.choices.choose(model.n_communities, Choice())
    assert model.choices.pending == {}


def test_a_choice_round_trips_through_json():
    choice = Choice(reserve_share=0.2, priority_categories=("dispute",), patrol_focus=(4, 5),
                    patrol_share=0.7, joint_meeting=False, agenda="property")
    assert Choice.from_dict(choice.to_dict()) == choice
    assert Choice().to_dict() == {}
    assert set(FIELDS) == set(Choice.__dataclass_fields__)


def test_odd_carries_the_choices_table():
    assert markdown_table() in (ROOT / "docs" / "ODD.md").read_text(), (
        "docs/ODD.md is out of step with sim/choices.py: paste `python -m sim.choices`")

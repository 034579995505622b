"""Tests of the resident table (sim/residents.py): the agent-set face of array-backed residents."""

import numpy as np
import pytest

from sim.model import GovernanceModel
from sim.residents import COLUMNS, Resident, Residents, ResidentSet


@pytest.fixture
def table() -> Residents:
    """Ten residents in three buildings; columns not given take their defaults."""
    return Residents({
        "building": np.array([0, 0, 0, 1, 1, 1, 1, 2, 2, 2]),
        "elderly": np.array([1, 0, 0, 1, 0, 1, 0, 0, 0, 1], bool),
        "migrant": np.array([0, 1, 0, 0, 1, 1, 0, 0, 1, 0], bool),
        "trust": np.linspace(0.0, 0.9, 10),
    })


@pytest.fixture(scope="module")
def model():
    return GovernanceModel(scenario="xining-classified", scale=0.002, days=3, rng=2).run()


# ---------------------------------------------------------------- len and columns

def test_len(table):
    assert len(table) == 10
    assert len(table.all()) == 10


def test_columns_and_defaults(table):
    for name, (dtype, default, _) in COLUMNS.items():
        col = table.get(name)
        assert col.dtype == dtype, name
        assert len(col) == 10, name
        assert getattr(table, name) is col, name  # attribute and get() give the same array
    assert (table.satisfaction == np.float32(COLUMNS["satisfaction"][1])).all()
    assert (table.last_outcome == 0).all()
    np.testing.assert_allclose(table.trust, np.linspace(0.0, 0.9, 10), rtol=1e-6)
    assert table.elderly.sum() == 4


def test_unknown_column_is_an_attribute_error(table):
    with pytest.raises(AttributeError):
        table.income  # noqa: B018
    assert not hasattr(table, "income")


# ---------------------------------------------------------------- select

def test_select_by_mask(table):
    old = table.select(table.elderly)
    assert isinstance(old, ResidentSet)
    assert old.ids.tolist() == [0, 3, 5, 9]
    assert old.get("trust").tolist() == pytest.approx([0.0, 0.3, 0.5, 0.9])


def test_select_by_function(table):
    migrants = table.select(lambda t: t.migrant)
    assert migrants.ids.tolist() == [1, 4, 5, 8]
    low = table.select(lambda t: t.trust < 0.45)
    assert low.ids.tolist() == [0, 1, 2, 3, 4]


def test_select_chained(table):
    old = table.select(table.elderly)
    # a function or a full-length mask of the table, or a mask of the subset's own length
    assert old.select(lambda t: t.migrant).ids.tolist() == [5]
    assert old.select(table.migrant).ids.tolist() == [5]
    assert old.select(old.get("building") == 1).ids.tolist() == [3, 5]
    assert len(old.select(np.zeros(len(old), bool))) == 0


def test_index_by_slice_and_ids(table):
    assert table[2:5].ids.tolist() == [2, 3, 4]
    assert table[np.array([7, 1])].ids.tolist() == [7, 1]
    assert table[table.building == 2].ids.tolist() == [7, 8, 9]


def test_index_by_int_gives_one_resident(table):
    one = table[5]
    assert isinstance(one, Resident) or len(one) == 1
    assert one.unique_id == 5 if isinstance(one, Resident) else [r.unique_id for r in one] == [5]


# ---------------------------------------------------------------- agg

def test_agg(table):
    assert table.agg("trust") == pytest.approx(0.45)
    assert table.agg("trust", np.max) == pytest.approx(0.9)
    assert table.agg("elderly", np.sum) == 4
    old = table.select(table.elderly)
    assert old.agg("trust") == pytest.approx(np.mean([0.0, 0.3, 0.5, 0.9]))
    assert old.agg("building", np.max) == 2


# ---------------------------------------------------------------- iteration and views

def test_iterate_over_views(table):
    views = list(table)
    assert len(views) == 10
    assert all(isinstance(v, Resident) for v in views)
    assert [v.unique_id for v in views] == list(range(10))
    assert [v.building for v in views] == table.building.tolist()
    assert [v.elderly for v in views] == table.elderly.tolist()
    assert isinstance(views[3].trust, float) and views[3].trust == pytest.approx(0.3)
    assert [v.unique_id for v in table.select(table.migrant)] == [1, 4, 5, 8]
    assert "Resident(3" in repr(views[3])


def test_view_writes_go_to_the_table(table):
    for v in table.select(table.elderly):
        v.trust = 1.0
        v.last_outcome = -1
    assert table.trust[[0, 3, 5, 9]].tolist() == [1.0, 1.0, 1.0, 1.0]
    assert table.last_outcome.tolist() == [-1, 0, 0, -1, 0, -1, 0, 0, 0, -1]
    assert table.trust[1] == pytest.approx(0.1)  # others untouched
    assert table.trust.dtype == np.float32  # a write keeps the column's type


def test_table_writes_show_in_views(table):
    view = next(iter(table.select(table.building == 2)))
    table.satisfaction[view.unique_id] = 0.25
    assert view.satisfaction == pytest.approx(0.25)
    table.trust[:] = 0.5  # in place: the column stays the one the views read
    assert view.trust == pytest.approx(0.5)


def test_view_of_unknown_column(table):
    view = next(iter(table))
    with pytest.raises(AttributeError):
        view.income  # noqa: B018


def test_view_write_of_unknown_column_is_an_attribute_error(table):
    view = next(iter(table))
    with pytest.raises(AttributeError):
        view.income = 3


# ---------------------------------------------------------------- the model's residents

def test_model_residents(model):
    r = model.residents
    assert isinstance(r, Residents)
    assert len(r) == int(model.building_residents.sum()) == model.summary()["residents"].iloc[-1]
    assert all(len(r.get(name)) == len(r) for name in COLUMNS)
    # residents are sorted by building and live where their building is
    assert (np.diff(r.building) >= 0).all()
    buildings = model.buildings
    assert (buildings["compound"].to_numpy()[r.building] == r.compound).all()
    assert (buildings["community"].to_numpy()[r.building] == r.community).all()
    for name in ("satisfaction", "expectation", "trust"):
        assert r.agg(name, np.min) >= 0 and r.agg(name, np.max) <= 1


def test_building_sums_match_the_table():
    """The influence phase sums each building's slice of the table, taken before it moves the
    columns: the sums are of the columns as the phase found them."""
    from sim import phases

    model = GovernanceModel(scale=0.002, days=3, rng=2, warmup_years=0).run()
    r = model.residents
    before = {name: r.get(name).astype(float) for name in ("satisfaction", "trust")}
    phases.influence(model)
    for name, column in before.items():
        expected = np.bincount(r.building, column, minlength=len(model.buildings))
        np.testing.assert_allclose(model.building_sums[name], expected, rtol=1e-5, atol=1e-4)
        assert not np.array_equal(r.get(name), column)  # and then the column moved


def test_model_residents_select_and_agg(model):
    r = model.residents
    elderly = r.select(r.elderly)
    assert len(elderly) == int(r.elderly.sum()) > 0
    assert elderly.agg("trust") == pytest.approx(float(r.trust[r.elderly].mean()))
    migrants = r.select(lambda t: t.migrant)
    assert 0 < len(migrants) < len(r)
    assert 0.03 < r.agg("party_member", np.mean) < 0.15
    first_building = r.select(r.building == 0)
    assert [v.building for v in first_building] == [0] * len(first_building)

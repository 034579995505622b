"""Tests of sim/scenario.py: the shipped scenarios, `extends`, overrides, the template, and one
clear `InputError` for every malformed file in tests/data/bad/."""

import os
import tomllib
from pathlib import Path

import numpy as np
import pytest

from sim.errors import InputError
from sim.model import GovernanceModel
from sim.parameters import SCHEMA, defaults
from sim.scenario import (
    DEFAULT_SCENARIO, SCENARIO_DIR, load, shipped_scenarios, synthetic_min_population, template,
)

DATA = Path(__file__).parent / "data"
BAD = DATA / "bad"


def check(path):
    """Everything `shequ validate` checks: the file, its city (CSV, classes) and its funding."""
    return GovernanceModel(scenario=load(path), scale=1e-4, days=1)


# ---------------------------------------------------------------- shipped scenarios

def test_shipped_scenarios_listed():
    assert {"xining-uniform", "xining-classified"} <= set(shipped_scenarios())
    assert DEFAULT_SCENARIO in shipped_scenarios()


@pytest.mark.parametrize("name", shipped_scenarios())
def test_shipped_scenario_is_valid(name):
    s = load(name)
    assert s.name == name
    assert s.description
    assert set(s.params) == set(SCHEMA)
    for section, params in SCHEMA.items():
        assert set(s[section]) == set(params), section
    model = check(s.path)
    total = s["funding"]["total"]
    assert int(model.funds.sum()) == total if total else model.funds.sum() > 0


def test_load_by_name_path_or_default():
    by_name = load("xining-classified")
    assert load(SCENARIO_DIR / "xining-classified.toml").params == by_name.params
    assert load().params == load(DEFAULT_SCENARIO).params


def test_uniform_and_calibrated_list_every_parameter():
    """The baseline lists every parameter except those fitted by `shequ calibrate`, which are in
    calibrated.toml (the baseline extends it); other scenarios extend the baseline."""
    raw = {}
    for name in ("calibrated", "xining-uniform"):
        with open(SCENARIO_DIR / f"{name}.toml", "rb") as f:
            for section, values in tomllib.load(f).items():
                if isinstance(values, dict):
                    assert not set(values) & set(raw.get(section, {})), (name, section)
                    raw.setdefault(section, {}).update(values)
    for section, params in SCHEMA.items():
        assert set(raw[section]) == set(params), section
    assert load("xining-uniform")["funding"]["total"] == 35_600_000


def test_classified_extends_uniform():
    uniform, classified = load("xining-uniform"), load("xining-classified")
    # behaviour, mechanisms, city and run are inherited unchanged
    for section in ("behaviour", "mechanisms", "city", "run", "classification"):
        assert classified[section] == uniform[section], section
    # funding and measures are overridden, key by key (uniform amount still inherited)
    assert classified["funding"]["scheme"] == "by_class"
    assert classified["funding"]["by_class"] == {"A": 150_000, "B": 300_000, "C": 150_000,
                                                 "D": 100_000}
    assert classified["funding"]["total"] == 35_600_000
    assert classified["funding"]["uniform"] == uniform["funding"]["uniform"]
    assert classified["measures"]["A"] == ["red_property"]
    assert classified["measures"]["D"] == ["central_households"]
    assert all(uniform["measures"][c] == [] for c in "ABCD")
    # name and description are its own
    assert classified.name == "xining-classified" != uniform.name
    assert classified.description != uniform.description
    assert [Path(f).name for f in classified.files] == ["xining-classified.toml",
                                                        "xining-uniform.toml", "calibrated.toml"]


def test_name_and_description_not_inherited(tmp_path):
    child = tmp_path / "my-world.toml"
    child.write_text(f'extends = "{SCENARIO_DIR / "xining-classified.toml"}"\n'
                     "[run]\ndays = 30\n")
    s = load(child)
    assert s.name == "my-world"
    assert s.description == ""
    assert s["run"]["days"] == 30
    assert s["funding"]["scheme"] == "by_class"  # two levels up the chain


def test_extends_merges_nested_tables(tmp_path):
    child = tmp_path / "child.toml"
    child.write_text(f'extends = "{SCENARIO_DIR / "xining-uniform.toml"}"\n'
                     "[behaviour]\nsuccess.departments.property = 0.9\n"
                     "arise_rate.dispute = 0.5\n")
    s, base = load(child), load("xining-uniform")
    assert s["behaviour"]["success"]["departments"]["property"] == 0.9
    assert s["behaviour"]["success"]["departments"]["dispute"] == \
        base["behaviour"]["success"]["departments"]["dispute"]
    assert s["behaviour"]["success"]["grassroots"] == base["behaviour"]["success"]["grassroots"]
    assert s["behaviour"]["arise_rate"]["dispute"] == 0.5
    assert s["behaviour"]["arise_rate"]["property"] == base["behaviour"]["arise_rate"]["property"]


def test_few_keys_default_the_rest(tmp_path):
    path = tmp_path / "short.toml"
    path.write_text("[run]\ndays = 10\n")
    s = load(path)
    expected = defaults()
    expected["run"]["days"] = 10
    assert s.params == expected


def test_numbers_take_their_parameter_type(tmp_path):
    """A whole number for a float parameter is a float (numpy arrays of it stay float)."""
    path = tmp_path / "ints.toml"
    path.write_text("[behaviour]\nchannel_weight = { app = 1, hotline = 1, grid = 2 }\n"
                    "[run]\ndays = 30.0\nscale = 1\n")
    s = load(path)
    assert all(type(v) is float for v in s["behaviour"]["channel_weight"].values())
    assert type(s["run"]["days"]) is int and s["run"]["days"] == 30
    assert type(s["run"]["scale"]) is float


def test_csv_source_relative_to_its_file(tmp_path):
    s = load(DATA / "small-city.toml")
    assert Path(s["city"]["source"]).resolve() == (DATA / "small-city.csv").resolve()
    model = check(DATA / "small-city.toml")
    assert model.n_communities == 12
    assert int(model.funds.sum()) == 2_100_000
    # a file elsewhere extending it still finds the CSV next to the file that names it
    child = tmp_path / "child.toml"
    child.write_text(f'extends = "{DATA / "small-city.toml"}"\n')
    assert Path(load(child)["city"]["source"]).resolve() == (DATA / "small-city.csv").resolve()


def test_csv_source_is_absolute_whatever_the_working_folder(monkeypatch):
    monkeypatch.chdir(DATA.parent)
    s = load("data/small-city.toml")  # a relative path to the scenario, as a user types it
    assert s["city"]["source"] == str((DATA / "small-city.csv").resolve())
    assert s.city_csv == (DATA / "small-city.csv").read_text()
    monkeypatch.chdir(DATA)
    assert load("small-city.toml").params == s.params


def copy_small_city(folder: Path) -> Path:
    (folder / "city.csv").write_bytes((DATA / "small-city.csv").read_bytes())
    path = folder / "city.toml"
    path.write_text((DATA / "small-city.toml").read_text()
                    .replace("../../scenarios", str(SCENARIO_DIR)).replace("small-city.csv",
                                                                           "city.csv"))
    return path


def test_the_model_builds_a_csv_city_from_the_text_it_carries(tmp_path):
    """Loaded once, the scenario needs the file no more (a cluster's worker has none)."""
    scenario = load(copy_small_city(tmp_path))
    (tmp_path / "city.csv").unlink()
    model = GovernanceModel(scenario=scenario, scale=1e-4, days=1, rng=3)
    assert model.n_communities == 12 and model.communities["name"].iloc[0] == "community-01"


def test_the_city_cache_keys_on_contents_not_time_stamps(tmp_path):
    path = copy_small_city(tmp_path)
    csv = tmp_path / "city.csv"
    before = check(path).communities["population"].iloc[0]
    stamp = csv.stat().st_mtime_ns
    csv.write_text(csv.read_text().replace("community-01,core,15294", "community-01,core,15000"))
    os.utime(csv, ns=(stamp, stamp))  # edited within the file system's time resolution
    assert (before, check(path).communities["population"].iloc[0]) == (15294, 15000)


def test_an_overridden_csv_source_is_relative_to_the_given_folder(tmp_path, monkeypatch):
    copy_small_city(tmp_path)
    monkeypatch.chdir(DATA)  # not where the CSV is
    s = load("xining-classified").with_overrides({"city": {"source": "city.csv"}}, "set",
                                                 folder=tmp_path)
    assert s["city"]["source"] == str(tmp_path / "city.csv")
    assert s.city_csv == (tmp_path / "city.csv").read_text()
    with pytest.raises(InputError, match=r'set: key "city.source": expected .*existing CSV'):
        load("xining-classified").with_overrides({"city": {"source": "city.csv"}}, "set")


def test_missing_scenario():
    with pytest.raises(InputError, match=r"no-such-world.*expected"):
        load("no-such-world")
    with pytest.raises(InputError, match=r"no-such-world\.toml.*expected"):
        load("no-such-world.toml")


# ---------------------------------------------------------------- with_overrides

def test_with_overrides_copies_and_validates():
    base = load("xining-classified")
    before = base["funding"]["by_class"].copy()
    s = base.with_overrides({"funding": {"by_class": {"B": 250_000}}, "run": {"days": 10}})
    assert s["funding"]["by_class"] == {**before, "B": 250_000}
    assert s["run"]["days"] == 10
    assert base["funding"]["by_class"] == before  # the original is untouched
    assert base["run"]["days"] == 365
    assert (s.name, s.path, s.files) == (base.name, base.path, base.files)


@pytest.mark.parametrize("overrides, key", [
    ({"run": {"days": 0}}, "run.days"),
    ({"run": {"scale": "big"}}, "run.scale"),
    ({"funding": {"scheme": "lottery"}}, "funding.scheme"),
    ({"funding": {"by_class": {"E": 1}}}, "funding.by_class.E"),
    ({"measures": {"A": ["free_lunch"]}}, "measures.A"),
    ({"nonsense": {}}, "nonsense"),
    ({"run": {"nonsense": 1}}, "run.nonsense"),
    ({"city": {"population": 100_000}}, "city.population"),
    ({"behaviour": {"channel_weight": {"app": 0, "hotline": 0, "grid": 0}}},
     "behaviour.channel_weight"),
])
def test_with_overrides_errors_name_origin_and_key(overrides, key):
    with pytest.raises(InputError) as err:
        load("xining-uniform").with_overrides(overrides, origin="my sweep")
    msg = str(err.value)
    assert msg.startswith("my sweep: ")
    assert key in msg and "expected" in msg


def test_model_keyword_overrides():
    model = GovernanceModel(scenario="xining-uniform", scale=1e-4, days=2, households_per_grid=800)
    assert model.p["mechanisms"]["households_per_grid"] == 800
    with pytest.raises(InputError, match=r'"mechanisms.households_per_grid": expected'):
        GovernanceModel(scenario="xining-uniform", scale=1e-4, days=2, households_per_grid=-1)


def test_numpy_numbers_accepted():
    """A sweep (e.g. Mesa's batch_run over np.linspace) passes numpy numbers: plain ones result."""
    s = load("xining-uniform").with_overrides(
        {"mechanisms": {"households_per_grid": np.int64(800), "staff_capacity": np.float32(2)}})
    assert type(s["mechanisms"]["households_per_grid"]) is int
    assert type(s["mechanisms"]["staff_capacity"]) is float
    with pytest.raises(InputError, match=r'"mechanisms.four_party_linkage": expected true or false'):
        load("xining-uniform").with_overrides({"mechanisms": {"four_party_linkage": 1}})


# ---------------------------------------------------------------- template

def test_template_round_trips_defaults(tmp_path):
    text = template(name="t", description="all defaults")
    raw = tomllib.loads(text)
    assert set(raw) == {"name", "description", *SCHEMA}
    path = tmp_path / "t.toml"
    path.write_text(text, encoding="utf-8")
    s = load(path)
    assert s.params == defaults()
    assert (s.name, s.description) == ("t", "all defaults")


def test_template_round_trips_a_scenario(tmp_path):
    classified = load("xining-classified")
    path = tmp_path / "copy.toml"
    path.write_text(template(classified.params, "copy"), encoding="utf-8")
    assert load(path).params == classified.params


def test_template_documents_every_key():
    text = template()
    for section, params in SCHEMA.items():
        assert f"[{section}]" in text
        for p in params.values():
            assert f"# {p.meaning} [{p.unit}; source: {p.source}]" in text


def test_synthetic_minimum_population_builds(tmp_path):
    path = tmp_path / "small.toml"
    path.write_text(f"[city]\npopulation = {synthetic_min_population()}\n")
    assert check(path).communities["population"].sum() == synthetic_min_population()


# ---------------------------------------------------------------- malformed files

# file -> (file named in the message, key or line/column named in the message)
BAD_FILES = {
    "unknown-key.toml": ("unknown-key.toml", '"run.dayz"'),
    "unknown-section.toml": ("unknown-section.toml", '"fundng"'),
    "wrong-type.toml": ("wrong-type.toml", '"run.days"'),
    "out-of-range.toml": ("out-of-range.toml", '"city.party_member_share"'),
    "bad-choice.toml": ("bad-choice.toml", '"funding.scheme"'),
    "unknown-measure.toml": ("unknown-measure.toml", '"measures.A"'),
    "total-does-not-add-up.toml": ("total-does-not-add-up.toml", '"funding.total"'),
    "uniform-total-mismatch.toml": ("uniform-total-mismatch.toml", '"funding.total"'),
    "extends-missing.toml": ("extends-missing.toml", '"extends"'),
    "extends-cycle-a.toml": ("extends-cycle-a.toml", '"extends"'),
    "extends-cycle-b.toml": ("extends-cycle-b.toml", '"extends"'),
    "extends-not-string.toml": ("extends-not-string.toml", '"extends"'),
    "extends-bad-parent.toml": ("wrong-type.toml", '"run.days"'),  # the bad file is the parent
    "not-toml.toml": ("not-toml.toml", "line 3, column 7"),
    "not-utf8.toml": ("not-utf8.toml", "line 1"),
    "needs-based-without-total.toml": ("needs-based-without-total.toml", '"funding.total"'),
    "by-class-without-classification.toml": ("by-class-without-classification.toml",
                                             '"funding.scheme"'),
    "csv-missing-column.toml": ("csv-missing-column.csv", "line 1"),
    "csv-non-numeric.toml": ("csv-non-numeric.csv", 'line 4, column "population"'),
    "csv-missing-file.toml": ("csv-missing-file.toml", '"city.source"'),
    "float-for-integer.toml": ("float-for-integer.toml", '"run.days"'),
    "bool-for-number.toml": ("bool-for-number.toml", '"run.scale"'),
    "number-for-bool.toml": ("number-for-bool.toml", '"funding.allow_overdraft"'),
    "string-for-list.toml": ("string-for-list.toml", '"measures.B"'),
    "duplicate-measure.toml": ("duplicate-measure.toml", '"measures.A"'),
    "unknown-nested-key.toml": ("unknown-nested-key.toml", '"funding.by_class.E"'),
    "scalar-for-table.toml": ("scalar-for-table.toml", '"behaviour.success"'),
    "section-not-table.toml": ("section-not-table.toml", '"run"'),
    "nan-value.toml": ("nan-value.toml", '"behaviour.voice_base"'),
    "population-below-floors.toml": ("population-below-floors.toml", '"city.population"'),
    "measures-without-classification.toml": ("measures-without-classification.toml",
                                             '"measures.B"'),
}


def test_every_bad_file_is_tested():
    assert sorted(p.name for p in BAD.glob("*.toml")) == sorted(BAD_FILES)
    assert len(BAD_FILES) >= 12


@pytest.mark.parametrize("name", sorted(BAD_FILES))
def test_bad_file_one_clear_error(name):
    file, key = BAD_FILES[name]
    with pytest.raises(InputError) as err:
        check(BAD / name)
    msg = str(err.value)
    assert file in msg, msg
    assert key in msg, msg
    assert "expected" in msg, msg
    assert "\n" not in msg, msg


def test_missing_column_named():
    with pytest.raises(InputError, match="missing column.*infrastructure"):
        check(BAD / "csv-missing-column.toml")


def test_total_error_gives_the_sum():
    with pytest.raises(InputError, match=r"35,600,000.*39,100,000"):
        check(BAD / "total-does-not-add-up.toml")

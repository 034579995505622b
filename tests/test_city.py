"""Tests of sim/city.py: synthetic Xining, classify, CSV input, compounds, buildings, residents."""

import math
import time

import networkx as nx
import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings, strategies as st

from sim import city
from sim.errors import InputError

XINING = {"A": 70, "B": 66, "C": 22, "D": 20}


def class_counts(communities, rules=None):
    labels = city.classify(communities, rules or city.PUBLISHED_RULES)
    return {c: int((labels == c).sum()) for c in "ABCD"}


@pytest.fixture(scope="module")
def xining():
    """Full-scale city, seed 7: communities, compounds, buildings, graph."""
    rng = np.random.default_rng(7)
    communities = city.synthetic_xining(rng)
    compounds = city.build_compounds(communities, rng)
    buildings, graph = city.build_buildings(compounds, rng)
    return communities, compounds, buildings, graph


# ---------------------------------------------------------------- synthetic Xining

def check_synthetic(communities, total=2_000_000):
    assert list(communities.columns) == list(city.COMMUNITY_COLUMNS)
    assert list(communities.index) == list(range(len(communities)))
    assert communities["population"].sum() == total
    assert (communities["population"] >= 1).all()
    assert (communities["old_compound_residents"] >= 0).all()
    assert (communities["old_compound_residents"] <= communities["population"]).all()
    commercial = (communities["commercial_share"] * communities["population"]).round()
    assert (commercial + communities["old_compound_residents"] <= communities["population"]).all()
    for col in ("commercial_share", "migrant_share", "elderly_share", "property_coverage",
                "infrastructure"):
        assert communities[col].between(0, 1).all(), col
    assert set(communities["location"]) <= set(city.LOCATIONS)
    assert communities["name"].is_unique


@pytest.mark.parametrize("seed", [0, 1, 2, 3])
def test_synthetic_xining_classifies_exactly(seed):
    communities = city.synthetic_xining(np.random.default_rng(seed))
    check_synthetic(communities)
    assert class_counts(communities) == XINING


@settings(max_examples=10, deadline=None)
@given(seed=st.integers(0, 2**32 - 1))
def test_synthetic_xining_any_seed(seed):
    communities = city.synthetic_xining(np.random.default_rng(seed))
    check_synthetic(communities)
    assert class_counts(communities) == XINING
    labels = city.classify(communities, city.PUBLISHED_RULES)
    assert communities["population"][labels == "D"].between(1500, 5000).all()
    assert (communities["population"][labels == "B"] >= 6000).all()


def test_synthetic_other_counts_and_total():
    counts = {"A": 5, "B": 4, "C": 3, "D": 2}
    communities = city.synthetic_xining(np.random.default_rng(5), counts, total_population=150_000)
    check_synthetic(communities, total=150_000)
    assert class_counts(communities) == counts


def test_synthetic_is_deterministic_and_interleaved():
    a = city.synthetic_xining(np.random.default_rng(11))
    b = city.synthetic_xining(np.random.default_rng(11))
    pd.testing.assert_frame_equal(a, b)
    labels = city.classify(a, city.PUBLISHED_RULES)
    assert not (labels[:70] == "A").all()  # shuffled, not sorted by class
    assert not a["name"].str.contains("A|B|C|D").any()  # names do not reveal the class


def test_moving_thresholds_reclassifies_some():
    communities = city.synthetic_xining(np.random.default_rng(0))
    base = city.classify(communities, city.PUBLISHED_RULES)
    moved = city.classify(communities, {**city.PUBLISHED_RULES,
                                        "old_residents_max_a": 3000, "old_residents_min_b": 3000})
    assert (base != moved).sum() >= 1
    bigger_b = city.classify(communities, {**city.PUBLISHED_RULES, "population_min_b": 8000})
    assert (base != bigger_b).sum() >= 1


# ---------------------------------------------------------------- classify

def test_classify_rules_and_fallback():
    table = pd.DataFrame({
        "location": ["core", "core", "core", "core", "fringe", "township"],
        "population": [10_000, 10_000, 4_000, 10_000, 10_000, 3_000],
        "old_compound_residents": [1_000, 5_000, 500, 1_000, 9_000, 2_500],
        "commercial_share": [0.60, 0.20, 0.20, 0.56, 0.90, 0.0],
    })
    rules = dict(city.PUBLISHED_RULES)
    labels = city.classify(table, rules)
    assert labels.dtype == np.dtype("<U1")
    # A rule; B rule; neither -> fallback A; A; fringe; township
    assert labels.tolist() == ["A", "B", "A", "A", "C", "D"]
    labels = city.classify(table, {**rules, "fallback_class": "B", "commercial_share_min": 0.58})
    assert labels.tolist() == ["A", "B", "B", "B", "C", "D"]


def test_classify_a_wins_when_both_rules_hold():
    table = pd.DataFrame({"location": ["core"], "population": [20_000],
                          "old_compound_residents": [3_600], "commercial_share": [0.6]})
    rules = {**city.PUBLISHED_RULES, "old_residents_max_a": 4000}
    assert city.classify(table, rules).tolist() == ["A"]


def test_classify_rejects_unknown_rule_key():
    table = city.synthetic_xining(np.random.default_rng(0))
    with pytest.raises(ValueError, match="commercial_min"):
        city.classify(table, {"commercial_min": 0.5})


# ---------------------------------------------------------------- CSV

def test_csv_round_trip(tmp_path):
    communities = city.synthetic_xining(np.random.default_rng(2))
    path = tmp_path / "communities.csv"
    communities.to_csv(path, index=False)
    pd.testing.assert_frame_equal(city.load_communities_csv(path), communities)


def write_bad(tmp_path, change):
    """Write a small synthetic table after `change(df)`; return its path."""
    df = city.synthetic_xining(np.random.default_rng(3), {"A": 3, "B": 3, "C": 2, "D": 2},
                               total_population=100_000)
    df = df.astype({c: object for c in df.columns})
    df = change(df) if change else df
    path = tmp_path / "communities.csv"
    df.to_csv(path, index=False)
    return path


def set_cell(row, col, value):
    def change(df):
        df.loc[row, col] = value
        return df
    return change


# (change, words the message must contain); data row 5 is line 7 of the file.
BAD_CSVS = {
    "missing column": (lambda df: df.drop(columns=["migrant_share"]), ["migrant_share", "line 1"]),
    "extra column": (lambda df: df.assign(mayor="x"), ["mayor", "line 1"]),
    "non-numeric": (set_cell(5, "migrant_share", "abc"), ["line 7", '"migrant_share"', "abc"]),
    "share above 1": (set_cell(5, "elderly_share", 1.2), ["line 7", '"elderly_share"', "[0, 1]"]),
    "negative share": (set_cell(0, "infrastructure", -0.1), ["line 2", '"infrastructure"']),
    "bad location": (set_cell(4, "location", "suburb"), ["line 6", '"location"', "suburb"]),
    "old above population": (set_cell(2, "old_compound_residents", 10**7),
                             ["line 4", '"old_compound_residents"']),
    "population zero": (set_cell(1, "population", 0), ["line 3", '"population"']),
    "fractional population": (set_cell(1, "population", 12.5), ["line 3", '"population"']),
    "duplicate name": (set_cell(3, "name", "community-001"), ["line 5", '"name"', "line"]),
    "commercial plus old too many": (set_cell(2, "commercial_share", 1.0),
                                     ["line 4", '"commercial_share"']),
}


@pytest.mark.parametrize("case", sorted(BAD_CSVS))
def test_csv_errors(tmp_path, case):
    change, words = BAD_CSVS[case]
    path = write_bad(tmp_path, change)
    with pytest.raises(InputError) as err:
        city.load_communities_csv(path)
    message = str(err.value)
    assert "communities.csv" in message and "expected" in message
    for word in words:
        assert word in message, (word, message)


def test_csv_missing_and_empty_files(tmp_path):
    for path, content in [(tmp_path / "communities.csv", None),
                          (tmp_path / "communities.csv", ""),
                          (tmp_path / "communities.csv", ",".join(city.COMMUNITY_COLUMNS) + "\n")]:
        if content is not None:
            path.write_text(content)
        with pytest.raises(InputError) as err:
            city.load_communities_csv(path)
        assert "communities.csv" in str(err.value) and "expected" in str(err.value)


def test_csv_accepts_any_column_order_and_blank_lines(tmp_path):
    communities = city.synthetic_xining(np.random.default_rng(4), {"A": 2, "B": 2, "C": 1, "D": 1},
                                        total_population=60_000)
    path = tmp_path / "communities.csv"
    text = communities[list(reversed(communities.columns))].to_csv(index=False)
    path.write_text(text + "\n\n")
    pd.testing.assert_frame_equal(city.load_communities_csv(path), communities)


# ---------------------------------------------------------------- CSV size bounds

HEADER = ",".join(city.COMMUNITY_COLUMNS)


def csv_of(tmp_path, populations, name="big.csv"):
    """A CSV city with one core community per population (old residents: none)."""
    path = tmp_path / name
    rows = (f"c{i},core,{p},0,0.5,0.1,0.2,0.5,0.5" for i, p in enumerate(populations))
    path.write_text(HEADER + "\n" + "\n".join(rows) + "\n")
    return path


def one_line(call) -> str:
    with pytest.raises(InputError) as err:
        call()
    message = str(err.value)
    assert len(message.splitlines()) == 1 and len(message) < 400, message
    return message


@pytest.mark.parametrize("population", ["1e12", "1e20", "1000001", "9" * 5000])
def test_csv_population_of_one_community_is_bounded(tmp_path, population):
    message = one_line(lambda: city.load_communities_csv(csv_of(tmp_path, [1000, population])))
    assert 'line 3, column "population"' in message
    assert f"from 1 to {city.MAX_COMMUNITY_POPULATION:,}" in message


def test_csv_population_of_the_city_is_bounded_but_ten_million_fit(tmp_path):
    """A 10,000,000-resident city loads (a later issue runs one); over 50,000,000 does not."""
    ten_million = city.load_communities_csv(csv_of(tmp_path, [20_000] * 500))
    assert ten_million["population"].sum() == 10_000_000
    too_many = csv_of(tmp_path, [1_000_000] * 51)
    message = one_line(lambda: city.load_communities_csv(too_many))
    assert 'line 52, column "population"' in message and "50,000,000 residents in all" in message


def test_csv_rows_are_bounded_to_fit_16_bit_community_ids(tmp_path):
    most = city.load_communities_csv(csv_of(tmp_path, [1000] * city.MAX_COMMUNITIES))
    assert len(most) == city.MAX_COMMUNITIES <= np.iinfo(np.int16).max
    message = one_line(lambda: city.load_communities_csv(
        csv_of(tmp_path, [1000] * 40_000)))  # once: validated, then crashed building the city
    assert "at most 10,000 communities" in message and "16-bit" in message
    assert "40,001 lines" in message


def test_a_million_row_csv_is_refused_within_seconds(tmp_path):
    path = csv_of(tmp_path, [1000] * 1_000_000)
    assert path.stat().st_size > city.MAX_CSV_BYTES
    start = time.perf_counter()
    message = one_line(lambda: city.load_communities_csv(path))
    assert time.perf_counter() - start < 1
    assert "at most 16 MB (10,000 communities)" in message and "1,000,001 lines" in message


def test_csv_bad_cells_are_quoted_short_on_one_line(tmp_path):
    path = tmp_path / "cells.csv"
    path.write_text(HEADER + '\n"a\nb",suburb,1,0,0,0,0,0,0\n')
    assert 'got "suburb"' in one_line(lambda: city.load_communities_csv(path))
    path.write_text(HEADER + "\nx," + "y" * 10_000 + ",1,0,0,0,0,0,0\n")
    assert '"yyyy' in one_line(lambda: city.load_communities_csv(path))
    path.write_text(HEADER + ',"one\ntwo"\n')
    assert 'unknown column(s) "one\\ntwo"' in one_line(lambda: city.load_communities_csv(path))


# ---------------------------------------------------------------- compounds

def test_compounds(xining):
    communities, compounds, _, _ = xining
    assert list(compounds.columns) == ["community", "kind", "population", "has_property_company",
                                       "has_owners_committee", "three_no"]
    sums = compounds.groupby("community")["population"].sum()
    assert (sums.to_numpy() == communities["population"].to_numpy()).all()
    assert set(compounds["community"]) == set(range(len(communities)))
    assert compounds.loc[compounds["kind"] == "commercial", "has_property_company"].all()
    three_no = compounds[compounds["three_no"]]
    assert not three_no["has_property_company"].any() and not three_no["has_owners_committee"].any()
    assert (three_no["kind"] == "old").all() and len(three_no) > 0
    assert (compounds["population"] <= 2500).all()
    # rest kinds follow the community's location
    loc = communities["location"].to_numpy()[compounds["community"]]
    rest = compounds["kind"].isin(["unit", "resettlement", "rural"]).to_numpy()
    expect = pd.Series(loc[rest]).map(city._REST_KIND).to_numpy()
    assert (compounds["kind"].to_numpy()[rest] == expect).all()


def test_compounds_split_counts():
    table = pd.DataFrame({"name": ["x"], "location": ["core"], "population": [10_001],
                          "old_compound_residents": [0], "commercial_share": [0.5],
                          "migrant_share": [0.1], "elderly_share": [0.1],
                          "property_coverage": [0.5], "infrastructure": [0.5]})
    compounds = city.build_compounds(table, np.random.default_rng(0))
    # commercial round(5000.5)=5000 -> 2 compounds; no old part; unit 5001 -> 3 compounds
    assert compounds["kind"].tolist() == ["commercial"] * 2 + ["unit"] * 3
    assert compounds["population"].tolist() == [2500, 2500, 1667, 1667, 1667]


# ---------------------------------------------------------------- buildings and graph

def test_buildings_shrink_with_scale(xining):
    _, compounds, buildings, _ = xining
    rng = np.random.default_rng(0)
    small, _ = city.build_buildings(compounds, rng, scale=0.1)
    tiny, _ = city.build_buildings(compounds, rng, scale=0.01)
    assert len(buildings) > len(small) > len(tiny) >= len(compounds)
    assert len(tiny) <= 1.1 * len(compounds)  # 1:100 -> about one building per compound
    assert 10_000 < len(buildings) < 16_000
    for table in (buildings, small, tiny):
        sums = table.groupby("compound")["population"].sum()
        assert (sums.to_numpy() == compounds["population"].to_numpy()).all()
        spread = table.groupby("compound")["population"].agg(lambda p: p.max() - p.min())
        assert (spread <= 1).all()


def test_graph_structure(xining):
    _, compounds, buildings, graph = xining
    check_graph(compounds, buildings, graph)


@pytest.mark.parametrize("scale", [0.1, 0.01])
def test_graph_structure_scaled(xining, scale):
    _, compounds, _, _ = xining
    buildings, graph = city.build_buildings(compounds, np.random.default_rng(1), scale=scale)
    check_graph(compounds, buildings, graph)


def check_graph(compounds, buildings, graph):
    n = len(buildings)
    assert sorted(graph.nodes) == list(range(n))
    assert nx.number_of_selfloops(graph) == 0
    comp = buildings["compound"].to_numpy()
    comm = buildings["community"].to_numpy()
    assert all(graph.nodes[i]["compound"] == comp[i] and graph.nodes[i]["community"] == comm[i]
               for i in range(n))
    assert (comm == compounds["community"].to_numpy()[comp]).all()
    edges = np.array(graph.edges)
    assert (comm[edges[:, 0]] == comm[edges[:, 1]]).all()  # communities are not joined
    degree = np.array([d for _, d in sorted(graph.degree)])
    per_community = np.bincount(comm)
    assert (degree[per_community[comm] > 1] >= 1).all()
    assert (degree[per_community[comm] == 1] == 0).all()
    inside = comp[edges[:, 0]] == comp[edges[:, 1]]
    within_deg = np.bincount(edges[inside].ravel(), minlength=n)
    size = np.bincount(comp)[comp]
    small = (size > 1) & (size <= 12)
    assert (within_deg[small] == size[small] - 1).all()  # complete in small compounds
    big = size > 12
    if big.any():  # ring plus 2 random links each: 3 edges per building, fewer if repeated
        assert (within_deg[big] >= 2).all()
        assert 5 < within_deg[big].mean() <= 6
    # consecutive compounds of a community are joined by at least one edge
    pairs = {tuple(sorted(p)) for p in zip(comp[edges[~inside, 0]], comp[edges[~inside, 1]])}
    for c, ids in compounds.groupby("community").groups.items():
        ids = list(ids)
        for a, b in zip(ids, ids[1:]):
            assert (a, b) in pairs


def test_graph_is_fast(xining):
    import time
    _, compounds, _, _ = xining
    start = time.perf_counter()
    city.build_buildings(compounds, np.random.default_rng(0))
    assert time.perf_counter() - start < 1.0  # generous; typically ~0.1 s


# ---------------------------------------------------------------- residents

def test_residents_full_scale_exact(xining):
    communities, compounds, buildings, _ = xining
    residents = city.sample_residents(buildings, communities, compounds, 1.0,
                                      np.random.default_rng(0))
    assert len(residents["building"]) == communities["population"].sum() == 2_000_000
    counts = np.bincount(residents["building"], minlength=len(buildings))
    assert (counts == buildings["population"].to_numpy()).all()
    assert residents["building"].dtype == np.int32 and residents["community"].dtype == np.int16
    assert (np.diff(residents["building"]) >= 0).all()
    b = residents["building"]
    assert (residents["compound"] == buildings["compound"].to_numpy()[b]).all()
    assert (residents["community"] == buildings["community"].to_numpy()[b]).all()
    assert abs(residents["party_member"].mean() - 0.08) < 0.002
    # elderly share per community follows the table (n >= 1,500 each; 5 sd of a binomial share)
    n = np.bincount(residents["community"])
    elderly = np.bincount(residents["community"], weights=residents["elderly"]) / n
    p = communities["elderly_share"].to_numpy()
    assert (np.abs(elderly - p) < 5 * np.sqrt(p * (1 - p) / n)).all()


@pytest.mark.parametrize("scale", [0.1, 0.01, 0.003])
def test_residents_scaled_size(xining, scale):
    communities, compounds, _, _ = xining
    rng = np.random.default_rng(5)
    buildings, _ = city.build_buildings(compounds, rng, scale=scale)
    residents = city.sample_residents(buildings, communities, compounds, scale, rng)
    # The expected size is exactly total*scale; each building adds one Bernoulli, whose
    # variance is at most 1/4, so sd <= sqrt(n_buildings)/2; allow 4 sd.
    tolerance = 4 * math.sqrt(len(buildings)) / 2
    assert abs(len(residents["building"]) - 2_000_000 * scale) <= tolerance
    assert (np.diff(residents["building"]) >= 0).all()


def test_residents_deterministic(xining):
    communities, compounds, _, _ = xining
    runs = []
    for _ in range(2):
        rng = np.random.default_rng(9)
        buildings, _ = city.build_buildings(compounds, rng, scale=0.05)
        runs.append(city.sample_residents(buildings, communities, compounds, 0.05, rng))
    assert runs[0].keys() == runs[1].keys()
    for key in runs[0]:
        assert np.array_equal(runs[0][key], runs[1][key])


def test_resettlement_has_more_migrants(xining):
    communities, compounds, buildings, _ = xining
    residents = city.sample_residents(buildings, communities, compounds, 1.0,
                                      np.random.default_rng(1))
    kind = compounds["kind"].to_numpy()[residents["compound"]]
    fringe = communities["location"].to_numpy()[residents["community"]] == "fringe"
    assert residents["migrant"][fringe & (kind == "resettlement")].mean() > \
        residents["migrant"][fringe & (kind != "resettlement")].mean() + 0.1

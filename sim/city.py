"""The city: communities (社区), compounds (小区), buildings (楼院) and residents.

Community ids, compound ids and building ids are row positions (0..n-1) of their tables.
Populations in the community, compound and building tables are full-scale persons; only
`sample_residents` applies the scale.
"""

import csv
import functools
import hashlib
import io
import math
from pathlib import Path

import networkx as nx
import numpy as np
import pandas as pd

from sim.errors import InputError

LOCATIONS = ("core", "fringe", "township")
CLASSES = ("A", "B", "C", "D")

COMMUNITY_COLUMNS = {
    "name": (str, "", "community name (社区)"),
    "location": (str, "", "core (city core), fringe (城郊结合部) or township (乡镇)"),
    "population": (int, "persons", "registered and resident population"),
    "old_compound_residents": (int, "persons", "residents of old compounds (老旧小区)"),
    "commercial_share": (float, "0-1", "share of population in commercial housing (商住小区)"),
    "migrant_share": (float, "0-1", "share of migrant / floating residents (流动人口)"),
    "elderly_share": (float, "0-1", "share aged 60 and over"),
    "property_coverage": (float, "0-1", "share of non-commercial compounds with property company"),
    "infrastructure": (float, "0-1", "condition of roads, pipes, EV charging etc.; 1 = complete"),
}

# Bounds on a CSV city, checked before its rows are parsed or its city built:
# - communities: the model numbers them with 16-bit ids (the resident and grievance tables), so
#   at most 32,767; 10,000 leaves room and is over fifty times Xining's 178;
# - the file: 16 MB is 1.6 kB a row at the largest, far more than nine columns need;
# - residents: 1,000,000 in one community (the largest Chinese 社区 hold about 100,000), and
#   50,000,000 in all, the ceiling of the synthetic city (city.population); a 10-million city fits.
MAX_COMMUNITIES = 10_000
MAX_CSV_BYTES = 16_000_000
MAX_COMMUNITY_POPULATION = 1_000_000
MAX_CITY_POPULATION = 50_000_000
CELL_SHOWN = 40  # characters of a bad cell quoted in an error message

# Xining's published classification rule (SEED-FACTS §1).
PUBLISHED_RULES = {
    "commercial_share_min": 0.55,
    "old_residents_max_a": 3500,
    "population_min_b": 6000,
    "old_residents_min_b": 3500,
    "fringe_class": "C",
    "township_class": "D",
    "fallback_class": "A",
}

XINING_COUNTS = {"A": 70, "B": 66, "C": 22, "D": 20}

# Synthetic population per class: (floor, median, log-sd, lowest, highest) in persons.
# Assumptions: Xining has ~2.0 M urban residents in 178 communities (~11,000 each); Xinxi
# community has ~20,000 [001]; B old-town communities are large (rule: >= 6,000); D township
# communities hold 1,500-5,000. The floor is never crossed when scaling to the city total.
_POPULATION_PROFILE = {
    "A": (2000, 10_500, 0.40, 3000, 25_000),
    "B": (6000, 13_000, 0.40, 6000, 30_000),
    "C": (2000, 11_000, 0.35, 4000, 25_000),
    "D": (1500, None, None, 1500, 4_700),  # 4,700 so scaling (factor 0.9-1.09) stays <= 5,000
}

# Other traits per class as uniform ranges (assumptions drawn from the published descriptions):
# A mature property management and complete infrastructure; B old, elderly, settled,
# poorly serviced; C many migrants, middling; D older, rural, little property management.
_TRAIT_RANGES = {
    "A": {"migrant_share": (0.10, 0.30), "elderly_share": (0.10, 0.20),
          "property_coverage": (0.75, 1.00), "infrastructure": (0.75, 0.95)},
    "B": {"migrant_share": (0.02, 0.12), "elderly_share": (0.25, 0.40),
          "property_coverage": (0.05, 0.40), "infrastructure": (0.25, 0.55)},
    "C": {"migrant_share": (0.30, 0.60), "elderly_share": (0.10, 0.20),
          "property_coverage": (0.30, 0.60), "infrastructure": (0.45, 0.70)},
    "D": {"migrant_share": (0.02, 0.10), "elderly_share": (0.22, 0.38),
          "property_coverage": (0.05, 0.30), "infrastructure": (0.25, 0.50)},
}

_CLASS_LOCATION = {"A": "core", "B": "core", "C": "fringe", "D": "township"}
_REST_KIND = {"core": "unit", "fringe": "resettlement", "township": "rural"}


# ---------------------------------------------------------------- classification

def classify(communities: pd.DataFrame, rules: dict) -> np.ndarray:
    """Class A-D of each community (社区分类) under `rules`.

    township -> township_class; fringe -> fringe_class; core -> A if commercial share >=
    commercial_share_min and old-compound residents < old_residents_max_a, else B if
    population >= population_min_b and old residents >= old_residents_min_b, else
    fallback_class. A core community meeting both rules is A (A is tested first, as published).
    Missing rule keys take the published value; unknown keys are an error.
    """
    unknown = set(rules) - set(PUBLISHED_RULES)
    if unknown:
        raise ValueError(f"unknown classification rule keys: {sorted(unknown)}")
    r = {**PUBLISHED_RULES, **rules}
    loc = communities["location"].to_numpy()
    bad = ~np.isin(loc, LOCATIONS)
    if bad.any():
        raise ValueError(f"location must be one of {LOCATIONS}, got {loc[bad][0]!r}")
    old = communities["old_compound_residents"].to_numpy()
    core = loc == "core"
    is_a = (communities["commercial_share"].to_numpy() >= r["commercial_share_min"]) & (
        old < r["old_residents_max_a"])
    is_b = (communities["population"].to_numpy() >= r["population_min_b"]) & (
        old >= r["old_residents_min_b"])
    return np.select(
        [loc == "township", loc == "fringe", core & is_a, core & is_b],
        [r["township_class"], r["fringe_class"], "A", "B"],
        default=r["fallback_class"],
    ).astype("<U1")


# ---------------------------------------------------------------- synthetic Xining

def synthetic_xining(rng: np.random.Generator, counts: dict[str, int] | None = None,
                     total_population: int = 2_000_000) -> pd.DataFrame:
    """A synthetic Xining whose communities classify into exactly `counts` (published rules).

    Populations are drawn per class, then the part above each class floor is scaled so the
    city total is exactly `total_population`; compound mix is drawn after scaling, so the
    class rule still holds. Each community is redrawn until it meets its class rule. Rows
    are shuffled and names ("community-001" ...) do not reveal the class.
    """
    counts = dict(XINING_COUNTS if counts is None else counts)
    if set(counts) - set(CLASSES) or any(int(v) < 0 for v in counts.values()):
        raise ValueError(f"counts must map classes {CLASSES} to non-negative ints, got {counts}")
    classes = np.array([c for c in CLASSES for _ in range(int(counts.get(c, 0)))], dtype="<U1")
    if len(classes) == 0:
        raise ValueError("counts must give at least one community")
    populations = _scaled_populations(classes, total_population, rng)
    rows = [_draw_community(c, int(p), rng) for c, p in zip(classes, populations)]
    table = pd.DataFrame(rows)
    table = table.iloc[rng.permutation(len(table))].reset_index(drop=True)
    table.insert(0, "name", [f"community-{i + 1:03d}" for i in range(len(table))])
    return _with_dtypes(table[list(COMMUNITY_COLUMNS)])


def _scaled_populations(classes: np.ndarray, total: int, rng) -> np.ndarray:
    """Raw populations per class, rescaled above the class floors to sum exactly to `total`."""
    raw = np.empty(len(classes))
    floor = np.empty(len(classes))
    for c in CLASSES:
        idx = np.flatnonzero(classes == c)
        fl, median, sd, low, high = _POPULATION_PROFILE[c]
        if median is None:
            draw = rng.uniform(low, high, len(idx))
        else:
            draw = np.clip(rng.lognormal(math.log(median), sd, len(idx)), low, high)
        raw[idx], floor[idx] = draw, fl
    room = total - floor.sum()
    if room < 0:
        raise ValueError(f"total_population {total} is below the class floors ({floor.sum():.0f})")
    exact = floor + (raw - floor) * room / (raw - floor).sum()
    return _largest_remainder(exact, total)


def _largest_remainder(exact: np.ndarray, total: int) -> np.ndarray:
    """Integers near `exact` summing to `total` (largest fractional parts get the rest)."""
    base = np.floor(exact).astype(np.int64)
    short = int(total - base.sum())
    order = np.argsort(-(exact - base), kind="stable")
    base[order[:short]] += 1
    return base


def _draw_community(cls: str, population: int, rng) -> dict:
    """One community of class `cls`, redrawn until the published rule gives `cls`."""
    for _ in range(1000):
        row = {"location": _CLASS_LOCATION[cls], "population": population,
               **_draw_mix(cls, population, rng)}
        for col, (lo, hi) in _TRAIT_RANGES[cls].items():
            row[col] = float(rng.uniform(lo, hi))
        if classify(pd.DataFrame([row]), PUBLISHED_RULES)[0] == cls:
            return row
    raise RuntimeError(f"could not draw a class {cls} community of {population} persons")


def _draw_mix(cls: str, pop: int, rng) -> dict:
    """Commercial share and old-compound residents, drawn so the class rule holds.

    A: commercial >= 55 %, old < 3,500 (old skewed up so some sit near the threshold).
    B: old >= 3,500 and mostly commercial < 55 % (15 % of B exceed it, still B by old residents).
    C, D: small old share; the rest is resettlement / rural housing.
    """
    if cls == "A":
        cs = rng.uniform(0.55, 0.95)
        cap = min(3499, pop - round(cs * pop))
        old = round(cap * math.sqrt(rng.random()))
    elif cls == "B":
        cs_max = 1 - 3500 / pop  # leaves room for 3,500 old-compound residents
        if rng.random() < 0.15 and cs_max > 0.56:
            cs = rng.uniform(0.55, min(0.70, cs_max))
        else:
            cs = rng.uniform(0.0, min(0.50, cs_max))
        rest = pop - round(cs * pop)
        old = 3500 + round((rest - 3500) * rng.uniform(0.2, 1.0))
    elif cls == "C":
        cs = rng.uniform(0.20, 0.60)
        old = round(pop * rng.uniform(0.0, 0.15))
    else:
        cs = rng.uniform(0.0, 0.15)
        old = round(pop * rng.uniform(0.0, 0.10))
    old = min(old, pop - round(cs * pop))
    return {"old_compound_residents": int(old), "commercial_share": float(cs)}


def _with_dtypes(table: pd.DataFrame) -> pd.DataFrame:
    """The community table's dtypes: object strings, int64 counts, float64 shares."""
    dtypes = {"name": "str", "location": "str", "population": np.int64,
              "old_compound_residents": np.int64}
    return table.astype({c: dtypes.get(c, np.float64) for c in COMMUNITY_COLUMNS})


# ---------------------------------------------------------------- CSV input

def load_communities_csv(path) -> pd.DataFrame:
    """A user's community table from CSV with exactly the COMMUNITY_COLUMNS.

    Every problem raises InputError naming the file, the line (header = line 1) and the
    column, and saying what was expected.
    """
    from sim.scenario import shown_path

    return communities_from_text(read_csv_text(path), shown_path(path))


def read_csv_text(path) -> str:
    """A CSV city's text, exactly as in the file; refused unread when larger than MAX_CSV_BYTES."""
    from sim.scenario import is_file, shown_path

    path = Path(path)
    where = shown_path(path)
    if not is_file(path):
        raise InputError(f"{where}: file not found; expected a CSV file of communities")
    try:
        size = path.stat().st_size
        if size > MAX_CSV_BYTES:
            raise InputError(f"{where}: expected a CSV of at most {MAX_CSV_BYTES // 10**6} MB "
                             f"({MAX_COMMUNITIES:,} communities), got {size / 1e6:,.1f} MB "
                             f"({count_lines(path):,} lines)")
        data = path.read_bytes()
    except OSError as e:
        raise InputError(f"{where}: cannot read ({e.strerror}); expected a readable CSV file") \
            from None
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as e:
        line = data.count(b"\n", 0, e.start) + 1
        raise InputError(f"{where}, line {line}: expected UTF-8 text, got byte "
                         f"0x{data[e.start]:02x}") from None


def count_lines(path: Path) -> int:
    """Lines of a file, counted a megabyte at a time (a 1,000,000-row CSV in a few ms)."""
    lines, last = 0, b"\n"
    with path.open("rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            lines, last = lines + block.count(b"\n"), block[-1:]
    return lines + (last != b"\n")  # a last line without its newline


@functools.lru_cache(maxsize=4)  # every config of a batch shares one text: hash it once
def text_sha256(text: str) -> str:
    """The SHA-256 of a CSV city's text (of the file's bytes, as `sha256sum` gives it)."""
    return hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()


def communities_from_text(text: str, where: str) -> pd.DataFrame:
    """The community table of a CSV city's text; `where` (its file) names it in errors."""
    lines = csv_rows(text, where)
    if not lines:
        raise InputError(f"{where}: file is empty; expected a header line with columns "
                         f"{', '.join(COMMUNITY_COLUMNS)}")
    header_line, header = lines[0]
    header = [h.strip() for h in header]
    _check_header(f"{where}, line {header_line}", header)
    if len(lines) == 1:
        raise InputError(f"{where}: no communities after the header; expected at least one row")
    rows, seen, residents = [], {}, 0
    for line, values in lines[1:]:
        if len(values) != len(header):
            raise InputError(f"{where}, line {line}: expected {len(header)} values, "
                             f"got {len(values)}")
        row = _parse_row(where, line, dict(zip(header, (v.strip() for v in values))))
        if row["name"] in seen:
            raise InputError(f'{where}, line {line}, column "name": expected a unique name, '
                             f'got {_cell(row["name"])}, which is also on line '
                             f'{seen[row["name"]]}')
        residents += row["population"]
        if residents > MAX_CITY_POPULATION:
            raise InputError(f'{where}, line {line}, column "population": expected at most '
                             f'{MAX_CITY_POPULATION:,} residents in all, got {residents:,} by '
                             f'this line')
        seen[row["name"]] = line
        rows.append(row)
    return _with_dtypes(pd.DataFrame(rows, columns=list(COMMUNITY_COLUMNS)))


def csv_rows(text: str, where: str) -> list[tuple[int, list[str]]]:
    """(line number, cells) of each non-blank row; refused as soon as there are more than
    MAX_COMMUNITIES rows after the header, before the rest is parsed."""
    reader = csv.reader(io.StringIO(text.removeprefix("\ufeff"), newline=""))
    lines = []
    try:
        for row in reader:
            if any(c.strip() for c in row):
                lines.append((reader.line_num, row))
            if len(lines) > MAX_COMMUNITIES + 1:
                n = text.count("\n") + (not text.endswith("\n"))
                raise InputError(f"{where}: expected at most {MAX_COMMUNITIES:,} communities "
                                 f"(rows after the header; the model numbers communities with "
                                 f"16-bit ids), got more ({n:,} lines)")
    except csv.Error as err:
        raise InputError(f"{where}, line {reader.line_num}: cannot read ({err}); expected a CSV "
                         "file") from None
    return lines


def _check_header(where: str, header: list[str]) -> None:
    """Exactly the documented columns, each once (any order); `where` names file and line."""
    dup = sorted({h for h in header if header.count(h) > 1})
    missing = [c for c in COMMUNITY_COLUMNS if c not in header]
    extra = [h for h in header if h not in COMMUNITY_COLUMNS]
    if dup:
        raise InputError(f"{where}: column(s) {', '.join(map(_cell, dup[:5]))} appear twice; "
                         "expected each once")
    if missing:
        raise InputError(f'{where}: missing column(s) {", ".join(missing)}; expected '
                         f'columns {", ".join(COMMUNITY_COLUMNS)}')
    if extra:
        raise InputError(f'{where}: unknown column(s) {", ".join(map(_cell, extra[:5]))}; '
                         f'expected only columns {", ".join(COMMUNITY_COLUMNS)}')


def _parse_row(where: str, line: int, raw: dict) -> dict:
    """One data row, checked value by value."""
    def fail(col, expected):
        raise InputError(f'{where}, line {line}, column "{col}": expected {expected}, '
                         f'got {_cell(raw[col])}')

    row = {"name": raw["name"]}
    if not row["name"]:
        fail("name", "a non-empty name")
    row["location"] = raw["location"]
    if row["location"] not in LOCATIONS:
        fail("location", "one of core, fringe, township")
    row["population"] = _integer(raw["population"])
    if row["population"] is None or not 1 <= row["population"] <= MAX_COMMUNITY_POPULATION:
        fail("population", f"a whole number from 1 to {MAX_COMMUNITY_POPULATION:,}")
    row["old_compound_residents"] = old = _integer(raw["old_compound_residents"])
    if old is None or old < 0:
        fail("old_compound_residents", "a whole number >= 0")
    if old > row["population"]:
        fail("old_compound_residents", f"at most the population ({row['population']})")
    for col in ("commercial_share", "migrant_share", "elderly_share", "property_coverage",
                "infrastructure"):
        row[col] = _number(raw[col])
        if row[col] is None or not 0.0 <= row[col] <= 1.0:
            fail(col, "a number in [0, 1]")
    # Commercial and old compounds are disjoint parts of the population (see build_compounds).
    if round(row["commercial_share"] * row["population"]) + old > row["population"]:
        fail("commercial_share", "commercial_share * population + old_compound_residents "
             "<= population")
    return row


def _cell(text: str) -> str:
    """A cell as quoted in an error: cut short, its control characters escaped."""
    from sim.scenario import toml_string

    return toml_string(text if len(text) <= CELL_SHOWN else text[:CELL_SHOWN] + "...")


def _number(text: str) -> float | None:
    """A finite float, or None."""
    try:
        x = float(text)
    except ValueError:
        return None
    return x if math.isfinite(x) else None


def _integer(text: str) -> int | None:
    """A whole number ("1200" or "1200.0"), or None."""
    x = _number(text)
    return int(x) if x is not None and x.is_integer() else None


# ---------------------------------------------------------------- compounds

def build_compounds(communities: pd.DataFrame, rng, residents_per_compound: int = 2500,
                    owners_committee_share: float = 0.3) -> pd.DataFrame:
    """Compounds (小区) of each community, one row each.

    Kinds: commercial (商住小区), old (老旧小区), and the rest as unit (单位小区, core),
    resettlement (安置小区, fringe) or rural (township). Each part is cut into
    ceil(part / residents_per_compound) compounds of near-equal size. Commercial compounds
    always have a property company; others with the community's property_coverage (rural:
    half). Owners' committees (业委会): commercial with owners_committee_share, others a third
    of it. three_no (三无小区): an old compound with neither.
    """
    community, kind, population = [], [], []
    for i, c in enumerate(communities.itertuples(index=False)):
        pop, old = int(c.population), int(c.old_compound_residents)
        commercial = min(round(c.commercial_share * pop), pop - old)  # clip inconsistent input
        parts = [("commercial", commercial), ("old", old),
                 (_REST_KIND[c.location], pop - commercial - old)]
        start = len(population)
        for k, size in parts:
            for share in _even_split(size, math.ceil(size / residents_per_compound)):
                community.append(i), kind.append(k), population.append(share)
        if len(population) == start:  # an empty community still gets one compound
            community.append(i), kind.append(_REST_KIND[c.location]), population.append(0)
    community = np.array(community, dtype=np.int64)
    kind = np.array(kind, dtype=object)
    coverage = communities["property_coverage"].to_numpy(float)[community]
    coverage = np.where(kind == "rural", coverage / 2, coverage)
    commercial = kind == "commercial"
    has_company = commercial | (rng.random(len(kind)) < coverage)
    committee_p = np.where(commercial, owners_committee_share, owners_committee_share / 3)
    has_committee = rng.random(len(kind)) < committee_p
    return pd.DataFrame({
        "community": community, "kind": kind, "population": np.array(population, dtype=np.int64),
        "has_property_company": has_company, "has_owners_committee": has_committee,
        "three_no": (kind == "old") & ~has_company & ~has_committee,
    })


def _even_split(total: int, parts: int) -> list[int]:
    """`total` cut into `parts` integers differing by at most one (larger first)."""
    if parts <= 0:
        return []
    base, extra = divmod(total, parts)
    return [base + 1] * extra + [base] * (parts - extra)


# ---------------------------------------------------------------- buildings and graph

def build_buildings(compounds: pd.DataFrame, rng, residents_per_building: int = 150,
                    scale: float = 1.0) -> tuple[pd.DataFrame, nx.Graph]:
    """Buildings (楼院) and the neighbourhood graph over them.

    A compound has max(1, round(population * scale / residents_per_building)) buildings
    (halves round up), sharing its full-scale population as evenly as possible. Edges: a ring
    over each compound's buildings, complete within compounds of <= 12 buildings, and for larger
    ones each building to 2 random others; within a community, compounds form a ring in row
    order and one random building pair joins each consecutive pair. Communities are not joined.
    """
    pop = compounds["population"].to_numpy(np.int64)
    n_b = np.maximum(1, np.floor(pop * scale / residents_per_building + 0.5)).astype(np.int64)
    start = np.concatenate([[0], np.cumsum(n_b)[:-1]])
    compound = np.repeat(np.arange(len(pop)), n_b)
    local = np.arange(n_b.sum()) - start[compound]  # position within its compound
    base, extra = np.divmod(pop, n_b)
    buildings = pd.DataFrame({
        "compound": compound,
        "community": compounds["community"].to_numpy(np.int64)[compound],
        "population": base[compound] + (local < extra[compound]),
    })
    edges = np.concatenate([
        _compound_edges(n_b, start, compound, local, rng),
        _between_compound_edges(compounds["community"].to_numpy(), n_b, start, rng),
    ])
    graph = nx.Graph()
    graph.add_nodes_from(
        (i, {"compound": c, "community": m})
        for i, (c, m) in enumerate(zip(compound.tolist(), buildings["community"].tolist())))
    graph.add_edges_from(edges.tolist())
    return buildings, graph


def _compound_edges(n_b, start, compound, local, rng) -> np.ndarray:
    """Edges inside compounds: ring; all pairs if <= 12 buildings, else 2 random links each."""
    n = n_b[compound]
    multi = n > 1
    ring = np.column_stack([np.flatnonzero(multi),
                            (start[compound] + (local + 1) % n)[multi]])
    big = np.flatnonzero(n > 12)
    nb = n[big]
    # offsets in 1..n-1 so a random link never points to itself
    rand = [np.column_stack([big, start[compound[big]]
                             + (local[big] + 1 + rng.integers(0, nb - 1)) % nb])
            for _ in range(2)]
    pairs = [_all_pairs(m) + s for m, s in zip(n_b, start) if 2 < m <= 12]
    return np.concatenate([ring, *rand, *pairs]).reshape(-1, 2).astype(np.int64)


_PAIRS_CACHE: dict[int, np.ndarray] = {}


def _all_pairs(m: int) -> np.ndarray:
    """All (i, j), i < j < m."""
    if m not in _PAIRS_CACHE:
        _PAIRS_CACHE[m] = np.column_stack(np.triu_indices(m, 1))
    return _PAIRS_CACHE[m]


def _between_compound_edges(community, n_b, start, rng) -> np.ndarray:
    """One random building pair per consecutive compound pair in each community's ring."""
    edges = []
    for c in np.unique(community):
        ids = np.flatnonzero(community == c)
        if len(ids) < 2:
            continue
        nxt = np.roll(ids, -1)
        if len(ids) == 2:  # a ring of two has one pair, not two
            ids, nxt = ids[:1], nxt[:1]
        edges.append(np.column_stack([_random_building(ids, n_b, start, rng),
                                      _random_building(nxt, n_b, start, rng)]))
    return np.concatenate(edges) if edges else np.empty((0, 2), np.int64)


def _random_building(comp_ids, n_b, start, rng) -> np.ndarray:
    """A uniformly random building id of each given compound."""
    return start[comp_ids] + rng.integers(0, n_b[comp_ids])


# ---------------------------------------------------------------- residents

PARTY_MEMBER_SHARE = 0.08  # assumption: ~8 % of Xining residents are party members
RESETTLEMENT_MIGRANT_FACTOR = 1.5  # resettlement compounds draw migrants (SEED-FACTS §1, C)
MIGRANT_SHARE_CAP = 0.95


def sample_residents(buildings: pd.DataFrame, communities: pd.DataFrame,
                     compounds: pd.DataFrame, scale: float, rng,
                     party_member_share: float = PARTY_MEMBER_SHARE) -> dict[str, np.ndarray]:
    """Residents at `scale`, as columns indexed by resident id and sorted by building.

    Each building holds floor(population * scale) residents plus one with probability of the
    fraction (stochastic rounding; at scale 1 exactly its population). Elderly and migrant
    status follow the community's shares, migrants 1.5x (capped at 0.95, never lowered) in
    resettlement compounds, so such a community's realised migrant share exceeds its table
    value; party members are `party_member_share` everywhere.
    """
    expected = buildings["population"].to_numpy(np.float64) * scale
    whole = np.floor(expected)
    count = (whole + (rng.random(len(expected)) < expected - whole)).astype(np.int64)
    building = np.repeat(np.arange(len(count), dtype=np.int32), count)
    compound = buildings["compound"].to_numpy(np.int32)[building]
    community = buildings["community"].to_numpy(np.int16)[building]
    n = len(building)
    elderly_p = communities["elderly_share"].to_numpy(np.float64)
    migrant_p = communities["migrant_share"].to_numpy(np.float64)
    resettle = (compounds["kind"].to_numpy() == "resettlement")[compound]
    p = migrant_p[community]
    p = np.where(resettle, np.maximum(p, np.minimum(p * RESETTLEMENT_MIGRANT_FACTOR,
                                                    MIGRANT_SHARE_CAP)), p)
    return {
        "building": building,
        "compound": compound,
        "community": community,
        "elderly": rng.random(n) < elderly_p[community],
        "migrant": rng.random(n) < p,
        "party_member": rng.random(n) < party_member_share,
    }

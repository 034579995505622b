"""Experiment files: which scenarios (variants) x sweep points x replications to run (DESIGN §9).

An experiment is TOML, validated key by key like a scenario; every error is one line naming the
file, the key and what was expected (`InputError`), and nothing runs.

    name = "funding-reform"                  # default: the file name
    description = "..."
    scenarios = ["xining-uniform", "xining-classified"]   # the variants (or [[variants]] below)
    replications = 30                        # runs per variant and sweep point
    seed = 20240917                          # entropy of the experiment's SeedSequence
    # seeds = [1000, 1001, 1002]             # or: these run seeds, one a replication
    days = 365                               # optional: overrides the scenarios' [run] days
    scale = 0.01                             # optional: overrides the scenarios' [run] scale
    keep = ["summary", "communities"]        # tables kept per run; add "daily" for daily series

    [set]                                    # optional: parameters set in every variant
    funding.total = 0

    [[variants]]                             # a variant: a scenario plus a few changed keys
    name = "classified-grid-800"
    scenario = "xining-classified"           # a shipped name, or a .toml path relative to this file
    set = { mechanisms.households_per_grid = 800 }

    [sweep]                                  # optional: the same sweep crosses every variant
    design = "factorial"                     # or "latin_hypercube", "sobol", "saltelli", "morris"
    values = { "funding.by_class.B" = [150_000, 300_000] }    # factorial: listed values
    # ranges = { "funding.by_class.B" = [150_000, 400_000] }  # the other designs: [lo, hi]
    # samples = 64                                             # the other designs

The sampled designs: "latin_hypercube" and "sobol" (scipy.stats.qmc) give `samples` points for a
response surface; "saltelli" and "morris" give the designs of a sensitivity analysis
(`shequ sensitivity`, analysis/sensitivity.py), drawn with SALib in SALib's row order, so that
sweep point p is row p of the design: "saltelli" is Saltelli's cross-sampling for first- and
total-order Sobol indices (SALib.sample.sobol, no second order), `samples` = N base samples (a
power of 2), N x (D + 2) points for D parameters; "morris" is Morris's elementary-effects
trajectories (SALib.sample.morris, 4 levels), `samples` trajectories of D + 1 points each. Every
sampled design draws from the sweep's seed (else the experiment's entropy), and whole-number
parameters are rounded to whole numbers.

Seeds (common random numbers): one `numpy.random.SeedSequence(seed)` spawns one child per
replication; replication r of every variant and sweep point runs with the same seed, and inside a
run each stochastic subsystem draws from its own stream (sim.model.stream). Without `seed`, the
batch draws fresh entropy once (63 bits, a valid `seed`) and records it in its result folder.
`seeds` lists the run seeds instead (replication r runs with seeds[r]; `replications`, if given,
must be its length): to repeat given runs, or to give a search's rounds the seeds of a calibration.

Limits: at most 99,999 replications and 99,999 sweep points (run ids give each five digits), and
at most 1,000,000 runs in all (variants x sweep points x replications), checked before anything
is sampled or built.
"""

import hashlib
import itertools
import json
import re
import secrets
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from sim.errors import InputError
from sim.parameters import SCHEMA
from sim.shipped import folder as shipped_folder
from sim.scenario import (
    SCENARIO_DIR, Scenario, check_value, find_toml, is_file, read_toml, shipped, shipped_scenarios,
    shown,
)
from sim.scenario import load as load_scenario

EXPERIMENT_DIR = shipped_folder("experiments")
TABLES = ("summary", "communities", "daily")
DEFAULT_KEEP = ("summary", "communities")
DESIGNS = ("factorial", "latin_hypercube", "sobol", "saltelli", "morris")
MORRIS_LEVELS = 4  # levels of the Morris grid (SALib's default): steps of 2/3 of a range
MAX_REPLICATIONS = 99_999  # run ids give replications five digits
MAX_POINTS = 99_999  # and sweep points five
MAX_RUNS = 1_000_000  # in all: ~80 hours of a 2-core machine (1,000 runs in 5 min); more is a slip
MAX_KEY_PARTS = 3  # a swept or set parameter is section.key or section.table.entry
TOP_KEYS = {
    "name": "experiment name (default: the file name)",
    "description": "one line saying what the experiment compares",
    "scenarios": "list of scenario names or paths, one variant each",
    "variants": "[[variants]] tables: name, scenario, set",
    "replications": "runs per variant and sweep point",
    "seed": "entropy of the experiment's SeedSequence",
    "seeds": "the run seeds, one a replication (instead of seed's)",
    "days": "days simulated (overrides the scenarios')",
    "scale": "share of residents simulated (overrides the scenarios')",
    "keep": "tables kept per run",
    "set": "parameters set in every variant",
    "sweep": "parameter sweep crossed with every variant",
}
VARIANT_KEYS = ("name", "scenario", "set")
SWEEP_KEYS = ("design", "values", "ranges", "samples", "seed")
SAMPLES_MEANING = {"latin_hypercube": "number of points", "sobol": "number of points",
                   "saltelli": "number of base samples (N; N x (D + 2) points)",
                   "morris": "number of trajectories (D + 1 points each)"}


@dataclass(frozen=True)
class Config:
    """One variant at one sweep point: a validated scenario, ready to run with any seed."""

    variant: str
    point: int
    values: tuple  # swept values, in the order of the sweep's keys
    scenario: Scenario
    key: str  # "<variant>.p<point>": the stable prefix of its run ids
    seeds: tuple | None = None  # explicit run seeds, one a replication (else the entropy's)

    def record(self, keys: tuple[str, ...]) -> dict:
        """As stored in the result folder's experiment.json: enough to re-run any of its runs.
        A CSV city adds its SHA-256, so that a result folder knows the city's contents (its
        path is `params.city.source`)."""
        record = {"variant": self.variant, "point": self.point, "scenario": self.scenario.name,
                  "files": self.scenario.files, "values": dict(zip(keys, self.values)),
                  "params": self.scenario.params}
        if self.scenario.city_csv is not None:  # only then: synthetic cities' hashes unchanged
            record["city_csv_sha256"] = self.scenario.city_sha256
        if self.seeds is not None:  # only then, likewise
            record["seeds"] = list(self.seeds)
        return record


@dataclass(frozen=True)
class Task:
    """One run: a config and a replication. The worker's whole input (picklable)."""

    run_id: str
    experiment: str
    config: Config
    keys: tuple[str, ...]  # swept parameters, dotted
    replication: int
    seed: int
    entropy: int
    keep: tuple[str, ...]


@dataclass
class Sweep:
    """A validated sweep: dotted parameter keys and, once resolved, one tuple of values a point."""

    design: str
    keys: tuple[str, ...]
    values: dict[str, list] = field(default_factory=dict)  # factorial
    ranges: dict[str, tuple] = field(default_factory=dict)  # latin_hypercube, sobol
    samples: int = 0
    seed: int | None = None

    def points(self, entropy: int) -> list[tuple]:
        """The sweep's points, in the design's order: point p of the result store is row p."""
        if self.design == "factorial":
            return list(itertools.product(*(self.values[k] for k in self.keys)))
        rng = np.random.default_rng(np.random.SeedSequence(self.seed if self.seed is not None
                                                           else entropy))
        return [self.scaled(row) for row in self.unit_sample(rng)]

    def unit_sample(self, rng: np.random.Generator) -> np.ndarray:
        """The design in the unit cube: one row a point, one column a key."""
        d = len(self.keys)
        if self.design in ("saltelli", "morris"):
            salib = salib_sampler(self.design)
            problem = {"num_vars": d, "names": list(self.keys), "bounds": [[0.0, 1.0]] * d}
            if self.design == "saltelli":
                return salib.sample(problem, self.samples, calc_second_order=False, seed=rng)
            return salib.sample(problem, self.samples, num_levels=MORRIS_LEVELS, seed=rng)
        from scipy.stats import qmc

        engine = qmc.LatinHypercube if self.design == "latin_hypercube" else qmc.Sobol
        try:
            sampler = engine(d=d, rng=rng)
        except TypeError:  # scipy < 1.15 calls it seed
            sampler = engine(d=d, seed=rng)
        return (sampler.random(self.samples) if self.design == "latin_hypercube"
                else sampler.random_base2(int(np.log2(self.samples))))

    def scaled(self, row) -> tuple:
        """A unit-cube row onto the ranges; whole-number parameters rounded (within range)."""
        point = []
        for u, key in zip(row, self.keys):
            lo, hi = self.ranges[key]
            value = lo + float(u) * (hi - lo)
            point.append(min(max(round(value), lo), hi) if isinstance(lo, int) else value)
        return tuple(point)

    def n_points(self) -> int:
        """How many points the design has."""
        d = len(self.keys)
        if self.design == "factorial":
            return int(np.prod([len(v) for v in self.values.values()]))
        return {"saltelli": self.samples * (d + 2),
                "morris": self.samples * (d + 1)}.get(self.design, self.samples)


def salib_sampler(design: str):
    """SALib's sampler module for a sensitivity design (imported only when one is used)."""
    try:
        if design == "saltelli":
            from SALib.sample import sobol as sampler
        else:
            from SALib.sample import morris as sampler
    except ImportError:
        raise InputError(f"sweep design \"{design}\": expected SALib to be installed "
                         "(pip install SALib)") from None
    return sampler


@dataclass
class Experiment:
    """A validated experiment file. `resolve(entropy)` builds its configs (variants x points)."""

    name: str
    description: str
    path: Path
    text: str
    replications: int
    seed: int | None
    keep: tuple[str, ...]
    variants: list[tuple[str, Scenario]]  # (name, scenario with set/days/scale applied)
    sweep: Sweep | None
    days: int | None = None
    scale: float | None = None
    entropy: int | None = None
    configs: list[Config] = field(default_factory=list)
    seeds: tuple | None = None  # explicit run seeds, one a replication

    @property
    def keys(self) -> tuple[str, ...]:
        return self.sweep.keys if self.sweep else ()

    @property
    def n_runs(self) -> int:
        return len(self.configs) * self.replications

    def resolve(self, entropy: int | None = None) -> "Experiment":
        """Fix the entropy (the file's seed, else the one given) and build every config; each
        is validated, its funding included, before anything runs."""
        entropy = self.seed if self.seed is not None else entropy
        if entropy is None:  # 63 bits, so that `seed = <this>` is a valid seed to repeat it
            entropy = secrets.randbits(63)
        self.entropy = int(entropy)
        points = self.sweep.points(self.entropy) if self.sweep else [()]
        configs, checked = [], {}
        for variant, base in self.variants:
            for p, values in enumerate(points):
                where = f"{self.path} (variant {shown(variant)}" + (
                    f", sweep point {p}: {point_text(self.keys, values)})" if values else ")")
                scenario = base.with_overrides(nest(self.keys, values), origin=where) \
                    if values else base
                check_city_and_funding(scenario, where, checked)
                configs.append(Config(variant, p, tuple(values), scenario,
                                      f"{safe_name(variant)}.p{p:05d}", self.seeds))
        self.configs = configs
        return self

    def seed_of(self, replication: int) -> int:
        if self.seeds is not None:
            return int(self.seeds[replication])
        return replication_seed(self.entropy, replication)

    def tasks(self) -> Iterator[Task]:
        """Every run, replication by replication, so that paired runs finish together."""
        for r in range(self.replications):
            seed = self.seed_of(r)
            for c in self.configs:
                yield Task(run_id(c.key, r), self.name, c, self.keys, r, seed, self.entropy,
                           self.keep)

    def fingerprint(self) -> dict[str, str]:
        """Per config, a hash of everything that fixes its runs' tables except the replication:
        the entropy, the tables kept, the swept values, every parameter and a CSV city's
        contents (its SHA-256, in the record)."""
        return {c.key: digest({"entropy": str(self.entropy), "keep": self.keep,
                               "record": c.record(self.keys)}) for c in self.configs}


def replication_seed(entropy: int, replication: int) -> int:
    """The run seed of replication r: child r of SeedSequence(entropy), as sim.model.seed_of
    turns a SeedSequence into a seed (the same for every variant and sweep point)."""
    child = np.random.SeedSequence(entropy, spawn_key=(replication,))
    return int(child.generate_state(1, np.uint64)[0] >> 1)


def run_id(config_key: str, replication: int) -> str:
    return f"{config_key}.r{replication:05d}"


def digest(obj: Any) -> str:
    text = json.dumps(obj, sort_keys=True, default=str, ensure_ascii=False)
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def safe_name(name: str) -> str:
    """A name fit for a file name: letters, digits, '-' and '_' kept, anything else '_'."""
    return re.sub(r"[^A-Za-z0-9_-]", "_", name) or "_"


def point_text(keys, values) -> str:
    return ", ".join(f"{k} = {shown(v)}" for k, v in zip(keys, values))


def nest(keys, values) -> dict:
    """("funding.by_class.B",), (200000,) -> {"funding": {"by_class": {"B": 200000}}}."""
    out: dict = {}
    for key, value in zip(keys, values):
        *parents, leaf = key.split(".")
        node = out
        for part in parents:
            node = node.setdefault(part, {})
        node[leaf] = value
    return out


# ---- loading and validating -------------------------------------------------------------------
def resolve_path(name_or_path: str | Path) -> Path:
    """An experiment by path, or by name from the shipped `experiments/` folder."""
    return find_toml(name_or_path, EXPERIMENT_DIR, "experiment")


def shipped_experiments() -> list[str]:
    return shipped(EXPERIMENT_DIR)


def load(name_or_path: str | Path) -> Experiment:
    """Read and validate an experiment file; its scenarios are loaded and validated too."""
    path = resolve_path(name_or_path)
    raw = read_toml(path)
    origin = str(path)

    def fail(key: str, expected: str, value: Any):
        raise InputError(f"{origin}: key \"{key}\": expected {expected}, got {shown(value)}")

    for key in raw:
        if key not in TOP_KEYS:
            raise InputError(f"{origin}: unknown key {shown(key)} (expected one of "
                             f"{', '.join(TOP_KEYS)})")
    for key in ("name", "description"):
        if key in raw and not isinstance(raw[key], str):
            fail(key, "a string", raw[key])
    name = raw.get("name") or path.stem
    seeds = check_seeds(raw["seeds"], origin) if "seeds" in raw else None
    if "replications" not in raw and seeds is None:
        raise InputError(f"{origin}: key \"replications\": expected a whole number of runs per "
                         f"variant and sweep point (1 to {MAX_REPLICATIONS:,}), but it is missing")
    replications = (whole(raw["replications"], 1, MAX_REPLICATIONS, "replications", origin)
                    if "replications" in raw else len(seeds))
    if seeds is not None and replications != len(seeds):
        raise InputError(f"{origin}: key \"replications\": expected the number of seeds listed "
                         f"({len(seeds)}), got {replications}")
    listed = raw.get("scenarios", raw.get("variants"))
    check_runs([len(listed) if isinstance(listed, list) else 1, 1, replications], origin)
    seed = whole(raw["seed"], 0, 2**63 - 1, "seed", origin) if "seed" in raw else None
    keep = check_keep(raw.get("keep", list(DEFAULT_KEEP)), origin)
    run = {}
    for key in ("days", "scale"):
        if key in raw:
            param = SCHEMA["run"][key]
            run[key] = check_value(raw[key], param, param.default, key, origin)
    shared = check_set(raw.get("set", {}), "set", origin)
    variants = []
    for vname, scenario, own in read_variants(raw, path):
        where = f"{origin} (variant {shown(vname)})"
        for over in (shared, own, {"run": run} if run else {}):
            if over:  # a CSV city set here is relative to the experiment file
                scenario = scenario.with_overrides(over, origin=where, folder=path.parent)
        variants.append((vname, scenario))
    sweep = (check_sweep(raw["sweep"], origin, variants[0][1], path.parent,
                         [len(variants), replications]) if "sweep" in raw else None)
    return Experiment(name, raw.get("description", ""), path,
                      path.read_text(encoding="utf-8"), replications, seed, keep, variants, sweep,
                      run.get("days"), run.get("scale"), seeds=seeds)


def check_seeds(value: Any, origin: str) -> tuple[int, ...]:
    """A list of distinct whole-number run seeds (0 to 2**63 - 1), one a replication."""
    if (not isinstance(value, list) or not value or len(value) > MAX_REPLICATIONS
            or len(set(map(str, value))) != len(value)):
        raise InputError(f"{origin}: key \"seeds\": expected a list of 1 to "
                         f"{MAX_REPLICATIONS:,} distinct whole numbers, got {shown(value)}")
    return tuple(whole(v, 0, 2**63 - 1, f"seeds[{i}]", origin) for i, v in enumerate(value))


def check_runs(factors: list[int], origin: str) -> None:
    """Variants x sweep points x replications within MAX_RUNS, before any is built."""
    n = int(np.prod(factors, dtype=object))
    if n > MAX_RUNS:
        variants, points, replications = factors
        raise InputError(f"{origin}: key \"replications\": expected at most {MAX_RUNS:,} runs in "
                         f"all (variants x sweep points x replications), got {variants:,} x "
                         f"{points:,} x {replications:,} = {n:,}")


def whole(value: Any, lo: int, hi: int, key: str, origin: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not lo <= value <= hi:
        raise InputError(f"{origin}: key \"{key}\": expected a whole number in [{lo:,}, {hi:,}], "
                         f"got {shown(value)}")
    return int(value)


def check_keep(value: Any, origin: str) -> tuple[str, ...]:
    if (not isinstance(value, list) or not value or not all(isinstance(v, str) for v in value)
            or any(v not in TABLES for v in value) or len(set(value)) != len(value)):
        raise InputError(f"{origin}: key \"keep\": expected a list of table names from "
                         f"{', '.join(TABLES)}, each once, got {shown(value)}")
    return tuple(t for t in TABLES if t in value)  # a fixed order


def check_set(value: Any, key: str, origin: str) -> dict:
    """Parameters set on top of a scenario: a nested table like a scenario's sections."""
    from sim.scenario import check_tree

    if not isinstance(value, dict):
        raise InputError(f"{origin}: key \"{key}\": expected a table of scenario parameters "
                         f"(e.g. {key} = {{ mechanisms.households_per_grid = 800 }}), got "
                         f"{shown(value)}")
    value = unflatten(flatten(value, origin, key), origin, key)  # "a.b" = x as a.b = x
    for bad in ("name", "description", "extends"):
        if bad in value:
            raise InputError(f"{origin}: key \"{key}.{bad}\": expected scenario parameters only "
                             f"(sections {', '.join(SCHEMA)}), got {shown(value[bad])}")
    if isinstance(value.get("run"), dict) and "seed" in value["run"]:
        raise InputError(f"{origin}: key \"{key}.run.seed\": expected no run seed (each "
                         "replication's seed comes from the experiment's seed), got "
                         f"{shown(value['run']['seed'])}")
    return check_tree(value, f"{origin} ({key})")


def read_variants(raw: dict, path: Path) -> list[tuple[str, Scenario, dict]]:
    """(name, loaded scenario, its own set) for each variant, from `scenarios` or [[variants]]."""
    origin = str(path)
    if ("scenarios" in raw) == ("variants" in raw):
        raise InputError(f"{origin}: key \"scenarios\": expected either a list of scenarios or "
                         "[[variants]] tables (one of the two), got "
                         + ("both" if "scenarios" in raw else "neither"))
    out = []
    if "scenarios" in raw:
        names = raw["scenarios"]
        if not isinstance(names, list) or not names or not all(isinstance(n, str) for n in names):
            raise InputError(f"{origin}: key \"scenarios\": expected a list of scenario names or "
                             f".toml paths, got {shown(names)}")
        for i, ref in enumerate(names):
            scenario = find_scenario(ref, path, f"scenarios[{i}]")
            out.append((scenario.name, scenario, {}))
    else:
        tables = raw["variants"]
        if not isinstance(tables, list) or not tables or not all(isinstance(t, dict) for t in tables):
            raise InputError(f"{origin}: key \"variants\": expected [[variants]] tables with keys "
                             f"{', '.join(VARIANT_KEYS)}, got {shown(tables)}")
        for i, table in enumerate(tables):
            key = f"variants[{i}]"
            for k in table:
                if k not in VARIANT_KEYS:
                    raise InputError(f"{origin}: unknown key {shown(f'{key}.{k}')} (expected "
                                     f"one of {', '.join(VARIANT_KEYS)})")
            if not isinstance(table.get("scenario"), str):
                raise InputError(f"{origin}: key \"{key}.scenario\": expected a scenario name or "
                                 f".toml path, got {shown(table.get('scenario', 'nothing'))}")
            scenario = find_scenario(table["scenario"], path, f"{key}.scenario")
            vname = table.get("name", scenario.name)
            if not isinstance(vname, str) or not vname:
                raise InputError(f"{origin}: key \"{key}.name\": expected a non-empty string, "
                                 f"got {shown(vname)}")
            own = check_set(table.get("set", {}), f"{key}.set", origin)
            out.append((vname, scenario, own))
    seen: dict[str, str] = {}
    for vname, _, _ in out:
        if safe_name(vname) in seen:
            raise InputError(f"{origin}: key \"variants\": expected each variant to have its own "
                             f"name, but {shown(vname)} is used twice"
                             + ("" if seen[safe_name(vname)] == vname else
                                f" (as {shown(seen[safe_name(vname)])}, the same in a file name)")
                             + "; give [[variants]] a name")
        seen[safe_name(vname)] = vname
    return out


def find_scenario(ref: str, experiment_path: Path, key: str) -> Scenario:
    """A shipped scenario by name, or a .toml path relative to the experiment file."""
    path = Path(ref)
    if path.suffix == ".toml":
        path = path if path.is_absolute() else experiment_path.parent / path
    else:
        path = SCENARIO_DIR / f"{ref}.toml"
    if not is_file(path):
        raise InputError(f"{experiment_path}: key \"{key}\": expected a shipped scenario "
                         f"({', '.join(shipped_scenarios())}) or a .toml path relative to the "
                         f"experiment file, got {shown(ref)}")
    return load_scenario(path)  # its own errors name its own file


def flatten(table: dict, origin: str, what: str, prefix: str = "") -> dict[str, Any]:
    """Nested TOML tables to dotted keys: both `"a.b" = x` and `a.b = x` give "a.b". TOML reads
    those as two keys, so one written both ways is refused rather than one silently winning.
    Tables deeper than a parameter's MAX_KEY_PARTS are left whole, for the checks to refuse."""
    out: dict[str, Any] = {}
    for k, v in table.items():
        key = f"{prefix}.{k}" if prefix else k
        deeper = isinstance(v, dict) and key.count(".") + 1 < MAX_KEY_PARTS
        for name, value in (flatten(v, origin, what, key).items() if deeper else [(key, v)]):
            if name in out:
                raise InputError(f"{origin}: key {shown(f'{what}.{name}')}: expected each "
                                 "parameter once, got it twice (quoted, \"a.b\" = ..., and "
                                 "dotted, a.b = ..., name the same parameter)")
            out[name] = value
    return out


def unflatten(flat: dict[str, Any], origin: str, what: str) -> dict:
    """Dotted keys back to nested tables; a key that is both a value and a table is refused."""
    out: dict = {}
    for key, value in flat.items():
        *parents, leaf = key.split(".")
        node = out
        for part in parents:
            node = node.setdefault(part, {})
            if not isinstance(node, dict):
                break
        if not isinstance(node, dict) or leaf in node:
            raise InputError(f"{origin}: key {shown(f'{what}.{key}')}: expected a value or a "
                             "table of values, got both (under two spellings)")
        node[leaf] = value
    return out


def param_default(key: str) -> Any:
    """The default of a dotted scenario parameter ("funding.by_class.B"), or KeyError."""
    section, *parts = key.split(".")
    if not parts:
        raise KeyError(key)
    value = SCHEMA[section][parts[0]].default
    rest = parts[1:]
    for part in rest:
        value = value[part]
    return value


def check_sweep(raw: Any, origin: str, base: Scenario, folder: Path,
                factors: list[int]) -> Sweep:
    """Validate the sweep: the design, its keys (real scenario parameters, one value each), its
    size (times `factors`, the variants and the replications: at most MAX_RUNS runs) and only
    then each value or range, through Scenario.with_overrides (a CSV city relative to `folder`)."""
    if not isinstance(raw, dict):
        raise InputError(f"{origin}: key \"sweep\": expected a [sweep] table, got {shown(raw)}")
    for k in raw:
        if k not in SWEEP_KEYS:
            raise InputError(f"{origin}: unknown key {shown(f'sweep.{k}')} (expected one of "
                             f"{', '.join(SWEEP_KEYS)})")
    design = raw.get("design", "factorial")
    if design not in DESIGNS:
        raise InputError(f"{origin}: key \"sweep.design\": expected one of {', '.join(DESIGNS)}, "
                         f"got {shown(design)}")
    wanted, unwanted = ("values", "ranges") if design == "factorial" else ("ranges", "values")
    if unwanted in raw:
        raise InputError(f"{origin}: key \"sweep.{unwanted}\": expected \"{wanted}\" for a "
                         f"{design} sweep, got \"{unwanted}\"")
    entries = flatten(raw[wanted], origin, f"sweep.{wanted}") \
        if isinstance(raw.get(wanted), dict) else {}
    if not entries:
        example = ('{ "mechanisms.households_per_grid" = [300, 400, 800] }' if wanted == "values"
                   else '{ "mechanisms.households_per_grid" = [300, 800] }')
        raise InputError(f"{origin}: key \"sweep.{wanted}\": expected a table of scenario "
                         f"parameters, e.g. {wanted} = {example}, got "
                         f"{shown(raw.get(wanted, 'nothing'))}")
    for key, given in entries.items():
        check_sweep_key(key, given, f"sweep.{wanted}.{key}", design, origin)
    sweep = Sweep(design, tuple(entries))
    check_samples(sweep, raw, origin)
    points = (sweep.n_points() if design != "factorial"
              else int(np.prod([len(v) for v in entries.values()], dtype=object)))
    if points > MAX_POINTS:  # a sampled design's points were checked with its samples
        raise InputError(f"{origin}: key \"sweep.values\": expected at most {MAX_POINTS:,} "
                         f"points in the full factorial, got {points:,}")
    check_runs([factors[0], points, factors[1]], origin)
    where = f"{origin} (sweep.{wanted})"
    for key, given in entries.items():
        checked = [check_one(base, key, v, where, folder) for v in given]
        if wanted == "ranges":
            sweep.ranges[key] = tuple(checked)
        elif len(set(map(repr, checked))) != len(checked):
            raise InputError(f"{origin}: key {shown(f'sweep.values.{key}')}: expected each value "
                             f"once, got {shown(given)}")
        else:
            sweep.values[key] = checked
    return sweep


def check_sweep_key(key: str, given: Any, full: str, design: str, origin: str) -> None:
    """One swept key: a single-valued scenario parameter, other than the run seed, with a list
    of values (factorial) or a [low, high] range (the sampled designs)."""
    try:
        default = param_default(key)
    except (KeyError, TypeError, IndexError):
        raise InputError(f"{origin}: key {shown(full)}: expected a scenario parameter "
                         "(section.key, e.g. mechanisms.households_per_grid or "
                         "funding.by_class.B)") from None
    if isinstance(default, (dict, list)):
        raise InputError(f"{origin}: key {shown(full)}: expected a single-valued parameter, but "
                         f"{key} is a {'table' if isinstance(default, dict) else 'list'}; "
                         f"sweep one of its entries, e.g. {key}."
                         f"{next(iter(default)) if isinstance(default, dict) else '...'}")
    if key == "run.seed":
        raise InputError(f"{origin}: key {shown(full)}: expected no run seed (each "
                         "replication's seed comes from the experiment's seed; add replications "
                         f"instead), got {shown(given)}")
    if design == "factorial":
        if not isinstance(given, list) or not given:
            raise InputError(f"{origin}: key {shown(full)}: expected a non-empty list of values, "
                             f"got {shown(given)}")
        return
    if not isinstance(default, (int, float)) or isinstance(default, bool):
        raise InputError(f"{origin}: key {shown(full)}: expected a numeric parameter for a "
                         f"{design} range, but {key} is {shown(default)}")
    if (not isinstance(given, list) or len(given) != 2
            or not all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in given)
            or not given[0] < given[1]):
        raise InputError(f"{origin}: key {shown(full)}: expected a range [low, high] of two "
                         f"numbers with low < high, got {shown(given)}")


def check_samples(sweep: Sweep, raw: dict, origin: str) -> None:
    """A sampled design's `samples` (and points: at most MAX_POINTS) and its optional seed."""
    design = sweep.design
    if design != "factorial":
        samples = raw.get("samples")
        if samples is None:
            raise InputError(f"{origin}: key \"sweep.samples\": expected the "
                             f"{SAMPLES_MEANING[design]} of the {design} sample, but it is missing")
        low = 2 if design in ("saltelli", "morris") else 1  # bootstraps and sigma need two
        sweep.samples = whole(samples, low, MAX_POINTS, "sweep.samples", origin)
        if design in ("sobol", "saltelli") and sweep.samples & (sweep.samples - 1):
            raise InputError(f"{origin}: key \"sweep.samples\": expected a power of 2 for a "
                             f"{'Sobol' if design == 'sobol' else 'Saltelli'} sample (its "
                             f"balance needs it), got {shown(samples)}")
        if sweep.n_points() > MAX_POINTS:
            raise InputError(f"{origin}: key \"sweep.samples\": expected at most {MAX_POINTS:,} "
                             f"points, but samples = {shown(samples)} over {len(sweep.keys)} "
                             f"parameters gives {sweep.n_points():,}")
    elif "samples" in raw:
        raise InputError(f"{origin}: key \"sweep.samples\": expected no samples for a factorial "
                         "sweep (its points are every combination of the listed values), got "
                         f"{shown(raw['samples'])}")
    if "seed" in raw:
        if design == "factorial":
            raise InputError(f"{origin}: key \"sweep.seed\": expected no seed for a factorial "
                             f"sweep (it draws nothing), got {shown(raw['seed'])}")
        sweep.seed = whole(raw["seed"], 0, 2**63 - 1, "sweep.seed", origin)


def check_one(base: Scenario, key: str, value: Any, origin: str, folder: Path) -> Any:
    """One swept value, validated (and typed) by Scenario.with_overrides."""
    checked = base.with_overrides(nest([key], [value]), origin=origin, folder=folder)
    return param_value(checked.params, key)


def param_value(params: dict, key: str) -> Any:
    node = params
    for part in key.split("."):
        node = node[part]
    return node


def check_city_and_funding(scenario: Scenario, where: str, checked: dict) -> None:
    """What only building the city can check (a CSV's rows, the classification, the funding
    total), as `shequ validate` does: a tiny model, once per distinct city, classification and
    funding."""
    from sim import funding
    from sim.model import GovernanceModel

    city_key = digest([scenario.params[s] for s in ("city", "classification")]
                      + [scenario.city_sha256])
    funding_key = digest([city_key, scenario.params["funding"]])
    if funding_key in checked:
        return
    try:
        if city_key not in checked:
            checked[city_key] = GovernanceModel(scenario=scenario, scale=1e-4, days=1)
        model = checked[city_key]
        funding.allocate(scenario.params["funding"], model.communities, model.classes,
                         scenario.files[0] if scenario.files else scenario.name)
    except InputError as e:
        raise InputError(f"{where}: {e}") from None
    checked[funding_key] = True

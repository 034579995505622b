"""The controls a class plays with, and the model they drive.

`CONTROLS` declares every control once (its label, its kind and range, and how it reads its
default from a scenario, so defaults are never typed twice); `TeachingModel` is the
`GovernanceModel` that takes the controls as keyword arguments and turns them into scenario
overrides. A control left at its default changes nothing, so a replayed run with untouched
controls is the identical run.
"""

import json
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from sim.model import GovernanceModel, nest
from sim.parameters import CLASSES, MEASURES
from sim.scenario import Scenario, load
from sim.viz.labels import text

SCHEMES = ("by_class", "per_capita", "needs_based")
REFORM = "xining-classified"  # where a measure goes when the scenario shown does not use it


@dataclass(frozen=True)
class Control:
    """One control of the app: its input kind and range; its default is read from the scenario."""

    name: str  # the TeachingModel keyword
    kind: str  # SliderInt, SliderFloat, Checkbox or Select
    label: Callable[[str], str]  # lang -> label
    default: Callable[[dict], Any]  # scenario params -> default value
    lo: float | None = None
    hi: float | None = None
    step: float | None = None


def scheme_label(scheme: str, lang: str) -> str:
    return text(f"scheme_{scheme}", lang)


def scheme_of(value: str) -> str:
    """A funding scheme from its name or its label in any language."""
    for scheme in SCHEMES:
        if value == scheme or value in (scheme_label(scheme, lang) for lang in ("en", "zh")):
            return scheme
    raise ValueError(f"funding scheme {value!r}: expected one of {', '.join(SCHEMES)}")


def default_scheme(p: dict) -> str:
    return p["funding"]["scheme"] if p["funding"]["scheme"] in SCHEMES else "by_class"


def default_fund(cls: str) -> Callable[[dict], int]:
    def read(p: dict) -> int:
        f = p["funding"]
        return int(f["uniform"] if f["scheme"] == "uniform" else f["by_class"][cls])
    return read


def measure_on(name: str) -> Callable[[dict], bool]:
    return lambda p: any(name in p["measures"][cls] for cls in CLASSES)


def _label(key: str, **values) -> Callable[[str], str]:
    return lambda lang: text(key, lang, **values)


def _measure_label(name: str) -> Callable[[str], str]:
    return lambda lang: text("measure", lang, name=text(f"measure_{name}", lang))


CONTROLS: tuple[Control, ...] = (
    Control("funding_scheme", "Select", _label("funding_scheme"), default_scheme),
    *(Control(f"fund_{cls}", "SliderInt", _label("fund", cls=cls), default_fund(cls),
              0, 600_000, 10_000) for cls in CLASSES),
    Control("hold_total", "Checkbox", _label("hold_total"), lambda p: p["funding"]["total"] > 0),
    Control("households_per_grid", "SliderInt", _label("households_per_grid"),
            lambda p: int(p["mechanisms"]["households_per_grid"]), 100, 1500, 50),
    Control("four_party_linkage", "Checkbox", _label("four_party_linkage"),
            lambda p: bool(p["mechanisms"]["four_party_linkage"])),
    *(Control(f"measure_{m}", "Checkbox", _measure_label(m), measure_on(m)) for m in MEASURES),
    Control("commercial_share_min", "SliderFloat", _label("commercial_share_min"),
            lambda p: float(p["classification"]["commercial_share_min"]), 0.0, 1.0, 0.05),
    Control("old_residents_max_a", "SliderInt", _label("old_residents_max_a"),
            lambda p: int(p["classification"]["old_residents_max_a"]), 0, 10_000, 250),
    Control("population_min_b", "SliderInt", _label("population_min_b"),
            lambda p: int(p["classification"]["population_min_b"]), 0, 20_000, 500),
    Control("old_residents_min_b", "SliderInt", _label("old_residents_min_b"),
            lambda p: int(p["classification"]["old_residents_min_b"]), 0, 10_000, 250),
)
CONTROL_NAMES = tuple(c.name for c in CONTROLS)


def base_scenario(scenario: str | Scenario | None = None, overrides: dict | None = None,
                  scale: float | None = None, days: int | None = None) -> Scenario:
    """The scenario shown, with the run's fixed overrides (a replayed run's, the app's scale)."""
    base = scenario if isinstance(scenario, Scenario) else load(scenario)
    flat = dict(overrides or {}) | {k: v for k, v in (("scale", scale), ("days", days)) if v is not None}
    return base.with_overrides(nest(flat), origin="run settings") if flat else base


def teaching_overrides(base: Scenario, values: dict) -> dict:
    """Scenario overrides (nested) for the controls' values, leaving out what equals the base."""
    p = {k: v for k, v in values.items() if v is not None}
    unknown = set(p) - set(CONTROL_NAMES)
    if unknown:
        raise TypeError(f"unknown controls: {', '.join(sorted(unknown))}")
    out: dict[str, dict] = {}

    def put(section, key, value):
        if base[section][key] != value:
            out.setdefault(section, {})[key] = value

    for key in ("commercial_share_min", "old_residents_max_a", "population_min_b",
                "old_residents_min_b"):
        if key in p:
            put("classification", key, float(p[key]) if key == "commercial_share_min" else int(p[key]))
    if "households_per_grid" in p:
        put("mechanisms", "households_per_grid", int(p["households_per_grid"]))
    if "four_party_linkage" in p:
        put("mechanisms", "four_party_linkage", bool(p["four_party_linkage"]))
    measures = measure_lists(base, {m: p[f"measure_{m}"] for m in MEASURES if f"measure_{m}" in p})
    for cls in CLASSES:
        if sorted(measures[cls]) != sorted(base["measures"][cls]):
            out.setdefault("measures", {})[cls] = measures[cls]
    money = funding_overrides(base, p, out.get("classification", {}))
    if money:
        out["funding"] = money
    return out


def measure_lists(base: Scenario, switches: dict[str, bool]) -> dict[str, list[str]]:
    """Per class, the measures in use: a measure switched on goes to the classes the scenario
    gives it, or else to those the reform gives it; switched off, it goes everywhere away."""
    reform = None
    lists = {cls: list(base["measures"][cls]) for cls in CLASSES}
    for m, on in switches.items():
        used = [cls for cls in CLASSES if m in base["measures"][cls]]
        if on and not used:
            reform = reform or load(REFORM)
            used = [cls for cls in CLASSES if m in reform["measures"][cls]]
        for cls in CLASSES:
            if on and cls in used and m not in lists[cls]:
                lists[cls].append(m)
            if not on and m in lists[cls]:
                lists[cls].remove(m)
    return lists


def funding_overrides(base: Scenario, p: dict, classification: dict) -> dict:
    """The `funding` overrides for the money controls, or {} when the communities' funds come out
    the same as the base's. Holding the total scales the class amounts so that the city total
    stays the base's; whole yuan cannot always add up exactly (e.g. 55 A communities), and then
    the total is left unchecked (off by at most a yuan a community)."""
    keys = ("funding_scheme", "hold_total", *(f"fund_{c}" for c in CLASSES))
    if not classification and not any(k in p for k in keys):
        return {}
    scheme = scheme_of(p.get("funding_scheme", default_scheme(base.params)))
    hold = p.get("hold_total", base["funding"]["total"] > 0)
    world = probe(base, {"classification": classification, "funding": {"total": 0}}
                  if classification else {})
    base_funds = probe(base).funds
    total = int(base["funding"]["total"]) or int(base_funds.sum())
    if scheme == "by_class":
        wanted = {c: int(p.get(f"fund_{c}", default_fund(c)(base.params))) for c in CLASSES}
        amounts = dict(wanted)
        counts = {c: int(np.sum(world.classes == c)) for c in CLASSES}
        spent = sum(counts[c] * wanted[c] for c in CLASSES)
        if hold and spent:
            amounts = exact_amounts({c: total * wanted[c] / spent for c in CLASSES}, counts, total)
        exact = sum(counts[c] * amounts[c] for c in CLASSES)
        money = {"scheme": "by_class", "by_class": amounts,
                 "total": exact if hold and exact == total else 0}
    else:
        money = {"scheme": scheme, "total": total if hold or scheme == "needs_based" else 0}
    if not classification:
        candidate = probe(base, {"funding": money})
        if np.array_equal(candidate.funds, base_funds):
            return {}
    return money


def exact_amounts(ideal: dict[str, float], counts: dict[str, int], total: int,
                  reach: int = 300) -> dict[str, int]:
    """Whole-yuan amounts by class near `ideal` whose city total is exactly `total` when a change
    of at most `reach` yuan in one or two classes can make it so; else the rounded amounts."""
    amounts = {c: round(v) for c, v in ideal.items()}
    short = total - sum(counts[c] * amounts[c] for c in amounts)
    if short == 0:
        return amounts
    present = [c for c in amounts if counts[c] and amounts[c]]
    best = None  # (largest change, changes)
    for i, a in enumerate(present):
        for b in present[i:]:
            for da in range(-reach, reach + 1):
                rest = short - counts[a] * da
                db = 0 if a == b else rest // counts[b]
                if (a == b and rest == 0) or (a != b and rest % counts[b] == 0 and abs(db) <= reach):
                    cost = max(abs(da), abs(db))
                    if best is None or cost < best[0]:
                        best = (cost, {a: amounts[a] + da} | ({b: amounts[b] + db} if a != b else {}))
    return amounts | best[1] if best else amounts


@dataclass(frozen=True)
class World:
    """What the controls need of a policy world: each community's name, class and fund."""

    names: list[str]
    classes: np.ndarray
    funds: np.ndarray


_WORLDS: dict[str, World] = {}


def probe(base: Scenario, overrides: dict | None = None) -> World:
    """Names, classes and funds of the city under `base` with `overrides`, read from a tiny model
    of the same city (20 residents, one day); cached, since a slider moved back and forth asks
    for the same worlds again."""
    scenario = base.with_overrides({k: v for k, v in (overrides or {}).items() if v},
                                   origin="the app's controls") if overrides else base
    key = json.dumps(scenario.params, sort_keys=True, default=str)
    if key not in _WORLDS:
        model = GovernanceModel(scenario=scenario, scale=1e-5, days=1)
        if len(_WORLDS) >= 64:
            _WORLDS.pop(next(iter(_WORLDS)))
        _WORLDS[key] = World(list(model.communities["name"]), model.classes.copy(),
                             model.funds.copy())
    return _WORLDS[key]


class TeachingModel(GovernanceModel):
    """A `GovernanceModel` driven by the app's controls.

    Keyword arguments: the run's settings (`policy`: the scenario, a name, path or `Scenario`;
    `scale`, `days`, `rng`, and `overrides`: scenario keys as `key` or `section__key`, e.g. a
    replayed run's), and the controls of `CONTROLS` by name, or as a dict `controls` (None or
    absent: the scenario's value). `self.control_overrides` holds the scenario overrides the
    controls made.

    The scenario is `policy` here, not `scenario`: Mesa's SolaraViz Reset passes a model that
    takes `scenario` a `mesa.experimental.scenarios.Scenario` of its own.

    `self.lock` is held while a day runs: SolaraViz steps the model in one thread while the page
    draws it in another, and a drawing holds the lock too, so it never sees half a day.
    """

    def __init__(self, *, policy: str | Scenario | None = None, scale: float | None = None,
                 days: int | None = None, rng: int | None = None, overrides: dict | None = None,
                 controls: dict | None = None,
                 funding_scheme: str | None = None, fund_A: int | None = None,
                 fund_B: int | None = None, fund_C: int | None = None, fund_D: int | None = None,
                 hold_total: bool | None = None, households_per_grid: int | None = None,
                 four_party_linkage: bool | None = None,
                 measure_red_property: bool | None = None,
                 measure_purchased_services: bool | None = None,
                 measure_owners_committees: bool | None = None,
                 measure_deliberation: bool | None = None,
                 measure_security_patrols: bool | None = None,
                 measure_central_households: bool | None = None,
                 commercial_share_min: float | None = None, old_residents_max_a: int | None = None,
                 population_min_b: int | None = None, old_residents_min_b: int | None = None):
        values = dict(controls or {}) | {k: v for k, v in locals().items()
                                         if k in CONTROL_NAMES and v is not None}
        base = base_scenario(policy, overrides, scale, days)
        self.control_overrides = teaching_overrides(base, values)
        if self.control_overrides:
            base = base.with_overrides(self.control_overrides, origin="the app's controls")
        self.lock = threading.RLock()
        super().__init__(scenario=base, rng=rng)

    def step(self) -> None:
        with self.lock:
            super().step()

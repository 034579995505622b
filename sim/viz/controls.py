"""The controls a class plays with, and the model they drive.

`CONTROLS` declares every control once (its label, its kind and range, whether it defines the
city, and how it reads its default from a scenario, so defaults are never typed twice);
`TeachingModel` is the `GovernanceModel` that takes the controls as keyword arguments and turns
them into scenario overrides, and that takes the policy levers mid-run, from the next day. A
control left at its default changes nothing, so a replayed run with untouched controls is the
identical run.

Policy levers (funding, grid size, four-party linkage, the type measures) act mid-run; the
controls that define the city (the classification thresholds; in the app also the scenario,
the scale and the seed) apply when a new run starts (Reset).
"""

import json
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from mesa.time import Schedule

from sim import funding
from sim.institutions import Patrols, grid_workers
from sim.model import GovernanceModel, nest
from sim.parameters import CLASSES, MEASURES
from sim.scenario import Scenario, load
from sim.viz.labels import text
from sim.viz.plots import class_funds

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
    city: bool = False  # defines the city: applies when a new run starts (Reset), not mid-run


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
            lambda p: float(p["classification"]["commercial_share_min"]), 0.0, 1.0, 0.05,
            city=True),
    Control("old_residents_max_a", "SliderInt", _label("old_residents_max_a"),
            lambda p: int(p["classification"]["old_residents_max_a"]), 0, 10_000, 250, city=True),
    Control("population_min_b", "SliderInt", _label("population_min_b"),
            lambda p: int(p["classification"]["population_min_b"]), 0, 20_000, 500, city=True),
    Control("old_residents_min_b", "SliderInt", _label("old_residents_min_b"),
            lambda p: int(p["classification"]["old_residents_min_b"]), 0, 10_000, 250, city=True),
)
CONTROL_NAMES = tuple(c.name for c in CONTROLS)
CONTROL = {c.name: c for c in CONTROLS}
FUNDING_LEVERS = ("funding_scheme", *(f"fund_{c}" for c in CLASSES), "hold_total")


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
    the same as the base's. Holding the total keeps the class amounts that were moved and scales
    the others so that the city total stays the base's (see `held_amounts`); whole yuan cannot
    always add up exactly (e.g. 55 A communities), and then the total is left unchecked (off by
    at most a yuan a community)."""
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
        defaults = {c: default_fund(c)(base.params) for c in CLASSES}
        wanted = {c: int(p.get(f"fund_{c}", defaults[c])) for c in CLASSES}
        money = class_money(world.classes, defaults, wanted, total, hold)
    else:
        money = {"scheme": scheme, "total": total if hold or scheme == "needs_based" else 0}
    if not classification:
        candidate = probe(base, {"funding": money})
        if np.array_equal(candidate.funds, base_funds):
            return {}
    return money


def class_money(classes: np.ndarray, current: dict, asked: dict, total: int, hold: bool) -> dict:
    """The funding parameters of by-class amounts: those asked, or with a held city total the
    others scaled to keep it (`held_amounts`); the total is declared when whole yuan meet it."""
    counts = {c: int(np.sum(classes == c)) for c in CLASSES}
    amounts = held_amounts(current, asked, counts, total) if hold else dict(asked)
    exact = sum(counts[c] * amounts[c] for c in CLASSES)
    return {"scheme": "by_class", "by_class": amounts,
            "total": exact if hold and exact == total else 0}


def held_amounts(current: dict[str, int], wanted: dict[str, int], counts: dict[str, int],
                 total: int) -> dict[str, int]:
    """Class amounts that keep the city total `total` (communities x amount): the classes whose
    amount was moved (`wanted` differs from `current`) keep it, the others are scaled by one
    factor to make up the total. When the moved ones alone exceed the total, or every class was
    moved, all are scaled instead. Whole yuan, exact where a few yuan can make it so."""
    present = [c for c in wanted if counts.get(c)]
    moved = [c for c in present if wanted[c] != current.get(c)]
    rest = [c for c in present if c not in moved]
    fixed = sum(counts[c] * wanted[c] for c in moved)
    free = sum(counts[c] * current[c] for c in rest)
    if rest and free > 0 and fixed <= total:
        factor = (total - fixed) / free
        ideal = {c: float(wanted[c]) for c in wanted} | {c: current[c] * factor for c in rest}
        return exact_amounts(ideal, counts, total, adjustable=rest)
    spent = sum(counts[c] * wanted[c] for c in present)
    if not spent:
        return dict(wanted)
    return exact_amounts({c: total * wanted[c] / spent for c in wanted}, counts, total)


def exact_amounts(ideal: dict[str, float], counts: dict[str, int], total: int,
                  reach: int = 300, adjustable: list[str] | None = None) -> dict[str, int]:
    """Whole-yuan amounts by class near `ideal` whose city total is exactly `total` when a change
    of at most `reach` yuan in one or two (`adjustable`) classes can make it so; else the
    rounded amounts."""
    amounts = {c: round(v) for c, v in ideal.items()}
    short = total - sum(counts.get(c, 0) * amounts[c] for c in amounts)
    if short == 0:
        return amounts
    present = [c for c in (adjustable or amounts) if counts.get(c) and amounts[c]]
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
    controls made. `watch=True` (the app, the films): the warm-up years run at once while the
    model is made, and the run stops at the end of the reported period (without the run-on
    days that close its last grievances); `period_day` counts the reported period's days done.

    The scenario is `policy` here, not `scenario`: Mesa's Reset (its ModelController) passes a
    model that takes `scenario` a `mesa.experimental.scenarios.Scenario` of its own.

    Mid-run: `request(name=value, ...)` asks for policy levers from the next day (before the
    reported period's first day, at once); `self.levers` are the lever values the model uses now,
    `self.pending` what changes at the next day, `self.changes` what changed on which day (the
    plots mark them), `self.revision` how many times levers were applied.
    What each lever recomputes, on the model's current structure (to move into the model later):

    - funding: `funds` (funding.allocate on the model's own classes; the committees' `fund` reads it);
      the spending plan's balance gets the difference of the new and the old annual fund pro rata
      for the days left of the budget year (never below 0: money spent stays spent), and so
      does its reserve while it is held back (never more than is left); `allocated` (the
      reported period's) the difference for the period's budget years left, and the plan's
      `funds` the new amounts (next year's, and the even allowance's from today);
    - grid size: the grid workers are removed and placed anew on their routes
      (sim/institutions/grid_workers.place), and the patrols' columns follow;
    - four-party linkage and the type measures: property companies' `red` (they choose their
      effort anew), committees' `purchased_services`, the patrols' volunteers and central
      households, linkages added or removed where the switch now puts them (the model's
      `place_linkages`; cases waiting for a meeting that no longer exists go back to their
      level), arise rates (the model's `refresh_arise`), the ladder's capacities (its smoothed
      workload kept), success and deliberation; joint meetings are scheduled when the first
      linkage appears. Owners' committees form over time under the B measure (the model's
      quarterly review), so switching it starts or stops their forming.

    With `watch`, after the warm-up the spending plan's `open_year` is called at once (its scheduled
    event calls it again after the next day, to the same effect), so that day 0 shows a full
    year's funds.

    `self.lock` is held while a day runs (scheduled events included): the app steps the model in
    one thread while the page draws it in another, and a drawing holds the lock too while it
    reads the model, so it never sees half a day.
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
                 population_min_b: int | None = None, old_residents_min_b: int | None = None,
                 watch: bool = False):
        values = dict(controls or {}) | {k: v for k, v in locals().items()
                                         if k in CONTROL_NAMES and v is not None}
        base = base_scenario(policy, overrides, scale, days)
        self.control_overrides = teaching_overrides(base, values)
        # Always a private copy: levers moved mid-run change the model's parameters in place.
        base = base.with_overrides(self.control_overrides, origin="the app's controls")
        self.lock = threading.RLock()
        self.pending: dict = {}  # lever -> value, from the next day
        self.pending_money: dict | None = None  # the funding parameters that go with them
        self.changes: list[Change] = []
        self.revision = 0  # levers applied so far (a drawing of the model is stale when it grows)
        super().__init__(scenario=base, rng=rng)
        self.levers = self.read_levers(values.get("hold_total"))
        self.fund_history = [(0, class_funds(self))]  # (first day, funds by class), for the plots
        self.watch = watch
        advance = self.step  # Mesa's time loop: scheduled events, then GovernanceModel.step

        def step() -> None:
            """One day, the levers asked for since the last one applied first."""
            with self.lock:
                self.apply_pending()
                advance()
                if self.watch and self.day >= self.report_end - 1:
                    self.running = False
        self.step = step
        while watch and self.steps < self.warmup_days and self.running:
            self.step()
        if watch and self.warmup_days:
            # The period's first budget year opens now, not with its event after the next day,
            # so that day 0 shows a full year's funds (the event then opens it again, alike).
            self.spending.open_year()

    @property
    def period_day(self) -> int:
        """Days of the reported period done (the warm-up not counted)."""
        return max(0, self.steps - self.warmup_days)

    # ---- levers mid-run -----------------------------------------------------------------------
    def read_levers(self, hold: bool | None = None) -> dict:
        """The lever values of the model's parameters (funds of a class: its mean where the
        scheme is neither uniform nor by class)."""
        levers = {c.name: c.default(self.p) for c in CONTROLS}
        if self.p["funding"]["scheme"] not in ("uniform", "by_class"):
            levers |= class_means(self.funds, self.classes)
        if hold is not None:
            levers["hold_total"] = bool(hold)
        return levers

    def shown(self) -> dict:
        """The levers as the model uses them from the next day."""
        return self.levers | self.pending

    def request(self, **changes) -> dict:
        """Policy levers from the next day (before the reported period's first day: at once).
        Returns `shown()`: with a held city total, the other classes' funds have moved."""
        unknown = set(changes) - set(CONTROL_NAMES)
        if unknown:
            raise TypeError(f"unknown levers: {', '.join(sorted(unknown))}")
        city = sorted(k for k in changes if CONTROL[k].city)
        if city:
            raise ValueError(f"{', '.join(city)}: defines the city; applies when a new run starts")
        with self.lock:
            wanted = self.shown() | changes
            money = self.pending_money
            if set(changes) & set(FUNDING_LEVERS):
                money, funds = self.resolve_funding(wanted)
                wanted |= class_means(funds, self.classes)
            self.pending = {k: v for k, v in wanted.items() if v != self.levers[k]}
            self.pending_money = money if any(k in self.pending for k in FUNDING_LEVERS) else None
            if self.period_day == 0:  # the reported period has not begun: at once
                self.apply_pending()
            return self.shown()

    def resolve_funding(self, wanted: dict) -> tuple[dict, np.ndarray]:
        """The funding parameters and each community's fund for the wanted funding levers. A held
        total is the city total of the funds now (pending ones included); moved class amounts are
        kept and the other classes scaled (`held_amounts`)."""
        scheme = scheme_of(wanted["funding_scheme"])
        now = self.pending_funds()
        total = int(now.sum())
        hold = bool(wanted["hold_total"])
        if scheme == "by_class":
            current = {c: int(v) for c, v in class_means(now, self.classes, "").items()}
            asked = {c: int(wanted[f"fund_{c}"]) for c in CLASSES}
            money = class_money(self.classes, current, asked, total, hold)
        else:
            money = {"scheme": scheme, "total": total if hold or scheme == "needs_based" else 0}
        full = self.p["funding"] | money
        return money, funding.allocate(full, self.communities, self.classes, "the app's levers")

    def pending_funds(self) -> np.ndarray:
        if self.pending_money is None:
            return self.funds
        full = self.p["funding"] | self.pending_money
        return funding.allocate(full, self.communities, self.classes, "the app's levers")

    def apply_pending(self) -> None:
        """Make the pending levers the model's, and note the day (see the class docstring)."""
        if not self.pending:
            return
        changed, money = self.pending, self.pending_money
        self.pending, self.pending_money = {}, None
        if money is not None:
            self.set_funding(money)
        if "households_per_grid" in changed:
            self.set_grid_size(int(changed["households_per_grid"]))
        switches = {m: bool(changed[f"measure_{m}"]) for m in MEASURES if f"measure_{m}" in changed}
        if switches:
            self.p["measures"] = measure_lists(self.p, switches)
        if "four_party_linkage" in changed:
            self.p["mechanisms"]["four_party_linkage"] = bool(changed["four_party_linkage"])
        if switches or "four_party_linkage" in changed:
            self.refresh_institutions()
        self.levers |= changed
        self.revision += 1
        if self.period_day:
            self.changes.append(Change(day=self.period_day, values=dict(changed)))

    def set_funding(self, money: dict) -> None:
        """New annual funds from today: this year's rest re-divided pro rata (see the class
        docstring)."""
        self.p["funding"] |= money
        new = funding.allocate(self.p["funding"], self.communities, self.classes,
                               "the app's levers")
        delta = (new - self.funds).astype(float)
        at_year_end = self.steps % 365 == 0 and self.steps > 0  # the new year opens with `new`
        left = 0.0 if at_year_end else (365 - self.steps % 365) / 365
        plan = self.spending
        plan.balance = np.maximum(plan.balance + delta * self.scale * left, 0.0)
        if self.steps - plan.year_start < plan.release_day:  # the reserve is still held back
            plan.reserve = plan.reserve + delta * self.scale * left * plan.share
        plan.reserve = np.clip(plan.reserve, 0.0, plan.balance)  # never more than is left
        plan.allocated = plan.allocated + np.rint(delta * self.period_years_left()).astype(
            np.int64)
        plan.funds = new.astype(float) * self.scale
        self.funds = new  # the committees' `fund` reads it
        self.fund_history.append((self.period_day, class_funds(self)))

    def period_years_left(self) -> float:
        """Budget years of the reported period from the next day on (the current one pro rata)."""
        first, last = self.warmup_years, (self.report_end - 1) // 365
        year, done = divmod(self.steps, 365)
        return sum(1 - done / 365 if y == year else 1.0 for y in range(max(year, first), last + 1))

    def set_grid_size(self, households_per_grid: int) -> None:
        """Grids of a new size: the grid workers are placed anew, their patrols follow."""
        self.p["mechanisms"]["households_per_grid"] = households_per_grid
        for worker in self.grid_workers:
            worker.remove()
        self.grid_workers = grid_workers.place(self)
        self.patrols = Patrols(self, self.grid_workers)
        self.choices.refocus()

    def refresh_institutions(self) -> None:
        """Re-derive what the type measures and the linkage switch decide (class docstring)."""
        red = self.measure("red_property")
        for company in self.companies:
            company.red = bool(red[company.community])
        purchased = self.measure("purchased_services")
        for committee in self.committees:
            committee.purchased_services = bool(purchased[committee.community])
        self.patrols = Patrols(self, self.grid_workers)
        self.choices.refocus()
        self.place_linkages()
        g = self.grievances
        ids = g.open_ids
        g.in_linkage[ids[g.in_linkage[ids] & ~self.compound_linked[g.compound[ids]]]] = False
        if self.linkages and not self.meetings_scheduled:
            every = self.p["mechanisms"]["linkage_meeting_days"]
            start = (self.steps // every + 1) * every + 0.5  # as if scheduled from day 0
            self.schedule_recurring(self.ladder.hold_joint_meetings,
                                    Schedule(interval=every, start=start))
            self.meetings_scheduled = True
        for company in self.companies:
            company.choose_effort()
        self.refresh_arise()
        self.ladder.set_capacity()
        self.ladder.refresh_success()
        self.ladder.deliberation = self.measure("deliberation")


@dataclass(frozen=True)
class Change:
    """Levers moved during a run, acting from day index `day` (0-based, as the daily table)."""

    day: int
    values: dict


def class_means(funds: np.ndarray, classes: np.ndarray, prefix: str = "fund_") -> dict:
    """Each class's mean fund (whole yuan), as lever values `fund_X` (or by class with prefix
    ""); classes without a community are left out."""
    return {f"{prefix}{c}": int(round(funds[classes == c].mean())) for c in CLASSES
            if np.any(classes == c)}

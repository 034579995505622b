"""A community's own choices (社区自己的决定): what a student in the classroom decides for the community
they run, in place of the default verbs of its institutions.

A `Choice` covers three verbs of one community's institutions:

- the **spending plan** of its committee (`sim/institutions/committees.py`): the reserve held back
  (`reserve_share`), the categories paid first and alone from the reserve
  (`priority_categories`), the spending rule (`spending`);
- **where its grid workers patrol** (`sim/institutions/grid_workers.py`): the compounds they walk
  more often (`patrol_focus`) and the share of their visits spent there (`patrol_share`);
- **its four-party joint meetings** (`sim/institutions/linkage.py`): whether its linked compounds
  hold them (`joint_meeting`) and which cases come first on the agenda (`agenda`).

A field left at its default keeps the community's default verb (the scenario's value for the
spending plan), so `Choice()` is the default everywhere. `Choices` holds a model's choices: one
made between two days acts from the next day (the day boundary), replaces the community's earlier
choice as a whole, and is logged as (day, community, choice); communities without one keep the
default verbs. No city-wide parameter changes.
"""

import json
from dataclasses import dataclass, fields

import numpy as np

from sim.errors import InputError
from sim.parameters import CATEGORIES, Param

SPENDING_RULES = ("even", "first_come")
AGENDAS = ("oldest", "property", "dispute")  # the linkage's cases: property and neighbour disputes

# What each field means, its default, unit and source (docs/ODD.md carries this table).
FIELDS: dict[str, Param] = {
    "reserve_share": Param(None, "share of the annual fund",
                           "the scenario's funding.reserve_share (default 0.1)",
                           "share of the fund held back for priority cases until the reserve's "
                           "release day; a change while the reserve is held moves it by the "
                           "difference × the annual fund (within what is left)", lo=0.0, hi=1.0),
    "priority_categories": Param(None, "-", "the scenario's funding.priority_categories "
                                 "(default security, micro_wish)",
                                 "categories paid first on a short day, and alone from the reserve "
                                 "before its release", choices=CATEGORIES),
    "spending": Param(None, "-", "the scenario's funding.spending (default even)",
                      "spending rule: 'even' (at most d/365 of the fund by day d of the budget "
                      "year) or 'first_come'", choices=SPENDING_RULES),
    "patrol_focus": Param((), "compound numbers", "assumption: none (every grid walked evenly)",
                          "the community's compounds its grid workers favour: in a grid that has "
                          "some of them and others, `patrol_share` of the worker's visits go to "
                          "them and the rest to the others"),
    "patrol_share": Param(0.5, "share of a worker's visits", "assumption: half",
                          "share of a grid worker's visits spent in the focus compounds of its "
                          "grid (only with a focus)", lo=0.0, hi=1.0),
    "joint_meeting": Param(True, "-", "the scenario's schedule (weekly, linkage_meeting_days)",
                           "hold the community's four-party joint meetings; false: none is held "
                           "and the cases waiting for one climb the ladder at the next"),
    "agenda": Param("oldest", "-", "assumption: the longest-waiting cases first",
                    "which cases the joint meeting takes first: 'oldest', or 'property' or "
                    "'dispute' cases first (the longest waiting first among them)",
                    choices=AGENDAS),
}


def expected(name: str) -> str:
    """What a field takes, in words."""
    p = FIELDS[name]
    if name == "priority_categories":
        return f"a list of categories from {', '.join(CATEGORIES)} (no repeats)"
    if name == "patrol_focus":
        return "a list of compound numbers (whole numbers >= 0, no repeats)"
    if p.choices:
        return "one of " + ", ".join(p.choices)
    if isinstance(p.default, bool):
        return "true or false"
    return f"a number from {p.lo:g} to {p.hi:g}"


def checked(name: str, value, where: str):
    """A field's value, normalised (lists become tuples), or one clear InputError."""
    p = FIELDS[name]
    if value is None and p.default is None:
        return None
    bad = InputError(f"{where}: choice \"{name}\": expected {expected(name)}, got {value!r}")
    if name in ("priority_categories", "patrol_focus"):
        if not isinstance(value, (list, tuple)) or len(set(value)) != len(value):
            raise bad
        ok = (lambda v: v in CATEGORIES) if name == "priority_categories" else (
            lambda v: isinstance(v, (int, np.integer)) and not isinstance(v, bool) and v >= 0)
        if not all(ok(v) for v in value):
            raise bad
        return tuple(int(v) for v in value) if name == "patrol_focus" else tuple(value)
    if p.choices:
        if value not in p.choices:
            raise bad
        return value
    if isinstance(p.default, bool):
        if not isinstance(value, bool):
            raise bad
        return value
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not (
            p.lo <= value <= p.hi):
        raise bad
    return float(value)


@dataclass(frozen=True)
class Choice:
    """One community's choice for its institutions (see the module's docstring; the fields'
    meanings, defaults and units are in `FIELDS` and docs/ODD.md)."""

    reserve_share: float | None = None
    priority_categories: tuple[str, ...] | None = None
    spending: str | None = None
    patrol_focus: tuple[int, ...] = ()
    patrol_share: float = 0.5
    joint_meeting: bool = True
    agenda: str = "oldest"

    def __post_init__(self):
        for f in fields(self):
            object.__setattr__(self, f.name, checked(f.name, getattr(self, f.name), "Choice"))

    @classmethod
    def from_dict(cls, data, where: str = "choice") -> "Choice":
        """A choice from a mapping (a JSON object): unknown keys and bad values are InputErrors
        naming `where`, the key and what was expected."""
        if not isinstance(data, dict):
            raise InputError(f"{where}: expected a choice (an object of {', '.join(FIELDS)}), "
                             f"got {data!r}")
        unknown = sorted(set(data) - set(FIELDS))
        if unknown:
            raise InputError(f"{where}: unknown choice \"{unknown[0]}\": expected one of "
                             f"{', '.join(FIELDS)}")
        return cls(**{k: checked(k, v, where) for k, v in data.items()})

    def to_dict(self) -> dict:
        """The fields that differ from the defaults, as JSON values (`Choice()` gives {})."""
        out = {}
        for f in fields(self):
            value = getattr(self, f.name)
            if value != f.default:
                out[f.name] = list(value) if isinstance(value, tuple) else value
        return out

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), ensure_ascii=False, sort_keys=True)


class Choices:
    """A model's communities' choices: `choose` between two days, `apply` at the day boundary
    (the model does it before the next day's events and phases). `current[c]`: the choice community
    c uses now (absent: the default verbs); `log`: (day, community, choice) as applied, day being
    the first day (0 at the warm-up's start, as `model.steps` counts) the choice acts on."""

    def __init__(self, model):
        self.model = model
        n = model.n_communities
        self.pending: dict[int, Choice] = {}
        self.current: dict[int, Choice] = {}
        self.log: list[tuple[int, int, Choice]] = []
        self.planned: dict[int, dict[int, Choice]] = {}  # day -> community -> choice (a replay)
        self.meeting = np.ones(n, bool)  # the community's linked compounds hold joint meetings
        self.agenda = np.full(n, -1, np.int64)  # category its meetings take first (-1: oldest)

    def choose(self, community: int, choice: Choice, where: str = "choice") -> int:
        """Community `community` uses `choice` from the next day; returns that day."""
        self.check(community, choice, where)
        self.pending[int(community)] = choice
        return self.model.steps

    def plan(self, entries, where: str = "choice") -> None:
        """Choices made in advance, as (day, community, choice): each is made at the boundary
        before its day (a replayed class's log)."""
        for day, community, choice in entries:
            self.check(community, choice, where)
            self.planned.setdefault(int(day), {})[int(community)] = choice

    def check(self, community, choice: Choice, where: str = "choice") -> None:
        """The choice fits this model: the community exists, its focus is its own compounds."""
        n = self.model.n_communities
        if isinstance(community, bool) or not isinstance(community, (int, np.integer)) or not (
                0 <= community < n):
            raise InputError(f"{where}: community {community!r}: expected a community number "
                             f"from 0 to {n - 1}")
        if not isinstance(choice, Choice):
            raise InputError(f"{where}: expected a Choice, got {type(choice).__name__}")
        own = compounds_of(self.model, int(community))
        foreign = [j for j in choice.patrol_focus if j not in set(own.tolist())]
        if foreign:
            raise InputError(f"{where}: choice \"patrol_focus\": compound {foreign[0]} is not in "
                             f"community {community}; expected some of "
                             f"{', '.join(map(str, own))}")

    def apply(self) -> None:
        """The day boundary: the pending choices become the communities' verbs."""
        if self.planned:
            self.pending = self.planned.pop(self.model.steps, {}) | self.pending
        if not self.pending:
            return
        model, day = self.model, self.model.steps
        for community, choice in sorted(self.pending.items()):
            model.spending.choose(community, choice.reserve_share, choice.priority_categories,
                                  choice.spending)
            model.patrols.focus(model, community, choice.patrol_focus, choice.patrol_share)
            self.meeting[community] = choice.joint_meeting
            self.agenda[community] = (-1 if choice.agenda == "oldest"
                                      else CATEGORIES.index(choice.agenda))
            self.current[community] = choice
            self.log.append((day, community, choice))
        self.pending.clear()


    def refocus(self) -> None:
        """New patrols (the grid workers placed anew, e.g. by the teaching app's grid-size
        lever): the communities' chosen patrol focus applies to them too."""
        for community, choice in sorted(self.current.items()):
            if choice.patrol_focus:
                self.model.patrols.focus(self.model, community, choice.patrol_focus,
                                         choice.patrol_share)


def compounds_of(model, community: int) -> np.ndarray:
    """The compound numbers of a community (the model's compounds table)."""
    return np.flatnonzero(model.compound_community == community)


def markdown_table() -> str:
    """The choices' table for docs/ODD.md."""
    rows = ["| choice | default | unit | source | meaning |", "|---|---|---|---|---|"]
    for name, p in FIELDS.items():
        default = "the scenario's" if p.default is None else (
            "none" if p.default == () else json.dumps(p.default))
        rows.append(f"| `{name}` | {default} | {p.unit} | {p.source} | {p.meaning} |")
    return "\n".join(rows)


if __name__ == "__main__":
    print(markdown_table())

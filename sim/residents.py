"""Residents (居民), array-backed: one numpy column per attribute, index = resident id.

Two million residents cannot be Python objects (DESIGN §4), so every daily phase works on these
columns at once. To Mesa users the table still reads like an agent set: `len`, `select`, `agg`,
`get`, and iteration over light `Resident` views for small populations.
"""

from collections.abc import Callable, Iterator

import numpy as np

# name: (dtype, default, meaning)
COLUMNS = {
    "building": (np.int32, 0, "building (楼院) the resident lives in"),
    "compound": (np.int32, 0, "compound (小区) of that building"),
    "community": (np.int16, 0, "community (社区) of that compound"),
    "elderly": (np.bool_, False, "aged 60 or over"),
    "migrant": (np.bool_, False, "migrant / floating resident (流动人口)"),
    "party_member": (np.bool_, False, "party member"),
    "satisfaction": (np.float32, 0.7, "satisfaction with community governance, 0-1"),
    "expectation": (np.float32, 0.7, "expected performance of a grievance's handling, 0-1"),
    "trust": (np.float32, 0.6, "trust in the community organisations, 0-1"),
    "last_outcome": (np.int8, 0, "last grievance: +1 resolved, -1 dropped, 0 none yet"),
}


class Residents:
    """The resident table. `residents.trust` is the trust column; `residents[ids]` a subset."""

    def __init__(self, columns: dict[str, np.ndarray]):
        n = len(columns["building"])
        self.columns = {}
        for name, (dtype, default, _) in COLUMNS.items():
            given = columns.get(name)
            self.columns[name] = (np.full(n, default, dtype=dtype) if given is None
                                  else np.asarray(given, dtype=dtype))

    def __len__(self) -> int:
        return len(self.columns["building"])

    def __getattr__(self, name: str) -> np.ndarray:
        try:
            return self.__dict__["columns"][name]
        except KeyError:
            raise AttributeError(name) from None

    def __getitem__(self, ids) -> "ResidentSet | Resident":
        """One resident by id (like an agent), or a set by slice, ids or mask."""
        if isinstance(ids, (int, np.integer)):
            return Resident(self, int(np.arange(len(self))[ids]))
        return ResidentSet(self, np.arange(len(self))[ids])

    def get(self, name: str) -> np.ndarray:
        return self.columns[name]

    def select(self, where: np.ndarray | Callable[["Residents"], np.ndarray]) -> "ResidentSet":
        """Residents where a boolean mask (or a function of the table giving one) is true."""
        return self.all().select(where)

    def agg(self, name: str, func: Callable = np.mean):
        return func(self.columns[name])

    def all(self) -> "ResidentSet":
        return ResidentSet(self, np.arange(len(self)))

    def __iter__(self) -> Iterator["Resident"]:
        return iter(self.all())


class ResidentSet:
    """Some residents of the table, by id."""

    def __init__(self, table: Residents, ids: np.ndarray):
        self.table, self.ids = table, np.asarray(ids)

    def __len__(self) -> int:
        return len(self.ids)

    def get(self, name: str) -> np.ndarray:
        return self.table.columns[name][self.ids]

    def select(self, where) -> "ResidentSet":
        mask = where(self.table) if callable(where) else np.asarray(where)
        if len(mask) == len(self.table):
            mask = mask[self.ids]
        return ResidentSet(self.table, self.ids[mask])

    def agg(self, name: str, func: Callable = np.mean):
        return func(self.get(name))

    def __iter__(self) -> Iterator["Resident"]:
        return (Resident(self.table, int(i)) for i in self.ids)


class Resident:
    """A read/write view of one row, for inspection and small examples."""

    __slots__ = ("table", "unique_id")

    def __init__(self, table: Residents, unique_id: int):
        object.__setattr__(self, "table", table)
        object.__setattr__(self, "unique_id", unique_id)

    def __getattr__(self, name):
        try:
            return self.table.columns[name][self.unique_id].item()
        except KeyError:
            raise AttributeError(name) from None

    def __setattr__(self, name, value):
        if name not in self.table.columns:
            raise AttributeError(f"residents have no column {name!r}")
        self.table.columns[name][self.unique_id] = value

    def __repr__(self):
        values = ", ".join(f"{k}={getattr(self, k)!r}" for k in ("building", "satisfaction", "trust"))
        return f"Resident({self.unique_id}, {values})"

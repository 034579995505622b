"""The grievance table (诉求台账): one row per grievance, one numpy column per attribute.

Rows are appended as grievances arise and never removed, so the table is the run's ledger; the
ids of open grievances are kept apart so that a day's work touches only those.
"""

from enum import IntEnum

import numpy as np


class State(IntEnum):
    OPEN = 0
    RESOLVED = 1
    DROPPED = 2  # given up: never voiced and never found, or reported and never resolved


class Channel(IntEnum):
    SILENT = -1  # kept to oneself, so far
    APP = 0  # QR code / app / phone to the community (扫码/电话)
    HOTLINE = 1  # 12345 hotline
    GRID = 2  # told a grid worker or a party member
    FOUND = 3  # found by a patrol: grid worker, volunteers, central household


# Where a case is: not reported, waiting at the hotline, or at a level of the ladder.
UNREPORTED, AT_HOTLINE = -2, -1

NEVER = -1  # a day that has not come (day_reported, day_responded, day_closed)

# name: (dtype, fill)
COLUMNS = {
    "resident": (np.int32, 0),
    "community": (np.int16, 0),
    "compound": (np.int32, 0),
    "building": (np.int32, 0),
    "category": (np.int8, 0),
    "channel": (np.int8, Channel.SILENT),
    "state": (np.int8, State.OPEN),
    "level": (np.int8, UNREPORTED),
    "max_level": (np.int8, UNREPORTED),
    "intractable": (np.bool_, False),  # no handler can resolve it
    # The grievance's own random numbers, drawn when it arises, so that the same grievance
    # decides alike under any policy (common random numbers): voice, channel, return visit.
    "u_voice": (np.float32, 0.0),
    "u_channel": (np.float32, 0.0),
    "u_visit": (np.float32, 0.0),
    "u_satisfied": (np.float32, 0.0),
    "in_linkage": (np.bool_, False),  # waiting for the four-party joint meeting
    "response_missed": (np.bool_, False),
    "satisfied": (np.int8, -1),  # at the return visit: 1 yes, 0 no, -1 no visit
    "day_arisen": (np.int16, NEVER),
    "day_reported": (np.int16, NEVER),
    "day_responded": (np.int16, NEVER),
    "day_level": (np.int16, NEVER),  # day the case reached its current level
    "day_attempted": (np.int16, NEVER),  # last handling attempt (the longest-waiting go first)
    "day_closed": (np.int16, NEVER),
}


class Grievances:
    """Append-only columns with amortised growth, plus the ids of open grievances."""

    def __init__(self, capacity: int = 1024):
        self.n = 0
        self.columns = {k: np.full(capacity, fill, dtype=dt) for k, (dt, fill) in COLUMNS.items()}
        self.open_ids = np.empty(0, dtype=np.int64)

    def __len__(self) -> int:
        return self.n

    def __getattr__(self, name: str) -> np.ndarray:
        try:
            return self.__dict__["columns"][name]
        except KeyError:
            raise AttributeError(name) from None

    def add(self, **values: np.ndarray) -> np.ndarray:
        """Append rows (other columns take their fill); returns the new ids."""
        k = len(next(iter(values.values())))
        self._reserve(self.n + k)
        ids = np.arange(self.n, self.n + k)
        for name, v in values.items():
            self.columns[name][ids] = v
        self.n += k
        self.open_ids = np.concatenate([self.open_ids, ids])
        return ids

    def _reserve(self, size: int) -> None:
        capacity = len(self.columns["resident"])
        if size <= capacity:
            return
        new = max(size, 2 * capacity)
        for name, (dt, fill) in COLUMNS.items():
            col = np.full(new, fill, dtype=dt)
            col[: self.n] = self.columns[name][: self.n]
            self.columns[name] = col

    def prune(self) -> None:
        """Forget closed grievances in the open list (they stay in the table)."""
        self.open_ids = self.open_ids[self.columns["state"][self.open_ids] == State.OPEN]

    def frame(self):
        """The table as a pandas DataFrame (for analysis and tests)."""
        import pandas as pd

        return pd.DataFrame({k: v[: self.n] for k, v in self.columns.items()})

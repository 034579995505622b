"""The grievance table (诉求台账): one row per open grievance, one numpy column per attribute.

A grievance is added when it arises and counted when it closes (`sim.metrics`); closed rows then
leave the table at the end of a day once they are as many as half the open ones (`compact`), so
the table holds what is open and a little of what closed lately, and a day's work touches only
that, however long the run. Each grievance keeps its number (`gid`) for life; the rows that left
last are kept aside (`closed`) for whoever follows one grievance's story.
"""

from enum import IntEnum

import numpy as np

from sim import kernels


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

# name: (dtype, fill). Days are the model's days from its start (warm-up included), < 32,768.
COLUMNS = {
    "gid": (np.int64, -1),  # the grievance's number for life (rows move when the table compacts)
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
    "cohort": (np.bool_, False),  # arose in the reported period: followed to its end and counted
    # The grievance's own random numbers, drawn when it arises, so that the same grievance
    # decides alike under any policy (common random numbers): voice, channel, return visit.
    "u_voice": (np.float32, 0.0),
    "u_channel": (np.float32, 0.0),
    "u_visit": (np.float32, 0.0),
    "u_satisfied": (np.float32, 0.0),
    "u_route": (np.float32, 0.0),  # its household's place on its building's patrol route
    "loss": (np.float32, 0.0),  # satisfaction it has taken from its resident so far (decaying)
    "in_linkage": (np.bool_, False),  # waiting for the four-party joint meeting
    "whistled": (np.bool_, False),  # a grid worker sent it straight to the departments
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
    """Columns of the open grievances (and, until the day's end, those closed today)."""

    def __init__(self, capacity: int = 1024, keep_closed: bool = False):
        self.keep_closed = keep_closed  # keep every closed row (`archive`): tests, small runs
        self.archive: list[dict] = []
        self.n = 0  # rows in use
        self.n_closed = 0  # of them, closed (they leave at the next compaction)
        self.next_gid = 0
        self.columns = {k: np.full(capacity, fill, dtype=dt) for k, (dt, fill) in COLUMNS.items()}
        self.closed = {k: v[:0] for k, v in self.columns.items()}  # rows that left last
        self._open = None  # open_ids, once found

    def __len__(self) -> int:
        return self.n

    def __getattr__(self, name: str) -> np.ndarray:
        try:
            return self.__dict__["columns"][name]
        except KeyError:
            raise AttributeError(name) from None

    @property
    def open_ids(self) -> np.ndarray:
        """Rows of the grievances still open (read-only; found once until a grievance is added
        or closed, or the table compacts)."""
        if self._open is None:
            self._open = np.flatnonzero(self.columns["state"][: self.n] == State.OPEN)
            self._open.flags.writeable = False
        return self._open

    def close(self, ids: np.ndarray, state: "State", day: int) -> None:
        """Grievances close today, resolved or given up (the only way a row's state changes)."""
        self.columns["state"][ids] = state
        self.columns["day_closed"][ids] = day
        self._open = None

    def add(self, **values: np.ndarray) -> np.ndarray:
        """Append rows (other columns take their fill); returns their row ids."""
        k = len(next(iter(values.values())))
        self._reserve(self.n + k)
        self._open = None
        ids = np.arange(self.n, self.n + k)
        for name, v in values.items():
            self.columns[name][ids] = v
        self.columns["gid"][ids] = np.arange(self.next_gid, self.next_gid + k)
        self.n += k
        self.next_gid += k
        return ids

    def _reserve(self, size: int) -> None:
        capacity = len(self.columns["gid"])
        if size <= capacity:
            return
        new = max(size, 2 * capacity)
        for name, (dt, fill) in COLUMNS.items():
            col = np.full(new, fill, dtype=dt)
            col[: self.n] = self.columns[name][: self.n]
            self.columns[name] = col

    def compact(self, closed_today: int = 0) -> None:
        """The day's end: closed grievances leave the table once they are many (they stay in
        `closed` until the next time). `closed_today`: rows closed since the last call."""
        self.n_closed += closed_today
        if self.n_closed <= max(1024, (self.n - self.n_closed) // 2):
            return
        self.n_closed = 0
        self._open = None
        is_open = self.columns["state"][: self.n] == State.OPEN
        n_gone = self.n - int(np.count_nonzero(is_open))
        self.closed = {}
        for name, (dtype, fill) in COLUMNS.items():  # each column in one pass (sim/kernels.py)
            self.closed[name] = np.empty(n_gone, dtype)
            kept = kernels.compact_column(self.columns[name], self.n, is_open,
                                          self.closed[name], dtype(fill))
        if self.keep_closed:
            self.archive.append(self.closed)
        self.n = kept

    def row_of(self, gid: int) -> int:
        """The row of grievance `gid` while it is in the table (rows are in gid order), else -1."""
        gids = self.columns["gid"][: self.n]
        row = int(np.searchsorted(gids, gid))
        return row if row < self.n and gids[row] == gid else -1

    def record(self, gid: int) -> dict | None:
        """Grievance `gid` as a dict of its columns: in the table, or among the rows that left it
        last; else None."""
        row = self.row_of(gid)
        if row >= 0:
            return {k: v[row].item() for k, v in self.columns.items()}
        where = np.flatnonzero(self.closed["gid"] == gid)
        if len(where):
            return {k: v[where[0]].item() for k, v in self.closed.items()}
        return None

    def frame(self):
        """The grievances in the table as a pandas DataFrame — with `keep_closed`, every grievance
        of the run, in gid order."""
        import pandas as pd

        parts = [*self.archive, {k: v[: self.n] for k, v in self.columns.items()}]
        frame = pd.DataFrame({k: np.concatenate([p[k] for p in parts]) for k in COLUMNS})
        return frame.sort_values("gid", kind="stable").reset_index(drop=True)

"""The classroom session (课堂): one city, many screens.

One `Session` holds the class's one model (a `TeachingModel` that has run its warm-up, as the
teaching app's does), its seats and its log. Every screen — the teacher's and each student's, each
a Solara session of its own — calls the same object; its lock (the model's) is held while a day
runs and while anything reads or changes the session, so no screen sees half a day. Only the
teacher's loop calls `step` / `run_period` / `end`; students `join`, `choose`, `leave`.

Seats and screens. A student joins a seat with its code from a screen (an id the app gives each
browser session) and gets a token back. Then:

- a bad code, an earlier class's code, a seat held by another live screen, a screen that holds
  another seat, a class that has ended: one `SeatError` saying why and what to do, nothing changed;
- a lost connection (`disconnect`) keeps the seat `grace_s` seconds: the student re-joins with the
  code and the token and has it back at once (the old screen is told it was taken over); after that
  the seat is free for anyone with the code. `leave` frees it at once;
- a screen is heard from at each call (`touch`); a screen silent for `grace_s` counts as lost.

A choice (sim/choices.py) acts from the next day boundary and replaces the community's earlier
one; a seat freed keeps its community's last choice until another student changes it; seats never
taken, and communities without a seat, keep the default verbs. The log (sim/classroom/log.py)
records each choice as the model applied it, so `replay` rebuilds the class exactly.
"""

import secrets
import time
from pathlib import Path

import pandas as pd

from sim import outputs
from sim.choices import Choice
from sim.classroom import seats as seating
from sim.classroom.log import ClassLog
from sim.classroom.seats import Seat, SeatError
from sim.errors import InputError

PERIODS = {"week": 7, "month": 30}  # days between two rounds of choices
GRACE_S = 60.0  # seconds a lost screen's seat is kept for its student
KPIS = ("response_rate", "resolution_rate", "satisfaction_rate")  # as the city reports them
ICEBERG = ("resolved_share", "unvoiced_share", "unmet_days_per_1000", "mean_satisfaction",
           "mean_trust")  # every grievance that arose


class Session:
    """A class's shared city: the model, the seats, the log (see the module's docstring).

    Keyword arguments: `scenario` (a name, a path or a `Scenario`), `scale`, `days`, `seed`,
    `overrides` (scenario keys, `key` or `section__key`), `period` ('week' or 'month'), `seats`
    (how many, spread over the classes) or `communities` (which), `log` (a new file), `grace_s`,
    `code_seed` (None: codes from the secure source), `clock` (seconds, for tests)."""

    def __init__(self, *, scenario=None, scale: float | None = None, days: int | None = None,
                 seed: int | None = None, overrides: dict | None = None, period: str = "week",
                 seats: int = 4, communities: list[int] | None = None, log: Path | str,
                 grace_s: float = GRACE_S, code_seed: int | None = None, clock=time.monotonic):
        from sim.viz.controls import TeachingModel

        if period not in PERIODS:
            raise InputError(f"--period {period}: expected one of {', '.join(PERIODS)}")
        self.period, self.period_days = period, PERIODS[period]
        self.grace_s, self.clock = float(grace_s), clock
        self.model = TeachingModel(policy=scenario, scale=scale, days=days, rng=seed,
                                   overrides=dict(overrides or {}), watch=True)
        self.lock = self.model.lock
        chosen = self.pick_communities(seats, communities)
        self.prefix, codes = seating.make_codes(len(chosen), seating.code_source(code_seed))
        names = self.model.communities["name"].to_numpy()
        self.seats = [Seat(k + 1, code, c, str(names[c]))
                      for k, (code, c) in enumerate(zip(codes, chosen))]
        self.by_code = {s.code: s for s in self.seats}
        self.by_screen: dict[str, Seat] = {}
        self.gone: dict[str, str] = {}  # screens whose seat went elsewhere: why
        self.ended = False
        self.log = ClassLog(log)
        self.logged = 0  # the model's applied choices written so far
        self.log.write(self.header())

    # ---- set-up ---------------------------------------------------------------------------------
    def pick_communities(self, n: int, communities: list[int] | None) -> list[int]:
        classes = self.model.classes
        if communities is None:
            return seating.spread(classes, n)
        bad = [c for c in communities if not (0 <= c < len(classes))]
        if bad or len(set(communities)) != len(communities) or not communities:
            raise InputError(f"--communities {communities}: expected distinct community numbers "
                             f"from 0 to {len(classes) - 1}")
        return [int(c) for c in communities]

    def header(self) -> dict:
        from sim import __version__
        from sim.viz.replay import flat

        m = self.model
        policy = scenario_of(m.policy)
        spec = {"scenario": policy, "seed": m.seed, "scale": m.scale, "days": m.days,
                "overrides": flat(m.p)}
        return {"shequ": "classroom", "version": __version__, "spec": spec,
                "period": self.period, "period_days": self.period_days,
                "seats": [{"seat": s.number, "community": s.community,
                           "class": str(m.classes[s.community])} for s in self.seats]}

    # ---- students -------------------------------------------------------------------------------
    def join(self, code: str, screen: str, name: str = "", token: str | None = None) -> Seat:
        """Take the seat of `code` from `screen`; returns it (with the token to re-join)."""
        with self.lock:
            self.open_or_fail()
            seat = self.seat_of_code(code)
            mine = self.by_screen.get(screen)
            if mine is not None and mine is not seat:
                raise SeatError(f"this screen already holds {mine.label}; leave it first")
            own = token is not None and token == seat.token  # its student, back
            same = seat.screen == screen  # this screen, joining again
            if seat.screen not in (None, screen):
                if not (own or self.expired(seat)):
                    who = f" by {seat.name}" if seat.name else ""
                    raise SeatError(f"{seat.label} is taken{who} on another screen; if it is "
                                    f"yours, re-join from there, or wait: a lost screen frees "
                                    f"its seat after {self.grace_s:g} s")
                self.by_screen.pop(seat.screen, None)
                self.gone[seat.screen] = (
                    "your seat was taken back from another screen with your code and token; "
                    "carry on there" if own else
                    f"your connection was lost for more than {self.grace_s:g} s and {seat.label} "
                    "went to another screen; join again with a free seat's code")
            if not (own or same):
                seat.token = secrets.token_urlsafe(16)
            seat.screen, seat.lost, seat.seen = screen, False, self.clock()
            seat.name = name.strip()[:40] or (seat.name if own or same else "")
            self.by_screen[screen] = seat
            self.gone.pop(screen, None)
            return seat

    def seat_of_code(self, code: str) -> Seat:
        code = seating.normalise(code)
        if not code.startswith(self.prefix + "-"):
            raise SeatError(f"code {code} is for another class (an earlier one?); this class's "
                            f"codes begin {self.prefix}-: ask your teacher for today's")
        seat = self.by_code.get(code)
        if seat is None:
            raise SeatError(f"code {code} is not a seat of this class; check it on your "
                            "teacher's screen")
        return seat

    def touch(self, screen: str) -> None:
        """The screen is alive (every page refresh says so)."""
        with self.lock:
            seat = self.by_screen.get(screen)
            if seat is not None:
                seat.seen, seat.lost = self.clock(), False

    def disconnect(self, screen: str) -> None:
        """The screen's connection was lost: its seat is kept `grace_s` for its student."""
        with self.lock:
            seat = self.by_screen.get(screen)
            if seat is not None:
                seat.lost = True

    def leave(self, screen: str) -> Seat | None:
        """The student gives the seat up: free at once (the community keeps its last choice)."""
        with self.lock:
            seat = self.by_screen.pop(screen, None)
            if seat is not None:
                seat.screen, seat.token, seat.lost = None, None, False
            return seat

    def seat_of(self, screen: str) -> Seat:
        """The seat this screen holds, or a SeatError saying why it holds none."""
        seat = self.by_screen.get(screen)
        if seat is not None:
            return seat
        if screen in self.gone:
            raise SeatError(self.gone[screen])
        raise SeatError("this screen holds no seat; join with the code from your teacher")

    def choose(self, screen: str, choice: Choice | dict) -> int:
        """The screen's community's choice from the next day; returns that day of the reported
        period (0 its first)."""
        with self.lock:
            self.open_or_fail()
            seat = self.seat_of(screen)
            if isinstance(choice, dict):
                choice = Choice.from_dict(choice, f"{seat.label}'s choice")
            seat.seen, seat.lost = self.clock(), False
            day = self.model.choices.choose(seat.community, choice, f"{seat.label}'s choice")
            return day - self.model.warmup_days

    def open_or_fail(self) -> None:
        if self.ended:
            raise SeatError(f"this class has ended (day {self.day}); ask your teacher")

    # ---- the teacher ----------------------------------------------------------------------------
    @property
    def day(self) -> int:
        """Days of the reported period done, as every screen shows it."""
        return self.model.period_day

    @property
    def running(self) -> bool:
        return not self.ended and self.model.running

    def step(self, days: int = 1) -> int:
        """The teacher's loop: run `days` days (fewer if the run ends); returns the day."""
        for _ in range(days):
            with self.lock:
                if not self.running:
                    break
                self.model.step()
                self.write_choices()
        return self.day

    def run_period(self) -> int:
        """Run to the end of the current week or month (at least one day)."""
        self.step(self.period_days - self.day % self.period_days)
        return self.day

    def end(self) -> None:
        """End the class: its log is closed (the choices not yet applied are dropped)."""
        with self.lock:
            if self.ended:
                return
            self.ended = True
            self.model.choices.pending.clear()
            self.log.write({"end": self.model.steps})
            self.log.close()

    def write_choices(self) -> None:
        """Log the choices the model applied since the last call, as (day, seat, choice)."""
        seat_of = {s.community: s.number for s in self.seats}
        applied = self.model.choices.log
        for day, community, choice in applied[self.logged:]:
            self.log.write({"day": day, "period_day": day - self.model.warmup_days,
                            "seat": seat_of.get(community), "community": community,
                            "choice": choice.to_dict()})
        self.logged = len(applied)

    # ---- what the screens show ------------------------------------------------------------------
    def outcomes(self) -> pd.DataFrame:
        """One row a seat: who holds it, its community's class, choice, KPIs and whole-iceberg
        outcomes so far."""
        with self.lock:
            frame = outputs.communities(self.model).set_index("community")
            rows = []
            for s in self.seats:
                row = frame.loc[s.community]
                held = s.screen is not None and not self.expired(s)
                choice = self.model.choices.current.get(s.community, Choice())
                rows.append({"seat": s.number, "student": s.name if held else "",
                             "community": s.community, "name": row["name"],
                             "class": row["class"], "choice": choice.to_json(),
                             **{k: row[k] for k in KPIS + ICEBERG}})
            return pd.DataFrame(rows)

    def league(self) -> pd.DataFrame:
        """The league table: seats by class, best resolved share of every grievance first (none
        yet resolved or given up: last)."""
        table = self.outcomes().sort_values(["class", "resolved_share", "seat"],
                                            ascending=[True, False, True], na_position="last")
        table["rank"] = table.groupby("class").cumcount() + 1
        return table.reset_index(drop=True)

    def expired(self, seat: Seat) -> bool:
        return self.clock() - seat.seen >= self.grace_s


def scenario_of(policy) -> str:
    """How the log names the class's scenario: a shipped one by name (the log then replays on
    another computer), another by its path. Every parameter is in the log's overrides anyway."""
    from sim.scenario import SCENARIO_DIR, shipped_scenarios

    path = policy.path
    if path is None:
        return policy.name
    path = Path(path)
    if path.stem in shipped_scenarios() and path.resolve() == (
            SCENARIO_DIR / path.name).resolve():
        return path.stem
    return str(path)

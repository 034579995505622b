"""Seats of a classroom (座位): one community each, joined with a short code.

A code is the class's own prefix and the seat's part, e.g. `K7P-4QXM`, from an alphabet without
look-alikes (no 0/O, 1/I/L). Codes are drawn from the operating system's secure source (or a seeded
one, for tests), so a seat's code says nothing about another's. A code whose prefix is not this
class's is stale (an earlier class's, or another teacher's).
"""

import random
import secrets
from dataclasses import dataclass

import numpy as np

from sim.errors import InputError

ALPHABET = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"  # 31 signs, none mistaken for another
CLASS_PART, SEAT_PART = 3, 4


class SeatError(InputError):
    """A student's join or choice that cannot be done now: one sentence saying why and what to do.
    Nothing changes for anyone (the seat is kept or freed as the message says)."""


@dataclass
class Seat:
    """A student's seat: the community they run, who holds it and from which screen."""

    number: int  # 1, 2, … as the teacher's screen lists them
    code: str
    community: int  # the model's number (0, 1, …)
    community_name: str = ""  # as the city names it, e.g. community-008
    name: str = ""  # the student's name as they gave it (shown to the teacher)
    screen: str | None = None  # the browser session holding the seat (None: free)
    token: str | None = None  # the holder's secret: a re-join with it takes the seat back
    seen: float = 0.0  # when the holder's screen was last heard from (the session's clock)
    lost: bool = False  # the holder's connection was lost: kept until `seen` + grace

    @property
    def label(self) -> str:
        return f"seat {self.number} ({self.community_name or f'community {self.community}'})"


def code_source(seed: int | None = None):
    """Where codes come from: the secure source, or a seeded one (tests, demonstrations)."""
    return secrets.SystemRandom() if seed is None else random.Random(seed)


def draw(source, length: int) -> str:
    return "".join(source.choice(ALPHABET) for _ in range(length))


def make_codes(n: int, source) -> tuple[str, list[str]]:
    """The class prefix and `n` distinct seat codes."""
    prefix = draw(source, CLASS_PART)
    codes: list[str] = []
    while len(codes) < n:
        code = f"{prefix}-{draw(source, SEAT_PART)}"
        if code not in codes:
            codes.append(code)
    return prefix, codes


def normalise(text: str) -> str:
    """A code as typed (any case, spaces, with or without its dash) in its written form."""
    plain = "".join(str(text).split()).upper().replace("-", "")
    if len(plain) != CLASS_PART + SEAT_PART or any(ch not in ALPHABET for ch in plain):
        raise SeatError(f"code {text!r}: expected a code like K7P-4QXM (letters and digits from "
                        "your teacher's screen)")
    return f"{plain[:CLASS_PART]}-{plain[CLASS_PART:]}"


def spread(classes: np.ndarray, n: int) -> list[int]:
    """`n` communities for seats, taken from the classes in turn (A, B, C, D, A, …), each class's
    in number order: a class of any size has every kind of community."""
    by_class = {k: list(np.flatnonzero(classes == k)) for k in sorted(set(classes.tolist()))}
    if n > len(classes):
        raise InputError(f"--seats {n}: expected at most {len(classes)} (the city's communities)")
    chosen: list[int] = []
    while len(chosen) < n:
        for members in by_class.values():
            if members and len(chosen) < n:
                chosen.append(int(members.pop(0)))
    return chosen

"""Replaying a class from its log: the same scenario, seed and choices give the same tables, and
the same film (`shequ animate --classroom LOG`)."""

from pathlib import Path

from sim.classroom.log import read
from sim.errors import InputError


def build(spec: dict, where: str):
    """The class's model, before its first reported day (its warm-up run), from the log's spec."""
    from sim.viz.controls import TeachingModel

    try:
        return TeachingModel(policy=spec.get("scenario"), scale=spec.get("scale"),
                             days=spec.get("days"), rng=spec.get("seed"),
                             overrides=dict(spec.get("overrides") or {}), watch=True)
    except InputError as e:
        raise InputError(f"{where} line 1 (the class's scenario): {e}") from None
    except TypeError:
        raise InputError(f"{where} line 1: key \"spec\": expected scenario, seed, scale, days "
                         "and overrides (an object of parameters)") from None


def replay(log: Path | str, model=None, until: int | None = None):
    """Run the class of `log` again with its choices, each from the day it acted, to the day the
    class ended (or, unended, to the end of its reported period); returns the model. With `until`
    (a day, counted as the log counts them) it stops there; `model`: one already built from the
    log's spec."""
    model = planned(log, model)
    last = model.class_end if until is None else until
    while model.running and (last is None or model.steps < last):
        model.step()
    return model


def planned(log: Path | str, model=None):
    """The class's model with the log's choices planned, each for the day it acted (it makes them
    itself as it steps: a film can step it); `model.class_end` is the day the class ended,
    `model.class_seats` the seats' communities."""
    header, choices, end = read(log)
    if end is not None and choices and choices[-1][0] >= end:
        raise InputError(f"{log}: a choice acting on day {choices[-1][0]}, after the class ended "
                         f"(day {end}); expected choices before the end line")
    model = model or build(header["spec"], str(log))
    model.choices.plan(choices, str(log))
    model.class_end = end
    model.class_seats = [int(seat["community"]) for seat in header.get("seats", [])
                         if isinstance(seat, dict) and isinstance(seat.get("community"), int)]
    return model

"""Captions of films and figures in plain words: the policy's title (not a file name), and a
sentence or two of what is happening in the run at a day — read from the model's public state
(open grievances, the daily table, the spending plan), never changing it.
"""

import numpy as np

from sim.viz import graph, plots
from sim.viz.labels import LABELS, text

FUNDS_LOW = 0.25  # a class with less than this share of its year's fund left is mentioned


def period_day(model) -> int:
    """Days of the reported period done (a warm-up, if any, not counted)."""
    return max(0, model.steps - getattr(model, "warmup_days", 0))


def policy_title(model, lang: str = "en") -> str:
    """The scenario in words: its title in the label table, else its description, else its name."""
    policy = model.policy
    key = f"scn_{policy.name}"
    if key in LABELS:
        return text(key, lang)
    return policy.description or policy.name


def funds_left(model) -> dict[str, float]:
    """Share of this year's fund left, by class."""
    balance, funds = model.spending.balance, model.spending.funds
    return {c: float(balance[model.classes == c].sum() / funds[model.classes == c].sum())
            for c in model.class_labels if funds[model.classes == c].sum() > 0}


def sentence(model, lang: str = "en") -> str:
    """What is happening, in a sentence or two."""
    reported, silent = graph.open_grievances(model)
    if period_day(model) < 3 and not getattr(model, "warmup_days", 0):
        return text("cap_start", lang)
    words = [text("cap_open", lang, open=int(reported.sum() + silent.sum()),
                  silent=int(silent.sum()))]
    left = funds_left(model)
    low = min(left, key=left.get) if left else None
    if low is not None and left[low] < FUNDS_LOW:
        words.append(text("cap_funds", lang, cls=low, left=f"{max(left[low], 0):.0%}"))
    else:
        words.append(resolution_words(model, lang))
    today = period_day(model)
    changed = [c for c in getattr(model, "changes", []) if today - 7 < c.day + 1 <= today]
    if changed:
        from sim.viz.chart import change_words

        words.append(text("cap_changed", lang, what=change_words(changed[-1].values, lang)))
    return " ".join(w for w in words if w)


def resolution_words(model, lang: str) -> str:
    """The 30-day resolution of reported cases, and the best and the worst class."""
    table = plots.daily(model)
    rates = {}
    for label, part in table.groupby("class", sort=False):
        value = plots.window_rate(part.set_index("day"), "resolution_rate")[-1]
        if np.isfinite(value):
            rates[label] = float(value)
    city = rates.pop("city", None)
    if city is None or len(rates) < 2:
        return ""
    return text("cap_resolved", lang, resolution=f"{city:.0%}", best=max(rates, key=rates.get),
                worst=min(rates, key=rates.get))


def caption(model, lang: str = "en") -> tuple[str, str]:
    """The two lines under a film frame: day and policy; what is happening."""
    return (text("film_caption", lang, day=period_day(model), policy=policy_title(model, lang)),
            sentence(model, lang))

"""One grievance's story in plain words: it arose → was voiced or found → was handled at level N
→ was resolved in D days → the resident was satisfied or not.

Read from the grievance table (`model.grievances`, one row per grievance; see
`sim.grievances.COLUMNS`), so it needs no hook in the model. Picking a grievance uses its own
random generator, never the model's streams, so watching a story does not change the run.
Days are told counting from 1 (the table's day 0 is the run's first day).
"""

import numpy as np

from sim.grievances import AT_HOTLINE, NEVER, UNREPORTED, Channel, State
from sim.parameters import CATEGORIES, CHANNELS, LEVELS
from sim.viz.labels import text


def pick(model, rng: np.random.Generator, communities: list[int] | None = None,
         closed_first: bool = True) -> int | None:
    """A grievance at random: of the given communities if they have any, a closed one (a whole
    story) if there is one. None before any grievance has arisen."""
    g = model.grievances
    if not len(g):
        return None
    ids = np.arange(len(g))
    if communities:
        mine = ids[np.isin(g.community[: len(g)], communities)]
        ids = mine if len(mine) else ids
    if closed_first:
        closed = ids[(g.state[ids] != State.OPEN) & (g.level[ids] != UNREPORTED)]
        ids = closed if len(closed) else ids
    return int(rng.choice(ids))


def facts(model, gid: int) -> dict:
    """The grievance's row, as plain Python values."""
    g = model.grievances
    return {name: g.columns[name][gid].item() for name in g.columns}


def tell(model, gid: int, lang: str = "en") -> list[str]:
    """The story as markdown sentences, in order."""
    f, r = facts(model, gid), model.residents
    who = resident_word(model, f["resident"])
    kind = str(model.compounds["kind"].iloc[f["compound"]])
    lines = [text("story_head", lang, gid=gid, category=text(f"cat_{CATEGORIES[f['category']]}", lang),
                  who=text(who, lang), building=f["building"], kind=text(f"kind_{kind}", lang),
                  community=model.communities["name"].iloc[f["community"]],
                  cls=model.classes[f["community"]]),
             text("s_arose", lang, day=f["day_arisen"] + 1)]
    lines += reporting(model, f, lang)
    if f["day_reported"] != NEVER:
        lines += handling(model, f, lang)
        lines += outcome(model, f, lang)
    res = f["resident"]
    lines.append(text("s_mood", lang, sat=float(r.satisfaction[res]), trust=float(r.trust[res])))
    return lines


def resident_word(model, resident: int) -> str:
    r = model.residents
    if r.party_member[resident]:
        return "who_party"
    if r.migrant[resident]:
        return "who_migrant"
    if r.elderly[resident]:
        return "who_elderly"
    return "who_resident"


def reporting(model, f: dict, lang: str) -> list[str]:
    """Voiced (by which channel), found by a patrol, still silent, or given up unvoiced."""
    if f["day_reported"] == NEVER:
        if f["state"] == State.DROPPED:
            return [text("s_dropped_silent", lang, day=f["day_closed"] + 1,
                         days=f["day_closed"] - f["day_arisen"])]
        return [text("s_silent", lang, day=model.steps)]
    if f["channel"] == Channel.FOUND:
        return [text("s_found", lang, day=f["day_reported"] + 1)]
    channel = text(f"channel_{CHANNELS[f['channel']]}", lang)
    return [text("s_voiced", lang, day=f["day_reported"] + 1, channel=channel)]


def handling(model, f: dict, lang: str) -> list[str]:
    """First contact, then where on the ladder it was handled (and how it climbed)."""
    lines = []
    if f["day_responded"] != NEVER:
        key = "s_responded_late" if f["response_missed"] else "s_responded"
        lines.append(text(key, lang, day=f["day_responded"] + 1))
    elif f["state"] == State.OPEN:
        lines.append(text("s_no_response", lang))
    level, closed = f["level"], f["state"] != State.OPEN
    if level == AT_HOTLINE:
        lines.append(text("s_hotline_direct" if f["state"] == State.RESOLVED else "s_hotline_waiting",
                          lang))
        return lines
    key = "s_level" if closed else "s_level_now"
    lines.append(text(key, lang, level=level + 1, name=text(f"level_{LEVELS[level]}", lang)))
    entry = int(model.ladder.entry[f["category"]])
    path = [lv for lv in model.ladder.enabled if entry <= lv <= level]
    if len(path) > 1:
        lines.append(text("s_climbed", lang, path=" → ".join(
            f"{lv + 1} {text(f'level_short_{LEVELS[lv]}', lang)}" for lv in path)))
    if f["in_linkage"]:
        lines.append(text("s_linkage" if f["state"] == State.RESOLVED else "s_linkage_waiting", lang))
    return lines


def outcome(model, f: dict, lang: str) -> list[str]:
    """Resolved after D days, given up, or still open; and the return visit."""
    if f["state"] == State.OPEN:
        return [text("s_open", lang, day=model.steps, days=model.steps - 1 - f["day_reported"])]
    days = f["day_closed"] - f["day_reported"]
    if f["state"] == State.RESOLVED:
        key = "s_resolved" if days else "s_resolved_same"
        lines = [text(key, lang, day=f["day_closed"] + 1, days=days)]
    else:
        lines = [text("s_dropped", lang, day=f["day_closed"] + 1, days=days)]
    visit = {1: "s_satisfied", 0: "s_unsatisfied"}.get(f["satisfied"], "s_no_visit")
    return lines + [text(visit, lang)]

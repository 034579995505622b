"""One grievance's story in plain words: it arose → was voiced or found → was handled at level N
→ was resolved in D days → the resident was satisfied or not.

Read from the grievance table (`model.grievances`, one row per grievance; see
`sim.grievances.COLUMNS`), so it needs no hook in the model. Picking a grievance uses its own
random generator, never the model's streams, so watching a story does not change the run.
Days are told counting from 1 at the first day of the reported period (a warm-up before it
not counted), as the app and the films count them.
"""

import numpy as np

from sim.grievances import AT_HOTLINE, NEVER, UNREPORTED, Channel, State
from sim.parameters import CATEGORIES, CHANNELS, LEVELS
from sim.viz.labels import text


def told(model, day: int) -> int:
    """A day of the grievance table as told: from 1 at the reported period's first day."""
    return int(day) + 1 - getattr(model, "warmup_days", 0)


def today(model) -> int:
    return model.steps - getattr(model, "warmup_days", 0)


def pick(model, rng: np.random.Generator, communities: list[int] | None = None,
         closed_first: bool = True) -> int | None:
    """A grievance's number (`gid`, for life) at random, of those in the grievance table: of the
    given communities if they have any, of the reported period (not its warm-up) if there are,
    a closed one (a whole story) if there are a few. None before any grievance has arisen."""
    g = model.grievances
    if not len(g):
        return None
    ids = np.arange(len(g))
    if communities:
        mine = ids[np.isin(g.community[: len(g)], communities)]
        ids = mine if len(mine) else ids
    recent = ids[g.day_arisen[ids] >= getattr(model, "warmup_days", 0)]  # not of the warm-up
    ids = recent if len(recent) else ids
    if closed_first:  # a whole story, when there are a few to choose from
        closed = ids[(g.state[ids] != State.OPEN) & (g.level[ids] != UNREPORTED)]
        ids = closed if len(closed) >= min(3, len(ids)) else ids
    return int(g.gid[rng.choice(ids)])


def facts(model, gid: int) -> dict | None:
    """Grievance `gid`'s row as plain Python values; None once it has left the grievance table
    (closed rows leave it after a while; see sim.grievances)."""
    return model.grievances.record(gid)


def tell(model, gid: int, lang: str = "en") -> list[str]:
    """The story as markdown sentences, in order (empty once the grievance has left the table)."""
    f, r = facts(model, gid), model.residents
    if f is None:
        return []
    who = resident_word(model, f["resident"])
    kind = str(model.compounds["kind"].iloc[f["compound"]])
    lines = [text("story_head", lang, gid=gid, category=text(f"cat_{CATEGORIES[f['category']]}", lang),
                  who=text(who, lang), building=f["building"], kind=text(f"kind_{kind}", lang),
                  community=model.communities["name"].iloc[f["community"]],
                  cls=model.classes[f["community"]]),
             text("s_arose", lang, day=told(model, f["day_arisen"]))]
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
            return [text("s_dropped_silent", lang, day=told(model, f["day_closed"]),
                         days=f["day_closed"] - f["day_arisen"])]
        return [text("s_silent", lang, day=today(model))]
    if f["channel"] == Channel.FOUND:
        return [text("s_found", lang, day=told(model, f["day_reported"]))]
    channel = text(f"channel_{CHANNELS[f['channel']]}", lang)
    return [text("s_voiced", lang, day=told(model, f["day_reported"]), channel=channel)]


def handling(model, f: dict, lang: str) -> list[str]:
    """First contact, then where on the ladder it was handled (and how it climbed)."""
    lines = []
    if f["day_responded"] != NEVER:
        key = "s_responded_late" if f["response_missed"] else "s_responded"
        lines.append(text(key, lang, day=told(model, f["day_responded"])))
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
        return [text("s_open", lang, day=today(model), days=model.steps - 1 - f["day_reported"])]
    days = f["day_closed"] - f["day_reported"]
    if f["state"] == State.RESOLVED:
        key = "s_resolved" if days else "s_resolved_same"
        lines = [text(key, lang, day=told(model, f["day_closed"]), days=days)]
    else:
        lines = [text("s_dropped", lang, day=told(model, f["day_closed"]), days=days)]
    visit = {1: "s_satisfied", 0: "s_unsatisfied"}.get(f["satisfied"], "s_no_visit")
    return lines + [text(visit, lang)]

"""Every outcome Shequ reports: its label in English and Chinese, its unit, what it counts and
which way is better. One table for `shequ compare`, the report, the app and the films
(`sim/viz/labels.py` takes its outcome words from here).

    label("resolved_share", "zh")            # '已解决（占全部产生的诉求）'
    shown("resolved_share", 0.9731)          # '97.3'  (in the outcome's display unit, %)
    unit("resolved_share", difference=True)  # 'pp'   (a difference of shares: percentage points)

A share is stored as a fraction (0-1) and shown in per cent; its differences are percentage
points. Amounts of money are in 10k yuan (万元) everywhere, as Chinese budgets are written (a B
community's 300,000 yuan is 30); only the cost of a resolved case, a price, is in yuan per case.
"""

from dataclasses import dataclass

LANGS = ("en", "zh")


@dataclass(frozen=True)
class Unit:
    value: tuple[str, str]  # the unit of a value as shown (en, zh)
    difference: tuple[str, str]  # the unit of a difference of two values
    factor: float  # stored value x factor = shown value
    digits: int  # decimals shown
    bounded: bool = False  # a share of 0-1: its intervals must stay in [0, 1]


UNITS = {
    "share": Unit(("%", "%"), ("pp", "个百分点"), 100, 1, bounded=True),
    "score": Unit(("of 100", "分（满分 100）"), ("points", "分"), 100, 1, bounded=True),
    "days": Unit(("days", "天"), ("days", "天"), 1, 1),
    "grievance_days": Unit(("grievance-days per 1,000 residents a year", "诉求·天/千人·年"),
                           ("grievance-days per 1,000 residents a year", "诉求·天/千人·年"), 1, 0),
    "per_1000": Unit(("per 1,000 residents", "件/千人"), ("per 1,000 residents", "件/千人"), 1, 2),
    "wan": Unit(("10k yuan", "万元"), ("10k yuan", "万元"), 1e-4, 1),
    "yuan_per_case": Unit(("yuan per case", "元/件"), ("yuan per case", "元/件"), 1, 0),
    "communities": Unit(("communities", "个社区"), ("communities", "个社区"), 1, 1),
}


@dataclass(frozen=True)
class Outcome:
    name: str  # the column of the summary (and communities) table
    group: str  # kpi | iceberg | residents | time | escalation | equity | money
    unit: str  # key of UNITS
    better: int  # +1 higher is better, -1 lower is better, 0 neither
    label: tuple[str, str]  # (en, zh)
    short: tuple[str, str]  # for the app's tiles and narrow tables
    counts: str  # what it counts (the README's words)


GROUPS = {
    "kpi": ("KPIs, of reported cases (as Xining measures them)", "考核指标（已受理诉求）"),
    "iceberg": ("Every grievance that arose, silent ones too", "全部诉求（包括未反映的）"),
    "residents": ("Residents, on average", "居民平均"),
    "time": ("Time to resolution", "办结时间"),
    "escalation": ("Escalation up the ladder", "逐级上报"),
    "equity": ("Between communities", "社区之间"),
    "money": ("Money", "经费"),
}

OUTCOMES: dict[str, Outcome] = {o.name: o for o in (
    Outcome("response_rate", "kpi", "share", +1,
            ("Response in time", "及时响应率"), ("responded in time", "及时响应"),
            "KPI, of reported cases: first contact within the response deadline"),
    Outcome("resolution_rate", "kpi", "share", +1,
            ("Resolution", "解决率"), ("resolved", "解决"),
            "KPI, of reported cases: resolved, of those resolved or given up"),
    Outcome("satisfaction_rate", "kpi", "share", +1,
            ("Satisfied at return visit", "回访满意率"), ("satisfied at the return visit", "回访满意"),
            "KPI, of reported cases: satisfied at the return visit (回访)"),
    Outcome("resolved_share", "iceberg", "share", +1,
            ("Resolved, of every grievance that arose", "已解决（占全部产生的诉求）"),
            ("resolved, of all that arose", "已解决（占全部产生的诉求）"),
            "every grievance: resolved, of all that arose (and closed)"),
    Outcome("unvoiced_share", "iceberg", "share", -1,
            ("Never voiced or found, of every grievance", "从未反映也未被发现（占全部诉求）"),
            ("never voiced or found", "从未反映、也未被发现"),
            "every grievance: given up never voiced or found, of all that arose"),
    Outcome("unmet_days_per_1000", "iceberg", "grievance_days", -1,
            ("Unmet need", "未满足的需求"), ("unmet need", "未满足的需求"),
            "every grievance: grievance-days of unmet need per 1,000 residents a year (days to "
            "resolution; a grievance never resolved counts the whole horizon)"),
    Outcome("open_per_1000", "iceberg", "per_1000", -1,
            ("Open grievances", "未办结诉求"), ("open now, per 1,000 residents", "未解决诉求（每千居民）"),
            "every grievance: open grievances per 1,000 residents, silent included (the mean "
            "stock over the period)"),
    Outcome("mean_satisfaction", "residents", "score", +1,
            ("Mean satisfaction", "平均满意度"), ("satisfaction", "满意度"),
            "every resident: mean satisfaction, 0-1, over the reported period"),
    Outcome("mean_trust", "residents", "score", +1,
            ("Mean trust", "平均信任度"), ("trust", "信任度"),
            "every resident: mean trust, 0-1, over the reported period"),
    Outcome("days_to_resolution_median", "time", "days", -1,
            ("Days to resolution, median", "办结天数（中位数）"), ("days, median", "天（中位数）"),
            "days from report to resolution of the cohort's resolved cases, median"),
    Outcome("days_to_resolution_p90", "time", "days", -1,
            ("Days to resolution, 90th percentile", "办结天数（90% 分位）"), ("days, p90", "天（90%）"),
            "days from report to resolution of the cohort's resolved cases, 90th percentile"),
    Outcome("escalation_share_grassroots", "escalation", "share", 0,
            ("Escalated to grassroots organisations", "上报至基层组织"), ("to grassroots", "至基层组织"),
            "reported cases escalated to level 1 (grassroots organisations) or higher"),
    Outcome("escalation_share_co_building", "escalation", "share", 0,
            ("Escalated to co-building units", "上报至共建单位"), ("to co-building units", "至共建单位"),
            "reported cases escalated to level 2 (co-building units) or higher"),
    Outcome("escalation_share_departments", "escalation", "share", 0,
            ("Escalated to city departments", "上报至职能部门"), ("to departments", "至职能部门"),
            "reported cases escalated to level 3 (city departments and 12345)"),
    Outcome("resolution_rate_sd", "equity", "share", -1,
            ("Spread of communities' resolution", "社区解决率的离散程度"), ("spread", "离散程度"),
            "standard deviation of the communities' resolution rates"),
    Outcome("resolution_rate_min", "equity", "share", +1,
            ("Worst community's resolution", "最差社区的解决率"), ("worst community", "最差社区"),
            "lowest resolution rate of a community"),
    Outcome("resolution_rate_old", "equity", "share", +1,
            ("Resolution in old compounds", "老旧小区解决率"), ("old compounds", "老旧小区"),
            "KPI resolution of cases reported in old compounds (老旧小区)"),
    Outcome("funds_allocated", "money", "wan", 0,
            ("Funds allocated", "拨付经费"), ("funds", "经费"),
            "yuan allocated for the reported period's budget years (full-scale)"),
    Outcome("cum_spent", "money", "wan", 0,
            ("Spent", "已支出"), ("spent", "已支出"),
            "yuan spent on cases in the reported period (full-scale)"),
    Outcome("unspent", "money", "wan", -1,
            ("Unspent", "未花完"), ("unspent", "未花完"),
            "yuan left unspent at the end of the reported year (full-scale)"),
    Outcome("cum_shortfall", "money", "wan", -1,
            ("Shortfall", "经费缺口"), ("shortfall", "缺口"),
            "yuan that cases needed and the community's fund did not have (full-scale)"),
    Outcome("cost_per_resolved", "money", "yuan_per_case", -1,
            ("Cost per resolved case", "每件办结诉求的费用"), ("per case", "每件"),
            "yuan spent per resolved case (full-scale)"),
    Outcome("communities_short", "money", "communities", -1,
            ("Communities short of money", "经费不足的社区"), ("short", "不足"),
            "communities whose fund fell short of what their cases needed"),
    Outcome("communities_underspent", "money", "communities", -1,
            ("Communities leaving > 20 % unspent", "结余超过 20% 的社区"), ("> 20 % unspent", "结余 > 20%"),
            "communities leaving more than 20 % of their fund unspent"),
)}

# The outcomes a planner reads first: the KPIs and the whole iceberg beside them (DESIGN §7).
MAIN = ("response_rate", "resolution_rate", "satisfaction_rate", "resolved_share",
        "unvoiced_share", "unmet_days_per_1000")


def check_lang(lang: str) -> str:
    if lang not in LANGS:
        raise ValueError(f"lang: expected one of {', '.join(LANGS)}, got {lang!r}")
    return lang


def pick(words: tuple[str, str], lang: str) -> str:
    return words[LANGS.index(check_lang(lang))]


def label(name: str, lang: str = "en", short: bool = False) -> str:
    """An outcome's label; an unknown name is shown as it is."""
    o = OUTCOMES.get(name)
    return name if o is None else pick(o.short if short else o.label, lang)


def unit(name: str, lang: str = "en", difference: bool = False) -> str:
    u = UNITS[OUTCOMES[name].unit]
    return pick(u.difference if difference else u.value, lang)


def titled(name: str, lang: str = "en", difference: bool = False) -> str:
    """Label and unit, for a column or axis: 'Resolution (%)'."""
    return f"{label(name, lang)} ({unit(name, lang, difference)})"


def factor(name: str) -> float:
    return UNITS[OUTCOMES[name].unit].factor


def bounded(name: str) -> bool:
    """A share of 0-1, whose intervals must stay inside [0, 1]."""
    return UNITS[OUTCOMES[name].unit].bounded


def shown(name: str, value: float, signed: bool = False, more: int = 0) -> str:
    """A value in the outcome's display unit, with its decimals (`more` added; a sign for
    differences)."""
    u = UNITS[OUTCOMES[name].unit]
    if value != value:  # NaN
        return "–"
    return f"{value * u.factor:{'+' if signed else ''},.{u.digits + more}f}"


def phrase(table: dict, key: str, lang: str = "en", **values) -> str:
    """A command's words: `table[key]` is (en, zh), `{placeholders}` filled from `values`. Each
    command keeps its table and binds it: `say = functools.partial(labels.phrase, WORDS)`."""
    text = pick(table[key], lang)
    return text.format(**values) if values else text


# Punctuation every command's words share: Chinese writes its own (full-width, 、 between items).
PUNCTUATION = {"aside": (" ({text})", "（{text}）"), "and": (", ", "、"), "then": ("; ", "；")}


def aside(text: str, lang: str = "en") -> str:
    """A parenthesis after a word: ' (text)', or '（text）' in Chinese."""
    return phrase(PUNCTUATION, "aside", lang, text=text)


def listed(items, lang: str = "en", by: str = "and") -> str:
    """Items joined by commas (by="and") or semicolons (by="then"), as the language writes them."""
    return pick(PUNCTUATION[by], lang).join(items)

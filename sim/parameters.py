"""Every model parameter in one place: default, unit, source and meaning.

A scenario file overrides these values section by section; `sim.scenario` validates it against
this registry, and docs/ODD.md lists the same table. Sources name a seed article
(`seed 000` … `seed 004`, see shared/reference/SEED-FACTS.md), a cited study, or say
"assumption" — an explicit modelling choice, to be calibrated (issue: analysis).
"""

from dataclasses import dataclass
from typing import Any

CLASSES = ("A", "B", "C", "D")
LOCATIONS = ("core", "fringe", "township")
COMPOUND_KINDS = ("commercial", "old", "unit", "resettlement", "rural")
CATEGORIES = (
    "property",  # property service and maintenance: leaks, fees, parking (物业/维修)
    "dispute",  # noise and neighbour disputes (噪音/邻里纠纷)
    "infrastructure",  # roads, pipes, EV charging (基础设施)
    "sanitation",  # garbage cleaning and removal (环境卫生)
    "security",  # safety hazards (安全隐患)
    "micro_wish",  # micro-wishes of needy residents (微心愿)
    "wage_legal",  # unpaid wages, legal matters (欠薪/法律)
    "consultation",  # questions about policy and services (咨询)
)
# The four-level ladder of micro-wish handling (微心愿"四级分办").
LEVELS = ("party_members", "grassroots", "co_building", "departments")
CHANNELS = ("app", "hotline", "grid")  # QR code/app, 12345 hotline, grid worker or party member
MEASURES = (
    "red_property",  # A: party organisations inside property companies (红色物业)
    "purchased_services",  # B, C: government purchase of community services (政府购买服务)
    "owners_committees",  # B: owners' committees and quasi-property self-management (业委会/准物业)
    "deliberation",  # B, C: resident deliberation councils (议事协商/小院党群微议事会)
    "security_patrols",  # C: party members and residents patrol for hazards (治安巡逻志愿队)
    "central_households",  # D: party-member central households (党员中心户)
)


@dataclass(frozen=True)
class Param:
    """One parameter: its default, unit, source and meaning; lo/hi bound numbers, choices strings."""

    default: Any
    unit: str
    source: str
    meaning: str
    lo: float | None = None
    hi: float | None = None
    choices: tuple | None = None


def per(keys, values):
    """A table keyed by class, category or level, e.g. per(CATEGORIES, (0.1, 0.2, …))."""
    return dict(zip(keys, values, strict=True))


P = Param
RATE = dict(lo=0.0, hi=1.0)

SCHEMA: dict[str, dict[str, Param]] = {
    "run": {
        "days": P(365, "days", "assumption: one budget year", "days of the reported period "
                  "(after the warm-up; grievances arising in it are followed to their end)",
                  lo=1, hi=3650),
        "warmup_years": P(4, "budget years", "MSER-5 truncation over 10 replications of 8 "
                          "years, rounded up to whole years (docs/warmup.md)", "budget years simulated under "
                          "the scenario's policy before the reported period; not counted",
                          lo=0, hi=10),
        "seed": P(1, "-", "assumption", "seed of the run's random streams", lo=0, hi=2**63 - 1),
        "scale": P(0.01, "residents per person", "assumption: 1:100 keeps a first run quick",
                   "share of the population simulated; capacities and funds scale with it",
                   lo=1e-5, hi=1.0),
    },
    "city": {
        "source": P("synthetic", "-", "seed 000/002: 178 communities",
                    "'synthetic' for a synthetic Xining, or a path to a CSV of communities "
                    "(relative to the scenario file)"),
        "city_seed": P(2024, "-", "assumption", "seed of the synthetic city (fixed across runs)",
                       lo=0, hi=2**63 - 1),
        "population": P(2_000_000, "persons", "seed 000: Xining urban population, rounded",
                        "population of the synthetic city", lo=1000, hi=50_000_000),
        "residents_per_compound": P(2500, "persons", "assumption", "typical compound size",
                                    lo=50, hi=100_000),
        "residents_per_building": P(150, "persons", "assumption: ~55 households of 2.62",
                                    "typical building (楼院) size", lo=5, hi=10_000),
        "household_size": P(2.62, "persons", "China 7th census 2020, national mean",
                            "persons per household", lo=1.0, hi=8.0),
        "owners_committee_share": P(0.3, "share", "assumption",
                                    "share of commercial compounds with an owners' committee "
                                    "(a third of that elsewhere)", **RATE),
        "party_branch_share": P(0.75, "share", "seed 000: 556 branches + 196 groups ≈ 750 of "
                                "~1,000 compounds", "share of compounds with a party branch",
                                **RATE),
        "party_member_share": P(0.08, "share", "assumption: national membership ~7 % of people",
                                "share of residents who are party members", **RATE),
    },
    "classification": {
        "scheme": P("published", "-", "seed 000/002", "'published' rules or 'none' (one class)",
                    choices=("published", "none")),
        "commercial_share_min": P(0.55, "share", "seed 000/002", "A: commercial-housing share "
                                  "at least this", **RATE),
        "old_residents_max_a": P(3500, "persons", "seed 000/002", "A: old-compound residents "
                                 "below this", lo=0, hi=1e7),
        "population_min_b": P(6000, "persons", "seed 000/002", "B: population at least this",
                              lo=0, hi=1e7),
        "old_residents_min_b": P(3500, "persons", "seed 000/002", "B: old-compound residents at "
                                 "least this", lo=0, hi=1e7),
        "fringe_class": P("C", "-", "seed 000/002", "class of urban-fringe communities",
                          choices=CLASSES),
        "township_class": P("D", "-", "seed 000/002", "class of township communities",
                            choices=CLASSES),
        "fallback_class": P("A", "-", "assumption", "class of a core community meeting neither "
                            "the A nor the B rule", choices=CLASSES),
    },
    "funding": {
        "scheme": P("uniform", "-", "seed 002", "how the serve-the-people fund is divided",
                    choices=("uniform", "by_class", "class_shares", "per_capita", "needs_based")),
        "uniform": P(200_000, "yuan/community/year", "seed 001/002", "uniform amount",
                     lo=0, hi=1e9),
        "by_class": P(per(CLASSES, (150_000, 300_000, 150_000, 100_000)),
                      "yuan/community/year", "seed 000/002", "amount by class", lo=0, hi=1e9),
        "class_shares": P(per(CLASSES, (10.5, 19.8, 3.3, 2.0)),
                          "relative weight", "seed 000/002: the reform's class totals in million "
                          "yuan (70 x 150k, 66 x 300k, 22 x 150k, 20 x 100k)", "class_shares: each class's "
                          "part of the total (normalised), divided evenly among its communities",
                          lo=0, hi=1e12),
        "per_capita": P(17.8, "yuan/person/year", "seed 002: 35.6 M yuan / 2 M people",
                        "per-capita amount", lo=0, hi=1e5),
        "need_weights": P({"old_residents": 1.0, "migrants": 0.5, "elderly": 0.5,
                           "poor_infrastructure": 0.5},
                          "weight", "assumption", "needs-based: weight of each need, per "
                          "resident concerned, on top of 1 per resident", lo=0, hi=100),
        "total": P(0, "yuan/year", "seed 002: 35,600,000 held constant", "fixed city total the "
                   "scheme must meet (0 = none)", lo=0, hi=1e12),
        "minimum": P(0, "yuan/community/year", "assumption: no floor", "class_shares, "
                     "per_capita and needs_based: every community gets this first, the scheme "
                     "divides the rest of the total", lo=0, hi=1e9),
        "allow_overdraft": P(False, "-", "assumption", "may a community spend beyond its fund"),
        "spending": P("even", "-", "assumption: committees spread the fund over the year",
                      "spending rule: 'even' — by day d of the budget year at most d/365 of the "
                      "fund outside the reserve is spent, what is not spent carrying over; 'first_come' — cases are "
                      "paid as they come until the fund is empty", choices=("even", "first_come")),
        "reserve_share": P(0.1, "share of the annual fund", "assumption: committees keep back a "
                           "reserve for urgent needs", "share of the fund held back for priority "
                           "cases until the reserve's release day", **RATE),
        "reserve_release_day": P(274, "day of the budget year", "assumption: the last quarter",
                                 "day of the budget year from which what is left of the reserve "
                                 "is open to every case", lo=0, hi=365),
        "priority_categories": P(["security", "micro_wish"], "-", "seed 000/002: safety hazards "
                                 "and needy residents' micro-wishes; assumption", "categories "
                                 "paid first when the day's money does not reach every case, and "
                                 "alone from the reserve before its release", choices=CATEGORIES),
    },
    "measures": {
        cls: P([], "-", "seed 000/002: 12 type measures", f"measures enabled in class {cls}",
               choices=MEASURES)
        for cls in CLASSES
    },
    "mechanisms": {
        "four_party_linkage": P(True, "-", "seed 000/002/004", "four-party joint meetings (四方联动)"),
        "linkage_meeting_days": P(7, "days", "assumption: weekly joint meeting",
                                  "days between joint meetings", lo=1, hi=365),
        "linkage_success": P(0.8, "probability", "assumption", "a joint meeting with every party "
                             "at the table settles a cross-party case (½ of it with the community "
                             "committee and branch alone, ¼ more each for a property company and "
                             "an owners' committee)", **RATE),
        "linkage_agenda": P(3, "cases/meeting", "assumption: a joint meeting's agenda",
                            "cross-party cases a compound's joint meeting takes, longest waiting "
                            "first", lo=1, hi=1000),
        "households_per_grid": P(400, "households", "seed 004: 300-500 per grid",
                                 "households per grid worker", lo=10, hi=100_000),
        "grid_worker_capacity": P(40.0, "households/day", "seed 001: grid workers sweep their "
                                  "grids; assumption: a grid of 400 walked every 10 days",
                                  "households a grid worker visits a day, whatever the grid's "
                                  "size", lo=0.1, hi=10_000),
        "volunteer_visit_days": P(14.0, "days", "seed 000: security-patrol volunteers (C); "
                                  "assumption", "days between a volunteer patrol's visits to a "
                                  "building", lo=1, hi=3650),
        "central_household_visit_days": P(7.0, "days", "seed 000/002: party-member central "
                                          "households keep regular contact (D); assumption",
                                          "days between a central household's visits to the "
                                          "households it keeps in touch with", lo=1, hi=3650),
        "whistle_categories": P(["infrastructure", "wage_legal"], "-", "seed 000/004: the grid "
                                "blows the whistle, departments respond (roads, unpaid wages); "
                                "assumption", "categories a grid worker sends straight to the "
                                "city departments when it finds or hears of one",
                                choices=CATEGORIES),
        "ladder_levels": P(4, "levels", "seed 000/002: four-level handling",
                           "levels of the ladder in use (1-4); the last is departments", lo=1, hi=4),
        "staff_per_10k": P(9.0, "staff/10,000 residents", "seed 001: 18 staff, 20,000 residents",
                           "community committee staff", lo=0, hi=1000),
        "staff_capacity": P(2.0, "cases/staff/day", "assumption", "cases a staff member takes "
                            "on a day", lo=0, hi=100),
        "party_member_capacity": P(0.025, "cases/party member/day", "seed 004: 1,633 in-service "
                                   "members in 35 communities; assumption for their time",
                                   "level-one cases a day each party member of a compound with a "
                                   "branch takes, mobilised by the branch", lo=0, hi=10),
        "property_company_capacity": P(0.0015, "cases/resident/day", "assumption",
                                       "a property company's capacity per resident served",
                                       lo=0, hi=1),
        "owners_committee_capacity": P(0.0006, "cases/resident/day", "assumption",
                                       "an owners' committee's capacity per resident", lo=0, hi=1),
        "purchased_capacity_share": P(0.4, "share of staff capacity", "assumption",
                                      "capacity added by purchased services", lo=0, hi=10),
        "co_building_capacity": P(5.0, "cases/community/day", "assumption: one linked unit "
                                  "a community, so a larger city (more communities) has more",
                                  "a community's linked co-building unit's capacity",
                                  lo=0, hi=1e4),
        "department_capacity": P(7.5, "cases/10,000 residents/day", "assumption: city "
                                 "departments", "city departments' capacity, for the city's "
                                 "residents", lo=0, hi=1e5),
        "hotline_capacity": P(5.0, "contacts/10,000 residents/day", "seed 000: 843 calls + 56 "
                              "messages a day for 2 million", "12345 hotline contacts answered a "
                              "day, for the city's residents", lo=0, hi=1e5),
        "response_deadline_days": P(1, "days", "assumption: 12345 norm of one working day",
                                    "first contact due within", lo=0, hi=60),
        "level_deadline_days": P(per(LEVELS, (3, 7, 10, 15)), "days", "assumption",
                                 "days at a level before a case escalates", lo=1, hi=365),
        "return_visit_share": P(0.29, "share", "seed 000: 246 return visits / 843 calls",
                                "closed reported cases given a return visit (回访)", **RATE),
        "rating_interval_days": P(91, "days", "seed 004: red/black list; assumption quarterly",
                                  "days between property-company ratings", lo=1, hi=365),
        "blacklist_share": P(0.2, "share", "assumption", "worst-rated share of property "
                             "companies put on the black list", **RATE),
        "blacklist_exit_quarters": P(3, "quarters", "seed 004: red/black list; assumption",
                                     "black listings in a row after which a company leaves its "
                                     "compound", lo=1, hi=100),
        "company_exit_rate": P(0.02, "share/quarter", "assumption", "a company leaves of its "
                               "own accord (half as often after a red listing)", **RATE),
        "company_entry_rate": P(0.5, "per year", "assumption", "a new company comes to a "
                                "compound its company left", lo=0, hi=100),
        "committee_formation_rate": P(0.5, "per year", "seed 002: streets and communities help "
                                      "old compounds set up owners' committees (B); assumption",
                                      "an old compound of a community with the B measure forms "
                                      "an owners' committee", lo=0, hi=100),
        "committee_lapse_rate": P(0.5, "per year", "assumption", "an owners' committee that "
                                  "resolved nothing for a year lapses", lo=0, hi=100),
    },
    "behaviour": {
        "arise_rate": P(per(CATEGORIES, (0.18, 0.12, 0.08, 0.10, 0.05, 0.10, 0.03, 0.14)),
                        "grievances/resident/year", "assumption, scaled to seed 000: ~900 "
                        "hotline contacts a day", "base rate of new grievances", lo=0, hi=50),
        "arise_multiplier": P({
            "commercial": per(CATEGORIES, (1.0, 1.0, 0.7, 0.6, 0.8, 0.6, 0.6, 1.0)),
            "old": per(CATEGORIES, (1.5, 1.2, 1.5, 2.0, 1.3, 1.4, 0.8, 1.0)),
            "unit": per(CATEGORIES, (1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0)),
            "resettlement": per(CATEGORIES, (1.2, 1.4, 1.3, 1.3, 1.5, 1.0, 2.0, 1.1)),
            "rural": per(CATEGORIES, (0.4, 0.9, 1.3, 1.0, 0.8, 1.2, 1.0, 0.8)),
        }, "factor", "seed 000/002 (old compounds lack property service, fringe complex), "
           "assumption for sizes", "rate multiplier by compound kind", lo=0, hi=100),
        "infrastructure_effect": P(1.0, "factor", "assumption", "infrastructure grievances rise "
                                   "by this times (1 - infrastructure level)", lo=0, hi=100),
        "self_management_prevention": P(0.2, "share", "seed 002/003; assumption",
                                        "fewer property/sanitation grievances in a self-managed "
                                        "old compound", **RATE),
        "patrol_prevention": P(0.3, "share", "seed 000: problems solved in the bud; assumption",
                               "fewer security grievances under security patrols", **RATE),
        "voice_base": P(0.3, "log-odds", "assumption", "propensity to voice, average resident",
                        lo=-20, hi=20),
        "voice_trust": P(2.0, "log-odds per unit trust", "Hirschman 1970 (exit, voice, loyalty); "
                         "assumption", "voice rises with trust (centred at 0.5)", lo=-20, hi=20),
        "voice_elderly": P(0.2, "log-odds", "assumption", "elderly residents voice more",
                           lo=-20, hi=20),
        "voice_migrant": P(-0.8, "log-odds", "seed fact 5: migrants report less", "migrant "
                           "residents voice less", lo=-20, hi=20),
        "voice_party": P(0.8, "log-odds", "seed 002: party members' discovery duty",
                         "party members voice more", lo=-20, hi=20),
        "voice_experience": P(0.5, "log-odds", "Hirschman 1970 (exit after disappointment); "
                              "assumption", "a last grievance given up unresolved lowers voice "
                              "by this (exit); a resolved one, or none yet, leaves it",
                              lo=-20, hi=20),
        "channel_weight": P(per(CHANNELS, (0.33, 0.32, 0.35)), "weight", "seed 000/001; "
                            "assumption", "choice of channel when voicing", lo=0, hi=100),
        "hotline_distrust": P(2.0, "log-weight per unit distrust", "assumption", "low trust in "
                              "the community sends residents to the 12345 hotline", lo=0, hi=20),
        "elderly_app_factor": P(0.3, "factor", "assumption", "elderly use the app this much",
                                lo=0, hi=10),
        "visit_disclosure": P(0.4, "probability", "assumption", "a visit finds a silent "
                              "grievance because its resident tells the visitor", **RATE),
        "neighbour_tip": P(0.3, "probability", "seed fact 5: neighbours who know each other "
                           "(B) help discovery; assumption", "a visit finds a silent grievance "
                           "because a neighbour tells, times the share of the building's "
                           "residents who are not migrants", **RATE),
        "company_min_effort": P(0.3, "0-1", "assumption", "the least effort a property company "
                                "makes", **RATE),
        "effort_cost": P(1.0, "share of fees", "assumption", "what full effort costs a company "
                         "(effort² times this)", lo=0, hi=100),
        "blacklist_loss": P(2.0, "share of fees", "seed 004: red/black list; assumption",
                            "what a black listing costs a company (fines, the contract at "
                            "risk)", lo=0, hi=100),
        "red_weight": P(1.0, "share of fees", "seed 000: red property raises service quality; "
                        "assumption", "what a red property company values full effort for its "
                        "residents at", lo=0, hi=100),
        "risk_learning": P(0.5, "share", "assumption", "how far a company's believed chance of a "
                           "black listing moves toward the quarter's rating", **RATE),
        "linkage_oversight": P(2.0, "factor", "seed 000/004: the four-party linkage oversees "
                               "the property company; assumption", "the joint meeting makes a "
                               "black listing this many times as likely in a company's eyes",
                               lo=1, hi=100),
        "effort_success": P(0.4, "share", "assumption", "full effort makes a company's "
                            "attempts succeed this share more often", lo=0, hi=10),
        "effort_prevention": P(0.3, "share", "seed 000 (service quality); assumption", "full "
                               "effort prevents this share of a compound's property grievances",
                               **RATE),
        "success": P({
            "party_members": per(CATEGORIES, (0.15, 0.3, 0.05, 0.2, 0.2, 0.8, 0.05, 0.7)),
            "grassroots": per(CATEGORIES, (0.55, 0.6, 0.25, 0.6, 0.6, 0.7, 0.2, 0.8)),
            "co_building": per(CATEGORIES, (0.5, 0.5, 0.45, 0.5, 0.5, 0.7, 0.4, 0.7)),
            "departments": per(CATEGORIES, (0.7, 0.6, 0.7, 0.7, 0.7, 0.7, 0.8, 0.9)),
        }, "probability per attempt", "assumption (seed 002: 97.4 % finally resolved)",
           "a handler's attempt resolves the case", **RATE),
        "cost": P({
            "party_members": per(CATEGORIES, (0, 0, 0, 0, 0, 10, 0, 0)),
            "grassroots": per(CATEGORIES, (40, 0, 80, 30, 5, 15, 0, 0)),
            "co_building": per(CATEGORIES, (0, 0, 0, 0, 0, 0, 0, 0)),
            "departments": per(CATEGORIES, (0, 0, 0, 0, 0, 0, 0, 0)),
        }, "yuan/attempt", "seed 002: B funds went on garbage removal; assumption",
           "charged to the community fund when the community itself handles a case", lo=0, hi=1e7),
        "intractable_share": P(per(CATEGORIES, (0.02, 0.02, 0.05, 0.01, 0.01, 0.01, 0.05, 0.0)),
                               "share", "seed 002: 97.4 % of accepted requests resolved; "
                               "assumption by category", "grievances no handler can resolve "
                               "(beyond policy or means)", **RATE),
        "old_cost_multiplier": P(1.5, "factor", "seed 002: three-no compounds", "cost in old "
                                 "compounds without a property company", lo=0, hi=100),
        "purchased_service_cost": P(10, "yuan/case", "assumption", "cost of a case handled by "
                                    "purchased services", lo=0, hi=1e6),
        "mediation_familiarity": P(0.2, "probability per unit familiarity", "seed fact 5; "
                                   "assumption", "added success on disputes at levels 1-2 where "
                                   "neighbours know each other (centred at 0.5)", lo=0, hi=1),
        "deliberation_bonus": P(0.15, "probability", "seed 000; assumption", "added grassroots "
                                "success on disputes and infrastructure with deliberation", **RATE),
        "self_management_success": P(0.5, "probability", "seed 002/003; assumption",
                                     "success of an owners' committee on property/sanitation",
                                     **RATE),
        "hotline_direct": P(per(CATEGORIES, (0.4, 0.4, 0.3, 0.4, 0.4, 0.3, 0.5, 0.95)),
                            "probability", "seed 000: 425 of 843 handled directly",
                            "the hotline settles a contact itself", **RATE),
        "silent_patience_days": P(30, "days", "assumption", "an unvoiced grievance is dropped "
                                  "(given up) after", lo=1, hi=3650),
        "reported_patience_days": P(90, "days", "assumption", "a reported grievance still open "
                                    "is dropped after", lo=1, hi=3650),
        "delay_scale_days": P(30.0, "days", "assumption", "performance halves-ish (e-fold) over "
                              "this many days to resolution", lo=0.1, hi=3650),
        "satisfaction_reference": P(0.8, "0-1", "assumption", "the satisfaction a resident "
                                    "returns to while no grievance of theirs is open", **RATE),
        "satisfaction_recovery": P(0.02, "share/day", "assumption: what a grievance took "
                                   "half-recovers in about a month", "satisfaction moves this "
                                   "share of the way back to the reference level each day",
                                   **RATE),
        "grievance_burden": P(0.01, "satisfaction/day", "assumption: a grievance open a month "
                              "costs about a fifth of a resident's satisfaction",
                              "satisfaction lost each day a resident's grievance stays open, "
                              "silent or reported", **RATE),
        "case_satisfaction_base": P(-1.0, "log-odds", "Oliver 1980; assumption",
                                    "a closed case's evaluation at zero performance (a case "
                                    "given up unresolved)", lo=-20, hi=20),
        "case_satisfaction_performance": P(7.0, "log-odds per unit", "Van Ryzin 2004; "
                                           "assumption", "evaluation per unit performance",
                                           lo=0, hi=50),
        "case_satisfaction_disconfirmation": P(1.0, "log-odds per unit", "Oliver 1980; Van "
                                               "Ryzin 2004; assumption", "evaluation per unit "
                                               "performance above expectation", lo=0, hi=50),
        "expectation_learning": P(0.2, "share", "Van Ryzin 2004; assumption", "expectations "
                                  "adapt to performance", **RATE),
        "trust_learning": P(0.02, "share/day", "assumption", "trust moves this share of the "
                            "way toward the resident's satisfaction each day", **RATE),
        "influence_rate": P(0.02, "share/day", "assumption", "satisfaction and trust move toward "
                            "neighbouring buildings' mean each day", **RATE),
        "initial_satisfaction": P(0.8, "0-1", "assumption: near the steady state, so that a "
                                  "short warm-up forgets the start", "mean initial satisfaction",
                                  **RATE),
        "initial_expectation": P(0.7, "0-1", "assumption", "mean initial expectation", **RATE),
        "initial_trust": P(0.8, "0-1", "assumption: near the steady state, so that a short "
                           "warm-up forgets the start", "mean initial trust", **RATE),
        "migrant_trust_gap": P(0.1, "0-1", "seed fact 5: migrants trust less", "migrants' trust "
                               "is this much lower than their satisfaction would make it, at the "
                               "start and in the long run", **RATE),
    },
}

TOP_LEVEL = {
    "name": P("", "-", "-", "scenario name (defaults to the file name)"),
    "description": P("", "-", "-", "one line saying what the scenario is"),
}


def defaults() -> dict[str, dict[str, Any]]:
    """A fresh nested dict of every default value."""
    import copy

    return {sec: {k: copy.deepcopy(p.default) for k, p in params.items()}
            for sec, params in SCHEMA.items()}


# Fitted by `shequ calibrate` (analysis/calibrate.py, PARAMETERS; a test keeps the two in step):
# their values in the shipped scenarios come from scenarios/calibrated.toml, these are the priors.
FITTED = ("behaviour.case_satisfaction_base", "mechanisms.staff_capacity",
          "behaviour.intractable_share", "behaviour.hotline_direct")
BASES = ("fitted", "sourced", "sourced in part", "assumed")


def basis(name: str, p: P) -> str:
    """Where a parameter's value comes from: fitted to published figures, sourced (a seed fact,
    a census, a study, a measured rule), sourced in part (a source and an assumption), assumed."""
    if name in FITTED:
        return "fitted"
    parts = [x.strip() for x in p.source.replace(",", ";").split(";")]
    assumed = [x.startswith("assumption") for x in parts]
    return "assumed" if all(assumed) else "sourced in part" if any(assumed) else "sourced"


def markdown_table() -> str:
    """The parameter table of docs/ODD.md (kept in step with this registry by a test), and the
    share of each basis."""
    rows = ["| parameter | default | unit | basis | source | meaning |",
            "|---|---|---|---|---|---|"]
    counts = dict.fromkeys(BASES, 0)
    for section, params in SCHEMA.items():
        for key, p in params.items():
            default = str(p.default).replace("|", "/")
            b = basis(f"{section}.{key}", p)
            counts[b] += 1
            rows.append(f"| `{section}.{key}` | {default} | {p.unit} | {b} | {p.source} | "
                        f"{p.meaning} |")
    total = sum(counts.values())
    shares = ", ".join(f"{b} {n} ({100 * n / total:.0f} %)" for b, n in counts.items())
    return "\n".join(rows) + f"\n\nOf the {total} parameters: {shares}."


if __name__ == "__main__":
    print(markdown_table())

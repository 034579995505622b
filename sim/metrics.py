"""Result keys, in one registry (covasim style: `new_` a flow per day, `cum_` a flow summed over the
reported period, `cohort_` a count of the grievances that arose in the reported period, followed to
their end, `n_` a stock, `mean_` a mean over residents, rates and shares in [0, 1]), and the
counters per community that the phases add to.

Two kinds of outcome stand side by side (DESIGN §7):
- the KPIs as Xining measures them — response, resolution and return-visit satisfaction of
  *reported* cases (voiced or found); a policy that finds fewer grievances can look better here;
- the whole-iceberg outcomes, counting *every* grievance that arose, silent ones included: the
  share resolved, the share never voiced or found, the grievance-days of unmet need, and residents'
  mean satisfaction and trust.
"""

import numpy as np

# Flows counted per community per day: name -> meaning. Money is in yuan at full scale.
FLOWS = {
    "new_arisen": "grievances that arose",
    "new_voiced_app": "voiced by QR code / app / phone to the community",
    "new_voiced_hotline": "voiced to the 12345 hotline",
    "new_voiced_grid": "voiced to a grid worker or party member",
    "new_silent": "kept silent when they arose",
    "new_found": "silent grievances found by patrols",
    "new_reported": "reported: voiced or found",
    "new_whistled": "sent straight to the city departments by a grid worker (网格吹哨)",
    "new_responded_in_time": "first contact within the response deadline",
    "new_response_missed": "response deadline passed without contact",
    "new_resolved": "resolved",
    "new_dropped_silent": "given up unvoiced and unfound",
    "new_dropped_reported": "reported but given up unresolved",
    "new_hotline_direct": "settled by the hotline itself",
    "new_hotline_transferred": "transferred by the hotline to the ladder",
    "new_escalated_grassroots": "escalated to grassroots organisations (level 2)",
    "new_escalated_co_building": "escalated to co-building units (level 3)",
    "new_escalated_departments": "escalated to city departments (level 4)",
    "new_linkage_settled": "settled at a four-party joint meeting",
    "new_return_visits": "return visits (回访)",
    "new_satisfied": "satisfied at the return visit",
    "new_unfunded": "handling attempts refused for want of funds",
    "new_spent": "yuan spent from community funds",
    "new_shortfall": "yuan needed but not available",
}
FLOW_INDEX = {name: i for i, name in enumerate(FLOWS)}

# Counts of the cohort — the grievances that arose in the reported period — made as each of them
# closes, so that none is dropped from a rate for being open when the period ends (DESIGN §7).
COHORT = {
    "arisen": "grievances that arose in the reported period",
    "closed": "of them, closed (resolved or given up) by the end of the run",
    "reported": "of them, reported (voiced or found)",
    "resolved": "of them, resolved",
    "dropped_silent": "of them, given up never voiced or found",
    "dropped_reported": "of them, reported but given up unresolved",
    "responded_in_time": "of the reported, first contact within the response deadline",
    "response_missed": "of the reported, first contact late or never",
    "return_visits": "of the reported and closed, given a return visit",
    "satisfied": "of the return visits, satisfied",
    "resolved_old": "reported in old compounds (老旧小区) and resolved",
    "dropped_old": "reported in old compounds and given up unresolved",
    "escalated_grassroots": "of the reported, escalated to grassroots organisations (level 2) "
                            "or higher",
    "escalated_co_building": "of the reported, escalated to co-building units (level 3) or higher",
    "escalated_departments": "of the reported, escalated to city departments (level 4)",
}

# A closed case's outcome as bits, and the highest ladder level it was escalated to (0: none)
# in the two bits above them; the cohort is counted per community and outcome (256 kinds).
REPORTED, RESOLVED, IN_TIME, VISITED, SATISFIED, OLD = (1 << k for k in range(6))
ESCALATED = 6  # shift of the level bits
OUTCOME_KINDS = 256
_CODE = np.arange(OUTCOME_KINDS)
_HAS = lambda bit: (_CODE & bit) > 0  # noqa: E731
_LEVEL = _CODE >> ESCALATED
COHORT_KINDS = {  # which outcome kinds each cohort count (but "arisen") adds up
    "closed": np.ones(OUTCOME_KINDS, bool),
    "reported": _HAS(REPORTED),
    "resolved": _HAS(RESOLVED),
    "dropped_silent": ~_HAS(REPORTED),
    "dropped_reported": _HAS(REPORTED) & ~_HAS(RESOLVED),
    "responded_in_time": _HAS(REPORTED) & _HAS(IN_TIME),
    "response_missed": _HAS(REPORTED) & ~_HAS(IN_TIME),
    "return_visits": _HAS(VISITED),
    "satisfied": _HAS(SATISFIED),
    "resolved_old": _HAS(REPORTED) & _HAS(OLD) & _HAS(RESOLVED),
    "dropped_old": _HAS(REPORTED) & _HAS(OLD) & ~_HAS(RESOLVED),
    "escalated_grassroots": _LEVEL >= 1,
    "escalated_co_building": _LEVEL >= 2,
    "escalated_departments": _LEVEL >= 3,
}

# Stocks observed at the end of each day.
STOCKS = {
    "n_open": "open grievances, silent ones included",
    "n_open_reported": "open reported grievances",
    "open_per_1000": "open grievances (silent included) per 1,000 residents",
    "budget_left": "yuan left of this year's funds",
    "mean_satisfaction": "mean resident satisfaction, 0-1",
    "mean_trust": "mean resident trust, 0-1",
}

# Rates and shares: name -> (numerator, denominator parts), over the same counts without their
# prefix: a day's flows (`new_`) in the daily table, the cohort (`cohort_`) in the summary.
RATES = {
    # KPIs, of reported cases (as Xining measures them)
    "response_rate": ("responded_in_time", ("responded_in_time", "response_missed")),
    "resolution_rate": ("resolved", ("resolved", "dropped_reported")),
    "satisfaction_rate": ("satisfied", ("return_visits",)),
    # whole-iceberg: every grievance that arose (once closed)
    "resolved_share": ("resolved", ("resolved", "dropped_silent", "dropped_reported")),
    "unvoiced_share": ("dropped_silent", ("resolved", "dropped_silent", "dropped_reported")),
}
KPIS = ("response_rate", "resolution_rate", "satisfaction_rate")
ICEBERG = ("resolved_share", "unvoiced_share", "unmet_days_per_1000", "mean_satisfaction",
           "mean_trust")
# What each outcome counts, its label and unit: sim/labels.py.


def rate(table, name: str, prefix: str = "new_"):
    """A rate from summed counts of a table or mapping; NaN where nothing was due."""
    num, den = RATES[name]
    d = np.asarray(sum(table[prefix + k] for k in den), dtype=float)
    n = np.asarray(table[prefix + num], dtype=float)
    return np.divide(n, d, out=np.full(d.shape, np.nan), where=d > 0)


class Counts:
    """Counters per community by name: `counts.add("new_resolved", community_ids)`."""

    def __init__(self, names: dict, n_communities: int):
        self.n = n_communities
        self.index = {name: i for i, name in enumerate(names)}
        self.values = np.zeros((len(names), n_communities))

    def add(self, name: str, communities: np.ndarray, weights: np.ndarray | None = None) -> None:
        if len(communities):
            self.values[self.index[name]] += np.bincount(communities, weights, minlength=self.n)

    def __getitem__(self, name: str) -> np.ndarray:
        return self.values[self.index[name]]

    def reset(self) -> None:
        self.values[:] = 0


class Cohort:
    """The cohort's counts per community: grievances that arose in the reported period, and those
    closed by outcome kind (one count per community and kind, made in one pass a day)."""

    def __init__(self, n_communities: int):
        self.n = n_communities
        self.arisen = np.zeros(n_communities)
        self.outcomes = np.zeros((n_communities, OUTCOME_KINDS))

    def close(self, communities: np.ndarray, kinds: np.ndarray) -> None:
        """Count closed cases by community and outcome kind (bits REPORTED, RESOLVED, ...)."""
        if len(communities):
            code = communities.astype(np.int64) * OUTCOME_KINDS + kinds
            self.outcomes += np.bincount(code, minlength=self.outcomes.size).reshape(
                self.outcomes.shape)

    def __getitem__(self, name: str) -> np.ndarray:
        if name == "arisen":
            return self.arisen
        return self.outcomes[:, COHORT_KINDS[name]].sum(axis=1)

    @property
    def values(self) -> np.ndarray:
        """Every count (COHORT order) x community."""
        return np.vstack([self[name] for name in COHORT])


def DayCounts(n_communities: int) -> Counts:
    """The day's flows per community."""
    return Counts(FLOWS, n_communities)

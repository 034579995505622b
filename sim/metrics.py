"""Result keys, in one registry (covasim style: `new_` a flow per day, `n_` a stock, `mean_` a
mean over residents, `p_`/rates a share in [0, 1]), and the day's counters per community."""

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

# Stocks observed at the end of each day.
STOCKS = {
    "n_open": "open grievances",
    "n_open_reported": "open reported grievances",
    "budget_left": "yuan left of this year's funds",
    "mean_satisfaction": "mean resident satisfaction, 0-1",
    "mean_trust": "mean resident trust, 0-1",
}

# Rates derived from flows: name -> (numerator, denominator parts).
RATES = {
    "response_rate": ("new_responded_in_time", ("new_responded_in_time", "new_response_missed")),
    "resolution_rate": ("new_resolved", ("new_resolved", "new_dropped_reported")),
    "satisfaction_rate": ("new_satisfied", ("new_return_visits",)),
}


def rate(table, name: str):
    """A rate from summed flows of a table or mapping; NaN where nothing was due."""
    num, den = RATES[name]
    d = np.asarray(sum(table[k] for k in den), dtype=float)
    n = np.asarray(table[num], dtype=float)
    return np.divide(n, d, out=np.full(d.shape, np.nan), where=d > 0)


class DayCounts:
    """The day's flows per community: `counts.add("new_resolved", community_ids)`."""

    def __init__(self, n_communities: int):
        self.n = n_communities
        self.values = np.zeros((len(FLOWS), n_communities))

    def add(self, name: str, communities: np.ndarray, weights: np.ndarray | None = None) -> None:
        if len(communities):
            self.values[FLOW_INDEX[name]] += np.bincount(communities, weights, minlength=self.n)

    def __getitem__(self, name: str) -> np.ndarray:
        return self.values[FLOW_INDEX[name]]

    def reset(self) -> None:
        self.values[:] = 0

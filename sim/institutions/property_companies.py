"""Property companies (物业公司): they earn fees from their compound, choose each quarter how hard
to work, and live with the red/black list (红黑榜) the street and community keep of them.

Effort e, between `company_min_effort` and 1, makes the company's attempts on property and
sanitation cases succeed more often (up to `effort_success` more) and prevents property
grievances (up to `effort_prevention` fewer). Each quarter a company chooses the effort that
maximises its objective, per yuan of fees:

    - effort_cost · e²                  (what effort costs)
    - risk · (1 - e) · blacklist_loss   (the expected loss from a black listing: the company
                                          believes one comes with probability risk · (1 - e))
    + red_weight · e                    (a red property (红色物业) company, with a party
                                          organisation inside, also values its residents' service)

so e = (risk · blacklist_loss + red_weight) / (2 · effort_cost), within [min, 1]: with no loss
from a black listing and no red weight, effort sits at its minimum. `risk` is learned: it moves
toward 1 after a black listing and toward 0 after a red one (`risk_learning`), and the
four-party joint meeting, which puts the company's work before the residents' representatives each
week, makes a black listing `linkage_oversight` times as likely in the company's eyes.

The quarterly list has consequences: after `blacklist_exit_quarters` black listings in a row the
company leaves, and its compound is "three-no" (三无小区: handled by its owners' committee or the
community committee) until a new company arrives (`company_entry_rate` a year); a company may also
leave of its own accord (`company_exit_rate` a quarter), half as often after a red listing.

Some 700 companies act once a quarter, so their verbs are per agent (`do`); the columns the
daily phases read (effort, presence) are the kind's, per compound.
"""

import numpy as np

from sim.institutions.base import Institution


class PropertyCompany(Institution):
    """Property company (物业公司) of a compound; 'red' when a party organisation sits inside."""

    def __init__(self, model, cell, community, *, compound: int, red: bool):
        super().__init__(model, cell, community)
        self.compound, self.red = compound, red
        self.rating = "none"  # red list / black list, set quarterly
        self.black_streak = 0  # black listings in a row
        self.risk = model.p["mechanisms"]["blacklist_share"]  # believed chance of a listing at e = 0
        self.effort = model.p["behaviour"]["company_min_effort"]
        self.present = True

    def choose_effort(self) -> None:
        """The quarter's effort: the best for fees − cost − expected black-list loss (+ red)."""
        b = self.model.p["behaviour"]
        risk = min(1.0, self.risk * (b["linkage_oversight"]
                                     if self.model.compound_linked[self.compound] else 1.0))
        gain = risk * b["blacklist_loss"] + (b["red_weight"] if self.red else 0.0)
        best = gain / (2 * b["effort_cost"]) if b["effort_cost"] > 0 else 1.0
        self.effort = float(np.clip(best, b["company_min_effort"], 1.0))

    def rate(self, resolved_share: float, threshold: float) -> None:
        """Street and community rate the quarter's record (share of attempts that resolved); the
        company learns how likely a black listing is."""
        self.rating = "black" if resolved_share < threshold else "red"
        black = self.rating == "black"
        self.black_streak = self.black_streak + 1 if black else 0
        self.risk += self.model.p["behaviour"]["risk_learning"] * (float(black) - self.risk)

    def stays(self, u: float) -> bool:
        """After the rating: leave after too many black listings in a row, or of its own accord."""
        m = self.model.p["mechanisms"]
        if self.black_streak >= m["blacklist_exit_quarters"]:
            return False
        exit_rate = m["company_exit_rate"] * (0.5 if self.rating == "red" else 1.0)
        return u >= exit_rate


def effort_by_compound(model) -> np.ndarray:
    """Each compound's company effort, 0 at the minimum (or without a company) to 1 at full."""
    effort = np.zeros(len(model.compounds))
    for company in model.companies:
        effort[company.compound] = company.effort
    low = model.p["behaviour"]["company_min_effort"]
    return np.clip((effort - low) / max(1.0 - low, 1e-9), 0.0, 1.0)

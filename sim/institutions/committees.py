"""Community party committees and residents' committees (社区党委/居委会): staff, the annual fund
and its spending plan.

A committee spends its fund under a plan (`SpendingPlan`, vectorised over all communities):

- a **reserve** (`reserve_share` of the fund) is held back for priority cases until
  `reserve_release_day` of the budget year, when what is left of it opens to every case;
- **priorities by category**: on a day when the money does not reach, cases of the
  `priority_categories` are paid first, and they alone may draw on the reserve before its release;
- the **spending rule**: 'even' lets a committee spend by day d of the budget year at most d/365
  of the fund outside the reserve (what is not spent carrying over), so that the year's last cases
  find money too; 'first_come' pays cases as they come until the fund is empty;
- **purchased services** (政府购买服务, the B and C measure) add handlers whom the committee buys
  only when its own staff's queue is longer than they can take that day (sim/ladder.py allocates,
  this plan pays).

A case the plan cannot pay climbs the ladder. "Don't have enough" (不够用: shortfall, unfunded
cases) and "can't spend it all" (花不完: unspent at the year's end) then emerge per community.
"""

import numpy as np

from sim.institutions.base import Institution
from sim.parameters import CATEGORIES


class CommunityCommittee(Institution):
    """Community party committee and residents' committee (社区党委/居委会): staff and the fund."""

    def __init__(self, model, cell, community, *, staff: int, purchased_services: bool):
        super().__init__(model, cell, community)
        self.staff = staff
        self.purchased_services = purchased_services  # 政府购买服务

    def capacity(self, per_staff: float, purchased_share: float) -> tuple[float, float]:
        """Cases a day: (own staff, purchased services)."""
        own = self.staff * per_staff
        return own, own * purchased_share if self.purchased_services else 0.0

    @property
    def fund(self) -> int:
        """This year's fund, yuan (the model's `funds`)."""
        return int(self.model.funds[self.community])


class SpendingPlan:
    """Every community's fund for the year at the run's scale (yuan × scale), and its use under
    the committees' spending plan (see the module's docstring)."""

    def __init__(self, model):
        self.model = model
        f = model.p["funding"]
        self.funds = model.funds.astype(float) * model.scale
        n = model.n_communities
        # The plan's verbs, per community (a community's own choice may replace its row; see
        # `choose`): reserve share, priority categories, the spending rule.
        self.share = np.full(n, float(f["reserve_share"]))
        self.release_day = int(f["reserve_release_day"])
        self.priority = np.tile(np.isin(np.array(CATEGORIES), f["priority_categories"]), (n, 1))
        self.overdraft = f["allow_overdraft"]
        self.even = np.full(n, f["spending"] == "even")
        self.balance = self.funds.copy()  # the whole fund left, reserve included
        self.reserve = self.funds * self.share  # held back for priority cases
        self.released = np.zeros(model.n_communities)  # reserve opened to every case this year
        self.spent_year = np.zeros(model.n_communities)  # this budget year, outside the reserve
        self.year_start = 0  # model day the budget year began
        # The even allowance runs one case ahead: a sampled case costs what a real one does, so at
        # a small scale a day's allowance is a fraction of a case, and a community that never runs
        # short in the full city would be refused now and then for want of a whole case.
        b = model.p["behaviour"]
        self.lead = (model.ladder.cost.max() * model.ladder.cost_multiplier.max()
                     + b["purchased_service_cost"])
        # Over the reported period, at full scale: yuan allocated, and left at its years' ends.
        years = -(-model.days // 365)
        self.allocated = model.funds.astype(np.int64) * years
        self.unspent = np.zeros(model.n_communities)
        self.period_unspent = None  # fixed on the reported period's last day

    def available(self) -> np.ndarray:
        """What each community may spend today outside the reserve (at the run's scale)."""
        if self.overdraft:
            return np.full(len(self.funds), np.inf)
        free = self.balance - self.reserve
        if not self.even.any():
            return free
        share = min(1.0, (self.model.day - self.year_start + 1) / 365)
        line = self.funds * (1 - self.share) * share + self.released + self.lead
        return np.where(self.even, np.minimum(free, line - self.spent_year), free)

    def charge(self, community: np.ndarray, cost: np.ndarray,
               category: np.ndarray) -> np.ndarray:
        """Pay today's cases under the plan, in the order given within each priority; returns
        which were paid. Priority cases come first and may draw on the reserve; the rest share
        what the day's allowance leaves."""
        if self.model.day - self.year_start >= self.release_day:
            self.released += self.reserve  # the last quarter: the reserve opens to every case
            self.reserve[:] = 0.0
        first = self.priority[community, category]
        paid = np.empty(len(cost), dtype=bool)
        allowance = self.available()
        # Priority cases: the day's allowance, then the reserve.
        paid[first], spent = self.pay(community[first], cost[first], allowance + self.reserve)
        from_reserve = np.minimum(spent - np.minimum(spent, np.maximum(allowance, 0)),
                                  self.reserve)
        self.reserve -= from_reserve
        self.spent_year += spent - from_reserve
        # The rest: what the day's allowance leaves.
        paid[~first], rest = self.pay(community[~first], cost[~first],
                                      allowance - (spent - from_reserve))
        self.spent_year += rest
        counts, scale = self.model.counts, self.model.scale
        counts.add("new_spent", community[paid], cost[paid] / scale)
        counts.add("new_shortfall", community[~paid], cost[~paid] / scale)
        counts.add("new_unfunded", community[~paid])
        return paid

    def pay(self, community: np.ndarray, cost: np.ndarray,
            allowance: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Pay cases in the order given up to each community's allowance; returns (which were
        paid, yuan spent per community).

        A sampled case stands for 1/scale real ones, so at a small scale a community's allowance
        is a few cases' worth and whole cases would waste up to one case of it each time. So the
        case that straddles the allowance is paid with the probability of the share that is left
        (spending is then what the full city would spend, in expectation); the fund may dip below
        zero by less than that case's cost, and the next days' allowance or the next year's fund
        makes up for it."""
        order = np.argsort(community, kind="stable")
        c, x = community[order], cost[order]
        cum = np.cumsum(x)
        starts = np.searchsorted(c, c, side="left")
        within = cum - np.concatenate([[0.0], cum])[starts]
        available = allowance[c]
        left = available - (within - x)  # what is left when the case comes
        straddles = (left > 0) & (within > available)
        chance = np.divide(left, x, out=np.zeros_like(left), where=straddles)
        ok = (x == 0) | (within <= available) | (
            straddles & (self.model.stream("fund").random(len(x)) < chance))
        paid = np.empty(len(order), dtype=bool)
        paid[order] = ok
        spent = np.bincount(community[paid], cost[paid], minlength=self.model.n_communities)
        self.balance -= spent
        return paid, spent

    def open_year(self) -> None:
        """A new budget year (scheduled event): what was left is recorded, funds arrive anew and
        the reserve is set aside again."""
        model = self.model
        if model.warmup_days < model.day < model.report_end:  # a year of the period ended
            self.unspent += np.maximum(self.balance, 0) / model.scale
        self.balance = self.funds + np.minimum(self.balance, 0)  # an overdraft is made up for
        self.spent_year[:] = -np.minimum(self.balance - self.funds, 0)
        self.reserve = np.minimum(self.funds * self.share, np.maximum(self.balance, 0))
        self.released[:] = 0.0
        self.year_start = model.day

    def choose(self, community: int, reserve_share: float | None,
               priority_categories: tuple[str, ...] | None, spending: str | None) -> None:
        """A community's own spending plan from the next day (None: the scenario's). While the
        reserve is held back it moves by the difference in share × the annual fund, within what is
        left; after its release a new share acts on the even allowance now and on next year's
        reserve."""
        f, c = self.model.p["funding"], community
        share = float(f["reserve_share"] if reserve_share is None else reserve_share)
        if self.model.steps - self.year_start < self.release_day:  # the reserve is held back
            moved = self.reserve[c] + self.funds[c] * (share - self.share[c])
            self.reserve[c] = min(max(moved, 0.0), max(self.balance[c], 0.0))
        self.share[c] = share
        priority = f["priority_categories"] if priority_categories is None else priority_categories
        self.priority[c] = np.isin(np.array(CATEGORIES), list(priority))
        self.even[c] = (f["spending"] if spending is None else spending) == "even"

    def unspent_now(self) -> np.ndarray:
        """Full-scale yuan unspent in the reported period, this year's balance included."""
        if self.period_unspent is not None:
            return self.period_unspent
        return self.unspent + np.maximum(self.balance, 0) / self.model.scale

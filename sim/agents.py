"""The institutional actors: ordinary Mesa agents sitting at buildings of the neighbourhood graph.

There are a few thousand of them, so they may loop. Their daily work on grievances is done for all
of them at once by the phases (`sim.phases`), which read the capacities these agents declare.
"""

from mesa.discrete_space import Cell, FixedAgent


class Institution(FixedAgent):
    """An organisation with an office at one building (楼院) of a community."""

    def __init__(self, model, cell: Cell, community: int):
        super().__init__(model)
        self.cell = cell
        self.community = community


class CommunityCommittee(Institution):
    """Community party committee and residents' committee (社区党委/居委会): staff and the fund."""

    def __init__(self, model, cell, community, *, staff: int, fund: int, label: str,
                 purchased_services: bool):
        super().__init__(model, cell, community)
        self.staff, self.fund, self.label = staff, fund, label
        self.purchased_services = purchased_services  # 政府购买服务

    def capacity(self, per_staff: float, purchased_share: float) -> tuple[float, float]:
        """Cases a day: (own staff, purchased services)."""
        own = self.staff * per_staff
        return own, own * purchased_share if self.purchased_services else 0.0

    @property
    def budget_left(self) -> int:
        """Yuan left of this year's fund, at full scale."""
        return int(self.model.ledger.balance[self.community] / self.model.scale)


class GridWorker(Institution):
    """Grid worker (网格员): sweeps a grid of 300-500 households and blows the whistle."""

    def __init__(self, model, cell, community, *, households: float):
        super().__init__(model, cell, community)
        self.households = households

    def discovery_rate(self, patrol_rate: float, reference_households: float = 400) -> float:
        """Daily chance-rate of finding a given silent grievance: falls as the grid grows."""
        return patrol_rate * reference_households / self.households


class PartyBranch(Institution):
    """Compound party branch or building party group (小区党支部/楼栋党小组)."""

    def __init__(self, model, cell, community, *, compound: int):
        super().__init__(model, cell, community)
        self.compound = compound


class PropertyCompany(Institution):
    """Property company (物业公司) of a compound; 'red' when a party organisation sits inside."""

    def __init__(self, model, cell, community, *, compound: int, residents: int, red: bool):
        super().__init__(model, cell, community)
        self.compound, self.residents, self.red = compound, residents, red
        self.rating = "none"  # red list / black list (红黑榜), set quarterly

    def capacity(self, per_resident: float) -> float:
        return self.residents * per_resident

    def success_bonus(self, red_bonus: float, black_pressure: float) -> float:
        """Red property serves better; a black-listed company tries harder next quarter."""
        return (red_bonus if self.red else 0.0) + (black_pressure if self.rating == "black" else 0.0)

    def rate(self, resolved_share: float, threshold: float) -> None:
        """Street and community rate the quarter's record (share of attempts that resolved)."""
        self.rating = "black" if resolved_share < threshold else "red"


class OwnersCommittee(Institution):
    """Owners' committee (业主委员会); in an old compound it runs quasi-property self-management."""

    def __init__(self, model, cell, community, *, compound: int, residents: int,
                 self_managing: bool):
        super().__init__(model, cell, community)
        self.compound, self.residents, self.self_managing = compound, residents, self_managing

    def capacity(self, per_resident: float) -> float:
        return self.residents * per_resident


class FourPartyLinkage(Institution):
    """Four-party linkage (四方联动): community committee, compound branch, owners' committee and
    property company meet weekly and settle the cross-party cases brought to them."""

    def __init__(self, model, cell, community, *, compound: int):
        super().__init__(model, cell, community)
        self.compound = compound
        self.meetings = self.settled = 0


class LiaisonUnit(Institution):
    """Linked co-building unit (联点共建单位) with its in-service party members: level three."""

    def __init__(self, model, cell, community, *, capacity: float):
        super().__init__(model, cell, community)
        self.daily_capacity = capacity


class Department(Institution):
    """City functional departments (职能部门): 'the grid blows the whistle, departments respond'."""

    def __init__(self, model, cell, *, capacity: float):
        super().__init__(model, cell, community=-1)
        self.daily_capacity = capacity


class Hotline(Institution):
    """The 12345 citizen hotline: answers, settles some contacts itself, transfers the rest."""

    def __init__(self, model, cell, *, capacity: float):
        super().__init__(model, cell, community=-1)
        self.daily_capacity = capacity

"""Owners' committees (业主委员会): in an old compound without a property company they run quasi-
property self-management (准物业自治管理). Under the B measure the street and community help old
compounds set one up: an old compound without a committee forms one at `committee_formation_rate`
a year (a quarterly chance). A committee that resolved none of its compound's cases in a year
lapses at `committee_lapse_rate` a year. Self-management starts when a committee exists."""

from sim.institutions.base import Institution


class OwnersCommittee(Institution):
    """Owners' committee (业主委员会); in an old compound it runs quasi-property self-management."""

    def __init__(self, model, cell, community, *, compound: int):
        super().__init__(model, cell, community)
        self.compound = compound
        self.resolved = 0  # cases its self-management resolved since it last took stock
        self.idle_quarters = 0  # quarters in a row with none resolved

    def take_stock(self) -> None:
        """Each quarter: a committee without success for a year may lapse (see `lapses`)."""
        self.idle_quarters = 0 if self.resolved else self.idle_quarters + 1
        self.resolved = 0

    def lapses(self, u: float) -> bool:
        rate = self.model.p["mechanisms"]["committee_lapse_rate"]
        return self.idle_quarters >= 4 and u < rate / 4

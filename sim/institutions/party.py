"""Compound party branches and building party groups (小区党支部/楼栋党小组): they mobilise the
in-service party members (在职党员) of their compound, who take level one of the ladder — micro-
wishes and what they can do themselves (在职党员尽力办). A community's level-one capacity follows
its branches' members: `party_member_capacity` cases a day for each party member living in a
compound that has a branch."""

from sim.institutions.base import Institution


class PartyBranch(Institution):
    """Compound party branch or building party group (小区党支部/楼栋党小组)."""

    def __init__(self, model, cell, community, *, compound: int, members: float):
        super().__init__(model, cell, community)
        self.compound = compound
        self.members = members  # party members living in the compound, at full scale

    def capacity(self, per_member: float) -> float:
        """Level-one cases a day the branch's mobilised members take."""
        return self.members * per_member

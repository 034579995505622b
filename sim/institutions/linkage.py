"""The four-party linkage (四方联动): the community committee, the compound's party branch, its
owners' committee and its property company meet (联席会) every `linkage_meeting_days` days. The
meeting sets an agenda: of the cross-party cases (property and neighbour disputes that the
grassroots handler failed) it takes at most `linkage_agenda` a meeting, the longest-waiting first,
and settles each with a chance that depends on which parties sit at the table:
`linkage_success` × (½ + ¼ if the compound has a property company + ¼ if it has an owners'
committee). The rest climb the ladder."""

from sim.institutions.base import Institution


class FourPartyLinkage(Institution):
    """Four-party linkage (四方联动) of a compound and its joint meetings."""

    def __init__(self, model, cell, community, *, compound: int):
        super().__init__(model, cell, community)
        self.compound = compound
        self.meetings = 0

    def table(self) -> float:
        """The share of the parties at the table that a settlement needs: ½ + ¼ each for a
        property company and an owners' committee."""
        m = self.model
        return (0.5 + 0.25 * m.compound_has_company[self.compound]
                + 0.25 * m.compound_has_committee[self.compound])

"""What every institution is: a Mesa agent with an office at a building of its community."""

from mesa.discrete_space import Cell, FixedAgent


class Institution(FixedAgent):
    """An organisation with an office at one building (楼院) of a community (-1: the city)."""

    def __init__(self, model, cell: Cell, community: int):
        super().__init__(model)
        self.cell = cell
        self.community = community

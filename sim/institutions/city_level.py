"""The city's own handlers: the functional departments (职能部门), the 12345 hotline, and the
co-building units linked to each community (联点共建单位). Their capacities scale with the city
they serve, so a larger city does not queue up: the departments' and the hotline's in cases a day
per 10,000 residents, the co-building units' one unit a community."""

from sim.institutions.base import Institution


class LiaisonUnit(Institution):
    """Linked co-building unit (联点共建单位) with its in-service party members: level three."""

    def __init__(self, model, cell, community, *, capacity: float):
        super().__init__(model, cell, community)
        self.daily_capacity = capacity


class Department(Institution):
    """City functional departments (职能部门): 'the grid blows the whistle, departments respond'.
    They take the ladder's fourth level, and the whistles of grid workers."""

    def __init__(self, model, cell, *, capacity: float):
        super().__init__(model, cell, community=-1)
        self.daily_capacity = capacity


class Hotline(Institution):
    """The 12345 citizen hotline: answers, settles some contacts itself, transfers the rest."""

    def __init__(self, model, cell, *, capacity: float):
        super().__init__(model, cell, community=-1)
        self.daily_capacity = capacity

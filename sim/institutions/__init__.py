"""The institutional actors (DESIGN §3): Mesa agents with offices at buildings of the
neighbourhood graph, one module per kind, each holding the class and its verbs. Kinds with many
members that act daily (grid workers) keep their verb vectorised over the kind's columns; the
others act at their scheduled events, agent by agent.

    grid_workers        GridWorker, Patrols: patrol, find, blow the whistle (daily)
    property_companies  PropertyCompany: choose effort, be rated, leave or stay (quarterly)
    owners_committees   OwnersCommittee: form, self-manage, lapse (quarterly)
    linkage             FourPartyLinkage: set the joint meeting's agenda (weekly)
    committees          CommunityCommittee, SpendingPlan: staff, the fund, and the plan that
                        spends it (priorities, a reserve, purchased services; daily, vectorised)
    party               PartyBranch: mobilise in-service party members (level one)
    city_level          Department, Hotline, LiaisonUnit: the city's handlers
"""

from sim.institutions.base import Institution
from sim.institutions.city_level import Department, Hotline, LiaisonUnit
from sim.institutions.committees import CommunityCommittee, SpendingPlan
from sim.institutions.grid_workers import GridWorker, Patrols
from sim.institutions.linkage import FourPartyLinkage
from sim.institutions.owners_committees import OwnersCommittee
from sim.institutions.party import PartyBranch
from sim.institutions.property_companies import PropertyCompany

__all__ = ["Institution", "CommunityCommittee", "GridWorker", "Patrols", "PartyBranch",
           "PropertyCompany", "OwnersCommittee", "FourPartyLinkage", "LiaisonUnit", "Department",
           "Hotline", "SpendingPlan"]

"""GovernanceModel: one simulated city (Xining by default), one run, from a scenario."""

import math
import zlib

import mesa
import numpy as np
import pandas as pd
from mesa.discrete_space import Network
from mesa.time import Schedule

from sim import city, funding, kernels, outputs, phases
from sim.choices import Choices
from sim.institutions import (
    CommunityCommittee, Department, FourPartyLinkage, Hotline, LiaisonUnit, OwnersCommittee,
    PartyBranch, Patrols, PropertyCompany, SpendingPlan,
)
from sim.institutions import grid_workers
from sim.errors import InputError
from sim.grievances import Grievances
from sim.ladder import Ladder
from sim.metrics import Cohort, DayCounts
from sim.parameters import CATEGORIES, CLASSES, COMPOUND_KINDS, SCHEMA
from sim.residents import Residents
from sim.scenario import Scenario, load

STREAMS = ("residents", "arise", "discover", "handle", "linkage", "fund", "institutions")


class GovernanceModel(mesa.Model):
    """A city's community governance, day by day (DESIGN §5).

    Keyword arguments: `scenario` (a name, a path or a loaded `Scenario`), `scale`, `days`,
    `rng` (the run's seed; defaults to the scenario's), `daily` (False skips the daily rows by
    class, for batches that keep end-of-run tables only), `keep_grievances` (True keeps every
    closed grievance's row, for `model.grievances.frame()`; the table otherwise holds the open
    ones), and any parameter of the scenario as `key=value` (when the key names one parameter) or
    `section__key=value`.
    """

    def __init__(self, *, scenario: str | Scenario | None = None, scale: float | None = None,
                 days: int | None = None, rng: int | None = None, daily: bool = True,
                 keep_grievances: bool = False, **overrides):
        scenario = scenario if isinstance(scenario, Scenario) else load(scenario)
        self.record_daily = daily  # False: end-of-run tables only (batches that keep no daily)
        flat = {"scale": scale, "days": days, "seed": None if rng is None else seed_of(rng)}
        overrides |= {k: v for k, v in flat.items() if v is not None}
        if overrides:
            scenario = scenario.with_overrides(nest(overrides), origin="model arguments")
        self.policy = scenario  # our scenario; Mesa's own `self.scenario` is left alone
        self.p = scenario.params
        self.seed = int(self.p["run"]["seed"])
        super().__init__(rng=self.seed)
        self.scale = float(self.p["run"]["scale"])
        self.days = int(self.p["run"]["days"])
        # The periods of a run: warm-up (whole budget years, not counted), the reported period,
        # then run-on days until every grievance that arose in the period has closed.
        self.warmup_years = int(self.p["run"]["warmup_years"])
        self.warmup_days = 365 * self.warmup_years
        self.report_end = self.warmup_days + self.days
        b = self.p["behaviour"]
        # The longest a grievance can stay open: silent patience, then reported patience. Run-on
        # days follow the period's grievances at most this long; a grievance given up counts as
        # unmet need for this long from the day it arose.
        self.horizon = b["silent_patience_days"] + b["reported_patience_days"]
        self.stream_keys = {name: stream_key(self.seed, name) for name in STREAMS}
        self._streams = {name: np.random.Generator(np.random.Philox(key=key))
                         for name, key in self.stream_keys.items()}
        self._started: set[str] = set()  # streams moved to today's counter
        self._stream_day = None
        self.build_city()
        self.build_institutions()
        kernels.warm_up()  # numba's start-up, once a process: in the build, not the first day
        self.grievances = Grievances(capacity=max(1024, int(len(self.residents) * 0.02)),
                                     keep_closed=keep_grievances)
        self.ladder = Ladder(self)
        self.building_start = np.cumsum(self.building_residents) - self.building_residents
        # Buildings x categories, a day: what could arise (whatever the policy) and what does.
        self.refresh_arise()
        self.arise_cumulative = np.cumsum(self.arise_potential.ravel())
        self.neighbourhood, self.neighbourhood_residents = phases.neighbourhood(self)
        self.building_sums = {}
        self.counts = DayCounts(self.n_communities)  # today's flows
        self.totals = DayCounts(self.n_communities)  # the reported period's flows
        self.cohort = Cohort(self.n_communities)  # the period's grievances, as they close
        self.arisen_by_category = np.zeros((self.n_communities, len(CATEGORIES)))
        self.hotline_by_category = np.zeros((self.n_communities, len(CATEGORIES)))  # voiced to 12345
        self.resolution_days = np.zeros((len(self.class_labels), 366), np.int64)  # histogram
        self.open_days = np.zeros(self.n_communities)  # grievance-days open in the period
        self.unmet_days = np.zeros(self.n_communities)  # the cohort's grievance-days unmet
        self.given_up = phases.GivenUp()
        self.open_today = self.open_reported = np.zeros(self.n_communities)
        self.mood_days = {"satisfaction": np.zeros(self.n_communities),
                          "trust": np.zeros(self.n_communities)}  # summed over residents, days
        self.mood_today = {}  # today's sums per community, set by account
        self.reported_days = 0
        self.spending = SpendingPlan(self)  # the committees' spending plan
        self.choices = Choices(self)  # communities' own choices (the classroom), none by default
        self.datacollector = outputs.collector(self)
        self.schedule_events()
        self.advance = self.step  # Mesa's time loop: the day's scheduled events, then `step`
        self.step = self.next_day

    # ---- the day (DESIGN §5) ------------------------------------------------------------------
    def next_day(self) -> None:
        """The day boundary, then the next day (Mesa's `model.step()`): choices made since the
        last day become their communities' verbs before the day's events and phases."""
        self.choices.apply()
        self.advance()

    @property
    def day(self) -> int:
        """Today, from 0 at the start of the warm-up (step k runs at time k); an event between two
        days counts to the next."""
        return math.ceil(self.time) - 1

    @property
    def reporting(self) -> bool:
        """Is today a day of the reported period?"""
        return self.warmup_days <= self.day < self.report_end

    @property
    def cohort_open(self) -> int:
        """Grievances of the reported period not yet closed."""
        return int(self.cohort["arisen"].sum() - self.cohort["closed"].sum())

    def stream(self, name: str) -> np.random.Generator:
        """Today's random stream of one subsystem (DESIGN §9): a counter-based generator keyed by
        the run seed and the subsystem's name and started at the day, so a policy that changes how
        many draws one subsystem makes shifts neither the other subsystems nor the next day."""
        day = math.ceil(self.time) - 1
        if self._stream_day != day:
            self._started, self._stream_day = set(), day
        rng = self._streams[name]
        if name not in self._started:  # the subsystem's generator, moved to today's counter
            rng.bit_generator.state = {
                "bit_generator": "Philox", "buffer": np.zeros(4, np.uint64), "buffer_pos": 4,
                "has_uint32": 0, "uinteger": 0,
                "state": {"counter": np.array([0, 0, 0, day + 1], dtype=np.uint64),
                          "key": self.stream_keys[name]}}
            self._started.add(name)
        return rng

    def step(self) -> None:
        """One day: the eight phases, in order (the institutions' weekly and quarterly verbs are
        scheduled events, see schedule_events)."""
        new = phases.arise(self)  # 1. new grievances per resident and category
        phases.voice(self, new)  # 2. voiced by a channel, or kept silent
        phases.discover(self)  # 3. grid workers patrol (and blow the whistle), volunteers visit
        self.ladder.route_and_handle()  # 4. the four-level ladder
        closed, got, evaluation = phases.close_and_visit(self)  # 5. give-ups, return visits
        phases.evaluate(self, closed, got, evaluation)  # 6. expectation-disconfirmation
        phases.influence(self)  # 7. open grievances, recovery, neighbours; trust
        phases.account(self)  # 8. the period's counts, money, data collection
        if self.day >= self.report_end - 1 and (
                self.cohort_open == 0 or self.day >= self.report_end - 1 + self.horizon):
            self.running = False  # the period is over and its grievances have all closed

    def run(self) -> "GovernanceModel":
        """Run the warm-up, the reported period and the run-on days."""
        while self.running:
            self.step()
        return self

    # ---- scheduled events (Mesa event scheduling; at the end of a day) --------------------------
    def schedule_events(self) -> None:
        """The institutions' scheduled verbs (Mesa event scheduling, at the end of a day): the
        annual budget, the weekly four-party joint meetings, the quarterly review of property
        companies and owners' committees."""
        m = self.p["mechanisms"]
        self.schedule_recurring(self.spending.open_year, Schedule(interval=365, start=365.5))
        self.meetings_scheduled = bool(m["four_party_linkage"])
        if self.meetings_scheduled:
            self.schedule_recurring(self.ladder.hold_joint_meetings,
                                    Schedule(interval=m["linkage_meeting_days"],
                                             start=m["linkage_meeting_days"] + 0.5))
        self.schedule_recurring(self.review_quarter,
                                Schedule(interval=m["rating_interval_days"],
                                         start=m["rating_interval_days"] + 0.5))

    def review_quarter(self) -> None:
        """Every quarter: the red/black list (红黑榜) and each company's answer to it — stay or
        leave, then the effort it chooses; new companies come to compounds left without one;
        owners' committees form and lapse; the linkages and the ladder follow."""
        rng = self.stream("institutions")
        self.rate_property_companies()
        for company in list(self.companies):
            if not company.stays(rng.random()):
                self.leave(company)
        self.companies_arrive(rng)
        for company in self.companies:
            company.choose_effort()
        self.committees_form_and_lapse(rng)
        self.place_linkages()
        self.refresh_arise()
        self.ladder.refresh_success()

    def rate_property_companies(self) -> None:
        """The red/black list: the worst `blacklist_share` of the quarter's records go on the
        black list, the others on the red list."""
        ladder = self.ladder
        attempts, resolved = ladder.company_attempts, ladder.company_resolved
        record = np.where(attempts > 0, resolved / np.maximum(attempts, 1), 1.0)
        if self.companies:
            threshold = float(np.quantile([record[c.compound] for c in self.companies],
                                          self.p["mechanisms"]["blacklist_share"]))
            for company in self.companies:
                company.rate(record[company.compound], threshold)
        attempts[:], resolved[:] = 0, 0

    def leave(self, company: PropertyCompany) -> None:
        """A company leaves: its compound has none until a new one comes (three-no if it has no
        owners' committee either)."""
        self.companies.remove(company)
        company.remove()
        self.compound_has_company[company.compound] = False
        self.company_left[company.compound] = True

    def companies_arrive(self, rng) -> None:
        """A new company comes to a compound its company left, at `company_entry_rate` a year."""
        m = self.p["mechanisms"]
        left = np.flatnonzero(self.company_left)
        comes = left[rng.random(len(left)) < 1 - np.exp(-m["company_entry_rate"] / 4)]
        for j in comes:
            self.add_company(int(j))
        self.company_left[comes] = False

    def add_company(self, j: int) -> None:
        community = int(self.compound_community[j])
        self.companies.append(PropertyCompany(
            self, self.cell(self.first_building[j]), community, compound=j,
            red=bool(self.measure("red_property")[community])))
        self.compound_has_company[j] = True

    def committees_form_and_lapse(self, rng) -> None:
        """Under the B measure an old compound without an owners' committee forms one at
        `committee_formation_rate` a year; a committee that resolved nothing for a year lapses at
        `committee_lapse_rate` a year."""
        m = self.p["mechanisms"]
        for committee in list(self.owners_committees):
            committee.resolved = int(self.ladder.owners_resolved[committee.compound])
            committee.take_stock()
            if committee.lapses(rng.random()):
                self.owners_committees.remove(committee)
                committee.remove()
                self.compound_has_committee[committee.compound] = False
        self.ladder.owners_resolved[:] = 0
        helped = (self.measure("owners_committees")[self.compound_community]
                  & self.compound_old & ~self.compound_has_committee)
        candidates = np.flatnonzero(helped)
        forms = candidates[rng.random(len(candidates))
                           < 1 - np.exp(-m["committee_formation_rate"] / 4)]
        for j in forms:
            self.add_owners_committee(int(j))

    def add_owners_committee(self, j: int) -> None:
        self.owners_committees.append(OwnersCommittee(
            self, self.cell(self.first_building[j]), int(self.compound_community[j]),
            compound=j))
        self.compound_has_committee[j] = True

    def cell(self, building: int):
        """The neighbourhood graph's cell of a building (an office's place)."""
        return self.space[int(building)]

    @property
    def three_no(self) -> np.ndarray:
        """Old compounds with neither a property company nor an owners' committee (三无小区)."""
        return self.compound_old & ~self.compound_has_company & ~self.compound_has_committee

    def place_linkages(self) -> None:
        """A four-party linkage sits in each compound with a party branch and a company or an
        owners' committee (where the mechanism is on); the others have none."""
        wanted = (self.compound_has_branch & (self.compound_has_company
                                              | self.compound_has_committee)
                  & self.p["mechanisms"]["four_party_linkage"])
        for linkage in [lk for lk in self.linkages if not wanted[lk.compound]]:
            self.linkages.remove(linkage)
            linkage.remove()
        have = {lk.compound for lk in self.linkages}
        for j in np.flatnonzero(wanted):
            if int(j) not in have:
                self.linkages.append(FourPartyLinkage(
                    self, self.cell(self.first_building[j]),
                    int(self.compound_community[j]), compound=int(j)))
        self.compound_linked = wanted

    def refresh_arise(self) -> None:
        """Buildings x categories: what arises a day under today's companies' effort."""
        self.arise_potential, self.arise_rates = phases.arise_rates(self)
        self.arise_kept = np.divide(self.arise_rates, self.arise_potential,
                                    out=np.zeros_like(self.arise_rates),
                                    where=self.arise_potential > 0).ravel()

    # ---- building the city ------------------------------------------------------------------
    def build_city(self) -> None:
        c = self.p["city"]
        # A CSV city comes with the scenario (its text travels to a cluster's workers with each
        # run); a scenario made from parameters alone has only the path, and the file is read.
        communities, compounds = city_tables(c["source"], self.policy.city_csv, c["city_seed"],
                                             c["population"], c["residents_per_compound"],
                                             c["owners_committee_share"])
        self.communities, self.compounds = communities, compounds
        self.n_communities = len(communities)
        self.classes = classify(communities, self.p["classification"])
        self.class_labels = [k for k in (*CLASSES, "none") if np.any(self.classes == k)]
        self.class_index = np.array([self.class_labels.index(k) for k in self.classes])
        self.class_matrix = outputs.class_matrix(self.class_index, len(self.class_labels))
        rng = self.stream("residents")
        self.buildings, graph = city.build_buildings(compounds, np.random.default_rng(c["city_seed"]),
                                                     c["residents_per_building"], self.scale)
        self.space = Network(graph, layout=None, random=self.random)
        columns = city.sample_residents(self.buildings, communities, compounds, self.scale, rng,
                                        c["party_member_share"])
        self.residents = Residents(columns)
        self.init_resident_state(rng)
        self.compound_kind = compounds["kind"].map(COMPOUND_KINDS.index).to_numpy(np.int8)
        self.compound_old = self.compound_kind == COMPOUND_KINDS.index("old")  # 老旧小区
        self.building_residents = np.bincount(self.residents.building, minlength=len(self.buildings))
        self.building_community = self.buildings["community"].to_numpy()
        self.community_residents = np.bincount(self.building_community, self.building_residents,
                                               minlength=self.n_communities)
        self.familiarity = 1.0 - communities["migrant_share"].to_numpy(float)
        self.funds = funding.allocate(self.p["funding"], communities, self.classes,
                                      self.policy.files[0] if self.policy.files else self.policy.name)

    def init_resident_state(self, rng) -> None:
        b, r = self.p["behaviour"], self.residents
        n = len(r)
        noise = lambda: rng.normal(0, 0.1, n)  # noqa: E731 — spread around each mean
        r.satisfaction[:] = np.clip(b["initial_satisfaction"] + noise(), 0, 1)
        r.expectation[:] = np.clip(b["initial_expectation"] + noise(), 0, 1)
        r.trust[:] = np.clip(b["initial_trust"] - b["migrant_trust_gap"] * r.migrant + noise(), 0, 1)

    def measure(self, name: str) -> np.ndarray:
        """Per community: is this type measure enabled for its class?"""
        enabled = {cls for cls in CLASSES if name in self.p["measures"][cls]}
        return np.isin(self.classes, list(enabled))

    def build_institutions(self) -> None:
        """Mesa agents at buildings: committees, grid workers, branches, companies, owners'
        committees, linkages, co-building units; departments and the hotline at the city's first
        building. Owners' committees in old compounds under the B measure form over time
        (review_quarter), from those the city starts with."""
        p, m = self.p, self.p["mechanisms"]
        self.first_building = first_of(self.buildings["compound"].to_numpy(), len(self.compounds))
        community_office = first_of(self.buildings["community"].to_numpy(), self.n_communities)
        pop = self.communities["population"].to_numpy()
        purchased = self.measure("purchased_services")
        self.committees = [
            CommunityCommittee(self, self.cell(community_office[i]), i,
                               staff=max(1, round(pop[i] * m["staff_per_10k"] / 1e4)),
                               purchased_services=bool(purchased[i]))
            for i in range(self.n_communities)]
        self.grid_workers = grid_workers.place(self)
        self.patrols = Patrols(self, self.grid_workers)
        comm = self.compound_community = self.compounds["community"].to_numpy()
        cpop = self.compounds["population"].to_numpy()
        branch_rng = np.random.default_rng(p["city"]["city_seed"] + 1)
        self.compound_has_branch = branch_rng.random(len(self.compounds)) < p["city"]["party_branch_share"]
        self.branches = [PartyBranch(self, self.cell(self.first_building[j]), comm[j], compound=j,
                                     members=cpop[j] * p["city"]["party_member_share"])
                         for j in np.flatnonzero(self.compound_has_branch)]
        self.compound_has_company = np.zeros(len(self.compounds), bool)
        self.compound_has_committee = np.zeros(len(self.compounds), bool)
        self.company_left = np.zeros(len(self.compounds), bool)  # waiting for a new company
        self.companies, self.owners_committees, self.linkages = [], [], []
        for j in np.flatnonzero(self.compounds["has_property_company"].to_numpy()):
            self.add_company(int(j))
        for j in np.flatnonzero(self.compounds["has_owners_committee"].to_numpy()):
            self.add_owners_committee(int(j))
        self.compound_linked = np.zeros(len(self.compounds), bool)
        self.place_linkages()
        for company in self.companies:
            company.choose_effort()
        residents = lambda n: n / 1e4  # noqa: E731 — capacities are per 10,000 residents
        self.liaison_units = [LiaisonUnit(self, self.cell(community_office[i]), i,
                                          capacity=m["co_building_capacity"])
                              for i in range(self.n_communities)]
        city = residents(pop.sum())
        self.department = Department(self, self.cell(0), capacity=m["department_capacity"] * city)
        self.hotline = Hotline(self, self.cell(0), capacity=m["hotline_capacity"] * city)

    # ---- results ----------------------------------------------------------------------------
    def summary(self) -> pd.DataFrame:
        """One row per class and one for the city: the run's totals, rates and spread."""
        return outputs.summary(self)


def seed_of(rng) -> int:
    """A seed from what Mesa's batch_run or a user passes as `rng`."""
    if isinstance(rng, (int, np.integer)):
        return int(rng)
    if isinstance(rng, np.random.SeedSequence):
        return int(rng.generate_state(1, np.uint64)[0] >> 1)
    return int(np.random.default_rng(rng).integers(2**62))


def stream_key(seed: int, name: str) -> np.ndarray:
    """The key of a subsystem's streams, from the run seed and the subsystem's name."""
    sequence = np.random.SeedSequence(seed, spawn_key=(zlib.crc32(name.encode()),))
    return sequence.generate_state(2, np.uint64)


def nest(flat: dict) -> dict:
    """`{"households_per_grid": 800, "funding__scheme": "by_class"}` → nested sections."""
    out: dict = {}
    for key, value in flat.items():
        if "__" in key:
            section, name = key.split("__", 1)
        else:
            sections = [s for s, params in SCHEMA.items() if key in params]
            if len(sections) != 1:
                where = "several sections" if sections else "no section"
                raise InputError(f"model arguments: key \"{key}\": expected a parameter name found "
                                 f"in exactly one section (it is in {where}; write section__key)")
            section, name = sections[0], key
        out.setdefault(section, {})[name] = value
    return out


def first_of(groups: np.ndarray, n: int) -> np.ndarray:
    """Index of the first row of each group 0..n-1 (-1 for a group with no row)."""
    first = np.full(n, -1)
    present, index = np.unique(groups, return_index=True)
    first[present] = index
    return first


def classify(communities: pd.DataFrame, rules: dict) -> np.ndarray:
    if rules["scheme"] == "none":
        return np.full(len(communities), "none")
    return city.classify(communities, {k: v for k, v in rules.items() if k != "scheme"})


_CITIES: dict[tuple, tuple] = {}  # the last few cities built, by what they are built from
MAX_CITIES = 8


def _city_tables(key: tuple, source: str, text: str | None) -> tuple:
    """Communities and compounds of the city `key` names, built once (the last few are kept)."""
    if key not in _CITIES:
        _, city_seed, population, per_compound, oc_share = key
        rng = np.random.default_rng(city_seed)
        communities = (city.synthetic_xining(rng, total_population=population) if text is None
                       else city.communities_from_text(text, source))
        if len(_CITIES) >= MAX_CITIES:
            _CITIES.pop(next(iter(_CITIES)))  # the oldest
        _CITIES[key] = communities, city.build_compounds(communities, rng, per_compound, oc_share)
    return _CITIES[key]


def city_tables(source, text, city_seed, population, per_compound, oc_share):
    """Communities and compounds (copies); cached, since every run of a batch shares its city.
    A CSV city is `text` (else the file `source` is read) and is cached by its contents, so an
    edited file is a new city whatever its time stamp."""
    if source != "synthetic" and text is None:
        text = city.read_csv_text(source)
    what = "synthetic" if source == "synthetic" else city.text_sha256(text)
    key = (what, city_seed, population, per_compound, oc_share)
    communities, compounds = _city_tables(key, source, None if source == "synthetic" else text)
    return communities.copy(), compounds.copy()

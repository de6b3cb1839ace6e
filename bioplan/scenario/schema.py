"""The planning scenario as validated, typed data.

A scenario is self-contained once loaded: the demand CSV and any recipe CSVs are read into it, so
``Scenario.model_dump_json()`` is a canonical description of every input (used for hashing runs and
for sending scenarios to worker processes). Field names carry their units; every field has a
docstring that the dashboard shows as help.
"""

from __future__ import annotations

import datetime as dt
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, PositiveFloat, PositiveInt, model_validator

ProductName = Literal["rbc", "platelet"]
NAME_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9_\-]*$"
"""Names of sources, reactor types and cards: letters, digits, '-' and '_' (no dots: dots are
path separators in overrides)."""


class _Strict(BaseModel):
    """Unknown fields are errors, so a unit typo (``volume_max_mL``) never passes silently."""

    model_config = ConfigDict(extra="forbid", frozen=False, validate_assignment=True,
                              use_attribute_docstrings=True)


class Horizon(_Strict):
    start_date: dt.date
    """First planning day (day 0 of the plan grid)."""
    days: PositiveInt = Field(le=1096)
    """Length of the planning horizon [days]."""

    def day_of(self, date: dt.date) -> int:
        """Plan day index of ``date`` (may be negative or beyond the horizon)."""
        return (date - self.start_date).days


class Product(_Strict):
    cells_per_unit: PositiveFloat
    """Cells in one transfusion unit [cells/unit]: 2e12 RBCs (Pellegrin 2021) or 2.4e11 platelets
    (EU standard, Moreau 2016)."""
    shelf_life_days: PositiveInt
    """Shelf life counted from harvest [days] (release testing eats into it; the last usable day
    is :func:`bioplan.contracts.last_usable_day`): 42 for RBCs (AS-3/SAGM), 5 for platelets (7
    with bacterial screening)."""
    release_delay_days: int = Field(default=0, ge=0)
    """Release testing between harvest and availability [days]; it eats into shelf life."""
    shortage_penalty_usd_per_unit: float = Field(ge=0)
    """Price of one unit of unmet demand [USD/unit] (e.g. the cost of sourcing it elsewhere)."""
    expiry_cost_usd_per_unit: float = Field(default=0.0, ge=0)
    """Disposal cost of an expired unit on top of what it cost to make [USD/unit]."""
    min_service_level: float | None = Field(default=None, ge=0, le=1)
    """Optional hard lower bound on delivered / demanded units over the horizon [fraction]."""
    storage_capacity_units: float | None = Field(default=None, ge=0)
    """Maximum units held in storage on any day [units]; None means unlimited."""
    initial_inventory_units: float = Field(default=0.0, ge=0)
    """Units in stock and released on day 0, all fresh (full shelf life) [units]."""


class DemandRecord(_Strict):
    date: dt.date
    """Day the units are needed (for weekly demand: the first day of the week)."""
    product: ProductName
    """Which product."""
    units: float = Field(ge=0, le=1e7)
    """Units demanded [units]."""


class Demand(_Strict):
    file: str | None = None
    """CSV the records were read from (columns ``date`` or ``week``, ``product``, ``units``)."""
    granularity: Literal["day", "week"] = "day"
    """``day``: each record is due on its date; ``week``: spread evenly over the 7 days from its date."""
    scale: float = Field(default=1.0, ge=0, le=1e3)
    """Multiplier on every record (demand growth what-ifs) [-]."""
    records: list[DemandRecord] = Field(default_factory=list)
    """The demand, one record per date and product."""


class Source(_Strict):
    cells_per_lot: PositiveFloat
    """Seed cells one lot provides [cells] (e.g. ~5e6 CD34+ per cord-blood unit, Giarratana 2005)."""
    lots_per_week: float | None = Field(default=None, ge=0)
    """Lots that can be obtained per week [lots/week]; None means unlimited (a cell bank)."""
    cost_usd_per_lot: float = Field(ge=0)
    """Procurement and selection cost of one lot [USD/lot]."""
    cards: list[str] = Field(min_length=1)
    """Yield cards this material can seed."""


class RecipeSource(_Strict):
    card: str | None = None
    """A shipped yield card name, or a card file path relative to the scenario file."""
    variants: dict[str, list[float]] = Field(default_factory=dict)
    """Candidate settings as dotted keys (``expansion.EPO``, ``expansion.days``,
    ``maturation.density_setpoint``) mapped to values; the full factorial is evaluated."""
    table: str | None = None
    """Alternatively, a CSV recipe table (columns as ``bioplan.yields.recipe_table``)."""
    rows: list[dict[str, Any]] = Field(default_factory=list)
    """The rows of ``table``, filled in by the loader."""

    @model_validator(mode="after")
    def _one_kind(self) -> RecipeSource:
        if (self.card is None) == (self.table is None and not self.rows):
            msg = ("gives both or neither of 'card' and 'table'. Fix: give exactly one of "
                   "'card' (a yield card) or 'table' (a recipe CSV)")
            raise ValueError(msg)
        return self


class Maintenance(_Strict):
    unit: PositiveInt
    """Which unit of this reactor type (1-based) is down."""
    start_date: dt.date
    """First day of the maintenance window."""
    days: PositiveInt
    """Length of the window [days]."""


class ReactorType(_Strict):
    working_volume_min_L: float = Field(ge=0)
    """Smallest working volume of one unit [L]."""
    working_volume_max_L: PositiveFloat
    """Largest working volume of one unit [L]; bounds a batch's peak culture volume."""
    units_owned: int = Field(default=0, ge=0)
    """Units already owned (capital cost still charged, so cost per unit is fully loaded)."""
    max_additional_units: int = Field(default=0, ge=0)
    """Units that may be bought or rented on top of those owned."""
    acquisition: Literal["buy", "rent"] = "rent"
    """How additional units are obtained (labels the capacity decision; the cost is per day)."""
    capital_cost_usd_per_unit_day: float = Field(default=0.0, ge=0)
    """Depreciation or rental per unit per day over the whole horizon [USD/unit/day]."""
    operating_cost_usd_per_day: float = Field(default=0.0, ge=0)
    """Running cost per unit per day in use (utilities, single-use bags, QC) [USD/day]."""
    turnaround_days: int = Field(default=0, ge=0)
    """Cleaning and set-up after each batch phase before the unit can host another [days]."""
    vessel_classes: list[str] = Field(min_length=1)
    """Phase vessel classes this type can host (e.g. ``static``, ``rocking``, ``stirred``,
    ``turbulent``), matched against each recipe phase's vessel class."""
    maintenance: list[Maintenance] = Field(default_factory=list)
    """Windows in which one unit is unavailable."""

    @model_validator(mode="after")
    def _volumes(self) -> ReactorType:
        if self.working_volume_min_L > self.working_volume_max_L:
            msg = (
                f"working_volume_min_L ({self.working_volume_min_L} L) exceeds "
                f"working_volume_max_L ({self.working_volume_max_L} L). Fix: make the minimum "
                "no larger than the maximum"
            )
            raise ValueError(msg)
        return self


class Media(_Strict):
    basal_price_usd_per_L: float = Field(ge=0)
    """Basal medium incl. supplements such as transferrin and insulin [USD/L]."""
    cytokine_price_usd_per_mg: dict[str, float] = Field(default_factory=dict)
    """Price of each cytokine sold by mass (SCF, IL-3, TPO ...) [USD/mg]."""
    cytokine_price_usd_per_kU: dict[str, float] = Field(default_factory=dict)
    """Price of each cytokine sold by activity (EPO) [USD/kU]."""
    prep_capacity_L_per_day: float | None = Field(default=None, ge=0)
    """Medium that can be prepared per day [L/day]; None means unlimited."""


class Labour(_Strict):
    operations_per_day: int | None = Field(default=None, ge=0)
    """Seedings, transfers and harvests that can be done per day [operations/day]; None: unlimited."""
    cost_usd_per_operation: float = Field(default=0.0, ge=0)
    """Labour cost of one operation [USD/operation]."""


class SolverSettings(_Strict):
    time_limit_s: float = Field(default=60.0, gt=0, le=1e6)
    """HiGHS time limit [s]."""
    mip_gap: float = Field(default=0.01, ge=0, le=1)
    """Relative MIP gap at which HiGHS stops [-]."""
    threads: int = Field(default=1, ge=1)
    """HiGHS threads."""
    wall_clock_guard_s: float | None = Field(default=None, gt=0, le=1e7)
    """Hard limit after which the solve process is killed [s]; default: 2 × time limit + 30 s."""
    interface: Literal["highspy", "pyomo"] = "highspy"
    """How the model reaches HiGHS: ``highspy`` (Pyomo's standard-form compiler, matrices passed to
    highspy in bulk; faster, with the LP-guided start) or ``pyomo`` (Pyomo's own HiGHS interface,
    ``pyomo.contrib.solver``; same optima, but no LP-guided start and no starting solutions)."""


YIELD_UNCERTAINTY = {"both": "lot-to-lot spread and calibration uncertainty",
                     "lot": "lot-to-lot spread only", "fit": "calibration uncertainty only"}
"""What yield samples may draw from the cards (``Uncertainty.yield_uncertainty``), with labels."""


class Uncertainty(_Strict):
    """How a robust plan samples yields and what it guarantees (``bioplan plan --robust``).

    A robust plan fixes the batches, seed cells, recipes and reactor additions before yields are
    known and re-dispatches every sample; see ``docs/robust.md``.
    """

    samples: int = Field(default=20, ge=1)
    """Yield samples K of the stochastic program [-]."""
    seed: int = 0
    """Seed of the samples (the out-of-sample estimates draw from other seeds)."""
    engine: Literal["ef", "ph"] = "ef"
    """``ef``: the extensive form, one MIP solved by HiGHS; ``ph``: progressive hedging with
    mpi-sppy over ``processes`` MPI processes (needs ``pip install 'bioplan[robust]'``)."""
    service_level: float | None = Field(default=None, gt=0, le=1)
    """Chance constraint: each product with demand reaches this service level [-] ...."""
    confidence: float | None = Field(default=None, gt=0, le=1)
    """... in at least this share of the samples [-] (give both or neither)."""
    risk: str | None = Field(default=None, pattern=r"^cvar:[0-9.eE+-]+:[0-9.eE+-]+$")
    """``cvar:ALPHA:WEIGHT``: add WEIGHT × CVaR at level ALPHA of the shortage penalty to the
    expected cost (ALPHA in [0, 1), WEIGHT >= 0)."""
    yield_cv: dict[str, float] = Field(default_factory=dict)
    """Lognormal lot-to-lot coefficient of variation (mean 1) of the yield of recipes of a card
    that declares no ``variability:`` (hand-made tables), by card name [-]."""
    processes: int = Field(default=2, ge=1)
    """MPI processes for ``ph`` [-]."""
    yield_uncertainty: Literal["both", "lot", "fit"] = "both"
    """What the yield samples draw from the cards: ``both`` (default) the lot-to-lot spread
    (``variability:``, one draw per lot) and the calibration's parameter uncertainty
    (``calibration.covariance``, one draw per sample, shared by all its lots: the card's error
    is the same for every lot); ``lot`` the spread alone (the cards taken as right); ``fit`` the
    calibration uncertainty alone. A card without the part asked for keeps its nominal yield."""

    @model_validator(mode="after")
    def _consistent(self) -> Uncertainty:
        if (self.service_level is None) != (self.confidence is None):
            msg = (
                "give service_level and confidence together (service >= P in >= C "
                             "of the samples)"
            )
            raise ValueError(msg)
        if self.risk is not None and self.service_level is not None:
            msg = (
                "give either a chance constraint (service_level, confidence) or a "
                             "risk measure (risk), not both"
            )
            raise ValueError(msg)
        if self.risk is not None:
            alpha, weight = (float(x) for x in self.risk.split(":")[1:])
            if not (0 <= alpha < 1 and weight >= 0):
                msg = f"risk {self.risk!r}: ALPHA must be in [0, 1) and WEIGHT >= 0"
                raise ValueError(msg)
        bad = sorted(k for k, v in self.yield_cv.items() if not v >= 0)
        if bad:
            msg = f"yield_cv of {bad} must be >= 0"
            raise ValueError(msg)
        return self

    def cvar(self) -> tuple[float, float] | None:
        """(ALPHA, WEIGHT) of the risk measure, or None."""
        if self.risk is None:
            return None
        alpha, weight = (float(x) for x in self.risk.split(":")[1:])
        return alpha, weight


class Scenario(_Strict):
    name: str = Field(pattern=NAME_PATTERN)
    """Short name of the scenario."""
    description: str = ""
    """What the scenario represents."""
    horizon: Horizon
    products: dict[ProductName, Product] = Field(min_length=1)
    demand: Demand
    sources: dict[str, Source] = Field(default_factory=dict)
    recipes: list[RecipeSource] = Field(min_length=1)
    reactors: dict[str, ReactorType] = Field(min_length=1)
    media: Media
    labour: Labour = Field(default_factory=Labour)
    solver: SolverSettings = Field(default_factory=SolverSettings)
    uncertainty: Uncertainty | None = None
    """Yield samples and targets of robust plans (``--robust``); None: plans are deterministic."""
    allow_extrapolation: bool = False
    """Offer recipes outside their yield card's validity domain (phase days, concentrations,
    set-points; ``bioplan.yields.validity``). False (default): such a scenario is refused."""

    @model_validator(mode="after")
    def _cross_references(self) -> Scenario:
        problems: list[str] = []
        for rec in self.demand.records:
            if rec.product not in self.products:
                problems.append(f"demand for '{rec.product}', which is not under products")
        for name, reactor in self.reactors.items():
            for window in reactor.maintenance:
                total = reactor.units_owned + reactor.max_additional_units
                if window.unit > total:
                    problems.append(
                        f"reactors.{name}.maintenance: unit {window.unit} but the type has only "
                        f"{total} units"
                    )
        if problems:
            raise ValueError("; ".join(sorted(set(problems))) + ". Fix: make the names and unit "
                             "numbers agree")
        return self

    # ---- derived views -------------------------------------------------------------------
    def demand_table(self) -> Any:
        """Daily demand: DataFrame indexed by (``day``, ``product``) with column ``units``.

        Weekly records are spread evenly over their 7 days; ``demand.scale`` is applied; days
        outside the horizon are dropped.
        """
        from bioplan.scenario.tables import demand_table

        return demand_table(self)

    def recipe_table(self) -> Any:
        """All candidate recipes of all recipe sources (see ``bioplan.yields.recipe_table``)."""
        from bioplan.scenario.tables import recipe_table

        return recipe_table(self)

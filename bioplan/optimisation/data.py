"""Plain, picklable model data prepared from a Scenario and its recipe table.

Everything the Pyomo model needs is computed here, once, into indexed parameters in **scaled
units**, so the model code only wires numbers together and a child solve process can receive the
data by pickling. Nothing here imports Pyomo.

Scaled units used throughout the optimisation package:

- product quantities in transfusion **units** (RBC units, platelet doses) [unit];
- money in **k$** (1e3 USD) — ``USD_SCALE``;
- medium in litres [L]; starting material in **lots** [lot]; time in whole **days** [day].

A *batch option* (``Option``) is a recipe together with the reactor type that hosts each of its
phases (a seed train may use several types). Batches of one option that start on the same day are
identical, so the model counts them with one integer per (option, start day): a *slot*.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from bioplan.contracts import BatchUse, CytokineKey, Prices, last_usable_day

if TYPE_CHECKING:
    from bioplan.scenario import Scenario

USD_SCALE = 1e3
"""Model money unit [USD per k$]."""
MAX_ROUTES_PER_RECIPE = 64
"""Guard against a combinatorial explosion of reactor-type routes through a seed train."""


@dataclass(frozen=True)
class Phase:
    """One phase of a batch option."""

    name: str
    offset_days: int
    """Days from seeding to the phase start [day]."""
    days: int
    """Culture days of the phase [day]."""
    reactor_type: str
    turnaround_days: int
    """Cleaning after the phase on its unit [day]."""
    medium_L_per_unit: float
    """Medium the phase uses per product unit made [L/unit]."""


@dataclass(frozen=True)
class Stay:
    """A batch's time on one vessel: consecutive phases on the same reactor type continue in the
    same vessel (no transfer, no turnaround in between); the turnaround follows the last of them."""

    reactor_type: str
    offset_days: int
    """Days from seeding to the stay's start [day]."""
    days: int
    """Culture days on the vessel (the stay's phases together) [day]."""
    turnaround_days: int
    """Cleaning after the batch leaves the vessel [day]."""


def stays_of(phases: tuple[Phase, ...]) -> tuple[Stay, ...]:
    """The vessel stays of a route: a new stay wherever the reactor type changes (a transfer)."""
    out: list[Stay] = []
    for ph in phases:
        if out and out[-1].reactor_type == ph.reactor_type:
            last = out[-1]
            out[-1] = Stay(last.reactor_type, last.offset_days, last.days + ph.days,
                           last.turnaround_days)
        else:
            out.append(Stay(ph.reactor_type, ph.offset_days, ph.days, ph.turnaround_days))
    return tuple(out)


def row_stays(reactor_types: list[str], units: list[int] | None = None) -> list[int]:
    """Stay number (0, 1, ...) of each phase row of one batch, rows in phase order: a new stay
    where the reactor type changes, or (for assigned batches) where the reactor unit does."""
    out: list[int] = []
    for k, rtype in enumerate(reactor_types):
        same = k > 0 and rtype == reactor_types[k - 1] and (
            units is None or units[k] == units[k - 1])
        out.append(out[-1] if same else (out[-1] + 1 if out else 0))
    return out


@dataclass(frozen=True)
class Option:
    """A recipe run along one route of reactor types (one per phase)."""

    name: str
    recipe: str
    product: str
    source: str
    days: int
    """Seeding to harvest [day]."""
    phases: tuple[Phase, ...]
    seed_cells_per_unit: float
    """Seed cells per product unit [cells/unit]."""
    lots_per_unit: float
    """Starting material per product unit [lot/unit]."""
    medium_L_per_unit: float
    """[L/unit]"""
    cytokine_per_unit: dict[CytokineKey, float]
    """Amount of each cytokine per product unit [kU or mg/unit]."""
    units_min: float
    """Fewest product units one batch may make (working volume minimum at peak) [unit/batch]."""
    units_max: float
    """Most product units one batch may make (working volume maximum at peak) [unit/batch]."""
    operations: int
    """Seeding, transfers (changes of reactor type) and harvest per batch [operations/batch]."""
    unit_use: BatchUse
    """What one product unit uses (seed cells, medium, cytokines) with the per-batch facts
    (reactor days, operations): the subject of the cost terms' coefficient functions."""

    @property
    def stays(self) -> tuple[Stay, ...]:
        """The batch's vessel stays (see :class:`Stay`)."""
        return stays_of(self.phases)

    @property
    def packaged_max(self) -> int:
        """Most whole units one batch can package: ``⌊units_max⌋`` [unit/batch]."""
        return int(np.floor(self.units_max + 1e-9))


@dataclass
class ProductData:
    name: str
    release_days: int
    shelf_life_days: int
    """Counted from harvest (see :mod:`bioplan.contracts.shelf_life`) [day]."""
    min_service_level: float | None
    storage_capacity: float | None
    """[unit]"""
    demand: np.ndarray
    """Demand per day of the horizon [unit/day]."""
    fixed_release: dict[int, float] = field(default_factory=dict)
    """Units becoming available on a cohort day from initial stock and fixed batches [unit]."""


    def last_day(self, cohort_day: int) -> int:
        """Last day cohort ``cohort_day`` may be delivered (inclusive; see
        :func:`bioplan.contracts.last_usable_day`) [day]."""
        return last_usable_day(cohort_day, self.shelf_life_days, self.release_days)

    def expiry_day(self, cohort_day: int) -> int:
        """The day an undelivered unit of the cohort expires [day]."""
        return self.last_day(cohort_day) + 1

    def cohort_expiring_on(self, day: int) -> int:
        """The cohort day whose undelivered units expire on ``day`` [day]."""
        return day - self.expiry_day(0)


@dataclass
class ReactorData:
    name: str
    owned: int
    max_added: int
    acquisition: str
    turnaround_days: int
    down: np.ndarray
    """Units unavailable for maintenance per day (conservatively incl. not-yet-added units)."""
    fixed_busy: np.ndarray
    """Units held by fixed batches (phase + turnaround) per day [unit]."""
    fixed_unit_max: int = 0
    """Highest unit number a fixed batch holds: that vessel must stay in the fleet [unit]."""


@dataclass
class PlanData:
    """Everything ``build_model`` needs, in scaled units (see module docstring)."""

    horizon_days: int
    products: dict[str, ProductData]
    reactors: dict[str, ReactorData]
    options: list[Option]
    slot_option: np.ndarray
    """Option index of each slot."""
    slot_day: np.ndarray
    """Seeding day of each slot [day]."""
    slot_units_max: np.ndarray
    """Useful upper bound on product units per batch of the slot [unit/batch]."""
    slot_batches_max: np.ndarray
    """Upper bound on batches started in the slot: the fleet, and what its demand window needs
    [batch]."""
    sources: dict[str, float | None]
    """Lots available per week (None = unlimited) [lot/week]."""
    prices: Prices
    """The scenario's prices [USD]; the cost terms' coefficients are these / ``USD_SCALE``."""
    media_prep_capacity: float | None
    """[L/day]"""
    labour_limit: float | None
    """[operations/day]"""
    slot_batches_need: np.ndarray = field(default_factory=lambda: np.zeros(0))
    """Batches the slot's demand window could use, ignoring the fleet (elastic re-solve) [batch]."""
    fixed_lots: dict[tuple[str, int], float] = field(default_factory=dict)
    """Lots used by fixed batches per (source, week) [lot]."""
    fixed_medium: np.ndarray | None = None
    """Medium prepared for fixed batches per horizon day [L/day]."""
    fixed_operations: np.ndarray | None = None
    """Operations of fixed batches per horizon day [operations/day]."""
    fixed_cost: dict[str, float] = field(default_factory=dict)
    """Cost of fixed batches by term (constants in the objective) [k$]."""
    cytokines: list[CytokineKey] = field(default_factory=list)
    """The recipe table's cytokines, in column order."""
    scenario: Scenario | None = None
    """The validated scenario ``prepare`` started from; read it through :meth:`limit`."""

    def limit(self, read: Callable[[Scenario], float | None], *, usd: bool = False
              ) -> float | None:
        """A scenario field in model units, for a constraint group whose limit ``prepare`` does
        not derive: ``data.limit(lambda s: s.labour.operations_per_day)``.

        The scenario states quantities in the model's units already (units, doses, L, lots,
        days, operations); money (``usd=True``) is divided by ``USD_SCALE`` [USD → k$]. ``None``
        (the field is unset) means the group does not apply. A limit that what-if runs adjust
        (``prepare``'s ``extra_*`` arguments) stays a field filled by ``prepare``.
        """
        if self.scenario is None:
            msg = "PlanData.limit needs the scenario: build PlanData with prepare()"
            raise ValueError(msg)
        value = read(self.scenario)
        if value is None:
            return None
        return float(value) / USD_SCALE if usd else float(value)

    @property
    def days(self) -> range:
        return range(self.horizon_days)

    def slot(self, s: int) -> tuple[Option, int]:
        """(option, seeding day) of slot ``s``."""
        return self.options[self.slot_option[s]], int(self.slot_day[s])

    def slot_release_day(self, s: int) -> int:
        """Cohort day (harvest + release delay) of slot ``s``."""
        opt, d = self.slot(s)
        return d + opt.days + self.products[opt.product].release_days


def records(frame: pd.DataFrame) -> list[Any]:
    """Rows of ``frame`` (without the index) as attribute-access tuples."""
    return list(frame.itertuples(index=False))

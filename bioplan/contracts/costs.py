"""The cost-term registry: every term of the objective written once.

Each :class:`CostTerm` has a name (the ``Plan.cost_breakdown`` row and the Pyomo Expression
``cost_<name>``), a label, a unit, the *driver* it is proportional to and the coefficient
function ``usd(prices, subject)`` [USD per unit of the driver]. The objective
(:mod:`bioplan.optimisation.costs`), the option ranking and the fixed batches
(:mod:`bioplan.optimisation.options`) and the reported cost tables (:mod:`bioplan.results.costs`)
all call that function; only the independent plan checker recomputes costs on its own, on purpose.

Drivers and subjects:

- ``PRODUCT_UNITS``: subject a :class:`BatchUse`; the terms read only its extensive amounts (seed
  cells, medium, cytokines), so the use of one product unit gives USD/unit and the use of a whole
  batch gives the batch's cost.
- ``BATCHES``: subject a :class:`BatchUse`; the terms read only per-batch facts (reactor days,
  operations) [USD/batch].
- ``REACTOR_UNITS`` (subject: reactor type) [USD/unit over the horizon], ``EXPIRED_UNITS`` and
  ``SHORT_UNITS`` (subject: product) [USD/unit].
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import TYPE_CHECKING, Any

from bioplan.contracts.columns import CytokineKey

if TYPE_CHECKING:
    from bioplan.scenario import Scenario


class Driver(StrEnum):
    """What a cost term is proportional to."""

    PRODUCT_UNITS = "product_units"
    BATCHES = "batches"
    REACTOR_UNITS = "reactor_units"
    EXPIRED_UNITS = "expired_units"
    SHORT_UNITS = "short_units"


@dataclass(frozen=True)
class BatchUse:
    """What one batch (or one product unit of an option) uses, in canonical units."""

    source: str
    """Starting-material source."""
    seed_cells: float
    """[cells]"""
    medium_L: float
    """[L]"""
    cytokines: Mapping[CytokineKey, float]
    """Amount of each cytokine [mg or kU]."""
    reactor_days: Mapping[str, float]
    """Culture days on each reactor type, turnaround excluded [day]."""
    operations: int
    """Seeding, transfers and harvest [operations]."""


@dataclass(frozen=True)
class Prices:
    """The scenario's prices [USD per canonical unit]."""

    usd_per_seed_cell: Mapping[str, float]
    """Per source: cost per lot / cells per lot [USD/cell]."""
    basal_usd_per_L: float
    cytokine_usd: Mapping[CytokineKey, float]
    """[USD/mg or USD/kU]; an unpriced cytokine costs 0."""
    operating_usd_per_day: Mapping[str, float]
    """Per reactor type, per day in use [USD/day]."""
    capital_usd_per_unit_day: Mapping[str, float]
    """Per reactor type [USD/unit/day]."""
    usd_per_operation: float
    expiry_usd_per_unit: Mapping[str, float]
    shortage_usd_per_unit: Mapping[str, float]
    horizon_days: int

    @classmethod
    def from_scenario(cls, scenario: Scenario, cytokines: list[CytokineKey]) -> Prices:
        """The prices of ``scenario`` for the cytokines ``cytokines``."""
        media = scenario.media

        def price(key: CytokineKey) -> float:
            table = (media.cytokine_price_usd_per_kU if key.unit == "kU"
                     else media.cytokine_price_usd_per_mg)
            return float(table.get(key.factor, 0.0))

        return cls(
            usd_per_seed_cell={q: s.cost_usd_per_lot / s.cells_per_lot
                               for q, s in scenario.sources.items()},
            basal_usd_per_L=media.basal_price_usd_per_L,
            cytokine_usd={k: price(k) for k in cytokines},
            operating_usd_per_day={t: r.operating_cost_usd_per_day
                                   for t, r in scenario.reactors.items()},
            capital_usd_per_unit_day={t: r.capital_cost_usd_per_unit_day
                                      for t, r in scenario.reactors.items()},
            usd_per_operation=scenario.labour.cost_usd_per_operation,
            expiry_usd_per_unit={p: x.expiry_cost_usd_per_unit for p, x in scenario.products.items()},
            shortage_usd_per_unit={p: x.shortage_penalty_usd_per_unit
                                   for p, x in scenario.products.items()},
            horizon_days=scenario.horizon.days,
        )


def cytokine_parts(prices: Prices, use: BatchUse) -> dict[str, float]:
    """Each cytokine's cost, by ``cytokine:<FACTOR>`` breakdown row [USD]."""
    return {k.cost_row: amount * prices.cytokine_usd.get(k, 0.0)
            for k, amount in use.cytokines.items()}


@dataclass(frozen=True)
class CostTerm:
    """One term of the objective (see the module docstring)."""

    name: str
    label: str
    driver: Driver
    usd: Callable[[Prices, Any], float]
    """Coefficient [USD per unit of the driver] for a subject (see the module docstring)."""
    doc: str
    unit: str = "USD"
    parts: Callable[[Prices, BatchUse], dict[str, float]] | None = field(default=None)
    """Sub-rows of the breakdown that add up to the term (cytokines by factor)."""
    is_penalty: bool = False
    """A price put on unmet demand, not money spent (left out of ``cost_usd`` KPIs)."""


COST_TERMS: tuple[CostTerm, ...] = (
    CostTerm("starting_material", "Starting material", Driver.PRODUCT_UNITS,
             lambda p, u: u.seed_cells * p.usd_per_seed_cell[u.source],
             "seed cells × (cost per lot / cells per lot) of the batch's source"),
    CostTerm("basal_medium", "Basal medium", Driver.PRODUCT_UNITS,
             lambda p, u: u.medium_L * p.basal_usd_per_L, "medium [L] × basal price [USD/L]"),
    CostTerm("cytokines", "Cytokines", Driver.PRODUCT_UNITS,
             lambda p, u: sum(cytokine_parts(p, u).values()),
             "Σ_f amount_f [mg or kU] × price_f", parts=cytokine_parts),
    CostTerm("reactor_capital", "Reactor capital", Driver.REACTOR_UNITS,
             lambda p, t: p.capital_usd_per_unit_day[t] * p.horizon_days,
             "fleet (owned + added) × capital cost per unit-day × horizon days"),
    CostTerm("reactor_operation", "Reactor operation", Driver.BATCHES,
             lambda p, u: sum(d * p.operating_usd_per_day[t] for t, d in u.reactor_days.items()),
             "Σ_phases culture days × operating cost per day of the phase's reactor type"),
    CostTerm("labour", "Labour", Driver.BATCHES,
             lambda p, u: u.operations * p.usd_per_operation,
             "operations (seeding, transfers, harvest) × cost per operation"),
    CostTerm("expiry_waste", "Expiry waste", Driver.EXPIRED_UNITS,
             lambda p, product: p.expiry_usd_per_unit[product],
             "expired units × expiry cost per unit"),
    CostTerm("shortage_penalty", "Shortage penalty", Driver.SHORT_UNITS,
             lambda p, product: p.shortage_usd_per_unit[product],
             "unmet demand × shortage penalty per unit", is_penalty=True),
)
"""The objective's terms, in report order."""

TERM_NAMES: tuple[str, ...] = tuple(t.name for t in COST_TERMS)
"""``Plan.cost_breakdown`` rows that add up to the objective (sub-rows such as ``cytokine:EPO``
come on top)."""
COST_LABELS: dict[str, str] = {t.name: t.label for t in COST_TERMS}
PENALTY_TERMS: frozenset[str] = frozenset(t.name for t in COST_TERMS if t.is_penalty)


def batch_terms() -> tuple[CostTerm, ...]:
    """The terms proportional to product units or batches (charged per batch)."""
    return tuple(t for t in COST_TERMS if t.driver in (Driver.PRODUCT_UNITS, Driver.BATCHES))


def batch_usd(prices: Prices, use: BatchUse) -> dict[str, float]:
    """Cost of one batch by breakdown row: each batch term and its parts [USD]."""
    out: dict[str, float] = {}
    for term in batch_terms():
        out[term.name] = term.usd(prices, use)
        if term.parts is not None:
            out.update(term.parts(prices, use))
    return out

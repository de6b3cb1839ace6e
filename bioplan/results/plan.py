"""The typed result of a planning run: status, solver figures and pandas tables.

Tables use named indexes whose names match the optimisation sets (``day``, ``product``,
``reactor_type``, ``recipe``, ``term``), and column names that carry their unit.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from enum import StrEnum
from typing import TYPE_CHECKING, Any

import pandas as pd

from bioplan.errors import ExitCode

if TYPE_CHECKING:
    from pathlib import Path

    from bioplan.scenario import Scenario


class PlanStatus(StrEnum):
    """Outcome of a solve, in the user's terms."""

    OPTIMAL = "optimal"
    """Solved to the requested relative gap."""
    FEASIBLE = "feasible"
    """Stopped at the time limit with a plan whose gap is above the requested gap."""
    INFEASIBLE = "infeasible"
    """No plan meets the hard constraints; see ``Plan.explanation``."""
    NO_SOLUTION = "no_solution"
    """Stopped (time limit or wall-clock guard) before any plan was found."""

    @property
    def exit_code(self) -> ExitCode:
        """The documented process exit code of this outcome (CLI and unattended runs)."""
        return _EXIT_CODES[self]


_EXIT_CODES = {
    PlanStatus.OPTIMAL: ExitCode.OK,
    PlanStatus.FEASIBLE: ExitCode.TIME_LIMIT_FEASIBLE,
    PlanStatus.INFEASIBLE: ExitCode.INFEASIBLE,
    PlanStatus.NO_SOLUTION: ExitCode.NO_SOLUTION,
}

BATCH_COLUMNS = [
    "product", "recipe", "phase", "reactor_type", "reactor_unit", "start_day", "end_day",
    "seed_cells", "product_units", "medium_L", "cytokine_mg", "epo_kU",
]
"""Columns of ``Plan.batches`` (index ``batch_id``): one row per batch phase; ``end_day`` is
exclusive and excludes turnaround; ``seed_cells`` [cells] and ``product_units`` [units] repeat the
batch's totals on each of its phase rows; ``medium_L`` [L], ``cytokine_mg`` [mg] (the mass-dosed
factors, summed) and ``epo_kU`` [kU] (the activity-dosed factors — EPO — summed) are that phase's
own use: seed cells × the recipe's ``phase<k>_cytokine_<F>_<unit>_per_seed_cell``, or, for a
hand-made recipe table without those columns, the recipe's total split by the phases' medium."""

COST_TERMS = [
    "starting_material", "basal_medium", "cytokines", "reactor_capital", "reactor_operation",
    "labour", "expiry_waste", "shortage_penalty",
]
"""Names of the objective's cost terms (``Plan.cost_breakdown`` index ``term``). Cytokines may be
broken out further as ``cytokine:<FACTOR>`` rows that sum to ``cytokines``."""


def _empty(index: list[str], columns: list[str]) -> pd.DataFrame:
    frame = pd.DataFrame(columns=columns)
    if len(index) == 1:
        frame.index.name = index[0]
    else:
        frame.index = pd.MultiIndex.from_arrays([[] for _ in index], names=index)
    return frame


@dataclass
class Plan:
    """A production plan for one scenario.

    Every table is a DataFrame with a named index. Quantities: ``units`` are transfusion units
    (RBC units or platelet doses), volumes in litres, money in US dollars, days on the plan grid
    (day 0 = ``scenario.horizon.start_date``).
    """

    scenario: Scenario
    status: PlanStatus
    objective_usd: float | None = None
    """Total cost of the plan [USD]; equals ``cost_breakdown`` summed over the main terms."""
    bound_usd: float | None = None
    """Best lower bound on the optimal cost proven by the solver [USD]."""
    gap: float | None = None
    """Relative gap (objective − bound) / objective [-]."""
    message: str = ""
    """One line for the user (why it stopped, what binds)."""
    timings: dict[str, float] = field(default_factory=dict)
    """Seconds spent in ``build``, ``transfer``, ``solve``, ``extract`` and ``total``."""
    batches: pd.DataFrame = field(default_factory=lambda: _empty(["batch_id"], BATCH_COLUMNS))
    deliveries: pd.DataFrame = field(
        default_factory=lambda: _empty(["day", "product", "cohort_day"], ["units"]))
    """Units delivered to demand on ``day`` from the cohort that became available on ``cohort_day``."""
    shortages: pd.DataFrame = field(default_factory=lambda: _empty(["day", "product"], ["units"]))
    """Demand not met on ``day`` [units]."""
    expiries: pd.DataFrame = field(default_factory=lambda: _empty(["day", "product"], ["units"]))
    """Units that expired (reached the end of their shelf life undelivered) on ``day`` [units]."""
    inventory: pd.DataFrame = field(
        default_factory=lambda: _empty(["day", "product", "cohort_day"], ["units"]))
    """Released stock at the end of ``day`` by cohort [units]."""
    occupancy: pd.DataFrame = field(
        default_factory=lambda: _empty(["day", "reactor_type"], ["units_busy", "units_available"]))
    """Reactor units busy (batch phase or turnaround) and available on each day [units]."""
    media_use: pd.DataFrame = field(default_factory=lambda: _empty(["day"], ["medium_L"]))
    """Medium prepared per day [L] and cytokines per day (``<FACTOR>_mg`` / ``EPO_kU``): each
    phase's own use spread evenly over that phase's culture days."""
    capacity: pd.DataFrame = field(
        default_factory=lambda: _empty(["reactor_type"], ["units_owned", "units_added", "acquisition"]))
    """Fleet decision per reactor type [units]."""
    cost_breakdown: pd.Series = field(
        default_factory=lambda: pd.Series(dtype=float, name="usd", index=pd.Index([], name="term")))
    """Cost by term [USD]; the ``COST_TERMS`` rows add up to ``objective_usd``."""
    cost_by_product: pd.DataFrame = field(
        default_factory=lambda: _empty(["product", "term"], ["usd"]))
    """Costs allocated to products (shared reactor capital by reactor-days used) [USD]."""
    marginal_values: pd.DataFrame = field(
        default_factory=lambda: _empty(["resource"], ["usd_per_unit", "unit"]))
    """Cost saved by one more unit of a resource (a reactor of a type; 1 L/day of media prep)."""
    explanation: pd.DataFrame | None = None
    """For infeasible plans: which product, days and resource fall short (elastic re-solve)."""
    solver: dict[str, Any] = field(default_factory=dict)
    """Solver facts: name, version, termination, coefficient ranges, model size."""
    robust: dict[str, Any] | None = None
    """For robust plans: samples, engine, expected cost, price of robustness, VSS and EVPI with
    their standard errors, out-of-sample service beside the deterministic plan's
    (see :mod:`bioplan.robust.metrics`); None for deterministic plans."""

    @property
    def has_solution(self) -> bool:
        return self.status in (PlanStatus.OPTIMAL, PlanStatus.FEASIBLE)

    def tables(self) -> dict[str, pd.DataFrame]:
        """Every result table by name (what ``write`` exports)."""
        from bioplan.results.kpis import product_kpis, reactor_utilisation

        tables = {
            "batches": self.batches,
            "deliveries": self.deliveries,
            "shortages": self.shortages,
            "expiries": self.expiries,
            "inventory": self.inventory,
            "occupancy": self.occupancy,
            "media_use": self.media_use,
            "capacity": self.capacity,
            "cost_breakdown": self.cost_breakdown.to_frame("usd"),
            "cost_by_product": self.cost_by_product,
            "marginal_values": self.marginal_values,
            "kpis": product_kpis(self),
            "utilisation": reactor_utilisation(self),
        }
        if self.explanation is not None:
            tables["explanation"] = self.explanation
        return tables

    def kpis(self) -> pd.DataFrame:
        """Per-product KPIs (see :func:`bioplan.results.kpis.product_kpis`)."""
        from bioplan.results.kpis import product_kpis

        return product_kpis(self)

    def summary(self) -> dict[str, Any]:
        """The content of ``summary.json``."""
        from bioplan.results.kpis import summary

        return summary(self)

    def write(self, out_dir: str | Path) -> list[Path]:
        """Write one CSV per table, ``plan.xlsx`` with all of them and ``summary.json``."""
        from bioplan.results.export import write_plan

        return write_plan(self, out_dir)


def finite_or_none(value: float | None) -> float | None:
    """JSON-safe float: NaN and infinities become None."""
    if value is None or not math.isfinite(value):
        return None
    return float(value)

"""The typed result of a planning run: status, solver figures and pandas tables.

Tables use named indexes whose names match the optimisation sets (``day``, ``product``,
``reactor_type``, ``recipe``, ``term``), and column names that carry their unit.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import pandas as pd

from bioplan.contracts import PLAN_TABLES, TERM_NAMES, PlanStatus
from bioplan.results.calendar import dated_tables, horizon_dates, plan_warnings
from bioplan.results.export import write_plan
from bioplan.results.kpis import product_kpis, reactor_utilisation, summary
from bioplan.results.recipes_used import extrapolation_warnings, recipes_used

if TYPE_CHECKING:
    from pathlib import Path

    from bioplan.scenario import Scenario


COST_TERMS = list(TERM_NAMES)
"""Names of the objective's cost terms (``Plan.cost_breakdown`` index ``term``), from the registry
:data:`bioplan.contracts.COST_TERMS`. Cytokines may be broken out further as ``cytokine:<FACTOR>``
rows that sum to ``cytokines``."""


def _empty(table: str) -> pd.DataFrame:
    """An empty table of the schema :data:`bioplan.contracts.PLAN_TABLES` gives ``table``."""
    index, columns = PLAN_TABLES[table]
    frame = pd.DataFrame(columns=list(columns))
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
    """:class:`bioplan.contracts.PlanStatus`."""
    objective_usd: float | None = None
    """Total cost of the plan [USD]: the solver's own objective, which the planner checks equals
    ``cost_breakdown`` summed over the main terms (``COST_TERMS``)."""
    bound_usd: float | None = None
    """Best lower bound on the optimal cost proven by the solver [USD]."""
    gap: float | None = None
    """Relative gap (objective − bound) / objective [-]."""
    message: str = ""
    """One line for the user (why it stopped, what binds)."""
    timings: dict[str, float] = field(default_factory=dict)
    """Seconds spent in ``build``, ``transfer``, ``solve``, ``extract`` and ``total``."""
    batches: pd.DataFrame = field(default_factory=lambda: _empty("batches"))
    deliveries: pd.DataFrame = field(
        default_factory=lambda: _empty("deliveries"))
    """Units delivered to demand on ``day`` from the cohort that became available on ``cohort_day``."""
    shortages: pd.DataFrame = field(default_factory=lambda: _empty("shortages"))
    """Demand not met on ``day`` [units]."""
    expiries: pd.DataFrame = field(default_factory=lambda: _empty("expiries"))
    """Units that expired (reached the end of their shelf life undelivered) on ``day`` [units]."""
    inventory: pd.DataFrame = field(
        default_factory=lambda: _empty("inventory"))
    """Released stock at the end of ``day`` by cohort [units]."""
    occupancy: pd.DataFrame = field(
        default_factory=lambda: _empty("occupancy"))
    """Reactor units busy (batch phase or turnaround) and available on each day [units]."""
    media_use: pd.DataFrame = field(default_factory=lambda: _empty("media_use"))
    """Medium prepared per day [L] and cytokines per day (``<FACTOR>_mg`` / ``EPO_kU``): each
    phase's own use spread evenly over that phase's culture days."""
    capacity: pd.DataFrame = field(
        default_factory=lambda: _empty("capacity"))
    """Fleet decision per reactor type [units]."""
    cost_breakdown: pd.Series = field(
        default_factory=lambda: pd.Series(dtype=float, name="usd", index=pd.Index([], name="term")))
    """Cost by term [USD]; the ``COST_TERMS`` rows add up to ``objective_usd``."""
    cost_by_product: pd.DataFrame = field(
        default_factory=lambda: _empty("cost_by_product"))
    """Costs allocated to products (shared reactor capital by reactor-days used) [USD]."""
    marginal_values: pd.DataFrame = field(
        default_factory=lambda: _empty("marginal_values"))
    """Cost saved by one more unit of a resource over the horizon (a reactor of a type; 1 L/day of
    media prep; ...); see :data:`bioplan.results.bottlenecks.MARGINAL_DOC`."""
    bottlenecks: pd.DataFrame = field(default_factory=lambda: _empty("bottlenecks"))
    """Shadow price of every binding capacity row by resource and day [USD per ``unit``]; see
    :mod:`bioplan.results.bottlenecks`."""
    explanation: pd.DataFrame | None = None
    """For infeasible plans: which product, days and resource fall short (elastic re-solve)."""
    recipes: pd.DataFrame | None = None
    """The scenario's recipe table the plan was made from (computed once per plan; the checker
    reads it too). None for a plan built by hand: then ``scenario.recipe_table()``."""
    solver: dict[str, Any] = field(default_factory=dict)
    """Solver facts: name, version, termination, coefficient ranges, model size."""
    robust: dict[str, Any] | None = None
    """For robust plans: samples, engine, expected cost, price of robustness, VSS and EVPI with
    their standard errors, out-of-sample service beside the deterministic plan's
    (see :mod:`bioplan.robust.metrics`); None for deterministic plans."""
    media_search: dict[str, Any] | None = None
    """``plan(..., search_media=True)`` only: ``{"tables": {name: DataFrame}, "summary": dict}``
    (see :mod:`bioplan.media_search.report`); the tables are written with the others."""

    @property
    def has_solution(self) -> bool:
        return self.status.has_solution

    def tables(self) -> dict[str, pd.DataFrame]:
        """Every result table by name (what ``write`` exports), with a calendar date beside every
        day number (see :mod:`bioplan.results.calendar`)."""
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
            "bottlenecks": self.bottlenecks,
            "kpis": product_kpis(self),
            "utilisation": reactor_utilisation(self),
            "recipes_used": recipes_used(self),
        }
        if self.explanation is not None:
            tables["explanation"] = self.explanation
        if self.media_search is not None:
            tables.update(self.media_search["tables"])
        return dated_tables(self, tables)

    def kpis(self) -> pd.DataFrame:
        """Per-product KPIs (see :func:`bioplan.results.kpis.product_kpis`)."""
        return product_kpis(self)

    def warnings(self) -> list[str]:
        """What to flag: shortfalls (demand short, a service level below its target, no plan)
        and chosen recipes outside their card's validity domain."""
        return [*plan_warnings(self), *extrapolation_warnings(self)]

    def summary(self) -> dict[str, Any]:
        """The content of ``summary.json`` (with the horizon's dates and ``warnings``)."""
        first, last = horizon_dates(self)
        out = {**summary(self), "horizon": {"start_date": first.isoformat(),
                                            "end_date": last.isoformat(),
                                            "days": self.scenario.horizon.days},
               "warnings": self.warnings()}
        if self.media_search is not None:
            out["media_search"] = self.media_search["summary"]
        return out

    def write(self, out_dir: str | Path) -> list[Path]:
        """Write one CSV per table, ``plan.xlsx`` with all of them and ``summary.json``."""
        return write_plan(self, out_dir)

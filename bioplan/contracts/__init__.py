"""Facts shared by every layer, each defined once: column names, typed cytokine keys, plan table
schemas, the cost-term and slack registries, the plan status and solver termination, the shelf-life
rule and the Pareto rule. A leaf: imports nothing of bioplan but ``bioplan.errors`` (no Pyomo,
plotting or UI)."""

from bioplan.contracts.calendar import last_usable_day, maintenance_days
from bioplan.contracts.columns import (
    BATCH_COLUMNS,
    CYTOKINE_COLUMN,
    PHASE_CYTOKINE_COLUMN,
    PLAN_TABLES,
    CytokineKey,
    TableSchema,
    cytokine_keys,
)
from bioplan.contracts.costs import (
    COST_LABELS,
    COST_TERMS,
    PENALTY_TERMS,
    TERM_NAMES,
    BatchUse,
    CostTerm,
    Driver,
    Prices,
    batch_usd,
)
from bioplan.contracts.pareto import pareto_efficient
from bioplan.contracts.slacks import Products, Shape, Slack
from bioplan.contracts.status import PlanStatus, Termination

__all__ = [
    "BATCH_COLUMNS",
    "COST_LABELS",
    "COST_TERMS",
    "CYTOKINE_COLUMN",
    "PENALTY_TERMS",
    "PHASE_CYTOKINE_COLUMN",
    "PLAN_TABLES",
    "TERM_NAMES",
    "BatchUse",
    "CostTerm",
    "CytokineKey",
    "Driver",
    "PlanStatus",
    "Prices",
    "Products",
    "Shape",
    "Slack",
    "TableSchema",
    "Termination",
    "batch_usd",
    "cytokine_keys",
    "last_usable_day",
    "maintenance_days",
    "pareto_efficient",
]

"""Plan results: typed tables, their extraction from a solution (batches and reactor units,
costs), KPIs, exports and the independent plan checker."""

from bioplan.contracts import BATCH_COLUMNS, PlanStatus
from bioplan.results.checker import check_plan
from bioplan.results.plan import COST_TERMS, Plan

__all__ = ["BATCH_COLUMNS", "COST_TERMS", "Plan", "PlanStatus", "check_plan"]

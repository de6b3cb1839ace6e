"""Plan results: typed tables, KPIs, exports and the independent plan checker."""

from bioplan.results.checker import check_plan
from bioplan.results.plan import BATCH_COLUMNS, COST_TERMS, Plan, PlanStatus

__all__ = ["BATCH_COLUMNS", "COST_TERMS", "Plan", "PlanStatus", "check_plan"]

"""Plan results: typed tables, KPIs, exports and the independent plan checker."""

from bioplan.results.plan import BATCH_COLUMNS, COST_TERMS, Plan, PlanStatus

__all__ = ["BATCH_COLUMNS", "COST_TERMS", "Plan", "PlanStatus", "check_plan"]


def __getattr__(name: str) -> object:
    # The checker lives in its own module (written independently of the model code).
    if name == "check_plan":
        from bioplan.results.checker import check_plan

        return check_plan
    raise AttributeError(name)

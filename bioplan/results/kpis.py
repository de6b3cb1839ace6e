"""KPIs of a plan, each a function returning a table that the CLI, report and dashboard share."""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any

import pandas as pd

from bioplan.contracts import PENALTY_TERMS, TERM_NAMES

if TYPE_CHECKING:
    from bioplan.results.plan import Plan


def finite_or_none(value: float | None) -> float | None:
    """JSON-safe float: NaN and infinities become None."""
    if value is None or not math.isfinite(value):
        return None
    return float(value)


def units_by_product(frame: pd.DataFrame, products: list[str]) -> pd.Series:
    """Total ``units`` of a plan table (deliveries, shortages, expiries) per product, 0 where it
    has no rows [unit]."""
    if frame.empty:
        return pd.Series(0.0, index=pd.Index(products, name="product"))
    totals = frame["units"].groupby(level="product").sum()
    return totals.reindex(products, fill_value=0.0).astype(float)


def product_kpis(plan: Plan) -> pd.DataFrame:
    """Per product: units demanded, delivered, short and expired [units], service level
    (delivered / demanded) [-], the money spent making it (``cost_usd``: every allocated cost term
    except the shortage penalty, which is a price put on unmet demand, not an expense) [USD], that
    cost per delivered unit [USD/unit], the shortage penalty [USD] and shelf life [days]."""
    products = [str(p) for p in plan.scenario.products]
    demand = plan.scenario.demand_table()["units"].groupby(level="product").sum()
    table = pd.DataFrame(index=pd.Index(products, name="product"))
    table["units_demanded"] = demand.reindex(products, fill_value=0.0)
    table["units_delivered"] = units_by_product(plan.deliveries, products)
    table["units_short"] = units_by_product(plan.shortages, products)
    table["units_expired"] = units_by_product(plan.expiries, products)
    table["service_level"] = (table["units_delivered"] / table["units_demanded"]).where(
        table["units_demanded"] > 0
    )
    if plan.cost_by_product.empty:
        cost = penalty = pd.Series(float("nan"), index=table.index)
    else:
        usd = plan.cost_by_product["usd"]
        is_penalty = usd.index.get_level_values("term").isin(list(PENALTY_TERMS))
        cost = usd[~is_penalty].groupby(level="product").sum().reindex(products, fill_value=0.0)
        penalty = usd[is_penalty].groupby(level="product").sum().reindex(products, fill_value=0.0)
    table["cost_usd"] = cost
    table["cost_usd_per_delivered_unit"] = (cost / table["units_delivered"]).where(
        table["units_delivered"] > 0
    )
    table["shortage_penalty_usd"] = penalty
    table["shelf_life_days"] = [plan.scenario.products[p].shelf_life_days for p in products]  # type: ignore[index]
    return table


def reactor_utilisation(plan: Plan) -> pd.DataFrame:
    """Per reactor type: busy unit-days over available unit-days across the horizon [-]."""
    occ = plan.occupancy
    if occ.empty:
        return pd.DataFrame(
            columns=["busy_unit_days", "available_unit_days", "utilisation"],
            index=pd.Index([], name="reactor_type"),
        )
    grouped = occ.groupby(level="reactor_type")[["units_busy", "units_available"]].sum()
    grouped.columns = pd.Index(["busy_unit_days", "available_unit_days"])
    grouped["utilisation"] = grouped["busy_unit_days"] / grouped["available_unit_days"].where(
        grouped["available_unit_days"] > 0
    )
    return grouped


def summary(plan: Plan) -> dict[str, Any]:
    """``summary.json``: status, objective, bound, gap, cost breakdown and per-product totals."""
    kpis = product_kpis(plan) if plan.has_solution else None

    def per_product(column: str) -> dict[str, float | None]:
        if kpis is None:
            return {}
        return {str(p): finite_or_none(float(v)) for p, v in kpis[column].items()}

    breakdown = {
        str(term): finite_or_none(float(usd))
        for term, usd in plan.cost_breakdown.items()
        if term in TERM_NAMES
    }
    added = (
        {str(k): int(v) for k, v in plan.capacity["units_added"].items()}
        if not plan.capacity.empty
        else {}
    )
    return {
        "scenario": plan.scenario.name,
        "status": str(plan.status),
        "message": plan.message,
        "objective": finite_or_none(plan.objective_usd),
        "bound": finite_or_none(plan.bound_usd),
        "gap": finite_or_none(plan.gap),
        "currency": "USD",
        "cost_breakdown": breakdown,
        "units_demanded": per_product("units_demanded"),
        "units_delivered": per_product("units_delivered"),
        "units_short": per_product("units_short"),
        "units_expired": per_product("units_expired"),
        "service_level": per_product("service_level"),
        "cost_per_delivered_unit": per_product("cost_usd_per_delivered_unit"),
        "shelf_life_days": {
            str(p): prod.shelf_life_days for p, prod in plan.scenario.products.items()
        },
        "reactors_added": added,
        "solve_seconds": finite_or_none(plan.timings.get("solve")),
        "timings": {k: round(v, 4) for k, v in plan.timings.items()},
        **({"robust": plan.robust} if plan.robust is not None else {}),
    }

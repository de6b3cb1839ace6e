"""The recipes a plan actually runs, and which of them extrapolate beyond their card's validity
domain (a scenario may offer such recipes only with ``allow_extrapolation: true``; the plan then
says which it chose: the ``recipes_used`` table, ``summary.json`` ``warnings``, the CLI summary).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import pandas as pd

if TYPE_CHECKING:
    from bioplan.results.plan import Plan

RECIPES_USED_COLUMNS = ["product", "card", "batches", "seed_cells", "days", "extrapolates",
                        "extrapolation"]
"""Columns of ``recipes_used`` (index ``recipe``): batches run with the recipe [count], their seed
cells [cells], the recipe's culture days, and whether (and why) it leaves its card's validity
domain (``extrapolation`` is ``""`` inside it)."""


def recipes_used(plan: Plan) -> pd.DataFrame:
    """One row per recipe the plan's batches use (see :data:`RECIPES_USED_COLUMNS`)."""
    empty = pd.DataFrame(columns=RECIPES_USED_COLUMNS, index=pd.Index([], name="recipe"))
    b = plan.batches
    if b.empty or "recipe" not in b.columns:
        return empty
    per_batch = b.reset_index().drop_duplicates("batch_id")
    grouped = per_batch.groupby("recipe", sort=True).agg(
        product=("product", "first"), batches=("batch_id", "size"),
        seed_cells=("seed_cells", "sum"))
    table = plan.recipes
    out = grouped.reindex(columns=["product"]).copy()
    out["card"] = _column(table, grouped.index, "card", "")
    out["batches"] = grouped["batches"].astype(int)
    out["seed_cells"] = grouped["seed_cells"].astype(float)
    out["days"] = _column(table, grouped.index, "days", pd.NA)
    flags = _column(table, grouped.index, "extrapolates", False)
    out["extrapolates"] = flags.fillna(False).astype(bool)
    out["extrapolation"] = _column(table, grouped.index, "extrapolation", "").fillna("").astype(str)
    out.index.name = "recipe"
    return out[RECIPES_USED_COLUMNS]


def _column(table: pd.DataFrame | None, index: pd.Index, column: str, default: object) -> pd.Series:
    """``table[column]`` for the recipes ``index`` (``default`` where the table lacks it)."""
    if table is None or column not in table.columns:
        return pd.Series(default, index=index, dtype=object)
    return table[column].reindex(index.astype(str))


def extrapolation_warnings(plan: Plan) -> list[str]:
    """One line per chosen recipe outside its card's validity domain (empty if none)."""
    used = recipes_used(plan)
    return [f"recipe {name} ({int(row['batches'])} batch(es)) extrapolates beyond its card's "
            f"validity domain: {row['extrapolation'] or 'see the recipe table'}"
            for name, row in used[used["extrapolates"]].iterrows()]

"""The checker's read-only view of a plan as plain records, and its tolerances."""

from __future__ import annotations

import math
from collections import defaultdict
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import pandas as pd

from bioplan.contracts import CYTOKINE_COLUMN as _CYTOKINE_COLUMN
from bioplan.contracts import last_usable_day, maintenance_days

if TYPE_CHECKING:
    from bioplan.results.plan import Plan
    from bioplan.scenario import Scenario
    from bioplan.scenario.schema import Product

REL_TOL = 1e-6
"""Relative tolerance of every comparison [-] (costs must add up within 1e-6 relative)."""
ABS_TOL_UNITS = 1e-5
"""Absolute tolerance on units, litres and lots (solver feasibility tolerance after scaling)."""
MAX_LISTED = 5
"""At most this many offending rows are named per check; the rest are counted."""


# ---- a read-only view of the plan as plain records ----------------------------------------------


@dataclass(frozen=True)
class Phase:
    name: str
    reactor_type: str
    reactor_unit: int
    start_day: int
    end_day: int
    medium_L: float
    cytokine_mg: float
    """Mass-dosed factors used in the phase [mg]."""
    epo_kU: float
    """Activity-dosed factors (EPO) used in the phase [kU]."""


@dataclass
class Batch:
    batch_id: str
    product: str
    recipe: str
    seed_cells: float
    product_units: float
    phases: list[Phase]
    """Ordered by start day."""
    consistent: bool
    """All phase rows agree on product, recipe, seed cells and product units."""

    @property
    def seed_day(self) -> int:
        return min(p.start_day for p in self.phases)

    @property
    def production_day(self) -> int:
        return max(p.end_day for p in self.phases)

    def stays(self) -> list[tuple[str, int, int, int, str]]:
        """(reactor type, unit, start, end, phase names) of each time on one vessel: phases back
        to back on the same reactor type and unit merge into one stay (no turnaround between)."""
        out: list[tuple[str, int, int, int, str]] = []
        for p in self.phases:
            if out and out[-1][:2] == (p.reactor_type, p.reactor_unit) and out[-1][3] == p.start_day:
                t, u, s, _e, names = out[-1]
                out[-1] = (t, u, s, p.end_day, f"{names}+{p.name}")
            else:
                out.append((p.reactor_type, p.reactor_unit, p.start_day, p.end_day, p.name))
        return out


def float_or_zero(value: Any) -> float:
    return 0.0 if value is None or pd.isna(value) else float(value)


def batch_records(table: pd.DataFrame) -> list[Batch]:
    rows = table.reset_index()
    if "batch_id" not in rows.columns:
        rows = rows.rename(columns={rows.columns[0]: "batch_id"})
    grouped: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for rec in rows.to_dict("records"):
        grouped[str(rec["batch_id"])].append({str(k): x for k, x in rec.items()})
    batches = []
    for batch_id, recs in sorted(grouped.items()):
        recs.sort(key=lambda r: int(r["start_day"]))
        first = recs[0]
        shared = ("product", "recipe", "seed_cells", "product_units")
        batches.append(Batch(
            batch_id=batch_id,
            product=str(first["product"]),
            recipe=str(first["recipe"]),
            seed_cells=float(first["seed_cells"]),
            product_units=float(first["product_units"]),
            phases=[Phase(str(r["phase"]), str(r["reactor_type"]), int(r["reactor_unit"]),
                           int(r["start_day"]), int(r["end_day"]), float(r["medium_L"]),
                           float(r["cytokine_mg"]), float_or_zero(r.get("epo_kU")))
                    for r in recs],
            consistent=all(r[k] == first[k] for r in recs for k in shared),
        ))
    return batches


@dataclass
class PlanView:
    plan: Plan
    scenario: Scenario
    recipes: dict[str, dict[str, Any]]
    """Recipe table rows by recipe id."""
    cytokine_columns: list[str]
    batches: list[Batch]
    horizon: int
    products: dict[str, Product]

    @classmethod
    def of(cls, plan: Plan) -> PlanView:
        table = plan.recipes if plan.recipes is not None else plan.scenario.recipe_table()
        recipes = {str(k): dict(r) for k, r in zip(table.index, table.to_dict("records"),
                                                     strict=True)}
        columns = [str(c) for c in table.columns if _CYTOKINE_COLUMN.match(str(c))]
        return cls(plan, plan.scenario, recipes, columns, batch_records(plan.batches),
                   plan.scenario.horizon.days,
                   {str(k): p for k, p in plan.scenario.products.items()})

    # -- scenario-derived facts --
    def cohort_day(self, product: str, production_day: int) -> int:
        return production_day + self.products[product].release_delay_days

    def last_usable_day(self, product: str, cohort_day: int) -> int:
        """Last day units of ``cohort_day`` may be delivered (shelf life counts from production)."""
        prod = self.products[product]
        return last_usable_day(cohort_day, prod.shelf_life_days, prod.release_delay_days)

    def fleet(self) -> dict[str, int]:
        """Units of each reactor type in the plan (owned + added, from the capacity table)."""
        sizes = {name: r.units_owned for name, r in self.scenario.reactors.items()}
        cap = self.plan.capacity
        for name, rec in zip(cap.index, cap.to_dict("records"), strict=True):
            if name in sizes:
                sizes[str(name)] = round(float(rec["units_owned"]) + float(rec["units_added"]))
        return sizes

    def maintenance_days(self, reactor_type: str, unit: int) -> set[int]:
        """Days unit ``unit`` is out for maintenance (the window rule,
        :func:`bioplan.contracts.maintenance_days`)."""
        days: set[int] = set()
        for window in self.scenario.reactors[reactor_type].maintenance:
            if window.unit == unit:
                days.update(maintenance_days(self.scenario.horizon.day_of(window.start_date),
                                             window.days, self.horizon))
        return days

    def operations(self) -> dict[int, int]:
        """Seedings, transfers and harvests per day (all days, also outside the horizon)."""
        ops: dict[int, int] = defaultdict(int)
        for batch in self.batches:
            for stay in batch.stays():
                ops[stay[2]] += 1
            ops[batch.production_day] += 1
        return ops

    def released(self) -> dict[tuple[str, int], float]:
        """Units becoming available per (product, cohort day), initial inventory as cohort 0."""
        inflow: dict[tuple[str, int], float] = defaultdict(float)
        for name, prod in self.products.items():
            if prod.initial_inventory_units > 0:
                inflow[(name, 0)] += prod.initial_inventory_units
        for batch in self.batches:
            if batch.product in self.products:
                key = (batch.product, self.cohort_day(batch.product, batch.production_day))
                inflow[key] += batch.product_units
        return inflow

    def cytokine_use(self, batch: Batch) -> dict[tuple[str, str], float]:
        """(factor, unit) -> amount [mg or kU] a batch uses: seed cells × use per seed cell."""
        rec = self.recipes.get(batch.recipe, {})
        use = {}
        for col in self.cytokine_columns:
            match = _CYTOKINE_COLUMN.match(col)
            value = rec.get(col)
            if match is not None and value is not None and not pd.isna(value):
                use[(match["factor"], match["unit"])] = batch.seed_cells * float(value)
        return use

    def phase_cytokine_use(self, batch: Batch) -> dict[tuple[str, str], list[float] | None]:
        """(factor, unit) -> amount [mg or kU] the batch uses in each of its recipe's phases:
        seed cells × ``phase<k>_cytokine_<F>_<unit>_per_seed_cell``; None for a factor whose
        per-phase columns the recipe lacks (a hand-made table: only the total is checked)."""
        rec = self.recipes.get(batch.recipe, {})
        n = int(rec.get("n_phases", 0) or 0)
        out: dict[tuple[str, str], list[float] | None] = {}
        for col in self.cytokine_columns:
            match = _CYTOKINE_COLUMN.match(col)
            if match is None:
                continue
            values = [rec.get(f"phase{k}_{col}") for k in range(1, n + 1)]
            if n and all(x is not None and not pd.isna(x) for x in values):
                out[(match["factor"], match["unit"])] = [batch.seed_cells * float_or_zero(x)
                                                        for x in values]
            else:
                out[(match["factor"], match["unit"])] = None
        return out


def close(a: float, b: float, abs_tol: float = ABS_TOL_UNITS) -> bool:
    return math.isclose(a, b, rel_tol=REL_TOL, abs_tol=abs_tol)


def exceeds(value: float, limit: float, abs_tol: float = ABS_TOL_UNITS) -> bool:
    return value > limit + abs_tol + REL_TOL * abs(limit)


def listed(table: str, found: list[str]) -> list[str]:
    """One message per offending row, at most ``MAX_LISTED`` of them plus a count of the rest."""
    out = [f"{table}: {text}" for text in found[:MAX_LISTED]]
    if len(found) > MAX_LISTED:
        out.append(f"{table}: ... and {len(found) - MAX_LISTED} more like these")
    return out


def series(frame: pd.DataFrame, column: str, levels: list[str]) -> dict[Any, float]:
    """``frame[column]`` summed by index ``levels`` as a plain dict (empty frame: empty dict)."""
    if frame is None or frame.empty:
        return {}
    grouped = frame[column].astype(float).groupby(level=levels).sum()
    return {k: float(v) for k, v in grouped.items()}


# ---- checks: batches and reactors ------------------------------------------------------------


def batch_lots(v: PlanView, b: Batch) -> tuple[str | None, float]:
    """Source feeding a batch and the lots it uses (seed cells / cells per lot)."""
    source = v.recipes.get(b.recipe, {}).get("source")
    if not isinstance(source, str) or source not in v.scenario.sources:
        return None, 0.0
    return source, b.seed_cells / v.scenario.sources[source].cells_per_lot


def cytokine_totals(v: PlanView) -> dict[tuple[str, str], float]:
    """(factor, unit) -> amount [mg or kU] used by all batches."""
    use: dict[tuple[str, str], float] = defaultdict(float)
    for b in v.batches:
        for key, amount in v.cytokine_use(b).items():
            use[key] += amount
    return dict(use)

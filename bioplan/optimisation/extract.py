"""Turn a solution (variable values in scaled units) into the ``Plan`` tables.

Works from :class:`PlanData` and the values alone (no Pyomo), in the parent process. Money is
converted back to USD here.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, cast

import numpy as np
import pandas as pd

from bioplan.optimisation.assign import AssignmentFailed, Interval, assign_units
from bioplan.optimisation.costs import COST_TERMS
from bioplan.optimisation.data import PlanData, phase_cytokines_per_seed, records
from bioplan.results.plan import BATCH_COLUMNS

if TYPE_CHECKING:
    from bioplan.scenario import Scenario

TOL = 1e-7
"""Values below this are treated as zero [unit, L, batch]."""

log = logging.getLogger(__name__)


@dataclass
class Tables:
    batches: pd.DataFrame
    deliveries: pd.DataFrame
    shortages: pd.DataFrame
    expiries: pd.DataFrame
    inventory: pd.DataFrame
    occupancy: pd.DataFrame
    media_use: pd.DataFrame
    capacity: pd.DataFrame
    cost_breakdown: pd.Series
    cost_by_product: pd.DataFrame


def _frame(rows: list[tuple[Any, ...]], index: list[str], columns: list[str]) -> pd.DataFrame:
    frame = pd.DataFrame(rows, columns=[*index, *columns])
    for col in index:
        if col in ("day", "cohort_day", "start_day", "end_day"):
            frame[col] = frame[col].astype(int)
    return frame.set_index(index if len(index) > 1 else index[0]).sort_index()


def extract_tables(data: PlanData, values: dict[str, dict[Any, float]], scenario: Scenario,
                   fixed_batches: pd.DataFrame | None = None) -> Tables:
    """All result tables of a solved model."""
    horizon = data.horizon_days
    batches = _batches(data, values, scenario, fixed_batches)

    delivered = values.get("cohort_delivered", {})
    deliveries = _frame([(d, p, c, u) for (p, c, d), u in delivered.items() if u > TOL],
                        ["day", "product", "cohort_day"], ["units"])
    shortages = _frame([(d, p, u) for (p, d), u in values.get("demand_short", {}).items() if u > TOL],
                       ["day", "product"], ["units"])
    left = values.get("cohort_left", {})
    expiries = _frame(
        [(c + data.products[p].life_days, p, u) for (p, c), u in left.items()
         if u > TOL and c + data.products[p].life_days < horizon],
        ["day", "product"], ["units"])
    expiries = expiries.groupby(level=["day", "product"]).sum() if not expiries.empty else expiries

    # inventory by cohort: released − delivered so far, until the cohort's last usable day
    released: dict[tuple[str, int], float] = defaultdict(float)
    for p, pd_ in data.products.items():
        for c, u in pd_.fixed_release.items():
            released[(p, c)] += u
    fixed_ids = _fixed_ids(fixed_batches)
    if not batches.empty:
        per_batch = batches.groupby(level="batch_id").agg(
            product=("product", "first"), units=("product_units", "first"), harvest=("end_day", "max"))
        for batch_id, b in per_batch.iterrows():
            if str(batch_id) in fixed_ids:
                continue
            c = int(b["harvest"]) + data.products[str(b["product"])].release_days
            released[(str(b["product"]), c)] += float(b["units"])
    out_by: dict[tuple[str, int], dict[int, float]] = defaultdict(dict)
    for (p, c, d), u in delivered.items():
        out_by[(p, c)][d] = u
    inv_rows = []
    for (p, c), units in sorted(released.items()):
        if c >= horizon or units <= TOL:
            continue
        stock = units
        for d in range(max(c, 0), min(c + data.products[p].life_days, horizon)):
            stock -= out_by[(p, c)].get(d, 0.0)
            if stock > TOL:
                inv_rows.append((d, p, c, stock))
    inventory = _frame(inv_rows, ["day", "product", "cohort_day"], ["units"])

    capacity = _capacity(data, values, scenario)
    occupancy = _occupancy(batches, capacity, scenario, horizon)
    media_use = _media_use(batches, data, scenario)
    breakdown, by_product = _costs(data, values, batches, shortages, expiries, occupancy, scenario)
    return Tables(batches, deliveries, shortages, expiries, inventory, occupancy, media_use,
                  capacity, breakdown, by_product)


def _fixed_ids(fixed: pd.DataFrame | None) -> set[str]:
    if fixed is None or not len(fixed):
        return set()
    rows = fixed.reset_index()
    col = "batch_id" if "batch_id" in rows.columns else rows.columns[0]
    return {str(x) for x in rows[col]}


def _phase_cytokines(scenario: Scenario, keys: list[str],
                     names: Iterable[Any]) -> dict[str, list[dict[str, float]]]:
    """For the recipes ``names``, each phase's cytokine use per seed cell [mg or kU per cell]
    (see :func:`~bioplan.optimisation.data.phase_cytokines_per_seed`)."""
    recipes = scenario.recipe_table()
    wanted = sorted({str(n) for n in names} & {str(r) for r in recipes.index})
    return {name: phase_cytokines_per_seed(recipes.loc[name], keys) for name in wanted}


def _mass_and_activity(use: dict[str, float], seed: float) -> tuple[float, float]:
    """(mass-dosed factors [mg], activity-dosed factors [kU]) of one phase of a batch."""
    mg = sum(v for k, v in use.items() if k.endswith("_mg")) * seed
    ku = sum(v for k, v in use.items() if k.endswith("_kU")) * seed
    return mg, ku


def _batches(data: PlanData, values: dict[str, dict[Any, float]], scenario: Scenario,
             fixed: pd.DataFrame | None) -> pd.DataFrame:
    """One row per batch phase; ``cytokine_mg`` [mg] and ``epo_kU`` [kU] are the phase's own use
    (seed cells × the recipe's use per seed cell in that phase). Fixed batches keep their values;
    a fixed table without ``epo_kU`` (written before the column existed, when ``cytokine_mg``
    mixed mg and kU) gets both columns recomputed from its recipe."""
    rows: list[dict[str, Any]] = []
    fixed_ids = _fixed_ids(fixed)
    used = {o.recipe for o in data.options}
    if fixed is not None and len(fixed):
        used |= {str(r) for r in fixed["recipe"]}
    phase_use = _phase_cytokines(scenario, data.cytokines, used)
    if fixed is not None and len(fixed):
        frame = fixed.reset_index()
        if "batch_id" not in frame.columns:
            frame = frame.rename(columns={frame.columns[0]: "batch_id"})
        recompute = "epo_kU" not in frame.columns
        if recompute:
            frame = frame.sort_values(["batch_id", "start_day"], kind="stable")
            frame["epo_kU"] = 0.0
            for _batch_id, group in frame.groupby("batch_id", sort=False):
                uses = phase_use.get(str(group["recipe"].iloc[0]), [])
                seeds = group["seed_cells"].to_numpy(dtype=float)
                for k, idx in enumerate(group.index):
                    use = uses[k] if k < len(uses) else {}
                    mg, ku = _mass_and_activity(use, float(seeds[k]))
                    frame.at[idx, "cytokine_mg"] = mg
                    frame.at[idx, "epo_kU"] = ku
        for rec in frame.to_dict("records"):
            rows.append({"batch_id": str(rec["batch_id"]), **{c: rec[c] for c in BATCH_COLUMNS},
                         "is_fixed": True})
    counts = values.get("slot_batches", {})
    units = values.get("slot_units", {})
    seq = 0
    for s in sorted(counts):
        n = round(counts[s])
        if n <= 0:
            continue
        opt = data.options[data.slot_option[s]]
        per_batch = max(units.get(s, 0.0), 0.0) / n
        seed = per_batch * opt.seed_cells_per_unit
        uses = phase_use[opt.recipe]
        d = int(data.slot_day[s])
        for _ in range(n):
            seq += 1
            batch_id = f"B{seq:05d}"
            while batch_id in fixed_ids:
                batch_id = f"{batch_id}n"
            for ph, use in zip(opt.phases, uses, strict=True):
                mg, ku = _mass_and_activity(use, seed)
                rows.append({
                    "batch_id": batch_id, "product": opt.product, "recipe": opt.recipe,
                    "phase": ph.name, "reactor_type": ph.reactor_type, "reactor_unit": 0,
                    "start_day": d + ph.offset_days, "end_day": d + ph.offset_days + ph.days,
                    "seed_cells": seed, "product_units": per_batch,
                    "medium_L": per_batch * ph.medium_L_per_unit,
                    "cytokine_mg": mg, "epo_kU": ku, "is_fixed": False,
                })
    if not rows:
        frame = pd.DataFrame(columns=["batch_id", *BATCH_COLUMNS])
        return frame.set_index("batch_id")
    frame = pd.DataFrame(rows)
    fleet = {t: r.owned + round(values.get("reactor_added", {}).get(t, 0.0))
             for t, r in data.reactors.items()}
    maintenance: dict[tuple[str, int], set[int]] = defaultdict(set)
    for name, rt in scenario.reactors.items():
        for w in rt.maintenance:
            first = scenario.horizon.day_of(w.start_date)
            maintenance[(name, w.unit)].update(range(first, first + w.days))
    # Fixed batches keep their reactor units where the fleet allows. The model counts busy units
    # per type only, so if those pins cannot all hold next to the new batches, only phases already
    # running on day 0 stay where they are and phases yet to start may move to another unit.
    def intervals(pin_upcoming: bool) -> list[Interval]:
        return [
            Interval(key=i, reactor_type=str(r.reactor_type), start=int(r.start_day),
                     end=int(r.end_day),
                     busy_end=int(r.end_day) + data.reactors[str(r.reactor_type)].turnaround_days,
                     unit=(int(r.reactor_unit)
                           if r.is_fixed and (pin_upcoming or int(r.start_day) < 0) else None))
            for i, r in enumerate(records(frame))
        ]

    try:
        assigned = assign_units(intervals(True), fleet, maintenance, allow_clash=False)
    except AssignmentFailed:
        log.info("fixed batches cannot all keep their reactor units: re-assigning phases that "
                 "have not started yet")
        assigned = assign_units(intervals(False), fleet, maintenance)
    frame["reactor_unit"] = [assigned[i] for i in range(len(frame))]
    frame = frame.drop(columns="is_fixed")
    for col in ("reactor_unit", "start_day", "end_day"):
        frame[col] = frame[col].astype(int)
    for col in ("seed_cells", "product_units", "medium_L", "cytokine_mg", "epo_kU"):
        frame[col] = frame[col].astype(float)
    return frame.set_index("batch_id")[BATCH_COLUMNS]


def _capacity(data: PlanData, values: dict[str, dict[Any, float]], scenario: Scenario) -> pd.DataFrame:
    added = values.get("reactor_added", {})
    rows = [(t, scenario.reactors[t].units_owned, round(added.get(t, 0.0)), r.acquisition)
            for t, r in data.reactors.items()]
    frame = pd.DataFrame(rows, columns=["reactor_type", "units_owned", "units_added", "acquisition"])
    return frame.set_index("reactor_type")


def _occupancy(batches: pd.DataFrame, capacity: pd.DataFrame, scenario: Scenario,
               horizon: int) -> pd.DataFrame:
    busy: dict[tuple[int, str], set[int]] = defaultdict(set)
    for r in records(batches):
        turnaround = scenario.reactors[str(r.reactor_type)].turnaround_days
        for day in range(max(int(r.start_day), 0), min(int(r.end_day) + turnaround, horizon)):
            busy[(day, str(r.reactor_type))].add(int(r.reactor_unit))
    rows = []
    for name, rt in scenario.reactors.items():
        row: Any = capacity.loc[name]
        fleet = int(row["units_owned"]) + int(row["units_added"])
        down = np.zeros(horizon, dtype=int)
        for w in rt.maintenance:
            if w.unit <= fleet:
                first = scenario.horizon.day_of(w.start_date)
                lo, hi = max(first, 0), min(first + w.days, horizon)
                if lo < hi:
                    down[lo:hi] += 1
        for day in range(horizon):
            rows.append((day, name, len(busy.get((day, name), ())), fleet - int(down[day])))
    return _frame(rows, ["day", "reactor_type"], ["units_busy", "units_available"])


def _phases(batches: pd.DataFrame) -> pd.DataFrame:
    """One row per batch phase with ``days`` and the batch's first-row facts alongside."""
    ph = batches.reset_index()
    ph["days"] = (ph["end_day"] - ph["start_day"]).astype(int)
    return ph


def _per_seed_cytokines(scenario: Scenario, keys: list[str]) -> pd.DataFrame:
    """Per recipe, each cytokine per seed cell [mg or kU per cell] (columns ``keys``)."""
    recipes = scenario.recipe_table()
    out = pd.DataFrame(index=recipes.index)
    for key in keys:
        factor, unit = key.rsplit("_", 1)
        col = f"cytokine_{factor}_{unit}_per_seed_cell"
        out[key] = (pd.to_numeric(recipes[col], errors="coerce").fillna(0.0)
                    if col in recipes.columns else 0.0)
    return out


def _media_use(batches: pd.DataFrame, data: PlanData, scenario: Scenario) -> pd.DataFrame:
    """Medium and cytokines per day: each phase's own use spread evenly over its culture days.

    A phase's cytokines are the batch's seed cells x the recipe's use per seed cell in that phase
    (for a hand-made recipe table without per-phase columns, the recipe's total split by the
    phases' medium; see :func:`~bioplan.optimisation.data.phase_cytokines_per_seed`).
    """
    columns = ["medium_L", *data.cytokines]
    if batches.empty:
        return _frame([], ["day"], columns)
    ph = _phases(batches).sort_values(["batch_id", "start_day"], kind="stable")
    ph["position"] = ph.groupby("batch_id").cumcount()
    ph = ph[ph["days"] > 0].reset_index(drop=True)
    amounts = np.zeros((len(ph), len(columns)))
    amounts[:, 0] = ph["medium_L"].to_numpy(dtype=float)
    phase_use = _phase_cytokines(scenario, data.cytokines, ph["recipe"].unique())
    for j, (recipe, k, seed) in enumerate(zip(ph["recipe"], ph["position"], ph["seed_cells"],
                                              strict=True)):
        uses = phase_use.get(str(recipe), [])
        use = uses[int(k)] if int(k) < len(uses) else {}
        for i, key in enumerate(data.cytokines, start=1):
            amounts[j, i] = float(seed) * use.get(key, 0.0)
    days = ph["days"].to_numpy(dtype=int)
    row = np.repeat(np.arange(len(ph)), days)
    offset = np.arange(len(row)) - np.repeat(np.cumsum(days) - days, days)
    day = ph["start_day"].to_numpy(dtype=int)[row] + offset
    daily = pd.DataFrame(amounts[row] / days[row][:, None], columns=columns)
    daily["day"] = day
    return daily.groupby("day").sum().sort_index()


def _add_sums(target: dict[tuple[str, str], float], table: pd.DataFrame) -> None:
    """Add each cell of ``table`` (rows: product, columns: term) into ``target[(product, term)]``."""
    for product, row in table.iterrows():
        for term, value in row.items():
            target[(str(product), str(term))] += float(value)


def _costs(data: PlanData, values: dict[str, dict[Any, float]], batches: pd.DataFrame,
           shortages: pd.DataFrame, expiries: pd.DataFrame, occupancy: pd.DataFrame,
           scenario: Scenario) -> tuple[pd.Series, pd.DataFrame]:
    """Cost by term and by (product, term) [USD], from the extracted tables."""
    by: dict[tuple[str, str], float] = defaultdict(float)
    cyto: dict[str, float] = defaultdict(float)
    type_days: dict[tuple[str, str], float] = defaultdict(float)
    if not batches.empty:
        ph = _phases(batches)
        recipes = scenario.recipe_table()
        first = ph.groupby("batch_id", sort=False).agg(
            product=("product", "first"), recipe=("recipe", "first"),
            seed=("seed_cells", "first"), phases=("phase", "size"))
        source = recipes["source"].reindex(first["recipe"]).to_numpy()
        per_lot = np.array([scenario.sources[q].cost_usd_per_lot / scenario.sources[q].cells_per_lot
                            for q in source])
        seed = first["seed"].to_numpy(dtype=float)
        batch_terms = pd.DataFrame({
            "product": first["product"].to_numpy(),
            "starting_material": seed * per_lot,
            "labour": (first["phases"].to_numpy() + 1) * scenario.labour.cost_usd_per_operation,
        })
        per_seed = _per_seed_cytokines(scenario, data.cytokines).reindex(first["recipe"]).fillna(0.0)
        batch_terms["cytokines"] = 0.0
        for key in data.cytokines:
            factor, unit = key.rsplit("_", 1)
            prices = (scenario.media.cytokine_price_usd_per_kU if unit == "kU"
                      else scenario.media.cytokine_price_usd_per_mg)
            usd = seed * per_seed[key].to_numpy() * prices.get(factor, 0.0)
            batch_terms["cytokines"] += usd
            cyto[factor] += float(usd.sum())
        _add_sums(by, batch_terms.groupby("product")[
            ["starting_material", "labour", "cytokines"]].sum())
        opcost = {t: r.operating_cost_usd_per_day for t, r in scenario.reactors.items()}
        turnaround = {t: r.turnaround_days for t, r in scenario.reactors.items()}
        ph["basal_medium"] = ph["medium_L"] * scenario.media.basal_price_usd_per_L
        ph["reactor_operation"] = ph["days"] * ph["reactor_type"].map(opcost)
        ph["type_days"] = ph["days"] + ph["reactor_type"].map(turnaround)
        _add_sums(by, ph.groupby("product")[["basal_medium", "reactor_operation"]].sum())
        _add_sums(type_days, ph.pivot_table(index="product", columns="reactor_type",
                                            values="type_days", aggfunc="sum", fill_value=0))
    products_by_name: dict[str, Any] = {str(k): v for k, v in scenario.products.items()}
    for ekey, u in (expiries["units"].items() if not expiries.empty else []):
        product = str(cast(tuple[Any, ...], ekey)[1])
        by[(product, "expiry_waste")] += float(u) * products_by_name[product].expiry_cost_usd_per_unit
    for skey, u in (shortages["units"].items() if not shortages.empty else []):
        product = str(cast(tuple[Any, ...], skey)[1])
        by[(product, "shortage_penalty")] += (
            float(u) * products_by_name[product].shortage_penalty_usd_per_unit)
    products = list(scenario.products)
    added = values.get("reactor_added", {})
    for name, rt in scenario.reactors.items():
        fleet = rt.units_owned + round(added.get(name, 0.0))
        usd = fleet * rt.capital_cost_usd_per_unit_day * data.horizon_days
        use = {p: type_days.get((p, name), 0.0) for p in products}
        if sum(use.values()) <= 0:
            use = {p: sum(type_days.get((p, t), 0.0) for t in scenario.reactors) for p in products}
        if sum(use.values()) <= 0:
            use = dict.fromkeys(products, 1.0)
        norm = sum(use.values())
        for p in products:
            by[(p, "reactor_capital")] += usd * use[p] / norm
    terms = {t: sum(v for (_p, term), v in by.items() if term == t) for t in COST_TERMS}
    breakdown = pd.Series({**terms, **{f"cytokine:{f}": v for f, v in cyto.items()}},
                          name="usd", dtype=float)
    breakdown.index.name = "term"
    rows = [(p, t, by.get((p, t), 0.0)) for p in products for t in COST_TERMS]
    by_product = _frame(rows, ["product", "term"], ["usd"])
    return breakdown, by_product

"""Plain, picklable model data prepared from a Scenario and its recipe table.

Everything the Pyomo model needs is computed here, once, into indexed parameters in **scaled
units**, so the model code only wires numbers together and a child solve process can receive the
data by pickling. Nothing here imports Pyomo.

Scaled units used throughout the optimisation package:

- product quantities in transfusion **units** (RBC units, platelet doses) [unit];
- money in **k$** (1e3 USD) — ``USD_SCALE``;
- medium in litres [L]; starting material in **lots** [lot]; time in whole **days** [day].

A *batch option* (``Option``) is a recipe together with the reactor type that hosts each of its
phases (a seed train may use several types). Batches of one option that start on the same day are
identical, so the model counts them with one integer per (option, start day): a *slot*.
"""

from __future__ import annotations

import itertools
import logging
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from bioplan.errors import InputError
from bioplan.media_options import CYTOKINE_COLUMN, pareto_efficient

if TYPE_CHECKING:
    from bioplan.scenario import Scenario

log = logging.getLogger(__name__)

USD_SCALE = 1e3
"""Model money unit [USD per k$]."""
MAX_ROUTES_PER_RECIPE = 64
"""Guard against a combinatorial explosion of reactor-type routes through a seed train."""


@dataclass(frozen=True)
class Phase:
    """One phase of a batch option."""

    name: str
    offset_days: int
    """Days from seeding to the phase start [day]."""
    days: int
    """Culture days of the phase [day]."""
    reactor_type: str
    turnaround_days: int
    """Cleaning after the phase on its unit [day]."""
    medium_L_per_unit: float
    """Medium the phase uses per product unit made [L/unit]."""


@dataclass(frozen=True)
class Option:
    """A recipe run along one route of reactor types (one per phase)."""

    name: str
    recipe: str
    product: str
    source: str
    days: int
    """Seeding to harvest [day]."""
    phases: tuple[Phase, ...]
    seed_cells_per_unit: float
    """Seed cells per product unit [cells/unit]."""
    lots_per_unit: float
    """Starting material per product unit [lot/unit]."""
    medium_L_per_unit: float
    """[L/unit]"""
    cytokine_per_unit: dict[str, float]
    """Per cytokine column (``EPO_kU``, ``SCF_mg``): amount per product unit [kU or mg/unit]."""
    units_min: float
    """Fewest product units one batch may make (working volume minimum at peak) [unit/batch]."""
    units_max: float
    """Most product units one batch may make (working volume maximum at peak) [unit/batch]."""
    material_cost_per_unit: float
    """Basal medium + cytokines per product unit [k$/unit]."""
    batch_cost: float
    """Reactor operation + labour per batch [k$/batch]."""
    operations: int
    """Seeding, transfers and harvest per batch [operations/batch]."""


@dataclass
class ProductData:
    name: str
    release_days: int
    life_days: int
    """Days a cohort may be delivered: shelf life − release delay (shelf life counts from
    harvest, so release testing eats into it) [day]."""
    shortage_penalty: float
    """[k$/unit]"""
    expiry_cost: float
    """[k$/unit]"""
    min_service_level: float | None
    storage_capacity: float | None
    """[unit]"""
    demand: np.ndarray
    """Demand per day of the horizon [unit/day]."""
    fixed_release: dict[int, float] = field(default_factory=dict)
    """Units becoming available on a cohort day from initial stock and fixed batches [unit]."""


@dataclass
class ReactorData:
    name: str
    owned: int
    max_added: int
    acquisition: str
    capital_cost_per_day: float
    """[k$/unit/day]"""
    operating_cost_per_day: float
    """[k$/day in use]"""
    turnaround_days: int
    down: np.ndarray
    """Units unavailable for maintenance per day (conservatively incl. not-yet-added units)."""
    fixed_busy: np.ndarray
    """Units held by fixed batches (phase + turnaround) per day [unit]."""


@dataclass
class PlanData:
    """Everything ``build_model`` needs, in scaled units (see module docstring)."""

    horizon_days: int
    products: dict[str, ProductData]
    reactors: dict[str, ReactorData]
    options: list[Option]
    slot_option: np.ndarray
    """Option index of each slot."""
    slot_day: np.ndarray
    """Seeding day of each slot [day]."""
    slot_units_max: np.ndarray
    """Useful upper bound on product units per batch of the slot [unit/batch]."""
    slot_batches_max: np.ndarray
    """Upper bound on batches started in the slot: the fleet, and what its demand window needs
    [batch]."""
    sources: dict[str, float | None]
    """Lots available per week (None = unlimited) [lot/week]."""
    source_cost_per_lot: dict[str, float]
    """[k$/lot]"""
    media_prep_capacity: float | None
    """[L/day]"""
    labour_limit: float | None
    """[operations/day]"""
    slot_batches_need: np.ndarray = field(default_factory=lambda: np.zeros(0))
    """Batches the slot's demand window could use, ignoring the fleet (elastic re-solve) [batch]."""
    fixed_lots: dict[tuple[str, int], float] = field(default_factory=dict)
    """Lots used by fixed batches per (source, week) [lot]."""
    fixed_medium: np.ndarray | None = None
    """Medium prepared for fixed batches per horizon day [L/day]."""
    fixed_operations: np.ndarray | None = None
    """Operations of fixed batches per horizon day [operations/day]."""
    fixed_cost: dict[str, float] = field(default_factory=dict)
    """Cost of fixed batches by term (constants in the objective) [k$]."""
    cytokines: list[str] = field(default_factory=list)
    """Cytokine columns (``EPO_kU``, ``SCF_mg``) in recipe order."""
    cytokine_price: dict[str, float] = field(default_factory=dict)
    """[k$/kU or k$/mg]"""
    basal_price: float = 0.0
    """[k$/L]"""
    operation_cost: float = 0.0
    """[k$/operation]"""

    @property
    def days(self) -> range:
        return range(self.horizon_days)

    def slot(self, s: int) -> tuple[Option, int]:
        """(option, seeding day) of slot ``s``."""
        return self.options[self.slot_option[s]], int(self.slot_day[s])

    def slot_release_day(self, s: int) -> int:
        """Cohort day (harvest + release delay) of slot ``s``."""
        opt, d = self.slot(s)
        return d + opt.days + self.products[opt.product].release_days


def records(frame: pd.DataFrame) -> list[Any]:
    """Rows of ``frame`` (without the index) as attribute-access tuples."""
    return list(frame.itertuples(index=False))


def prepare(
    scenario: Scenario,
    recipes: pd.DataFrame | None = None,
    fixed_batches: pd.DataFrame | None = None,
    *,
    extra_units: dict[str, int] | None = None,
    extra_media_L_per_day: float = 0.0,
    pareto: bool = True,
) -> PlanData:
    """Turn a validated scenario into :class:`PlanData`.

    With ``pareto`` (the default) only Pareto-efficient batch options are offered (see
    :func:`pareto_options`).

    ``extra_units`` adds owned units per reactor type and ``extra_media_L_per_day`` adds media
    preparation capacity (used to price marginal values).
    """
    if recipes is None:
        recipes = scenario.recipe_table()
    horizon = scenario.horizon.days
    demand = scenario.demand_table()["units"]
    products: dict[str, ProductData] = {}
    for name, prod in scenario.products.items():
        daily = np.zeros(horizon)
        if name in demand.index.get_level_values("product"):
            series = demand.xs(name, level="product")
            daily[series.index.to_numpy(dtype=int)] = series.to_numpy(dtype=float)
        pdata = ProductData(
            name=name,
            release_days=prod.release_delay_days,
            life_days=prod.shelf_life_days - prod.release_delay_days,
            shortage_penalty=prod.shortage_penalty_usd_per_unit / USD_SCALE,
            expiry_cost=prod.expiry_cost_usd_per_unit / USD_SCALE,
            min_service_level=prod.min_service_level,
            storage_capacity=prod.storage_capacity_units,
            demand=daily,
        )
        if prod.initial_inventory_units > 0:
            pdata.fixed_release[0] = prod.initial_inventory_units
        products[name] = pdata

    extra_units = extra_units or {}
    reactors: dict[str, ReactorData] = {}
    for rname, rt in scenario.reactors.items():
        owned = rt.units_owned + extra_units.get(rname, 0)
        down = np.zeros(horizon)
        for window in rt.maintenance:
            first = scenario.horizon.day_of(window.start_date)
            lo, hi = max(first, 0), min(first + window.days, horizon)
            if lo < hi:
                down[lo:hi] += 1
        reactors[rname] = ReactorData(
            name=rname,
            owned=owned,
            max_added=rt.max_additional_units,
            acquisition=rt.acquisition,
            capital_cost_per_day=rt.capital_cost_usd_per_unit_day / USD_SCALE,
            operating_cost_per_day=rt.operating_cost_usd_per_day / USD_SCALE,
            turnaround_days=rt.turnaround_days,
            down=down,
            fixed_busy=np.zeros(horizon),
        )

    media = scenario.media
    cytokines, prices = _cytokines(recipes, scenario)
    data = PlanData(
        horizon_days=horizon,
        products=products,
        reactors=reactors,
        options=[],
        slot_option=np.zeros(0, dtype=int),
        slot_day=np.zeros(0, dtype=int),
        slot_units_max=np.zeros(0),
        slot_batches_max=np.zeros(0),
        sources={s: src.lots_per_week for s, src in scenario.sources.items()},
        source_cost_per_lot={s: src.cost_usd_per_lot / USD_SCALE for s, src in scenario.sources.items()},
        media_prep_capacity=(None if media.prep_capacity_L_per_day is None
                             else media.prep_capacity_L_per_day + extra_media_L_per_day),
        labour_limit=scenario.labour.operations_per_day,
        cytokines=cytokines,
        cytokine_price=prices,
        basal_price=media.basal_price_usd_per_L / USD_SCALE,
        operation_cost=scenario.labour.cost_usd_per_operation / USD_SCALE,
    )
    data.options = _options(recipes, scenario, data)
    if pareto:
        data.options = pareto_options(data)
    if fixed_batches is not None and len(fixed_batches):
        _add_fixed_batches(data, fixed_batches, recipes, scenario)
    _slots(data)
    return data


def _cytokines(recipes: pd.DataFrame, scenario: Scenario) -> tuple[list[str], dict[str, float]]:
    names: list[str] = []
    prices: dict[str, float] = {}
    for col in recipes.columns:
        match = CYTOKINE_COLUMN.match(str(col))
        if not match:
            continue
        factor, unit = match["factor"], match["unit"]
        table = (scenario.media.cytokine_price_usd_per_kU if unit == "kU"
                 else scenario.media.cytokine_price_usd_per_mg)
        key = f"{factor}_{unit}"
        names.append(key)
        if factor not in table:
            log.warning("no price for cytokine %s (media.cytokine_price_usd_per_%s): costed at 0",
                        factor, unit)
        prices[key] = table.get(factor, 0.0) / USD_SCALE
    return names, prices


def recipe_phases(rec: pd.Series) -> list[tuple[str, int, str, float, float]]:
    """(name, days, vessel class, peak L per seed cell, medium L per seed cell) of each phase."""
    n = int(rec["n_phases"])
    phases = []
    for k in range(1, n + 1):
        phases.append((
            str(rec[f"phase{k}_name"]),
            int(rec[f"phase{k}_days"]),
            str(rec[f"phase{k}_vessel_class"]),
            float(rec[f"phase{k}_peak_volume_L_per_seed_cell"]),
            float(rec[f"phase{k}_medium_L_per_seed_cell"]),
        ))
    return phases


def _number(value: Any) -> float | None:
    """A finite float, or None for a missing / NaN / non-numeric cell."""
    try:
        out = float(value)
    except (TypeError, ValueError):
        return None
    return out if np.isfinite(out) else None


def phase_cytokines_per_seed(rec: Any, keys: list[str]) -> list[dict[str, float]]:
    """Each cytokine (``keys``: ``EPO_kU``, ``SCF_mg``) used in each phase of a recipe row, per
    seed cell [kU or mg per cell], one dict per phase in order.

    From the per-phase columns ``phase<k>_cytokine_<F>_<unit>_per_seed_cell`` when the row gives
    them for every phase; otherwise (a hand-made recipe table without them) the recipe's total
    ``cytokine_<F>_<unit>_per_seed_cell`` split over the phases in proportion to each phase's
    medium (to its days when the recipe uses no medium). Missing or NaN totals count as 0.
    """
    n = int(rec["n_phases"])
    medium = [_number(rec.get(f"phase{k}_medium_L_per_seed_cell")) or 0.0 for k in range(1, n + 1)]
    days = [_number(rec.get(f"phase{k}_days")) or 0.0 for k in range(1, n + 1)]
    weights = medium if sum(medium) > 0 else days
    if not sum(weights) > 0:
        weights = [1.0] * n
    out: list[dict[str, float]] = [{} for _ in range(n)]
    for key in keys:
        column = f"cytokine_{key}_per_seed_cell"
        phased = [_number(rec.get(f"phase{k}_{column}")) for k in range(1, n + 1)]
        if all(v is not None for v in phased):
            for k in range(n):
                out[k][key] = float(phased[k] or 0.0)
            continue
        total = _number(rec.get(column)) or 0.0
        for k in range(n):
            out[k][key] = total * weights[k] / sum(weights)
    return out


def _options(recipes: pd.DataFrame, scenario: Scenario, data: PlanData) -> list[Option]:
    options: list[Option] = []
    for recipe, rec in recipes.iterrows():
        product = str(rec["product"])
        prod = scenario.products[product]  # type: ignore[index]
        yield_per_seed = float(rec["product_cells_per_seed_cell"])
        if not yield_per_seed > 0:
            log.warning("recipe %s makes no product cells: skipped", recipe)
            continue
        seed_per_unit = prod.cells_per_unit / yield_per_seed
        source = str(rec["source"])
        cells_per_lot = scenario.sources[source].cells_per_lot
        try:
            phases = recipe_phases(rec)
        except (KeyError, TypeError, ValueError) as err:
            raise InputError(
                f"recipe {recipe}: bad phase columns ({err})", field="recipes",
                fix="give phase<k>_name, _days (whole days), _vessel_class, "
                    "_peak_volume_L_per_seed_cell and _medium_L_per_seed_cell for k = 1..n_phases",
            ) from None
        total_days = sum(p[1] for p in phases)
        candidates = [
            [t for t, rt in scenario.reactors.items() if vessel in rt.vessel_classes]
            for (_n, _d, vessel, _pk, _m) in phases
        ]
        if any(not c for c in candidates):
            missing = [p[2] for p, c in zip(phases, candidates, strict=True) if not c]
            log.warning("recipe %s: no reactor type hosts vessel class(es) %s: skipped", recipe, missing)
            continue
        routes = list(itertools.islice(itertools.product(*candidates), MAX_ROUTES_PER_RECIPE))
        cytokine = {}
        for key in data.cytokines:
            factor, unit = key.rsplit("_", 1)
            value = rec.get(f"cytokine_{factor}_{unit}_per_seed_cell", 0.0)
            cytokine[key] = (0.0 if pd.isna(value) else float(value)) * seed_per_unit
        medium = sum(p[4] for p in phases) * seed_per_unit
        material = medium * data.basal_price + sum(
            cytokine[k] * data.cytokine_price[k] for k in data.cytokines)
        for route in routes:
            lo, hi, offset = 0.0, np.inf, 0
            built: list[Phase] = []
            op_cost = 0.0
            for (pname, days, _vessel, peak, med), rtype in zip(phases, route, strict=True):
                rt = scenario.reactors[rtype]
                peak_per_unit = peak * seed_per_unit
                if peak_per_unit > 0:
                    hi = min(hi, rt.working_volume_max_L / peak_per_unit)
                    lo = max(lo, rt.working_volume_min_L / peak_per_unit)
                built.append(Phase(pname, offset, days, rtype, rt.turnaround_days,
                                   med * seed_per_unit))
                op_cost += data.reactors[rtype].operating_cost_per_day * days
                offset += days
            name = f"{recipe}@{'+'.join(route)}"
            if lo > hi * (1 + 1e-9) or not np.isfinite(hi):
                log.info("option %s: working volumes admit no batch size: skipped", name)
                continue
            operations = len(phases) + 1
            options.append(Option(
                name=name, recipe=str(recipe), product=product, source=source, days=total_days,
                phases=tuple(built), seed_cells_per_unit=seed_per_unit,
                lots_per_unit=seed_per_unit / cells_per_lot, medium_L_per_unit=medium,
                cytokine_per_unit=cytokine, units_min=lo, units_max=hi,
                material_cost_per_unit=material,
                batch_cost=op_cost + operations * data.operation_cost, operations=operations,
            ))
    return options


def _criteria(opt: Option, data: PlanData) -> list[float]:
    """What makes an option better, all to be minimised: cost per unit in full batches
    [k$/unit], culture days [day], reactor-days per unit on each type of its route [day/unit],
    and lots [lot/unit] or medium [L/unit] per unit where those resources are limited."""
    per_type: dict[str, float] = {}
    for ph in opt.phases:
        per_type[ph.reactor_type] = per_type.get(ph.reactor_type, 0.0) + (
            ph.days + ph.turnaround_days) / opt.units_max
    cost = (opt.material_cost_per_unit + opt.lots_per_unit * data.source_cost_per_lot[opt.source]
            + opt.batch_cost / opt.units_max)
    crit = [cost, float(opt.days), *(per_type[t] for t in sorted(per_type))]
    if data.sources.get(opt.source) is not None:
        crit.append(opt.lots_per_unit)
    if data.media_prep_capacity is not None:
        crit.append(opt.medium_L_per_unit)
    return crit


def pareto_options(data: PlanData) -> list[Option]:
    """The options no other option of the same product, source and reactor route beats on every
    criterion of :func:`_criteria` — the media options the planner chooses from (``bioplan
    media`` shows the same trade-off per card). Dropping dominated recipes shrinks the model
    several-fold on large recipe tables; the choice is approximate only in batch timing and
    working-volume minimums, which the criteria do not rank."""
    groups: dict[tuple[Any, ...], list[int]] = {}
    for i, o in enumerate(data.options):
        route = tuple(ph.reactor_type for ph in o.phases)
        groups.setdefault((o.product, o.source, route), []).append(i)
    efficient = np.ones(len(data.options), dtype=bool)
    for members in groups.values():
        # the criteria are finite (options with no finite batch size were skipped), so
        # pareto_efficient's "rows with NaN are never efficient" does not apply
        crit = np.array([_criteria(data.options[i], data) for i in members], dtype=float)
        efficient[members] = pareto_efficient(crit)
    for opt, kept in zip(data.options, efficient, strict=True):
        if not kept:
            log.info("option %s is dominated (cost, days, reactor-days, material): not offered",
                     opt.name)
    return [opt for opt, kept in zip(data.options, efficient, strict=True) if kept]


def _slots(data: PlanData) -> None:
    """Start days worth offering: the batch is released inside the horizon and some demand falls
    in its delivery window; the per-batch upper bound is tightened to that demand."""
    horizon = data.horizon_days
    cum = {p: np.concatenate([[0.0], np.cumsum(pd_.demand)]) for p, pd_ in data.products.items()}
    opt_idx, days, umax, bmax, bneed = [], [], [], [], []
    for j, opt in enumerate(data.options):
        prod = data.products[opt.product]
        if prod.life_days <= 0:
            continue
        fleet = min(data.reactors[ph.reactor_type].owned + data.reactors[ph.reactor_type].max_added
                    for ph in opt.phases)
        for d in range(horizon):
            release = d + opt.days + prod.release_days
            if release >= horizon:
                break
            last = min(release + prod.life_days, horizon)
            window = cum[opt.product][last] - cum[opt.product][release]
            if window <= 1e-9:
                continue
            opt_idx.append(j)
            days.append(d)
            umax.append(max(opt.units_min, min(opt.units_max, window)))
            need = np.ceil(window / opt.units_max - 1e-9) if opt.units_max > 0 else fleet
            bmax.append(float(max(1, min(fleet, need))))
            bneed.append(float(max(1, need)))
    data.slot_option = np.asarray(opt_idx, dtype=int)
    data.slot_day = np.asarray(days, dtype=int)
    data.slot_units_max = np.asarray(umax, dtype=float)
    data.slot_batches_max = np.asarray(bmax, dtype=float)
    data.slot_batches_need = np.asarray(bneed, dtype=float)


def _add_fixed_batches(data: PlanData, fixed: pd.DataFrame, recipes: pd.DataFrame,
                       scenario: Scenario) -> None:
    """Fixed batches hold their reactors, use resources and cost what they cost (constants), and
    release their product on their cohort day."""
    horizon = data.horizon_days
    rows = fixed.reset_index()
    if "batch_id" not in rows.columns:
        rows = rows.rename(columns={rows.columns[0]: "batch_id"})
    data.fixed_medium = np.zeros(horizon)
    data.fixed_operations = np.zeros(horizon)
    cost = dict.fromkeys(("starting_material", "basal_medium", "cytokines", "reactor_operation",
                          "labour"), 0.0)
    for key in data.cytokines:
        cost[f"cytokine:{key.rsplit('_', 1)[0]}"] = 0.0
    for batch_id, frame in rows.groupby("batch_id", sort=True):
        frame = frame.sort_values("start_day")
        first = frame.iloc[0]
        recipe, product = str(first["recipe"]), str(first["product"])
        if recipe not in recipes.index or product not in data.products:
            raise InputError(f"fixed batch {batch_id}: recipe {recipe!r} / product {product!r} is "
                             "not in the scenario", field="fixed_batches",
                             fix="give fixed batches from a plan of the same scenario")
        rec: Any = recipes.loc[recipe]
        seed = float(first["seed_cells"])
        units = float(first["product_units"])
        harvest = int(frame["end_day"].max())
        release = harvest + data.products[product].release_days
        if release < horizon and release + data.products[product].life_days > 0:
            data.products[product].fixed_release[release] = (
                data.products[product].fixed_release.get(release, 0.0) + units)
        seed_day = int(frame["start_day"].min())
        source = str(rec["source"])
        lots = seed / scenario.sources[source].cells_per_lot
        cost["starting_material"] += lots * data.source_cost_per_lot[source]
        if seed_day >= 0:
            week = (source, seed_day // 7)
            data.fixed_lots[week] = data.fixed_lots.get(week, 0.0) + lots
        ops_days = [*frame["start_day"].astype(int), harvest]
        for day in ops_days:
            if 0 <= day < horizon:
                data.fixed_operations[day] += 1
        cost["labour"] += len(ops_days) * data.operation_cost
        for row in records(frame):
            rtype = str(row.reactor_type)
            start, end = int(row.start_day), int(row.end_day)
            rd = data.reactors[rtype]
            lo, hi = max(start, 0), min(end + rd.turnaround_days, horizon)
            if lo < hi:
                rd.fixed_busy[lo:hi] += 1
            cost["reactor_operation"] += (end - start) * rd.operating_cost_per_day
            medium = float(row.medium_L)
            cost["basal_medium"] += medium * data.basal_price
            if end > start:
                for day in range(max(start, 0), min(end, horizon)):
                    data.fixed_medium[day] += medium / (end - start)
        for key in data.cytokines:
            factor, unit = key.rsplit("_", 1)
            value = rec.get(f"cytokine_{factor}_{unit}_per_seed_cell", 0.0)
            amount = (0.0 if pd.isna(value) else float(value)) * seed
            usd = amount * data.cytokine_price[key]
            cost[f"cytokine:{factor}"] += usd
            cost["cytokines"] += usd
    data.fixed_cost = cost

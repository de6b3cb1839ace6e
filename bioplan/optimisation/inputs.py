"""``prepare``: a validated Scenario and its recipe table to :class:`PlanData` (no Pyomo)."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from bioplan.contracts import CytokineKey, Prices, cytokine_keys, maintenance_days
from bioplan.optimisation.data import Option, PlanData, ProductData, ReactorData
from bioplan.optimisation.fixed import add_fixed_batches
from bioplan.optimisation.options import batch_options, pareto_options

if TYPE_CHECKING:
    from bioplan.scenario import Scenario

log = logging.getLogger(__name__)


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
            shelf_life_days=prod.shelf_life_days,
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
        for window in rt.maintenance:  # conservatively, windows of not-yet-added units too
            days = maintenance_days(scenario.horizon.day_of(window.start_date), window.days, horizon)
            down[days.start:days.stop] += 1
        reactors[rname] = ReactorData(
            name=rname,
            owned=owned,
            max_added=rt.max_additional_units,
            acquisition=rt.acquisition,
            turnaround_days=rt.turnaround_days,
            down=down,
            fixed_busy=np.zeros(horizon),
        )

    media = scenario.media
    cytokines = _cytokines(recipes, scenario)
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
        prices=Prices.from_scenario(scenario, cytokines),
        media_prep_capacity=(None if media.prep_capacity_L_per_day is None
                             else media.prep_capacity_L_per_day + extra_media_L_per_day),
        labour_limit=scenario.labour.operations_per_day,
        cytokines=cytokines,
        scenario=scenario,
    )
    data.options = batch_options(recipes, scenario, data)
    if pareto:
        data.options = pareto_options(data)
    if fixed_batches is not None and len(fixed_batches):
        add_fixed_batches(data, fixed_batches, recipes, scenario)
    _slots(data)
    return data


def _cytokines(recipes: pd.DataFrame, scenario: Scenario) -> list[CytokineKey]:
    """The recipe table's cytokines; a warning for each one that some offered recipe doses and
    the scenario gives no price (a factor every recipe doses at 0 costs nothing either way)."""
    keys = cytokine_keys(recipes.columns)
    for key in keys:
        table = (scenario.media.cytokine_price_usd_per_kU if key.unit == "kU"
                 else scenario.media.cytokine_price_usd_per_mg)
        dosed = bool((recipes[key.per_seed_column].fillna(0.0).astype(float) > 0).any())
        if key.factor not in table and dosed:
            log.warning("no price for cytokine %s (media.cytokine_price_usd_per_%s): costed at 0",
                        key.factor, key.unit)
    return keys


def whole_unit_cap(opt: Option) -> float:
    """Most units one batch of ``opt`` makes in a whole-unit plan [unit/batch]: ``⌊u_max⌋`` when
    a batch can hold a whole unit (and its minimum fill allows it), else ``u_max`` (batches too
    small for a unit alone are pooled; see ``docs/planning-model.md``, "Whole units")."""
    whole = float(opt.packaged_max)
    return whole if whole >= 1 and whole >= opt.units_min - 1e-9 else float(opt.units_max)


def _slots(data: PlanData) -> None:
    """Start days worth offering: the batch is released inside the horizon and some demand falls
    in its delivery window; the per-batch upper bound is the whole-unit cap
    (:func:`whole_unit_cap`), tightened to that demand."""
    horizon = data.horizon_days
    cum = {p: np.concatenate([[0.0], np.cumsum(pd_.demand)]) for p, pd_ in data.products.items()}
    opt_idx, days, umax, bmax, bneed = [], [], [], [], []
    for j, opt in enumerate(data.options):
        prod = data.products[opt.product]
        if prod.expiry_day(0) <= 0:  # no usable day after release
            continue
        fleet = min(data.reactors[ph.reactor_type].owned + data.reactors[ph.reactor_type].max_added
                    for ph in opt.phases)
        for d in range(horizon):
            release = d + opt.days + prod.release_days
            if release >= horizon:
                break
            last = min(prod.expiry_day(release), horizon)
            window = cum[opt.product][last] - cum[opt.product][release]
            if window <= 1e-9:
                continue
            opt_idx.append(j)
            days.append(d)
            cap = whole_unit_cap(opt)
            umax.append(max(opt.units_min, min(cap, window)))
            need = np.ceil(window / cap - 1e-9) if cap > 0 else fleet
            bmax.append(float(max(1, min(fleet, need))))
            bneed.append(float(max(1, need)))
    data.slot_option = np.asarray(opt_idx, dtype=int)
    data.slot_day = np.asarray(days, dtype=int)
    data.slot_units_max = np.asarray(umax, dtype=float)
    data.slot_batches_max = np.asarray(bmax, dtype=float)
    data.slot_batches_need = np.asarray(bneed, dtype=float)



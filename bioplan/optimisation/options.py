"""Batch options: each recipe along each route of reactor types, costed by the cost-term registry,
and the Pareto-efficient subset the planner chooses from."""

from __future__ import annotations

import itertools
import logging
from collections import defaultdict
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from bioplan.contracts import BatchUse, CytokineKey, Driver, pareto_efficient
from bioplan.contracts.costs import batch_terms
from bioplan.errors import InputError
from bioplan.optimisation.data import MAX_ROUTES_PER_RECIPE, Option, Phase, PlanData, stays_of

if TYPE_CHECKING:
    from bioplan.scenario import Scenario

log = logging.getLogger(__name__)

RecipePhase = tuple[str, int, str, float, float]
"""(name, days, vessel class, peak L per seed cell, medium L per seed cell) of a recipe phase."""


def recipe_phases(rec: pd.Series) -> list[RecipePhase]:
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


def per_seed_cytokines(rec: Any, keys: list[CytokineKey]) -> dict[CytokineKey, float]:
    """The recipe's total use of each cytokine per seed cell [mg or kU per cell] (missing or NaN
    counts as 0)."""
    return {k: _number(rec.get(k.per_seed_column)) or 0.0 for k in keys}


def phase_cytokines_per_seed(rec: Any, keys: list[CytokineKey]) -> list[dict[CytokineKey, float]]:
    """Each cytokine (``keys``) used in each phase of a recipe row, per seed cell [kU or mg per
    cell], one dict per phase in order.

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
    out: list[dict[CytokineKey, float]] = [{} for _ in range(n)]
    totals = per_seed_cytokines(rec, keys)
    for key in keys:
        phased = [_number(rec.get(key.phase_column(k))) for k in range(1, n + 1)]
        if all(v is not None for v in phased):
            for k in range(n):
                out[k][key] = float(phased[k] or 0.0)
            continue
        for k in range(n):
            out[k][key] = totals[key] * weights[k] / sum(weights)
    return out


def _phases_of(recipe: Any, rec: pd.Series) -> list[RecipePhase]:
    try:
        return recipe_phases(rec)
    except (KeyError, TypeError, ValueError) as err:
        msg = f"recipe {recipe}: bad phase columns ({err})"
        raise InputError(
            msg, field="recipes",
            fix="give phase<k>_name, _days (whole days), _vessel_class, "
                "_peak_volume_L_per_seed_cell and _medium_L_per_seed_cell for k = 1..n_phases",
        ) from None


def batch_options(recipes: pd.DataFrame, scenario: Scenario, data: PlanData) -> list[Option]:
    """Every recipe of ``recipes`` along every route of reactor types that hosts its phases and
    admits a batch size (at most ``MAX_ROUTES_PER_RECIPE`` routes per recipe)."""
    options: list[Option] = []
    for recipe, rec in recipes.iterrows():
        yield_per_seed = float(rec["product_cells_per_seed_cell"])
        if not yield_per_seed > 0:
            log.warning("recipe %s makes no product cells: skipped", recipe)
            continue
        phases = _phases_of(recipe, rec)
        candidates = [
            [t for t, rt in scenario.reactors.items() if vessel in rt.vessel_classes]
            for (_n, _d, vessel, _pk, _m) in phases
        ]
        if any(not c for c in candidates):
            missing = [p[2] for p, c in zip(phases, candidates, strict=True) if not c]
            log.warning("recipe %s: no reactor type hosts vessel class(es) %s: skipped", recipe, missing)
            continue
        for route in itertools.islice(itertools.product(*candidates), MAX_ROUTES_PER_RECIPE):
            opt = _option(str(recipe), rec, phases, route, scenario, data)
            if opt is not None:
                options.append(opt)
    return options


def _option(recipe: str, rec: pd.Series, phases: list[RecipePhase], route: tuple[str, ...],
            scenario: Scenario, data: PlanData) -> Option | None:
    """The option of running ``recipe`` along ``route``, or None if no batch size fits."""
    product, source = str(rec["product"]), str(rec["source"])
    seed_per_unit = scenario.products[product].cells_per_unit / float(  # type: ignore[index]
        rec["product_cells_per_seed_cell"])
    lo, hi, offset = 0.0, np.inf, 0
    built: list[Phase] = []
    reactor_days: dict[str, float] = defaultdict(float)
    for (pname, days, _vessel, peak, med), rtype in zip(phases, route, strict=True):
        rt = scenario.reactors[rtype]
        peak_per_unit = peak * seed_per_unit
        if peak_per_unit > 0:
            hi = min(hi, rt.working_volume_max_L / peak_per_unit)
            lo = max(lo, rt.working_volume_min_L / peak_per_unit)
        built.append(Phase(pname, offset, days, rtype, rt.turnaround_days, med * seed_per_unit))
        reactor_days[rtype] += days
        offset += days
    name = f"{recipe}@{'+'.join(route)}"
    if lo > hi * (1 + 1e-9) or not np.isfinite(hi):
        log.info("option %s: working volumes admit no batch size: skipped", name)
        return None
    cytokine = {k: v * seed_per_unit for k, v in per_seed_cytokines(rec, data.cytokines).items()}
    medium = sum(p[4] for p in phases) * seed_per_unit
    operations = len(stays_of(tuple(built))) + 1  # seeding, one per transfer, harvest
    use = BatchUse(source=source, seed_cells=seed_per_unit, medium_L=medium, cytokines=cytokine,
                   reactor_days=dict(reactor_days), operations=operations)
    return Option(
        name=name, recipe=recipe, product=product, source=source, days=offset,
        phases=tuple(built), seed_cells_per_unit=seed_per_unit,
        lots_per_unit=seed_per_unit / scenario.sources[source].cells_per_lot,
        medium_L_per_unit=medium, cytokine_per_unit=cytokine, units_min=lo, units_max=hi,
        operations=operations, unit_use=use,
    )


def cost_per_unit_usd(opt: Option, data: PlanData) -> float:
    """What one product unit of ``opt`` costs in full batches [USD/unit]: every per-unit term of
    the registry plus every per-batch term over the most units a batch makes."""
    total = 0.0
    for term in batch_terms():
        usd = term.usd(data.prices, opt.unit_use)
        total += usd if term.driver is Driver.PRODUCT_UNITS else usd / opt.units_max
    return total


def _criteria(opt: Option, data: PlanData) -> list[float]:
    """What makes an option better, all to be minimised: cost per unit in full batches
    [USD/unit], culture days [day], reactor-days per unit on each type of its route [day/unit],
    and lots [lot/unit] or medium [L/unit] per unit where those resources are limited."""
    per_type: dict[str, float] = {}
    for st in opt.stays:
        per_type[st.reactor_type] = per_type.get(st.reactor_type, 0.0) + (
            st.days + st.turnaround_days) / opt.units_max
    crit = [cost_per_unit_usd(opt, data), float(opt.days), *(per_type[t] for t in sorted(per_type))]
    if data.sources.get(opt.source) is not None:
        crit.append(opt.lots_per_unit)
    if data.media_prep_capacity is not None:
        crit.append(opt.medium_L_per_unit)
    return crit


def pareto_options(data: PlanData) -> list[Option]:
    """The options no other option of the same product, source and reactor route beats on every
    criterion of :func:`_criteria` (:func:`bioplan.contracts.pareto_efficient`). ``bioplan media``
    ranks a card's recipes with the same rule on coarser criteria (materials only, one
    reactor-days figure, no route). Dropping dominated recipes shrinks the model several-fold on
    large recipe tables; the choice is approximate only in batch timing and working-volume
    minimums, which the criteria do not rank."""
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

"""The two-stage stochastic program over yield samples, as one extensive form (EF) for HiGHS.

First stage (decided before yields are known), on the model itself: ``slot_batches``,
``slot_units`` (the planned units, which fix the seed cells), ``reactor_added`` and every
first-stage constraint group of :mod:`bioplan.optimisation.model` (batch size, occupancy,
starting material, media preparation, labour) with their cost terms.

Second stage, one block ``sample[k]`` per yield sample k with probability ``p_k``, built by calling
the deterministic model's own functions (``add_sets``, ``add_variables``, the cohort, demand and
storage groups and ``add_cost_expressions``) on the block, so each sample has exactly the
deterministic inventory rows and cost terms — or, where smaller, the compact form of
:mod:`bioplan.optimisation.compact_recourse`. Only the waste and shortage terms of a block enter
the objective. The block's ``slot_units`` are the units the sample *releases*:

    ``x_k[s] ≤ f[k,s] · x[s]``                                        (release_cap)

with ``f[k,s]`` the sample's yield factor [-] of slot s (one draw per slot), or, with lot
segments, ``Σ_g f[k,s,g] λ[s,g]`` (each batch its own lots' draws,
:mod:`bioplan.optimisation.lot_segments`), and ``x[s]`` the planned units [unit]; units not
released are wasted at harvest ``e_p (f·x − x_k)`` [k$]. A nominal block (``f = 1``,
probability 0) keeps the plan as planned storable.

Optional targets:

- chance constraint "service ≥ P in at least a share C of the K samples", per product with
  demand, by a documented conservative approximation (:func:`add_chance_constraints`);
- CVaR of the shortage penalty at level α with weight w (Rockafellar–Uryasev):
  ``w (η + Σ_k p_k ξ_k / (1 − α))``, ``ξ_k ≥ π·u_k − η``, ``ξ_k ≥ 0`` [k$].
"""

from __future__ import annotations

import dataclasses
import gc
import resource
import time
from typing import Any

import numpy as np
import pyomo.core as pyo

from bioplan.contracts import COST_TERMS, Driver
from bioplan.optimisation.chance import NOMINAL, add_as_planned_rows, add_chance_constraints
from bioplan.optimisation.compact_recourse import (
    add_compact_block,
    add_discard_cost,
    add_whole_unit_recourse,
    compact_applies,
)
from bioplan.optimisation.compile import Compiled, compile_model
from bioplan.optimisation.costs import add_cost_expressions
from bioplan.optimisation.data import PlanData
from bioplan.optimisation.heuristic import lp_guided_start, rounding_start
from bioplan.optimisation.inventory import (
    add_cohort_constraints,
    add_demand_constraints,
    add_storage_constraints,
)
from bioplan.optimisation.lot_segments import add_lot_segments, grown_terms
from bioplan.optimisation.model import add_sets, add_variables
from bioplan.optimisation.outcome import SolveOptions, SolveResult
from bioplan.optimisation.reactors import (
    add_batch_size_constraints,
    add_occupancy_constraints,
    add_packaging_constraints,
)
from bioplan.optimisation.resources import (
    add_labour_constraints,
    add_media_prep_constraints,
    add_starting_material_constraints,
)
from bioplan.optimisation.solve import _values, solve_compiled
from bioplan.optimisation.stochastic_data import StochasticData

RECOURSE_TERMS = tuple(t.name for t in COST_TERMS
                       if t.driver in (Driver.EXPIRED_UNITS, Driver.SHORT_UNITS))
"""The second-stage cost terms (waste, shortage penalty; the registry's terms driven by expired
and short units): per sample in the EF, in this order."""
FIRST_STAGE = ("slot_batches", "slot_units", "reactor_added")
"""First-stage variables (what a robust plan fixes)."""


def slot_windows(data: PlanData) -> np.ndarray:
    """(S,) demand inside each slot's delivery window [unit]: what its cohort can serve."""
    cum = {p: np.concatenate([[0.0], np.cumsum(pd_.demand)]) for p, pd_ in data.products.items()}
    out = np.zeros(len(data.slot_day))
    for s in range(len(data.slot_day)):
        opt, _day = data.slot(s)
        release = data.slot_release_day(s)
        last = min(data.products[opt.product].expiry_day(release), data.horizon_days)
        out[s] = cum[opt.product][last] - cum[opt.product][min(release, data.horizon_days)]
    return out


def relaxed_bounds(data: PlanData, factors: np.ndarray | None = None, *,
                   useful: np.ndarray | None = None) -> PlanData:
    """``data`` with the slot bounds that assume nominal yields replaced by the samples' own.

    The deterministic model caps a slot's units at the demand its cohort can serve (window W)
    and its batches at what W needs. Over samples, planning more than ``W / min_k f[k,s]`` units
    is dominated (every sample would then release at least W, and more costs more), so the
    caps become ``min(u_max, W / min_k f[k,s])`` units per batch and as many batches as that
    needs at full size, within the fleet [unit, batch]. ``factors`` None: volume and fleet only.
    ``useful`` (S,) replaces ``W / min_k f[k,s]`` (the lot segments' own, see
    :func:`bioplan.robust.samples.units_needed`) [unit].
    """
    units = np.array([data.options[j].units_max for j in data.slot_option], dtype=float)
    fleet = np.array([min(data.reactors[ph.reactor_type].owned + data.reactors[ph.reactor_type].max_added
                          for ph in data.options[j].phases) for j in data.slot_option], dtype=float)
    batches = fleet
    if useful is None and factors is not None and factors.size:
        lowest = np.maximum(factors.min(axis=0), 1e-6)
        useful = slot_windows(data) / np.minimum(lowest, 1.0)
    if useful is not None:
        floor = np.array([data.options[j].units_min for j in data.slot_option], dtype=float)
        batches = np.minimum(fleet, np.maximum(1.0, np.ceil(useful / units - 1e-9)))
        units = np.maximum(floor, np.minimum(units, useful))
    return dataclasses.replace(data, slot_units_max=units,
                               slot_batches_max=np.maximum(batches, data.slot_batches_max))


FIRST_STAGE_GROUPS = (add_batch_size_constraints, add_occupancy_constraints,
                      add_starting_material_constraints, add_media_prep_constraints,
                      add_labour_constraints)
"""The deterministic model's constraint groups that involve only first-stage decisions."""


def add_first_stage(m: Any, data: PlanData) -> None:
    """The deterministic model's sets, variables, first-stage constraint groups and cost terms."""
    m.elastic = False
    m.elastic_slacks = []
    add_sets(m, data)
    add_variables(m, data)
    for group in FIRST_STAGE_GROUPS:
        group(m, data)
    add_cost_expressions(m, data)


def sample_data(sd: StochasticData, k: int) -> PlanData:
    """The data of sample ``k``'s block: ``sd.base`` with that sample's fixed releases."""
    if not sd.fixed_releases:
        return sd.base
    products = dict(sd.base.products)
    for p, cohorts in sd.fixed_releases.items():
        prod = products[p]
        released = {**prod.fixed_release, **{c: float(u[k]) for c, u in cohorts.items()}}
        products[p] = dataclasses.replace(prod, fixed_release=released)
    return dataclasses.replace(sd.base, products=products)


def add_sample_block(m: Any, data: PlanData, name: str, factor: np.ndarray | None,
                     whole: bool = False) -> Any:
    """One second-stage block: the deterministic inventory rows over the sample's releases.

    ``factor`` (S,) or per lot segment (S, G) [-] (the release cap is then
    ``x_k[s] ≤ Σ_g f[s,g] λ[s,g]``), or None for the nominal block (``x_k = x``, nothing discarded). With
    ``whole`` the block is a ``packaging`` model: its batches' cells fill whole bags per product
    and release day, ``k_k[p,c] ≤ Σ_{s released on (p,c)} x_k[s]`` (integer ``k_k``), and only
    the bags are released (:func:`~bioplan.optimisation.reactors.add_packaging_constraints`).
    """
    b = pyo.Block()
    m.add_component(name, b)
    b.elastic = False
    b.elastic_slacks = []
    b.packaging = whole
    add_sets(b, data)
    add_variables(b, data)
    for s in b.SLOT:
        b.slot_units[s].setub(None)
    f = np.ones(len(data.slot_day)) if factor is None else factor
    if factor is None:
        b.release_cap = pyo.Constraint(b.SLOT, rule=lambda b, s: b.slot_units[s] == m.slot_units[s])
    else:
        b.release_cap = pyo.Constraint(b.SLOT, rule=lambda b, s: b.slot_units[s] <= sum(
            c * v for c, v in grown_terms(m, f, s)))
    add_packaging_constraints(b, data)
    add_cohort_constraints(b, data)
    add_demand_constraints(b, data)
    add_storage_constraints(b, data)
    add_cost_expressions(b, data)
    if whole:
        add_whole_unit_recourse(m, b, data, f)
    else:
        add_discard_cost(m, b, data, f)
    return b


def add_window_cuts(m: Any, sd: StochasticData, blocks: list[Any]) -> None:
    """Valid inequalities that give the EF the deterministic model's window caps, per sample:

        ``x_k[s] ≤ W_s · n_s``     for slots whose cohort expires inside the horizon

    with ``x_k[s]`` the units sample k releases from slot s [unit], ``n_s`` its batches [batch] and
    ``W_s`` the demand its cohort can serve (:func:`slot_windows`) [unit]. Valid: a batch never
    usefully releases more than ``W_s``, and a unit that is not released is discarded at harvest
    at the expiry cost it would otherwise cost when it expires inside the horizon; so any solution
    can lower ``x_k[s]`` to ``W_s`` at no cost. The LP relaxation can no longer buy a fraction of a
    batch for a whole window's units (the deterministic model's ``slot_units_max = min(u_max, W)``,
    lifted by :func:`relaxed_bounds` for the samples). Cohorts still usable at the horizon end
    are left alone (their leftover units cost nothing).
    """
    data = sd.base
    windows = slot_windows(data)
    per_batch = data.slot_units_max * sd.peak_factor()
    cut = [s for s in range(len(data.slot_day))
           if windows[s] < per_batch[s] - 1e-9
           and data.products[data.options[data.slot_option[s]].product].expiry_day(
               data.slot_release_day(s)) < data.horizon_days]
    rows = [(k, s) for k in range(len(blocks)) for s in cut]
    m.WINDOW_CUT = pyo.Set(initialize=rows, dimen=2, ordered=True)
    m.window_cut = pyo.Constraint(m.WINDOW_CUT, rule=lambda m, k, s: (
        blocks[k].slot_units[s] <= float(windows[s]) * m.slot_batches[s]))


def recourse_cost(b: Any) -> Any:
    """The block's second-stage cost [k$]: waste, shortage penalty and discards."""
    return sum(getattr(b, f"cost_{t}") for t in RECOURSE_TERMS) + b.cost_discard


def first_stage_cost(m: Any) -> Any:
    """The first-stage cost terms of ``m`` [k$] (everything but waste and shortage)."""
    return sum(getattr(m, f"cost_{t.name}") for t in COST_TERMS if t.name not in RECOURSE_TERMS)


def build_extensive_form(sd: StochasticData) -> Any:
    """The EF: first stage on the model, one block per sample, expected cost (+ CVaR)."""
    data = sd.base
    m = pyo.ConcreteModel(name="bioplan-robust")
    add_first_stage(m, data)
    if sd.segment_units is not None:
        add_lot_segments(m, sd.segment_units)
    for name, values in (sd.fixed or {}).items():
        var: Any = getattr(m, name, None)
        for index in var if var is not None else ():
            var[index].fix(_within_bounds(var[index], round(values.get(index, 0.0))))
    compact = sd.compact is not False and compact_applies(data, smaller_only=sd.compact is None)
    add_block = add_compact_block if compact else add_sample_block
    blocks = [add_block(m, sample_data(sd, k), f"sample_{k}", sd.sample_factor(k), sd.whole_units)
              for k in range(sd.samples)]
    nominal = add_sample_block(m, data, NOMINAL, None, sd.whole_units) if sd.nominal_block else None
    if sd.window_cuts and not compact:  # compact blocks release per cohort, not per slot
        add_window_cuts(m, sd, blocks)
    first = first_stage_cost(m)
    expected = sum(float(p) * recourse_cost(b) for p, b in zip(sd.probabilities, blocks,
                                                               strict=True))
    risk: Any = 0.0
    if sd.cvar_alpha is not None and sd.cvar_weight > 0:
        m.cvar_eta = pyo.Var(domain=pyo.Reals)
        m.cvar_excess = pyo.Var(range(sd.samples), domain=pyo.NonNegativeReals)
        shortage = [getattr(b, f"cost_{RECOURSE_TERMS[1]}") for b in blocks]
        m.cvar_row = pyo.Constraint(
            range(sd.samples), rule=lambda m, k: m.cvar_excess[k] >= shortage[k] - m.cvar_eta)
        risk = sd.cvar_weight * (m.cvar_eta + sum(
            float(p) * m.cvar_excess[k] for k, p in enumerate(sd.probabilities)) / (1 - sd.cvar_alpha))
    if sd.service_level is not None:
        add_chance_constraints(m, sd, blocks, nominal)
    if nominal is not None and sd.as_planned_short:
        add_as_planned_rows(m, sd, nominal)
    elastic = m.chance_penalty if sd.elastic and sd.service_level is not None else 0.0
    m.total_cost = pyo.Objective(expr=first + expected + risk + elastic, sense=pyo.minimize)
    return m


def _within_bounds(var: Any, value: float) -> float:
    """``value`` clipped to ``var``'s bounds (a rounded PH average can overshoot a bound)."""
    lb, ub = var.bounds
    value = value if lb is None else max(value, lb)
    return value if ub is None else min(value, ub)


def fixed_values(m: Any, sd: StochasticData) -> dict[str, dict[Any, float]]:
    """The values ``build_extensive_form`` fixed (``sd.fixed``, rounded and within bounds):
    fixed variables are constants of the compiled model, so a solve's values lack them."""
    out: dict[str, dict[Any, float]] = {}
    for name in sd.fixed or {}:
        var: Any = getattr(m, name, None)
        if var is not None:
            out[name] = {index: float(var[index].value) for index in var}
    return out


def load_sample_start(m: Any, start: dict[str, dict[Any, float]], k: int) -> int:
    """Set the variables of ``m``, the EF of sample ``k`` alone (one block, ``sample_0``), to the
    full EF's values ``start`` (keys: full component names; ``sample_<k>.x`` is read into
    ``sample_0.x``), for a warm start; returns how many were set. Progressive hedging's
    sub-MIPs need it: from nothing, no sample's first sub-problem found a plan on the default
    (6 s each) or on the benchmark's M instance (30 s each)."""
    n = 0
    for var in m.component_objects(pyo.Var, descend_into=True):
        name = var.name
        key = f"sample_{k}." + name.split(".", 1)[1] if name.startswith("sample_0.") else name
        for index, value in (start.get(key) or {}).items():
            if index in var and not var[index].fixed:
                var[index].set_value(value, skip_validation=True)
                n += 1
    return n


def compile_named(m: Any) -> Compiled:
    """Compile for HiGHS with full component names as keys (blocks repeat local names)."""
    t0 = time.perf_counter()
    lp, columns, _rows, facts = compile_model(m)
    keys = [(v.parent_component().name, v.index()) for v in columns]
    return Compiled(lp, keys, facts, time.perf_counter() - t0)


def solve_extensive_form(sd: StochasticData, options: SolveOptions, elastic: bool = False
                         ) -> SolveResult:
    """Build and solve the EF in this process (the guarded child's job; ``elastic`` unused)."""
    t0 = time.perf_counter()
    m = build_extensive_form(sd)
    t1 = time.perf_counter()
    compiled = compile_named(m)
    fixed = fixed_values(m, sd)
    del m
    gc.collect()
    facts: dict[str, Any] = {}
    if options.lp_guided_start and options.start is None and compiled.facts["integer_columns"]:
        # the EF always gets the LP-guided start, whatever its size (HiGHS alone stalls on it)
        values, spent, facts = lp_guided_start(compiled.lp, compiled.keys, options)
        if values is None:
            t2 = time.perf_counter()
            values = rounding_start(compiled.lp, options)
            spent += time.perf_counter() - t2
            facts["rounding_start"] = values is not None
        if values is not None:
            start = _values(compiled.keys, np.asarray(values))
            options = dataclasses.replace(options, start=start,
                                          time_limit_s=max(options.time_limit_s - spent, 1.0))
    result = solve_compiled(compiled, options)
    if result.status.has_solution:
        result.values = {**result.values, **fixed}
    result.facts["start_heuristic"] = facts
    result.timings["build"] = t1 - t0
    result.facts["peak_rss_mib"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return result

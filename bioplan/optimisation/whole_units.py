"""The whole-unit pass: package whole units once the batches are chosen.

The main solve (``build_model(data)``) releases the units its batches grow, fractional. A unit
is a bag, so this pass fixes what the main solve decided — batches per slot and reactors added —
keeps only the slots that start a batch (each may gain one batch), and solves the ``packaging`` model on them
(``build_model(..., packaging=True)``): the cells to grow within those batches' working volumes,
the whole units each product's release-day pool packages (one integer per product and release
day) and the dispatch. The main solve is a relaxation of the whole-unit problem (drop the
integrality of the packaged units and ``k = Σ x``), so its bound stays a valid bound and the
plan's gap is measured against it.

On the benchmark's L instance the pass has a few hundred integer columns (the release days of the
batches) next to the main solve's tens of thousands; HiGHS closes it at the root.
"""

from __future__ import annotations

import contextlib
import dataclasses
import gc
import logging
import time
from collections.abc import Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any

import numpy as np

from bioplan.contracts import PlanStatus
from bioplan.optimisation.data import PlanData
from bioplan.optimisation.outcome import SolveOptions, SolveResult, relative_gap
from bioplan.optimisation.recourse import fefo_dispatch

log = logging.getLogger(__name__)

SHARE = 0.1
"""Share of the time limit kept for this pass [-] (the main solve gets the rest)."""
MIN_S = 3.0
"""Least time this pass gets [s]."""
GAP_SHARE = 0.25
"""The pass's own MIP stops at this share of the requested gap [-]."""
SLOT_VARS = ("slot_batches", "slot_units")
EXTRA_BATCHES = 1
"""Batches a used slot may gain in the restricted solve [batch]. Small models once let it use
every slot releasing on a release day of the main solve, batch counts free: on the media-searched
default (143 such slots, sub-unit bags) that solve took its whole 14.5 s and left a plan 16 %
above the bound, and the model over every slot, started from it, stayed there; started from the
bounded solve's plan it ends 3 % above (1,530,444 against 1,770,647 USD, 2026-12-02). On the
plain default the bounded solve is faster too (0.6 against 1.2 s) and cheaper (2,119,276
against 2,121,338 USD)."""
FULL_MAX_SLOTS = 2000
"""Models with at most this many slots then solve the whole-unit model over every slot, started
from the pass's plan, for a bound of the whole-unit problem itself (small models only: the
main solve's bound is that of fractional units, up to ~1.5 % lower on the default scenario)."""
SMALL_PASS_SHARE = 0.5
"""Share of this pass's time the restricted solve of a small model gets [-]; the model over
every slot gets the rest, for its bound (on ``platelets-only`` the restricted solve took 25 of
29 s to prove its own 0.25 % gap, leaving the bound-giving solve 4.6 s)."""


MAIN_GAP_SHARE = {True: 0.25, False: 0.75}
"""The main solve stops at this share of the requested gap [-] (small models: True; large:
False). Packaging whole units raises the objective a little above the main solve's, whose bound
is the plan's bound on large models; small ones get a bound of their own (the full pass)."""


def main_options(options: SolveOptions, data: PlanData) -> SolveOptions:
    """The main solve's options: the time limit less what this pass keeps, a tighter gap."""
    keep = SHARE * options.time_limit_s
    share = MAIN_GAP_SHARE[len(data.slot_day) <= FULL_MAX_SLOTS]
    return dataclasses.replace(options, time_limit_s=max(options.time_limit_s - keep, 0.5),
                               mip_gap=share * options.mip_gap)


def used_slots(values: dict[str, dict[Any, float]]) -> list[int]:
    """Slots that start at least one batch, ascending."""
    return sorted(int(s) for s, n in values.get("slot_batches", {}).items() if round(n) >= 1)


def restricted(data: PlanData, slots: list[int]) -> PlanData:
    """``data`` with only the slots ``slots`` (in that order)."""
    ix = np.asarray(slots, dtype=int)
    need = data.slot_batches_need[ix] if len(data.slot_batches_need) else data.slot_batches_need
    return dataclasses.replace(
        data, slot_option=data.slot_option[ix], slot_day=data.slot_day[ix],
        slot_units_max=data.slot_units_max[ix], slot_batches_max=data.slot_batches_max[ix],
        slot_batches_need=need)


def is_small(data: PlanData) -> bool:
    """Small models get one packaging model over every slot and a bound of their own."""
    return len(data.slot_day) <= FULL_MAX_SLOTS


def prebuild(data: PlanData) -> Future[Any] | None:
    """Small models: start building the packaging model over every slot on a thread, so it is
    ready when the main solve ends (it depends on ``data`` alone; HiGHS releases the GIL while
    it solves, so the build overlaps the main solve: ~35 ms of a ~0.7 s plan on the default).
    Large models (their packaging model depends on the main solve's slots): None."""
    if not is_small(data):
        return None
    pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="packaging")
    future = pool.submit(_compiled_packaging, data, None)
    pool.shutdown(wait=False)  # the thread ends with its one task
    return future


def package_whole_units(data: PlanData, options: SolveOptions, main: SolveResult,
                        time_limit_s: float, prebuilt: Future[Any] | None = None
                        ) -> SolveResult:
    """``main`` (a solved main model) with whole units packaged, or ``main`` unchanged (with
    ``facts["whole_units"]`` saying why) when the pass finds no plan in time. ``prebuilt``: the
    packaging model from :func:`prebuild`, if it was started."""
    from bioplan.optimisation.solve import solve_compiled

    t0 = time.perf_counter()
    small = is_small(data)
    slots = used_slots(main.values)
    used = main.values.get("slot_batches", {})
    ub = {s: min(round(used[s]) + EXTRA_BATCHES, float(data.slot_batches_max[s])) for s in slots}
    # small models: one packaging model over every slot, narrowed for the restricted solve and
    # whole again for the full one (one build and compile, not two); large: the used slots only
    full = None
    if small:
        full = prebuilt.result() if prebuilt is not None else _compiled_packaging(data, None)
    sub, index = (data, list(range(len(data.slot_day)))) if full is not None else (
        restricted(data, slots), slots)
    compiled = full if full is not None else _compiled_packaging(
        sub, {i: ub[s] for i, s in enumerate(slots)})
    build_s = time.perf_counter() - t0
    start = rounded_start(sub, {name: {i: main.values.get(name, {}).get(s, 0.0)
                                       for i, s in enumerate(index)} for name in SLOT_VARS})
    pass_s = SMALL_PASS_SHARE * time_limit_s if small else time_limit_s
    opts = dataclasses.replace(options, time_limit_s=max(pass_s, 1.0),
                               mip_gap=GAP_SHARE * options.mip_gap,
                               lp_guided_start=False, start=start, save_lp=None,
                               price_resources=False, keep_model=False)
    with _narrowed(full, ub) if full is not None else contextlib.nullcontext(compiled) as narrowed:
        second = solve_compiled(narrowed, opts)
    facts: dict[str, Any] = {"slots": len(slots), "fractional_objective_usd": main.objective_usd,
                             "status": str(second.status), "build_s": round(build_s, 3),
                             "highs_s": round(second.timings.get("solve", 0.0), 3),
                             "integer_columns": compiled.facts["integer_columns"]}
    main.timings["build"] = main.timings.get("build", 0.0) + build_s
    for key in ("transfer", "solve", "extract"):
        main.timings[key] = main.timings.get(key, 0.0) + second.timings.get(key, 0.0)
    if not second.status.has_solution or second.objective is None:
        log.warning("whole units: no plan in %.1f s (%s); the plan keeps fractional units",
                    time_limit_s, second.status)
        main.facts["whole_units"] = {**facts, "whole": False}
        return main
    main.values = _merged(second.values, index)
    bound = main.bound if main.bound is not None else second.bound
    main.objective = second.objective
    main.bound = min(bound, second.objective) if bound is not None else None
    left = time_limit_s - (time.perf_counter() - t0)
    if full is not None and left > 1.0:
        facts["full"] = _full(full, options, main, left)
    main.gap = relative_gap(main.objective, main.bound)
    if main.status is PlanStatus.OPTIMAL and (main.gap or 0.0) > 1e-9:
        main.status = PlanStatus.FEASIBLE  # the planner calls it optimal again within its gap
    main.facts["whole_units"] = {**facts, "whole": True, "objective_usd": second.objective_usd}
    log.info("whole units: %d slots, %s -> %s USD", len(slots),
             facts["fractional_objective_usd"], second.objective_usd)
    return main


@contextlib.contextmanager
def _narrowed(full: Any, ub: dict[int, float]) -> Iterator[Any]:
    """The compiled packaging model ``full`` with ``slot_batches[s] ≤ ub[s]`` and every other
    slot's batches at 0 (the restricted solve), for one solve: the two share one ``HighsLp``
    (it cannot be copied in Python; HiGHS copies it on ``passModel``), so ``full`` gets its own
    bounds back on leaving."""
    from bioplan.optimisation.compile import Compiled

    original = list(full.lp.col_upper_)
    upper = np.array(original, dtype=float)
    for j, (name, s) in enumerate(full.keys):
        if name == "slot_batches":
            upper[j] = min(upper[j], ub.get(int(s), 0.0))
    full.lp.col_upper_ = upper
    try:
        yield Compiled(lp=full.lp, keys=full.keys, facts=dict(full.facts), seconds=0.0)
    finally:
        full.lp.col_upper_ = original


def _compiled_packaging(data: PlanData, batches_ub: dict[int, float] | None) -> Any:
    """The ``packaging`` model of ``data`` compiled for HiGHS, ``slot_batches[i]`` bounded above
    by ``batches_ub[i]`` where given. The cyclic GC is paused while building and compiling (as
    for the main model, :func:`bioplan.optimisation.guard.gc_paused`): with the main solve's
    values alive, its collections cost 0.15-0.3 s of the pass's ~0.4 s on the benchmark's M."""
    from bioplan.optimisation.compile import compile_for_highs
    from bioplan.optimisation.model import build_model

    enabled = gc.isenabled()  # as guard.gc_paused, which this module cannot import (a cycle)
    gc.disable()
    try:
        m = build_model(data, packaging=True)
        for i, u in (batches_ub or {}).items():
            m.slot_batches[i].setub(u)
        return compile_for_highs(m, None)
    finally:
        if enabled:
            gc.enable()


def _merged(second: dict[str, dict[Any, float]], slots: list[int]) -> dict[str, dict[Any, float]]:
    """The pass's values with slot indexes mapped back to the main model's."""
    out = {name: dict(v) for name, v in second.items() if name not in SLOT_VARS}
    for name in SLOT_VARS:
        out[name] = {slots[int(i)]: u for i, u in second.get(name, {}).items()}
    return out


def _full(compiled: Any, options: SolveOptions, main: SolveResult, time_limit_s: float
          ) -> dict[str, Any]:
    """Solve the whole-unit model over every slot (``compiled``) from ``main``'s plan; adopt its
    plan (no dearer) and the larger of the two bounds. Returns facts."""
    from bioplan.optimisation.solve import solve_compiled

    opts = dataclasses.replace(options, time_limit_s=time_limit_s, lp_guided_start=False,
                               start=main.values, save_lp=None, price_resources=False,
                               keep_model=False)
    third = solve_compiled(compiled, opts)
    for key in ("transfer", "solve", "extract"):
        main.timings[key] = main.timings.get(key, 0.0) + third.timings.get(key, 0.0)
    facts = {"status": str(third.status), "objective_usd": third.objective_usd,
             "bound_usd": third.bound_usd,
             "highs_s": round(third.timings.get("solve", 0.0), 3)}
    if not third.status.has_solution or third.objective is None or main.objective is None:
        return facts
    if third.objective <= main.objective:
        main.values, main.objective = third.values, third.objective
    if third.bound is not None:
        main.bound = min(max(main.bound or third.bound, third.bound), main.objective)
    return facts


def rounded_start(data: PlanData, slots: dict[str, dict[Any, float]]
                  ) -> dict[str, dict[Any, float]]:
    """A whole-unit plan of the ``packaging`` model from the main solve's batches and cells
    (``slots``, indexed like ``data``'s slots): each release day packages ``⌈Σ x⌉`` units where
    its batches have room to grow the rest (else ``⌊Σ x⌋``), and the units are dispatched
    first-expiry-first (optimal for those releases, see
    :mod:`bioplan.optimisation.recourse`). Feasible unless a service level needs the rounded-off
    fractions; HiGHS checks it and improves on it."""
    values: dict[str, dict[Any, float]] = {k: dict(v) for k, v in slots.items()}
    packed = _round_up(data, values)
    values["cohort_packaged"] = packed
    for name in ("cohort_delivered", "cohort_left", "demand_short", "product_stock",
                 "product_short_total"):
        values[name] = {}
    for p, prod in data.products.items():
        released = dict(prod.fixed_release)
        for (q, c), k in packed.items():
            if q == p:
                released[c] = released.get(c, 0.0) + k
        days = np.array(sorted(released), dtype=int)
        d = fefo_dispatch(days, np.array([[released[int(c)] for c in days]], dtype=float),
                          np.asarray(prod.demand, dtype=float), prod.expiry_day(0),
                          prod.storage_capacity, detail=True)
        assert d.by_cohort is not None
        for k, c in enumerate(days):
            taken = d.by_cohort[0, k]
            for day in np.flatnonzero(taken > 0):
                values["cohort_delivered"][(p, int(c), int(day))] = float(taken[day])
            values["cohort_left"][(p, int(c))] = float(released[int(c)] - taken.sum())
        for t in range(data.horizon_days):
            if prod.demand[t] > 0:
                values["demand_short"][(p, t)] = float(d.short[0, t])
            if prod.storage_capacity is not None:
                values["product_stock"][(p, t)] = float(d.stock[0, t])
        values["product_short_total"][p] = float(d.short[0].sum())
    return values


def _round_up(data: PlanData, values: dict[str, dict[Any, float]]) -> dict[tuple[str, int], float]:
    """Whole units per release day, ``⌈Σ x⌉`` where the batches can grow it (``values``'
    ``slot_units`` raised into the batches' room up to ``u_max · n``), else ``⌊Σ x⌋``."""
    x, n = values.setdefault("slot_units", {}), values.get("slot_batches", {})
    pools: dict[tuple[str, int], list[Any]] = {}
    for s in n:
        key = (data.options[data.slot_option[s]].product, data.slot_release_day(s))
        pools.setdefault(key, []).append(s)
    packed: dict[tuple[str, int], float] = {}
    for key, members in pools.items():
        if key[1] >= data.horizon_days:
            continue
        grown = sum(x.get(s, 0.0) for s in members)
        room = {s: float(data.slot_units_max[s]) * round(n[s]) - x.get(s, 0.0) for s in members}
        want = float(np.ceil(grown - 1e-6))
        if want - grown > sum(max(r, 0.0) for r in room.values()) + 1e-9:
            want = float(np.floor(grown + 1e-6))
        extra = want - grown
        for s in members:
            add = min(max(room[s], 0.0), max(extra, 0.0))
            x[s] = x.get(s, 0.0) + add
            extra -= add
        packed[key] = want
    return packed

"""Starting points of the two-stage program: a plan's first stage as the program's integers, and
the starts HiGHS gets (the deterministic plan's batches fixed, or, for a chance constraint, the
first plan of an inflated demand that meets it).

A chance constraint is approximated by excusing a fixed set of ⌊(1 − C) K⌋ samples per product
(:func:`~bioplan.optimisation.chance.add_chance_constraints`); *which* samples matters. By
default those whose slots yield least on average are excused, which need not be the samples a
given plan serves worst (a sample can yield little in slots no plan uses). A start therefore
chooses them itself: its batches fixed, the recourse is solved without the service rows, and
the samples it serves worst are the excused ones (:func:`served_worst`). Any fixed choice keeps
the approximation conservative, and the start is feasible for the one it chose.
"""

from __future__ import annotations

import dataclasses
import logging
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from bioplan.optimisation.chance import (
    AS_PLANNED,
    EXCESS_TOL,
    allowance,
    block_name,
    service_levels,
)
from bioplan.optimisation.guard import solve_guarded
from bioplan.optimisation.lot_segments import segments_opened
from bioplan.optimisation.stochastic import StochasticData, solve_extensive_form

if TYPE_CHECKING:
    from collections.abc import Callable

    from bioplan.optimisation import SolveOptions
    from bioplan.optimisation.data import PlanData
    from bioplan.results.plan import Plan

log = logging.getLogger(__name__)


def slot_units_of(plan: Plan, data: PlanData) -> dict[int, list[float]]:
    """Per slot (option, seeding day) of the program, the units each of ``plan``'s batches seeded
    there grows at nominal yield, ``seed cells / seed cells per unit`` [unit]. Not its packaged
    ``product_units``: batches released on one day fill bags from one pool, so the table gives
    whole bags to some batches and none to others, and segments opened from those would ask a
    batch for more than its vessel grows."""
    where = {(data.options[j].name, int(d)): s
             for s, (j, d) in enumerate(zip(data.slot_option, data.slot_day, strict=True))}
    out: dict[int, list[float]] = {}
    for _batch_id, rows in plan.batches.sort_values("start_day").groupby(level="batch_id"):
        route = "+".join(str(t) for t in rows["reactor_type"])
        s = where.get((f"{rows['recipe'].iloc[0]}@{route}", int(rows["start_day"].min())))
        if s is not None:
            per_unit = data.options[data.slot_option[s]].seed_cells_per_unit
            out.setdefault(s, []).append(float(rows["seed_cells"].iloc[0]) / per_unit)
    return out


def plan_integers(plan: Plan, data: PlanData, segment_units: np.ndarray | None = None
                  ) -> dict[str, dict[Any, float]]:
    """A plan's integer first stage in the program's columns: batches per slot (option, seeding
    day), reactors added per type and, with ``segment_units`` (S, G) [unit], the lot segments its
    units open (:func:`~bioplan.optimisation.lot_segments.segments_opened`)."""
    units = slot_units_of(plan, data)
    # a plan of more demand (chance_start) may run more batches than the program's slot bound,
    # what the samples can use at all (relaxed_bounds); those extra batches are dominated
    cap = data.slot_batches_max
    batches: dict[Any, float] = {s: float(min(len(u), cap[s])) for s, u in units.items()}
    added = {str(t): float(n) for t, n in plan.capacity["units_added"].items()}
    out = {"slot_batches": batches, "reactor_added": added}
    if segment_units is not None:
        out["slot_segment_open"] = segments_opened(
            segment_units, {s: sum(sorted(u, reverse=True)[:int(cap[s])]) for s, u in units.items()})
    return out


def deterministic_start(sd: StochasticData, deterministic: Plan | None, options: SolveOptions,
                        guard_s: float) -> dict[str, dict[Any, float]] | None:
    """A starting solution of the program: the deterministic plan's batches and reactors fixed,
    the rest (units, every sample's recourse) solved as an LP; None if that is infeasible (a
    chance constraint the deterministic plan misses)."""
    if deterministic is None or not deterministic.has_solution:
        return None
    integers = plan_integers(deterministic, sd.base, sd.segment_units)
    fixed = dataclasses.replace(sd, fixed=integers)
    quick = dataclasses.replace(options, lp_guided_start=False,
                                time_limit_s=max(5.0, options.time_limit_s / 5))
    res = solve_guarded(fixed, quick, guard_s, solve=solve_extensive_form)
    if not res.status.has_solution:
        return None
    return res.values


def short_units(sd: StochasticData, values: dict[str, dict[Any, float]]
                ) -> dict[str, dict[int, float]]:
    """Per product and sample (``AS_PLANNED``: the plan as planned, when the program has that
    block), the units short in a solution ``values`` of the program [unit]."""
    rows = [*range(sd.samples), *([AS_PLANNED] if sd.nominal_block else [])]
    out: dict[str, dict[int, float]] = {p: dict.fromkeys(rows, 0.0) for p in sd.base.products}
    for k in rows:
        for (p, _day), x in values.get(f"{block_name(k)}.demand_short", {}).items():
            out[p][k] += x
    return out


def served_worst(sd: StochasticData, short: dict[str, dict[int, float]]) -> dict[str, set[int]]:
    """Per product, the ⌊(1 − C) K⌋ samples with the most units ``short`` (ties: the lower
    sample), the ones to excuse from its service level (the plan as planned never is)."""
    n = sd.allowed_misses()
    out: dict[str, set[int]] = {}
    for p, by_sample in short.items():
        s = np.array([by_sample[k] for k in range(sd.samples)])
        out[p] = {int(k) for k in np.argsort(-s, kind="stable")[:n]} if n else set()
    return out


def excess_units(sd: StochasticData, short: dict[str, dict[int, float]], excused: dict[str, set[int]]
                 ) -> dict[tuple[int, str], float]:
    """Units short beyond the allowance (:func:`~bioplan.optimisation.chance.allowance`) in each
    counted (not ``excused``) sample and product with a target: the chance rows' excess (none:
    the constraint holds) [unit]."""
    out: dict[tuple[int, str], float] = {}
    for p, level in service_levels(sd).items():
        if level <= 0:
            continue
        for k, x in short[p].items():
            allowed = allowance(sd, p, k, level)
            if k not in excused.get(p, ()) and x > allowed + EXCESS_TOL:
                out[(k, p)] = float(x - allowed)
    return out


@dataclass
class ChanceStart:
    """A plan's first stage as a start of a chance-constrained program (:func:`excusing_start`)."""

    values: dict[str, dict[Any, float]]
    """The start (the plan's integers, its units and every sample's recourse)."""
    data: StochasticData
    """The program with the samples the start serves worst excused."""
    short: dict[str, dict[int, float]]
    """Units short per product and sample (:func:`short_units`) [unit]."""
    excess: dict[tuple[int, str], float]
    """Units short beyond the allowance per (sample, product) it still leaves [unit]."""

    @property
    def meets(self) -> bool:
        return not self.excess


def excusing_start(sd: StochasticData, plan: Plan | None, options: SolveOptions, guard_s: float
                   ) -> ChanceStart | None:
    """``plan``'s batches and reactors as a start of the chance-constrained program ``sd``: its
    recourse solved without the samples' service rows, the ⌊(1 − C) K⌋ samples it serves worst per product
    excused, and the excess it leaves in the others (a start of the elastic program when there is
    some). None if the plan cannot be fixed in the program at all."""
    # every sample excused: only the plan-as-planned row stays, elastic, so its recourse is solved
    # for service too (that block has probability 0: nothing else asks it to deliver)
    every = {p: set(range(sd.samples)) for p in sd.base.products}
    free = dataclasses.replace(sd, excused=every, elastic=True)
    values = deterministic_start(free, plan, options, guard_s)
    if values is None:
        return None
    short = short_units(sd, values)
    excused = served_worst(sd, short)
    excess = excess_units(sd, short, excused)
    log.info("chance constraint: excused samples %s (the start serves them worst), excess %.3g units",
             {p: sorted(k) for p, k in excused.items()}, sum(excess.values()))
    values = {k: v for k, v in values.items() if k != "chance_excess"}
    if sd.elastic:
        values["chance_excess"] = dict(excess)
    return ChanceStart(values, dataclasses.replace(sd, excused=excused), short, excess)


INFLATION = (1.1, 1.25, 1.5)
"""Demand factors of the deterministic plans tried, in order, as the start of a chance-constrained
program whose own deterministic plan misses the constraint [-]."""


def chance_start(sd: StochasticData, options: SolveOptions, guard_s: float,
                 inflated: Callable[[float], Plan]
                 ) -> tuple[dict[str, dict[Any, float]] | None, float | None, StochasticData]:
    """The first deterministic plan of an inflated demand (``INFLATION``) whose batches and
    reactors, fixed in the program, meet its chance constraint: a start HiGHS then improves.

    Without one, HiGHS must find a first plan that meets the constraint in every counted sample
    on its own, and on the default it found none in 60 s (docs/robust.md). Planning for more
    demand than forecast is the engineer's own hedge; the program then trims what it does not
    need. Returns (start, its demand factor, ``sd`` with the samples the start serves worst
    excused, :func:`excusing_start`), or (None, None, ``sd``) if no factor's plan meets it."""
    runs = 0
    for factor in INFLATION:
        candidate = inflated(factor)
        n = (candidate.batches.index.get_level_values("batch_id").nunique()
             if candidate.has_solution else 0)
        if n <= runs:  # no more batches than the last factor's: the fleet or the lots are full
            log.info("chance-constraint start: demand x %.2f plans no more batches; stop", factor)
            break
        runs = n
        found = excusing_start(sd, candidate, options, guard_s)
        met = found is not None and found.meets
        log.info("chance-constraint start from demand x %.2f: %s", factor,
                 "found" if met else "misses the constraint")
        if found is not None and met:
            return found.values, factor, found.data
    return None, None, sd




REPAIR_ROUNDS = 4
"""Re-plans of :func:`repair_start` at most [-]."""


def missing_by_day(start: ChanceStart) -> dict[tuple[str, int], float]:
    """Per (product, day), the most units a counted sample over its allowance lacks that day,
    its day's share of the excess: ``max_k short[k,p,d] · e[k,p] / Σ_d short[k,p,d]`` [unit]."""
    out: dict[tuple[str, int], float] = {}
    for (k, p), e in start.excess.items():
        for (q, d), x in start.values.get(f"{block_name(k)}.demand_short", {}).items():
            if q == p and x > 0:
                out[(p, d)] = max(out.get((p, d), 0.0), x * e / start.short[p][k])
    return out


def repair_start(sd: StochasticData, start: ChanceStart, options: SolveOptions, guard_s: float,
                 replan: Callable[[dict[tuple[str, int], float]], Plan]) -> ChanceStart:
    """A start that meets the chance constraint, or the closest found: the units the counted
    samples still lack on each day (:func:`missing_by_day`) are added to the demand of that day
    and the deterministic plan of the raised demand (``replan(extra)``) is tried in the program,
    up to ``REPAIR_ROUNDS`` times or until a round comes no closer. Where inflating every day's demand overshoots (more batches
    than the fleet holds) this asks only for what the program's samples miss."""
    extra: dict[tuple[str, int], float] = {}
    best = start
    for _ in range(REPAIR_ROUNDS):
        for key, x in missing_by_day(best).items():
            extra[key] = extra.get(key, 0.0) + x
        found = excusing_start(sd, replan(dict(extra)), options, guard_s)
        log.info("chance-constraint repair (+%.3g units of demand): excess %s", sum(extra.values()),
                 "-" if found is None else f"{sum(found.excess.values()):.3g} units")
        if found is None or sum(found.excess.values()) >= sum(best.excess.values()):
            break  # no closer: raising more demand there only restructures the plan (a full fleet)
        best = found
        if found.meets:
            break
    return best


def program_start(sd: StochasticData, deterministic: Plan | None,
                  options: SolveOptions, guard_s: float,
                  inflated: Callable[[float], Plan] | None = None,
                  replan: Callable[[dict[tuple[str, int], float]], Plan] | None = None
                  ) -> tuple[dict[str, dict[Any, float]] | None, str | None, StochasticData]:
    """(start, what it is, the program to solve), for either engine (``ph`` warm-starts each
    sample's sub-MIPs from it: from nothing they found no plan on the default).

    Expected cost (and CVaR): the deterministic plan's batches fixed. A chance constraint: the
    program is elastic (``sd.elastic``) and its excused samples are the start's worst served; the
    start is the deterministic plan if it meets the constraint, else the first plan of an
    inflated demand that does (:func:`chance_start`), else a plan of the demand raised where the
    samples fall short (:func:`repair_start`, with ``replan``), else the closest of them with its
    excess, for HiGHS to improve on (a plan that keeps any excess is no plan)."""
    if sd.confidence is None:
        start = deterministic_start(sd, deterministic, options, guard_s)
        return start, ("deterministic plan" if start is not None else None), sd
    sd = dataclasses.replace(sd, elastic=True)
    found = excusing_start(sd, deterministic, options, guard_s)
    if found is not None and found.meets:
        return found.values, "deterministic plan", found.data
    if inflated is not None:
        start, factor, chosen = chance_start(sd, options, guard_s, inflated)
        if start is not None:
            return start, f"deterministic plan of demand x {factor:g}", chosen
    if found is not None and replan is not None:
        found = repair_start(sd, found, options, guard_s, replan)
        if found.meets:
            return found.values, "deterministic plan of the demand raised where samples fall short", found.data
    if found is not None:
        return found.values, "the closest plan tried, short of the chance constraint", found.data
    return None, None, sd

"""What robustness costs and buys, estimated out of sample with fresh samples.

On fresh lot-level draws of :func:`bioplan.robust.evaluate.evaluate` (seed
``unc.seed + FRESH_SEED_OFFSET``, ``EVALUATION_SAMPLES`` of them; each batch its own lots), with
every plan's first stage fixed and the second stage re-dispatched optimally (first-expiry-first):

- ``price_of_robustness_usd`` = cost of the robust plan as planned − cost of the deterministic
  plan as planned [USD] (what the extra batches cost if yields came in nominal);
- ``vss_usd`` (value of the stochastic solution) = E[cost of the deterministic plan] −
  E[cost of the robust plan] [USD], with its standard error (``√(var(d) / n)`` of the
  per-sample differences d: exact for paired and for independent draws alike);
- ``evpi_usd`` (expected value of perfect information) = E[cost of the robust plan] −
  E[wait-and-see cost] [USD], where the wait-and-see cost of a sample is the optimum of the
  program with that one sample (an MIP per sample, ``EVPI_SAMPLES`` fresh samples of the
  program's own sampling model), with its standard error;

and, beside them, both plans' out-of-sample service (mean and P10 per product) from the same
evaluations.
"""

from __future__ import annotations

import dataclasses
from typing import TYPE_CHECKING, Any

import numpy as np

from bioplan.optimisation import SolveOptions
from bioplan.optimisation.data import USD_SCALE, PlanData
from bioplan.results.evaluation import standard_error
from bioplan.results.kpis import finite_or_none
from bioplan.robust.evaluate import dispatch, evaluate, first_stage_usd, product_inputs
from bioplan.robust.kept import kept_factors, sample_releases, with_kept
from bioplan.robust.samples import (
    Grid,
    batch_slot_factors,
    batch_table,
    factor_grid,
    pick,
    slot_keys,
)

if TYPE_CHECKING:
    import pandas as pd

    from bioplan.optimisation.stochastic import StochasticData
    from bioplan.results.evaluation import Evaluation
    from bioplan.results.plan import Plan
    from bioplan.scenario.schema import Uncertainty

FRESH_SEED_OFFSET = 1_000_003
"""Fresh samples come from seed + this (never the program's own draws)."""
EVALUATION_SAMPLES = 500
"""Fresh samples for the VSS and the out-of-sample service."""
EVPI_SAMPLES = 5
"""Fresh samples (one MIP each) for the EVPI."""


def sample_costs(plan: Plan, grid: Grid, samples: int, kept: pd.DataFrame | None = None,
                 seed: int = 0) -> np.ndarray:
    """(samples,) total cost of ``plan`` in each sample of ``grid`` [USD] (optimal recourse);
    the ``kept`` batches release their forecast draws under ``seed`` (:mod:`bioplan.robust.kept`)."""
    table = batch_table(plan.batches)
    factors = program_factors(plan, table, grid, samples, kept, seed)
    total = np.full(samples, first_stage_usd(plan))
    for inp in product_inputs(plan.scenario, table, factors).values():
        d = dispatch(inp)
        total += inp.shortage_usd * d.short.sum(axis=1) + inp.waste_usd * (
            d.expired.sum(axis=1) + d.discarded.sum(axis=1))
    return total


def program_factors(plan: Plan, table: pd.DataFrame, grid: Grid, samples: int,
                    kept: pd.DataFrame | None = None, seed: int = 0) -> np.ndarray:
    """(samples, batches) yield factors of ``table`` (:func:`batch_table` of ``plan``) under the
    program's sampling model: new batches their slot's draw in ``grid``, kept batches with a
    forecast spread their own forecast draw under ``seed``, other kept batches 1 [-]."""
    factors = batch_slot_factors(plan.scenario, table, grid, samples)
    return factors if kept is None else with_kept(table.index, factors, kept, samples, seed)


def _estimate(diff: np.ndarray) -> tuple[float | None, float | None]:
    return finite_or_none(float(diff.mean())), finite_or_none(standard_error(diff))


def wait_and_see(data: PlanData, factors: np.ndarray, options: SolveOptions, guard_s: float,
                 releases: dict[str, dict[int, np.ndarray]] | None = None) -> np.ndarray:
    """(samples,) optimal cost knowing each sample (a row of ``factors``, (samples, S)) in
    advance [USD] (NaN if unsolved): the expected-cost program with that one sample (EF);
    ``releases``: the fixed batches' releases per sample (``StochasticData.fixed_releases``)."""
    from bioplan.optimisation.stochastic import StochasticData, relaxed_bounds

    out = np.full(factors.shape[0], np.nan)
    for k in range(factors.shape[0]):
        sd = StochasticData(base=relaxed_bounds(data, factors[k:k + 1]), factors=factors,
                            probabilities=np.full(len(factors), 1.0 / len(factors)),
                            fixed_releases=releases)
        out[k] = wait_and_see_program(sd, options, guard_s, [k])[0]
    return out


def wait_and_see_program(sd: StochasticData, options: SolveOptions, guard_s: float,
                         samples: list[int] | None = None) -> np.ndarray:
    """(len(samples),) the optimum of the expected-cost program ``sd`` restricted to each one of
    its ``samples`` (default all) [USD] (NaN if unsolved): the wait-and-see costs."""
    from bioplan.optimisation.guard import solve_guarded
    from bioplan.optimisation.stochastic import solve_extensive_form

    quick = dataclasses.replace(options, start=None, time_limit_s=max(5.0, options.time_limit_s / 4))
    chosen = list(range(sd.samples)) if samples is None else samples
    out = np.full(len(chosen), np.nan)
    for i, k in enumerate(chosen):
        mine = ({p: {c: u[k:k + 1] for c, u in cohorts.items()}
                 for p, cohorts in sd.fixed_releases.items()} if sd.fixed_releases else None)
        seg = None if sd.segment_factors is None else sd.segment_factors[k:k + 1]
        one = dataclasses.replace(sd, factors=sd.factors[k:k + 1], segment_factors=seg,
                                  probabilities=np.ones(1), nominal_block=False,
                                  fixed_releases=mine, service_level=None, confidence=None,
                                  product_levels=None, cvar_alpha=None, cvar_weight=0.0,
                                  excused=None, fixed=None)
        res = solve_guarded(one, quick, guard_s, solve=solve_extensive_form)
        if res.status.has_solution and res.objective is not None:
            out[i] = res.objective * USD_SCALE
    return out


def service_table(robust: Plan, deterministic: Plan, seed: int, samples: int,
                  kept: pd.DataFrame | None = None) -> dict[str, dict[str, float | None]]:
    """Per product: out-of-sample service mean and P10 of both plans (same seed; the ``kept``
    batches drawn from their forecasts in both)."""
    kind = (robust.robust or {}).get("yield_uncertainty")  # the deterministic plan draws the same
    return services(evaluate(robust, samples=samples, seed=seed, kept=kept),
                    evaluate(deterministic, samples=samples, seed=seed, kept=kept,
                             uncertainty=None if kind is None else str(kind)))


def services(ev_r: Evaluation, ev_d: Evaluation) -> dict[str, dict[str, float | None]]:
    """Per product: service mean and P10 of the robust (``ev_r``) and deterministic evaluation."""
    pr, pd_ = ev_r.products(), ev_d.products()
    out = {}
    for p in pr.index:
        out[str(p)] = {
            "robust_mean": finite_or_none(pr.loc[p, "service_level_mean"]),
            "robust_p10": finite_or_none(pr.loc[p, "service_level_p10"]),
            "deterministic_mean": finite_or_none(pd_.loc[p, "service_level_mean"]),
            "deterministic_p10": finite_or_none(pd_.loc[p, "service_level_p10"]),
        }
    return out


def slot_program(plan: Plan, data: PlanData, unc: Uncertainty, samples: int, seed: int,
                 kept: pd.DataFrame | None = None) -> StochasticData:
    """The expected-cost program over ``samples`` slot draws (one per recipe and seeding day)."""
    from bioplan.optimisation.stochastic import StochasticData, relaxed_bounds

    sc = plan.scenario
    keys = slot_keys(data, sc)
    grid = factor_grid(sc, sc.recipe_table(), [k[0] for k in keys], samples, seed, unc.yield_cv,
                       uncertainty=unc.yield_uncertainty)
    factors = pick(grid, keys, samples)
    releases = (sample_releases(data, kept, kept_factors(kept, samples, seed))
                if kept is not None and not kept.empty else None)
    return StochasticData(base=relaxed_bounds(data, factors), factors=factors,
                          probabilities=np.full(samples, 1.0 / samples), fixed_releases=releases)


def robust_metrics(robust: Plan, deterministic: Plan, unc: Uncertainty, data: PlanData,
                   options: SolveOptions, guard_s: float, *,
                   evaluation_samples: int = EVALUATION_SAMPLES,
                   evpi_samples: int = EVPI_SAMPLES,
                   kept: pd.DataFrame | None = None,
                   program: StochasticData | None = None) -> dict[str, Any]:
    """The ``plan.robust`` figures (see the module docstring), JSON-safe; ``kept``: kept batches
    drawn from their forecasts in every fresh sample (:mod:`bioplan.robust.kept`); ``program``:
    the expected-cost program over fresh samples of the robust plan's own sampling model, for
    the wait-and-see costs (default: one draw per slot)."""
    fresh = unc.seed + FRESH_SEED_OFFSET
    kind = unc.yield_uncertainty  # the deterministic plan has no robust record to read it from
    ev_r = evaluate(robust, samples=evaluation_samples, seed=fresh, kept=kept, uncertainty=kind)
    ev_d = evaluate(deterministic, samples=evaluation_samples, seed=fresh, kept=kept,
                    uncertainty=kind)
    cost_r = ev_r.costs["cost_usd"].to_numpy(dtype=float)
    cost_d = ev_d.costs["cost_usd"].to_numpy(dtype=float)
    vss, vss_se = _estimate(cost_d - cost_r)
    if program is None:
        program = slot_program(robust, data, unc, evpi_samples, fresh, kept)
    ws = wait_and_see_program(program, options, guard_s,
                              list(range(min(evpi_samples, program.samples))))
    ok = np.isfinite(ws)
    evpi = evpi_se = None
    if ok.any():
        evpi = finite_or_none(float(cost_r.mean() - ws[ok].mean()))
        se = [np.nan if v is None else v for v in (standard_error(cost_r), standard_error(ws[ok]))]
        evpi_se = finite_or_none(float(np.hypot(se[0], se[1])))
    det_usd = deterministic.objective_usd
    rob_usd = robust.objective_usd
    price = (rob_usd - det_usd) if det_usd is not None and rob_usd is not None else None
    return {
        "deterministic_objective_usd": finite_or_none(det_usd),
        "price_of_robustness_usd": finite_or_none(price),
        "vss_usd": vss, "vss_se_usd": vss_se,
        "evpi_usd": evpi, "evpi_se_usd": evpi_se, "evpi_samples": int(ok.sum()),
        "expected_cost_out_of_sample_usd": finite_or_none(float(cost_r.mean())),
        "deterministic_expected_cost_out_of_sample_usd": finite_or_none(float(cost_d.mean())),
        "evaluation_samples": evaluation_samples,
        "service": services(ev_r, ev_d),
    }

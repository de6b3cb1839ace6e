"""What robustness costs and buys, estimated out of sample with fresh samples.

On fresh draws of the program's own sampling model (seed ``unc.seed + FRESH_SEED_OFFSET``; batches
of one recipe and seeding day share a draw), with every plan's first stage fixed and the second
stage re-dispatched optimally (first-expiry-first):

- ``price_of_robustness_usd`` = cost of the robust plan as planned − cost of the deterministic
  plan as planned [USD] (what the extra batches cost if yields came in nominal);
- ``vss_usd`` (value of the stochastic solution) = E[cost of the deterministic plan] −
  E[cost of the robust plan] [USD], paired over the same samples, with its standard error;
- ``evpi_usd`` (expected value of perfect information) = E[cost of the robust plan] −
  E[wait-and-see cost] [USD], where the wait-and-see cost of a sample is the optimum of the
  program with that one sample (an MIP per sample, ``EVPI_SAMPLES`` of them), with its standard
  error;

and, beside them, both plans' out-of-sample service (mean and P10 per product) from
:func:`bioplan.robust.evaluate.evaluate` (lot-level draws, ``EVALUATION_SAMPLES`` of them).
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
    from bioplan.optimisation.guard import solve_guarded
    from bioplan.optimisation.stochastic import (
        StochasticData,
        relaxed_bounds,
        solve_extensive_form,
    )

    quick = dataclasses.replace(options, start=None, time_limit_s=max(5.0, options.time_limit_s / 4))
    out = np.full(factors.shape[0], np.nan)
    for k in range(factors.shape[0]):
        mine = ({p: {c: u[k:k + 1] for c, u in cohorts.items()}
                 for p, cohorts in releases.items()} if releases else None)
        sd = StochasticData(base=relaxed_bounds(data, factors[k:k + 1]), factors=factors[k:k + 1],
                            probabilities=np.ones(1), nominal_block=False, fixed_releases=mine)
        res = solve_guarded(sd, quick, guard_s, solve=solve_extensive_form)
        if res.status.has_solution and res.objective is not None:
            out[k] = res.objective * USD_SCALE
    return out


def service_table(robust: Plan, deterministic: Plan, seed: int, samples: int,
                  kept: pd.DataFrame | None = None) -> dict[str, dict[str, float | None]]:
    """Per product: out-of-sample service mean and P10 of both plans (same seed; the ``kept``
    batches drawn from their forecasts in both)."""
    ev_r = evaluate(robust, samples=samples, seed=seed, kept=kept)
    ev_d = evaluate(deterministic, samples=samples, seed=seed, kept=kept)
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


def robust_metrics(robust: Plan, deterministic: Plan, unc: Uncertainty, data: PlanData,
                   options: SolveOptions, guard_s: float, *,
                   evaluation_samples: int = EVALUATION_SAMPLES,
                   evpi_samples: int = EVPI_SAMPLES,
                   kept: pd.DataFrame | None = None) -> dict[str, Any]:
    """The ``plan.robust`` figures (see the module docstring), JSON-safe; ``kept``: kept batches
    drawn from their forecasts in every fresh sample (:mod:`bioplan.robust.kept`)."""
    sc = robust.scenario
    fresh = unc.seed + FRESH_SEED_OFFSET
    keys = slot_keys(data, sc)
    names = sorted({str(r) for p in (robust, deterministic) for r in p.batches["recipe"]}
                   | {k[0] for k in keys})
    grid = factor_grid(sc, sc.recipe_table(), names, evaluation_samples, fresh, unc.yield_cv)
    cost_r = sample_costs(robust, grid, evaluation_samples, kept, fresh)
    cost_d = sample_costs(deterministic, grid, evaluation_samples, kept, fresh)
    vss, vss_se = _estimate(cost_d - cost_r)
    n = min(evpi_samples, evaluation_samples)
    releases = (sample_releases(data, kept, kept_factors(kept, evaluation_samples, fresh)[:n])
                if kept is not None and not kept.empty else None)
    ws = wait_and_see(data, pick(grid, keys, evaluation_samples)[:n], options, guard_s, releases)
    ok = np.isfinite(ws[:n])
    evpi, evpi_se = _estimate((cost_r[:n] - ws[:n])[ok]) if ok.any() else (None, None)
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
        "service": service_table(robust, deterministic, fresh, evaluation_samples, kept),
    }

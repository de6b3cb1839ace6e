"""A calibrated sample-average chance constraint: in-sample service levels chosen out of sample.

A robust plan's chance constraint holds *in sample* (K draws of the program's sampling model);
out of sample its P10 service can be much lower when K draws do not pin the yield spread's tail
down. :func:`calibrate` treats each product's in-sample service level ``P_p`` as a safety margin
and picks it by bisection so that the plan's **out-of-sample** P10 service reaches the target:

1. for each product with demand, in turn (the levels already chosen stay fixed, products not yet
   calibrated have none), probe
   ``P_p = target``, then bisect ``[lo, hi]`` (start ``[0, 1]``): solve the program with the levels,
   evaluate the plan on ``calibration_samples`` fresh lot-level samples (seed
   ``unc.seed + CALIBRATION_SEED_OFFSET``); a P10 at or above the target lowers ``hi`` (a cheaper
   level may do), one below it, or an infeasible program, moves the bound the other way
   (``lo`` up when the P10 falls short, ``hi`` down when infeasible);
2. the product keeps the lowest level whose P10 met the target, or, if none did, the level whose
   P10 came closest (the lowest such; ``attained`` False: the target is out of reach of this
   program — the P10 need not grow with the level, the plans differ);
3. the final plan is solved with those levels and **validated on other fresh samples** (seed
   ``unc.seed + VALIDATION_SEED_OFFSET``), so the reported P10 is not the one the levels were
   tuned on.

Every probe is a row of ``Calibration.steps``. The bisection assumes the P10 grows with the level
(more required service, more batches); it need not (measured on the default: RBC P10 0.875 at
level 0.47, 0.825 at 0.70), and every probe stays in the table as measured.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import pandas as pd

from bioplan.robust.evaluate import evaluate
from bioplan.robust.plan import robust_plan

if TYPE_CHECKING:
    from bioplan.optimisation import SolveOptions
    from bioplan.results.plan import Plan
    from bioplan.scenario import Scenario
    from bioplan.scenario.schema import Uncertainty

log = logging.getLogger(__name__)

CALIBRATION_SEED_OFFSET = 2_000_003
"""Fresh samples the levels are tuned on come from seed + this."""
VALIDATION_SEED_OFFSET = 3_000_017
"""Fresh samples the final plan is validated on come from seed + this (never the tuning ones)."""


@dataclass
class Calibration:
    """The outcome of :func:`calibrate`."""

    target: float
    """Out-of-sample P10 service wanted for every product with demand [-]."""
    levels: dict[str, float]
    """In-sample service level chosen per product [-]."""
    attained: dict[str, bool]
    """Whether some probed level reached the target on the tuning samples, per product."""
    plan: Plan | None
    """The plan solved with ``levels`` (None if that program had no solution)."""
    validation: dict[str, dict[str, float]] = field(default_factory=dict)
    """Per product: ``p10`` and ``mean`` service of ``plan`` on the validation samples [-]."""
    steps: pd.DataFrame = field(default_factory=pd.DataFrame)
    """One row per probe (index ``probe``): product, level, status, cost_usd (the plan as
    planned), expected_cost_usd (the program's objective), p10:<product>."""


def _p10s(plan: Plan, samples: int, seed: int, unc: Uncertainty) -> dict[str, dict[str, float]]:
    table = evaluate(plan, samples=samples, seed=seed, yield_cv=unc.yield_cv,
                     uncertainty=unc.yield_uncertainty).products()
    return {str(p): {"p10": float(table.loc[p, "service_level_p10"]),
                     "mean": float(table.loc[p, "service_level_mean"])} for p in table.index}


def calibrate(scenario: Scenario, unc: Uncertainty, target: float, options: SolveOptions,
              guard_s: float, *, deterministic: Plan | None = None, steps: int = 5,
              calibration_samples: int = 500, pooled: bool = False) -> Calibration:
    """Choose each product's in-sample service level so that the out-of-sample P10 reaches
    ``target`` (see the module docstring); ``steps`` probes per product; ``pooled`` passes on to
    :func:`~bioplan.robust.plan.robust_plan` (slot draws pool the deterministic plan's lots)."""
    products = [p for p, d in scenario.demand_table()["units"].groupby(level="product").sum().items()
                if d > 0]
    seed = unc.seed + CALIBRATION_SEED_OFFSET
    levels: dict[str, float] = dict.fromkeys(products, 0.0)  # 0: no chance constraint yet
    attained: dict[str, bool] = {}
    rows: list[dict[str, Any]] = []

    def probe(product: str, level: float) -> dict[str, dict[str, float]] | None:
        p = robust_plan(scenario, unc, options, guard_s, deterministic=deterministic,
                        metrics=False, levels=levels | {product: level}, pooled=pooled)
        service = _p10s(p, calibration_samples, seed, unc) if p.has_solution else None
        rows.append({"product": product, "level": level, "status": str(p.status),
                     "cost_usd": p.objective_usd,
                     "expected_cost_usd": (p.robust or {}).get("expected_cost_usd"),
                     **{f"p10:{q}": (service or {}).get(q, {}).get("p10") for q in products}})
        log.info("calibrate %s level %.4f: %s, P10 %s", product, level, p.status,
                 None if service is None else service[product]["p10"])
        return service

    for product in products:
        lo, hi = 0.0, 1.0
        best: float | None = None
        fallback = (-1.0, 0.0)  # (P10, -level) of the best probe that fell short
        for k in range(steps):
            level = target if k == 0 else (lo + hi) / 2
            service = probe(product, level)
            if service is None:
                hi = level
            elif service[product]["p10"] >= target:
                best, hi = level, level
            else:
                lo = level
                fallback = max(fallback, (service[product]["p10"], -level))
        attained[product] = best is not None
        levels[product] = best if best is not None else -fallback[1]
    final = robust_plan(scenario, unc, options, guard_s, deterministic=deterministic,
                        metrics=False, levels=levels, pooled=pooled)
    validation = (_p10s(final, calibration_samples, unc.seed + VALIDATION_SEED_OFFSET, unc)
                  if final.has_solution else {})
    steps_table = pd.DataFrame(rows).rename_axis("probe")
    return Calibration(target=target, levels=levels, attained=attained,
                       plan=final if final.has_solution else None, validation=validation,
                       steps=steps_table)

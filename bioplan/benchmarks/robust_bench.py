"""The robust-planning benchmark: the stochastic program on the default scenario and the generated
instances, and the out-of-sample evaluation of the L plan."""

from __future__ import annotations

import resource
import time
from typing import Any

from bioplan.benchmarks.instances import SIZES, generate

GENERATED_CV = {"gen-erythroid": 0.3, "gen-mk": 0.3}
"""Lot-to-lot yield spread of the generated instances' hand-made recipes [-] (assumption: the
size of the spread of a card's ``variability:`` section after pooling)."""


def instance(name: str) -> Any:
    """The default scenario (``default``) or a generated instance (``S``, ``M``, ``L``)."""
    from bioplan.scenario import load_scenario

    return load_scenario(None) if name == "default" else generate(name)


def bench_robust(name: str, *, samples: int = 20, engine: str = "ef",
                 time_limit_s: float = 60.0, mip_gap: float = 0.01) -> dict[str, Any]:
    """Solve the robust plan of instance ``name`` (started from its deterministic plan, whose
    solve is not counted) and return its figures."""
    from bioplan.optimisation import SolveOptions
    from bioplan.planning import plan
    from bioplan.robust.plan import robust_plan
    from bioplan.scenario.schema import Uncertainty

    sc = instance(name)
    unc = Uncertainty(samples=samples, engine=engine,  # type: ignore[arg-type]
                      yield_cv={} if name == "default" else GENERATED_CV)
    options = SolveOptions(time_limit_s=time_limit_s, mip_gap=mip_gap, threads=1)
    t0 = time.perf_counter()
    deterministic = plan(sc, time_limit_s=time_limit_s, mip_gap=mip_gap, marginal_values=False)
    t1 = time.perf_counter()
    p = robust_plan(sc, unc, options, 2 * time_limit_s + 60, deterministic=deterministic,
                    metrics=False)
    total = time.perf_counter() - t1
    r = p.robust or {}
    # the largest single process: this one, the guarded solver child or an MPI rank of ``ph``
    # (mpiexec waits for its ranks, so their peaks reach RUSAGE_CHILDREN); ``ph`` holds
    # ``processes`` ranks at once, up to that many times this figure
    rss = max(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
              resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024,
              float(r.get("peak_rss_mib") or 0.0))
    return {"name": name, "samples": samples, "engine": engine, "status": str(p.status),
            "columns": r.get("columns"), "nonzeros": r.get("nonzeros"),
            "build_s": round(p.timings.get("build", 0.0), 2),
            "solve_s": round(p.timings.get("solve", 0.0), 2), "total_s": round(total, 2),
            "gap": r.get("gap"), "bound_usd": r.get("bound_usd"),
            "deterministic_s": round(t1 - t0, 2),
            "expected_cost_usd": r.get("expected_cost_usd"), "peak_rss_mib": round(rss)}


def bench_evaluate(name: str = "L", samples: int = 1000, time_limit_s: float = 60.0
                   ) -> dict[str, Any]:
    """Plan instance ``name`` deterministically, then time ``evaluate`` with ``samples``."""
    from bioplan.planning import plan
    from bioplan.robust.evaluate import evaluate

    p = plan(instance(name), time_limit_s=time_limit_s, marginal_values=False)
    t0 = time.perf_counter()
    ev = evaluate(p, samples=samples, seed=1, yield_cv=GENERATED_CV if name != "default" else None)
    return {"name": name, "samples": samples, "evaluate_s": round(time.perf_counter() - t0, 2),
            "batches": int(ev.factors.shape[1])}


def format_table(rows: list[dict[str, Any]]) -> str:
    head = (f"{'inst':<8}{'K':>4} {'eng':<4}{'status':<12}{'cols':>8}{'nnz':>9}{'build':>8}"
            f"{'solve':>8}{'total':>8}{'gap':>8}{'bound $':>14}{'RSS MiB':>9}")
    lines = [head, "-" * len(head)]
    for r in rows:
        gap = "-" if r["gap"] is None else f"{100 * r['gap']:.2f}%"
        bound = "-" if r["bound_usd"] is None else f"{r['bound_usd']:,.0f}"
        lines.append(f"{r['name']:<8}{r['samples']:>4} {r['engine']:<4}{r['status']:<12}"
                     f"{r['columns'] or 0:>8}{r['nonzeros'] or 0:>9}{r['build_s']:>8.2f}"
                     f"{r['solve_s']:>8.2f}{r['total_s']:>8.2f}{gap:>8}{bound:>14}"
                     f"{r['peak_rss_mib']:>9}")
    return "\n".join(lines)


__all__ = ["SIZES", "bench_evaluate", "bench_robust", "format_table"]

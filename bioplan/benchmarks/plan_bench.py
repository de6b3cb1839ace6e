"""The planner benchmark: plan the generated S/M/L instances and time every stage."""

from __future__ import annotations

import logging
import resource
import time
from typing import Any

from bioplan.benchmarks.instances import SIZES, generate

log = logging.getLogger(__name__)


def warm_up() -> float:
    """Compile a one-variable model once, so the one-off imports (Pyomo, highspy) are not charged
    to S [s]."""
    from bioplan.optimisation import guard

    return guard.warm_up()


def bench_one(size: str, *, time_limit_s: float = 60.0, mip_gap: float = 0.01,
              threads: int = 1) -> dict[str, Any]:
    """Plan instance ``size`` and return its figures (seconds, gap, memory, model size)."""
    from bioplan.planning import plan

    scenario = generate(size)
    t0 = time.perf_counter()
    result = plan(scenario, time_limit_s=time_limit_s, mip_gap=mip_gap, threads=threads,
                  marginal_values=False)
    wall = time.perf_counter() - t0
    t = result.timings
    parent_rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    child_rss = float(result.solver.get("peak_rss_mib", 0.0))
    total = t.get("total", wall)
    spec = SIZES[size]
    return {
        "name": size,
        "days": spec.days,
        "reactors": spec.reactors,
        "recipes": spec.recipes,
        "status": str(result.status),
        "objective_usd": result.objective_usd,
        "build_s": round(t.get("build", 0.0), 3),
        "transfer_s": round(t.get("transfer", 0.0), 3),
        "solve_s": round(t.get("solve", 0.0), 3),
        "extract_s": round(t.get("extract", 0.0), 3),
        "total_s": round(total, 3),
        "gap": result.gap,
        "outside_highs_share": round((total - t.get("solve", 0.0)) / total, 4) if total else None,
        "peak_rss_mib": round(max(parent_rss, child_rss), 1),
        "columns": result.solver.get("columns"),
        "rows": result.solver.get("rows"),
        "nonzeros": result.solver.get("nonzeros"),
        "integer_columns": result.solver.get("integer_columns"),
    }


def run_bench(sizes: list[str] | None = None, *, time_limit_s: float = 60.0,
              mip_gap: float = 0.01, threads: int = 1) -> list[dict[str, Any]]:
    """Figures for each instance in ``sizes`` (default S, M, L), after a warm-up."""
    warm_up()
    return [bench_one(s, time_limit_s=time_limit_s, mip_gap=mip_gap, threads=threads)
            for s in (sizes or list(SIZES))]


def format_table(rows: list[dict[str, Any]]) -> str:
    """A fixed-width table of the benchmark figures."""
    head = (f"{'inst':<4} {'days':>4} {'reac':>4} {'rec':>3} {'status':<9} {'build':>7} "
            f"{'transfer':>8} {'solve':>7} {'extract':>7} {'total':>7} {'gap':>7} {'outside':>7} "
            f"{'RSS MiB':>7} {'cols':>7} {'nnz':>8}")
    lines = [head, "-" * len(head)]
    for r in rows:
        gap = "-" if r["gap"] is None else f"{100 * r['gap']:.2f}%"
        share = "-" if r["outside_highs_share"] is None else f"{100 * r['outside_highs_share']:.1f}%"
        lines.append(
            f"{r['name']:<4} {r['days']:>4} {r['reactors']:>4} {r['recipes']:>3} {r['status']:<9} "
            f"{r['build_s']:>7.2f} {r['transfer_s']:>8.2f} {r['solve_s']:>7.2f} "
            f"{r['extract_s']:>7.2f} {r['total_s']:>7.2f} {gap:>7} {share:>7} "
            f"{r['peak_rss_mib']:>7.0f} {r['columns'] or 0:>7} {r['nonzeros'] or 0:>8}")
    return "\n".join(lines)

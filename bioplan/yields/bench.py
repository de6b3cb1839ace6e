"""``bioplan bench yields``: throughput of the exact vectorised solver against solve_ivp.

The benchmark draws ``n`` recipe variants of one card with **continuous random** settings (every
factor of every phase scaled by 0.25-4x, each phase's days ±2, set-points 0.5-2x), so every recipe
has its own rate matrices and the de-duplication in ``expm_batch`` cannot help: a worst case for
the solver. It times the whole recipe-table path (rates -> matrix exponentials -> daily stepping
-> outcome columns -> DataFrame), then solves a sample with ``solve_ivp`` (DOP853, rtol 1e-10) and
reports the speed ratio per recipe and the largest relative difference of the end-of-phase states.
Peak memory is the process's maximum resident set size (``getrusage``).
"""

from __future__ import annotations

import resource
import time
from typing import Any

import numpy as np

from bioplan.yields.kinetics import param_space, validate_theta
from bioplan.yields.loader import as_card
from bioplan.yields.recipes import table_from_batch
from bioplan.yields.reference import reference_states
from bioplan.yields.solver import run_batch


def random_theta(card_name: str, n: int, seed: int = 0) -> tuple[Any, np.ndarray, list[str]]:
    """(param space, theta, varied keys) with continuous random protocol settings."""
    card = as_card(card_name)
    ps = param_space(card)
    rng = np.random.default_rng(seed)
    theta = ps.theta(n)
    keys: list[str] = []
    for ph in card.protocol:
        for f in ph.medium:
            c = ps.col(f"{ph.name}.{f}")
            theta[:, c] *= np.exp(rng.uniform(np.log(0.25), np.log(4.0), n))
            keys.append(f"{ph.name}.{f}")
        c = ps.col(f"{ph.name}.days")
        theta[:, c] = np.maximum(1, theta[:, c] + rng.integers(-2, 3, n))
        c = ps.col(f"{ph.name}.density_setpoint")
        theta[:, c] *= np.exp(rng.uniform(np.log(0.5), np.log(2.0), n))
        keys += [f"{ph.name}.days", f"{ph.name}.density_setpoint"]
    validate_theta(ps, theta)
    return ps, theta, keys


def bench_yields(
    card: str = "erythroid-cb-giarratana", n: int = 100_000, n_reference: int = 200
) -> dict[str, Any]:
    """Run the benchmark; returns the ``--json`` dict."""
    ps, theta, keys = random_theta(card, n)
    t0 = time.perf_counter()
    res = run_batch(ps, theta)
    table = table_from_batch(ps, theta, res, keys)
    elapsed = time.perf_counter() - t0
    unique = len({tuple(r) for r in np.round(theta[:, [ps.col(k) for k in keys]], 12)})

    idx = np.linspace(0, n - 1, min(n_reference, n)).astype(int)
    t1 = time.perf_counter()
    refs = [reference_states(ps, theta[i]) for i in idx]
    ivp_elapsed = time.perf_counter() - t1
    ours = res.x_end[idx]
    ref = np.array(refs)
    scale = np.maximum(np.abs(ref), 1e-300)
    mask = np.abs(ref) > 1e-12 * np.abs(ref).max(axis=2, keepdims=True)  # ignore ~0 entries
    rel = np.where(mask, np.abs(ours - ref) / scale, 0.0)
    per_ours = elapsed / n
    per_ivp = ivp_elapsed / len(idx)
    peak_kib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return {
        "card": ps.card.name,
        "recipes": int(n),
        "distinct_recipes": int(unique),
        "rows": len(table),
        "seconds": elapsed,
        "evaluations_per_s": n / elapsed,
        "solve_ivp_recipes": len(idx),
        "solve_ivp_seconds_per_recipe": per_ivp,
        "speedup_vs_solve_ivp": per_ivp / per_ours,
        "max_rel_error": float(rel.max()),
        "peak_rss_mib": peak_kib / 1024.0,
    }


def format_bench(r: dict[str, Any]) -> str:
    """Human-readable table of a bench result."""
    lines = [
        f"bench yields: card {r['card']}, {r['recipes']} recipe variants ({r['distinct_recipes']} distinct)",
        "",
        "| metric | value | target |",
        "| --- | --- | --- |",
        f"| evaluations per second (one process) | {r['evaluations_per_s']:,.0f} | >= 100,000 |",
        f"| wall time for all variants [s] | {r['seconds']:.2f} | |",
        f"| solve_ivp per recipe [ms] (DOP853, rtol 1e-10, {r['solve_ivp_recipes']} recipes) | {1e3 * r['solve_ivp_seconds_per_recipe']:.1f} | |",
        f"| speed-up vs solve_ivp | {r['speedup_vs_solve_ivp']:,.0f}x | >= 100x |",
        f"| max relative error vs solve_ivp | {r['max_rel_error']:.1e} | <= 1e-6 |",
        f"| peak memory (max RSS) [MiB] | {r['peak_rss_mib']:.0f} | <= 1024 |",
    ]
    return "\n".join(lines)

"""Build and solve in a child process that a hard wall-clock guard can kill.

HiGHS's time limit is soft (it has been seen ignored in presolve and some MIP phases), so every
solve runs in its own process: the parent waits at most ``guard_s`` seconds and then kills it,
reporting ``Termination.KILLED`` rather than hanging. The child builds the Pyomo model itself
from the picklable :class:`PlanData`, so no Pyomo object crosses the process boundary.
"""

from __future__ import annotations

import logging
import multiprocessing
import resource
import threading
import time
import traceback
from typing import Any

from bioplan.contracts import Termination
from bioplan.optimisation.data import PlanData
from bioplan.optimisation.outcome import SolveOptions, SolveResult, failure

log = logging.getLogger(__name__)


def build_and_solve(data: PlanData, options: SolveOptions, elastic: bool = False) -> SolveResult:
    """Build the model from ``data`` and solve it in this process."""
    import gc

    from bioplan.optimisation.compile import compile_for_highs
    from bioplan.optimisation.model import build_model
    from bioplan.optimisation.solve import solve_compiled

    t0 = time.perf_counter()
    m = build_model(data, elastic=elastic)
    t1 = time.perf_counter()
    if options.interface == "pyomo":
        from bioplan.optimisation.solve_pyomo import solve_with_pyomo_highs

        result = solve_with_pyomo_highs(m, options)  # the Pyomo model stays alive while HiGHS runs
    else:
        compiled = compile_for_highs(m, options.save_lp)
        del m  # free the Pyomo model before HiGHS allocates its own
        gc.collect()
        result = solve_compiled(compiled, options)
    result.timings["build"] = t1 - t0
    result.facts["peak_rss_mib"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return result


def _child(conn: Any, data: PlanData, options: SolveOptions, elastic: bool) -> None:
    from bioplan.optimisation.quiet_highs import silence_banner

    try:
        silence_banner()  # also for Pyomo's HiGHS interface, which constructs its own
        result = build_and_solve(data, options, elastic)
    except Exception as err:  # reported to the parent as a typed error, never lost
        result = failure(f"{type(err).__name__}: {err}\n{traceback.format_exc()}")
    conn.send(result)
    conn.close()


_WARM = False


def warm_up() -> None:
    """Compile a one-variable model once in the parent, so forked children start with Pyomo's
    lazily imported writer machinery loaded (about 1 s otherwise, in every child)."""
    global _WARM
    if _WARM:
        return
    import pyomo.environ as pyo

    from bioplan.optimisation.compile import compile_model

    m = pyo.ConcreteModel()
    m.x = pyo.Var(domain=pyo.NonNegativeIntegers, bounds=(0, 1))
    m.c = pyo.Constraint(expr=m.x <= 1)
    m.o = pyo.Objective(expr=m.x)
    compile_model(m)
    _WARM = True


def _context() -> Any:
    """``fork`` is fast and safe while this process runs no other threads; else ``spawn``."""
    methods = multiprocessing.get_all_start_methods()
    if "fork" in methods and threading.active_count() == 1:
        return multiprocessing.get_context("fork")
    return multiprocessing.get_context("spawn")


def solve_guarded(data: PlanData, options: SolveOptions, guard_s: float,
                  elastic: bool = False) -> SolveResult:
    """Build and solve in a child process killed after ``guard_s`` seconds [s].

    A daemonic process (e.g. a pool worker) may not have children: there the solve runs in-process
    with only HiGHS's own time limit, and a warning says so.
    """
    if multiprocessing.current_process().daemon:
        log.warning("running inside a daemonic process: no wall-clock guard for this solve")
        return build_and_solve(data, options, elastic)
    ctx = _context()
    if ctx.get_start_method() == "fork":
        warm_up()
        if options.interface == "pyomo":
            # load Pyomo's solver interfaces in the parent too, so forked children inherit them
            import pyomo.contrib.solver.common.factory
            import pyomo.contrib.solver.solvers.highs  # noqa: F401
    parent, child = ctx.Pipe(duplex=False)
    t0 = time.perf_counter()
    proc = ctx.Process(target=_child, args=(child, data, options, elastic), daemon=True)
    proc.start()
    child.close()
    result: SolveResult | None = None
    try:
        if parent.poll(guard_s):
            try:
                result = parent.recv()
            except EOFError:
                result = None
        if result is None and proc.is_alive():
            proc.kill()
            result = failure(f"killed by the wall-clock guard after {guard_s:g} s "
                             f"(HiGHS did not stop at its {options.time_limit_s:g} s time limit)",
                             Termination.KILLED)
        elif result is None:
            proc.join(5)
            result = failure(f"the solve process died (exit code {proc.exitcode})")
    finally:
        proc.join(5)
        if proc.is_alive():
            proc.kill()
        parent.close()
    elapsed = time.perf_counter() - t0
    if result.termination is Termination.KILLED:
        result.timings = {"solve": elapsed}
        return result
    inside = sum(result.timings.get(k, 0.0) for k in ("build", "transfer", "solve", "extract"))
    # process start-up and result pickling count as transfer: everything outside HiGHS is visible
    result.timings["transfer"] = result.timings.get("transfer", 0.0) + max(0.0, elapsed - inside)
    return result

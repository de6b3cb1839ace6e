"""Build and solve in a child process that a hard wall-clock guard can kill.

HiGHS's time limit is soft (it has been seen ignored in presolve and some MIP phases), so every
solve runs in its own process: the parent waits at most ``guard_s`` seconds and then kills it,
reporting ``Termination.KILLED`` rather than hanging. The child builds the Pyomo model itself
from the picklable :class:`PlanData`, so no Pyomo object crosses the process boundary.
"""

from __future__ import annotations

import contextlib
import gc
import logging
import multiprocessing
import resource
import threading
import time
import traceback
from collections.abc import Iterator
from typing import Any

from bioplan.contracts import Termination
from bioplan.optimisation.data import PlanData
from bioplan.optimisation.outcome import SolveOptions, SolveResult, failure

log = logging.getLogger(__name__)


def build_and_solve(data: PlanData, options: SolveOptions, elastic: bool = False) -> SolveResult:
    """Build the model from ``data`` and solve it in this process."""
    from bioplan.optimisation.compile import compile_for_highs
    from bioplan.optimisation.model import build_model

    t0 = time.perf_counter()
    with gc_paused():
        m = build_model(data, elastic=elastic)
    t1 = time.perf_counter()
    slacks = tuple(m.elastic_slacks)
    if options.interface == "pyomo":
        from bioplan.optimisation.solve_pyomo import solve_with_pyomo_highs

        result = solve_with_pyomo_highs(m, options)  # the Pyomo model stays alive while HiGHS runs
        result.facts["whole_units"] = {"whole": False, "reason": "no whole-unit pass on the "
                                       "pyomo interface: release days package ⌊Σ x⌋"}
    else:
        with gc_paused():
            compiled = compile_for_highs(
                m, options.save_lp, capacity_rows=options.price_resources or options.keep_model)
        del m  # what reference counting frees; no gc.collect() (see gc_paused)
        result = _solve_whole(data, options, compiled, elastic)
    result.timings["build"] = t1 - t0
    result.slacks = slacks
    result.facts["peak_rss_mib"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return result


def _solve_whole(data: PlanData, options: SolveOptions, compiled: Any, elastic: bool
                 ) -> SolveResult:
    """Solve the main model, then (a plan with batches, not the elastic re-solve) package whole
    units (:mod:`bioplan.optimisation.whole_units`) in the time kept for it."""
    from bioplan.optimisation import whole_units
    from bioplan.optimisation.solve import solve_compiled

    if elastic or not len(data.slot_day):
        return solve_compiled(compiled, options)
    t0 = time.perf_counter()
    prebuilt = whole_units.prebuild(data)  # on a thread while HiGHS solves the main model
    result = solve_compiled(compiled, whole_units.main_options(options, data))
    if not result.status.has_solution or not whole_units.used_slots(result.values):
        return result
    left = options.time_limit_s - (time.perf_counter() - t0)
    return whole_units.package_whole_units(data, options, result,
                                           max(left, whole_units.MIN_S), prebuilt)


@contextlib.contextmanager
def gc_paused() -> Iterator[None]:
    """Pause Python's cyclic garbage collector while a model is built or compiled.

    Building creates hundreds of thousands of long-lived Pyomo objects, and each generation-2
    collection walks all of them: on the benchmark's M instance the build took 2.6 s with the
    collector on and 0.9 s with it paused. Nothing built here is garbage until the model is
    dropped, and a full ``gc.collect()`` after dropping it freed only ~30 MiB of 320 on L for
    1.4 s, so none is forced.
    """
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def _child(conn: Any, data: PlanData, options: SolveOptions, elastic: bool,
           solve: Any = None) -> None:
    from bioplan.optimisation.quiet_highs import silence_banner

    try:
        silence_banner()  # also for Pyomo's HiGHS interface, which constructs its own
        result = (solve or build_and_solve)(data, options, elastic)
    except Exception as err:  # reported to the parent as a typed error, never lost
        result = failure(f"{type(err).__name__}: {err}\n{traceback.format_exc()}")
    conn.send(result)
    conn.close()


_WARM = False


def warm_up() -> float:
    """Load Pyomo, HiGHS and the model modules and compile a one-variable model once in the
    parent, so forked children start with them loaded (Pyomo's lazily imported writer machinery
    alone is about 1 s, in every child).

    Returns the seconds it took: the process's one-off start-up, 0 once warm. Plans report it as
    ``timings["startup"]``, apart from their own build-to-extract time (like importing pandas
    before the plan, it is paid once per process, not per plan)."""
    global _WARM
    if _WARM:
        return 0.0
    t0 = time.perf_counter()
    import highspy  # noqa: F401
    import pyomo.core as pyo

    # the modules every child solve imports lazily: loaded once here, inherited by each fork
    # (each import costs the child a few ms, ~30 ms in all where bytecode is not cached)
    import bioplan.optimisation.duals
    import bioplan.optimisation.model
    import bioplan.optimisation.solve
    import bioplan.optimisation.whole_units  # noqa: F401
    from bioplan.optimisation.compile import compile_model

    m = pyo.ConcreteModel()
    m.x = pyo.Var(domain=pyo.NonNegativeIntegers, bounds=(0, 1))
    m.c = pyo.Constraint(expr=m.x <= 1)
    m.o = pyo.Objective(expr=m.x)
    compile_model(m)
    # Move everything loaded so far (Pyomo, pandas, the scenario) out of the collector's sight:
    # each later full collection would walk it again (0.3 s of a 0.9 s extraction on M), and
    # forked children share these pages untouched (the use ``gc.freeze`` is documented for).
    gc.collect()
    gc.freeze()
    _WARM = True
    return time.perf_counter() - t0


def _context() -> Any:
    """``fork`` is fast and safe while this process runs no other threads; else ``spawn``."""
    methods = multiprocessing.get_all_start_methods()
    if "fork" in methods and threading.active_count() == 1:
        return multiprocessing.get_context("fork")
    return multiprocessing.get_context("spawn")


def solve_guarded(data: Any, options: SolveOptions, guard_s: float,
                  elastic: bool = False, solve: Any = None) -> SolveResult:
    """Build and solve in a child process killed after ``guard_s`` seconds [s].

    ``solve`` (default :func:`build_and_solve`) is the module-level function ``(data, options,
    elastic) -> SolveResult`` run in the child, e.g. the stochastic program's extensive form.

    A daemonic process (e.g. a pool worker) may not have children: there the solve runs in-process
    with only HiGHS's own time limit, and a warning says so.
    """
    if multiprocessing.current_process().daemon:
        log.warning("running inside a daemonic process: no wall-clock guard for this solve")
        return (solve or build_and_solve)(data, options, elastic)
    ctx = _context()
    startup = 0.0
    t0 = time.perf_counter()
    if ctx.get_start_method() == "fork":
        startup = warm_up()  # the process's first solve only; reported as ``startup``
        t0 += startup
        if options.interface == "pyomo":
            # load Pyomo's solver interfaces in the parent too, so forked children inherit them
            import pyomo.contrib.solver.common.factory
            import pyomo.contrib.solver.solvers.highs  # noqa: F401
    parent, child = ctx.Pipe(duplex=False)
    proc = ctx.Process(target=_child, args=(child, data, options, elastic, solve),
                       daemon=True)
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
        if result is None or result.termination is Termination.KILLED:
            proc.join(5)
            if proc.is_alive():
                proc.kill()
        else:
            # the child sent its result and is exiting on its own (~10 ms of teardown not worth
            # waiting for); the next process start reaps it, a daemon dies with this process
            proc.join(0)
        parent.close()
    elapsed = time.perf_counter() - t0
    if result.termination is Termination.KILLED:
        result.timings = {"solve": elapsed}
        return result
    inside = sum(result.timings.get(k, 0.0)
                 for k in ("build", "transfer", "solve", "extract", "duals"))
    # process start-up and result pickling count as transfer: everything outside HiGHS is visible
    result.timings["transfer"] = result.timings.get("transfer", 0.0) + max(0.0, elapsed - inside)
    if startup:
        result.timings["startup"] = startup
    return result

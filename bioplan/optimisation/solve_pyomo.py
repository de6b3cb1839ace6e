"""Solve a built Pyomo model through Pyomo's own HiGHS interface (``pyomo.contrib.solver``).

The alternative to :func:`bioplan.optimisation.solve.solve_model` (standard-form compiler +
``highspy``), selected by ``SolveOptions.interface = "pyomo"``. It returns the same typed
:class:`SolveResult`: same statuses, values keyed by (component name, index), timings ``transfer``
(Pyomo's ``set_instance``: walking the model and loading it into HiGHS), ``solve`` (HiGHS's run)
and ``extract`` (reading values back).

Called the way the Pyomo + HiGHS pitfalls require: a fresh solver object per solve,
``load_solutions=False, raise_exception_on_nonoptimal_result=False``, and the outcome read from
``(termination_condition, solution_status)``; time limit, relative gap and threads are passed as
the interface's own options.

What this route does not do (the interface offers no public way to): start from a known solution
(``SolveOptions.start``, used by the marginal-value re-solves) or run the LP-guided start
heuristic, which works on the compiled HiGHS matrices. Both are skipped here, with a fact saying so.
"""

from __future__ import annotations

import math
import time
from typing import TYPE_CHECKING, Any

from bioplan.contracts import PlanStatus
from bioplan.optimisation.outcome import (
    NO_PLAN,
    SolveOptions,
    SolveResult,
    failure,
    infeasible,
    optimal,
    relative_gap,
    stopped_early,
    unbounded,
)

if TYPE_CHECKING:
    import pyomo.environ as pyo


def solve_with_pyomo_highs(m: pyo.ConcreteModel, options: SolveOptions) -> SolveResult:
    """Solve ``m`` with a fresh ``pyomo.contrib.solver`` HiGHS and read back the values."""
    import pyomo.environ as pyo
    from pyomo.contrib.solver.common.factory import SolverFactory
    from pyomo.contrib.solver.common.results import SolutionStatus, TerminationCondition

    facts: dict[str, Any] = {"interface": "pyomo"}
    if options.save_lp:
        from bioplan.optimisation.compile import write_model_file

        write_model_file(m, options.save_lp)
    if options.start:
        facts["start"] = "ignored: the Pyomo HiGHS interface takes no starting solution"
    # The LP-guided start heuristic (bioplan.optimisation.heuristic) needs the compiled HighsLp
    # matrices, which this route never builds; it is skipped here (use the highspy route for it).
    facts["start_heuristic"] = {"skipped": "not available through the Pyomo HiGHS interface"}

    opt = SolverFactory("highs")  # a fresh solver (and HiGHS object) per solve
    t0 = time.perf_counter()
    res = opt.solve(
        m,
        load_solutions=False,
        raise_exception_on_nonoptimal_result=False,
        time_limit=float(options.time_limit_s),
        rel_gap=float(options.mip_gap),
        threads=int(options.threads),
    )
    t1 = time.perf_counter()
    tc, ss = res.termination_condition, res.solution_status
    has_solution = ss in (SolutionStatus.optimal, SolutionStatus.feasible)
    T = TerminationCondition
    if tc == T.convergenceCriteriaSatisfied and has_solution:
        result = optimal()
    elif tc == T.provenInfeasible:
        result = infeasible()
    elif tc == T.infeasibleOrUnbounded:
        # every cost is non-negative and every variable bounded below, so this is infeasible
        # (if the model is ever changed, check the variable bounds)
        result = infeasible(f"{NO_PLAN} (HiGHS: infeasible or unbounded; check bounds)")
    elif tc == T.unbounded:
        result = unbounded()
    elif tc in (T.maxTimeLimit, T.iterationLimit, T.objectiveLimit, T.interrupted,
                T.minStepLength):
        result = stopped_early(has_solution)
    else:
        result = failure(f"HiGHS failed through Pyomo ({tc.name}, {ss.name})")
    facts["solver_status"] = tc.name
    if result.status.has_solution:
        objective = res.incumbent_objective
        bound = res.objective_bound
        result.objective = float(objective) if objective is not None else None
        result.bound = float(bound) if bound is not None and math.isfinite(bound) else None
        result.gap = relative_gap(result.objective, result.bound)
        if result.status is PlanStatus.OPTIMAL and result.gap is None:
            result.gap = 0.0
        primals = res.solution_loader.get_vars()
        values: dict[str, dict[Any, float]] = {}
        for v, x in primals.items():
            if x is not None and abs(x) > 1e-9:
                values.setdefault(v.parent_component().local_name, {})[v.index()] = float(x)
        result.values = values
    t2 = time.perf_counter()

    timer = res.timing_info.timer
    highs_s = float(getattr(res.timing_info, "highs_time", None) or timer.get_total_time("optimize"))
    optimize_s = timer.get_total_time("optimize")
    facts["highs_run_s"] = highs_s
    facts["highs_version"] = ".".join(str(p) for p in opt.version())
    facts["termination_condition"] = tc.name
    facts["solution_status"] = ss.name
    variables = list(m.component_data_objects(pyo.Var, active=True, descend_into=True))
    facts["columns"] = len(variables)
    facts["integer_columns"] = sum(1 for v in variables if v.is_integer())
    facts["rows"] = sum(1 for _ in m.component_data_objects(pyo.Constraint, active=True,
                                                             descend_into=True))
    # transfer: everything in the interface's solve() but HiGHS's run (set_instance, option
    # setting, status handling); solve: HiGHS's run; extract: values back to Python
    result.timings = {"transfer": max(0.0, (t1 - t0) - optimize_s), "solve": optimize_s,
                      "extract": t2 - t1}
    result.facts = facts
    return result

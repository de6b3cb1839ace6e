"""Progressive hedging with mpi-sppy, run under ``mpiexec -n N python -m bioplan.robust.ph_run``.

Each MPI rank builds the one-sample models of its share of the samples (the extensive form's own
builder with one sample: the same first stage, the same second-stage block), and mpi-sppy's PH
(``appsi_highs``, linearised proximal terms) drives their first stages together. After PH:

- lower bound: the Lagrangian bound with PH's final weights (``post_solve_bound``; valid because
  the weights average to zero over the samples), never below the trivial (wait-and-see) bound;
- incumbent: PH's average first stage with the integers (batches per slot, reactors added)
  rounded (then floored, then ceiled, until the extensive form with those integers fixed — an LP,
  solved by the planner's guarded HiGHS route — is feasible; lot segments opened as far as PH's
  average units reach): its expected cost is the upper bound.

The same :class:`SolveResult` comes back as from the EF, with the bound and gap PH proved.
"""

from __future__ import annotations

import dataclasses
import math
import pickle
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np

from bioplan.contracts import PlanStatus, Termination
from bioplan.optimisation.chance import excused_samples
from bioplan.optimisation.lot_segments import SEGMENT_VARS, segments_opened
from bioplan.optimisation.outcome import SolveOptions, SolveResult, failure, relative_gap
from bioplan.optimisation.stochastic import (
    FIRST_STAGE,
    StochasticData,
    build_extensive_form,
    first_stage_cost,
    load_sample_start,
)

PH_ITERATIONS = 30
"""PH iterations at most."""
RHO = 1.0
"""Default PH penalty per unit of a first-stage variable [k$ per unit]."""
PH_TIME_SHARE = 0.7
"""Share of the time limit PH iterates for; the rest is for the Lagrangian bound (one more solve
per sample) and pricing the rounded incumbent (without it PH ran to its 30 iterations whatever
the limit)."""
BOUND_TIME_SHARE = 0.2
"""Share of the time limit for the Lagrangian bound's solves (one per sample)."""
PH_PASSES = 4
"""Iterations (iteration 0 included) the PH share is split over: each sub-problem solve gets
PH_TIME_SHARE · T / (PH_PASSES · samples per process). With a tenth of T each, a rank's 10
samples of the default took the whole share in iteration 0 (1 iteration in 60 s)."""
INTEGERS = ("slot_batches", "reactor_added")


def one_sample(sd: StochasticData, k: int) -> StochasticData:
    """The one-sample program of sample ``k`` (its share of the global chance-constraint choice)."""
    excused = {p: ({0} if k in excused_samples(sd, p) else set()) for p in sd.base.products}
    releases = ({p: {c: u[k:k + 1] for c, u in cohorts.items()}
                 for p, cohorts in sd.fixed_releases.items()} if sd.fixed_releases else None)
    seg = None if sd.segment_factors is None else sd.segment_factors[k:k + 1]
    return dataclasses.replace(sd, factors=sd.factors[k:k + 1], segment_factors=seg,
                               probabilities=np.ones(1),
                               excused=excused, cvar_alpha=None, cvar_weight=0.0,
                               fixed_releases=releases)


def scenario_creator(name: str, sd: StochasticData | None = None,
                     start: dict[str, dict[Any, float]] | None = None) -> Any:
    """mpi-sppy's scenario creator: the one-sample model of ``sample_<k>``, its variables set to
    the program's ``start`` (the EF's values: first stage as they are, sample k's block as the
    one block) for the sub-problems' warm start."""
    from mpisppy.utils import sputils

    assert sd is not None
    k = int(name.rsplit("_", 1)[1])
    m = build_extensive_form(one_sample(sd, k))
    if start:
        load_sample_start(m, start, k)
    first = [getattr(m, v) for v in (*FIRST_STAGE, *SEGMENT_VARS) if hasattr(m, v)]
    sputils.attach_root_node(m, first_stage_cost(m), first)
    m._mpisppy_probability = float(sd.probabilities[k])
    return m


def _ph(sd: StochasticData, options: SolveOptions, processes: int) -> dict[str, Any]:
    """Run PH on this rank's samples; rank 0 returns the averaged first stage and the bounds."""
    from mpisppy.opt.ph import PH

    names = [f"sample_{k}" for k in range(sd.samples)]
    local = local_samples(sd.samples, processes)
    solver = {"mip_rel_gap": options.mip_gap, "time_limit": sub_limit_s(options, local)}
    bound_solver = {"mip_rel_gap": options.mip_gap,
                    "time_limit": sub_limit_s(options, local, BOUND_TIME_SHARE, 1)}
    ph = PH({"solver_name": "appsi_highs", "PHIterLimit": PH_ITERATIONS, "defaultPHrho": RHO,
             "convthresh": 1e-4, "time_limit": PH_TIME_SHARE * options.time_limit_s,
             "verbose": False, "display_progress": False,
             "display_timing": False, "linearize_proximal_terms": True,
             "proximal_linearization_tolerance": 1e-1, "iter0_solver_options": solver,
             "iterk_solver_options": solver,
             # iteration 0 starts from the program's start, later ones from their last plan
             "warmstart_subproblems": options.start is not None,
             "user_warmstart": options.start is not None},
            names, scenario_creator, scenario_creator_kwargs={"sd": sd, "start": options.start})
    t0 = time.perf_counter()
    _conv, _eobj, trivial = ph.ph_main()
    xbar: dict[str, dict[Any, float]] = {}
    for s in ph.local_scenarios.values():
        node = s._mpisppy_node_list[0]
        for j, v in enumerate(node.nonant_vardata_list):
            comp = v.parent_component().local_name
            xbar.setdefault(comp, {})[v.index()] = float(s._mpisppy_model.xbars[("ROOT", j)].value)
        break
    lagrangian = ph.post_solve_bound(solver_options=bound_solver)
    return {"xbar": xbar, "trivial": trivial, "lagrangian": lagrangian,
            "iterations": ph._PHIter, "seconds": time.perf_counter() - t0,
            "rank": ph.cylinder_rank}


def main(argv: list[str]) -> None:
    """``python -m bioplan.robust.ph_run IN OUT`` under mpiexec: read (sd, options), write the
    rank-0 result."""
    sd, options, processes = pickle.loads(Path(argv[0]).read_bytes())
    out = _ph(sd, options, processes)
    if out["rank"] == 0:
        Path(argv[1]).write_bytes(pickle.dumps(out))


def _rounded(xbar: dict[str, dict[Any, float]], how: Any) -> dict[str, dict[Any, float]]:
    return {name: {i: float(how(v + 1e-9)) for i, v in xbar[name].items()}
            for name in INTEGERS if name in xbar}


def sub_limit_s(options: SolveOptions, local: int, share: float = PH_TIME_SHARE,
                passes: int = PH_PASSES) -> float:
    """Time limit of each sub-problem solve of a process with ``local`` samples [s]: its
    ``share`` of the time limit over ``passes`` passes, at least 1 s. A short limit is safe:
    every sub-problem starts from a plan (the program's start, then its last one)."""
    return max(1.0, share * options.time_limit_s / (passes * max(local, 1)))


def local_samples(samples: int, processes: int) -> int:
    """Samples per MPI process (the most any process holds)."""
    return math.ceil(samples / max(processes, 1))


def ph_failure(output: str, limit_s: float) -> SolveResult:
    """The result of a PH run that stopped with an error: mpi-sppy's "Infeasibility detected" (no
    sample's sub-problem returned a plan, typically at the sub-problem time limit) is no plan
    found, with what to change; anything else is a solver failure."""
    if "Infeasibility detected" in output:
        return SolveResult(
            PlanStatus.NO_SOLUTION, Termination.LIMIT,
            message=(f"progressive hedging: the one-sample sub-problems returned no plan within "
                     f"their limit of {limit_s:.3g} s each (a share of the time limit): raise "
                     "--time-limit, or use --engine ef"))
    tail = output.strip().splitlines()[-3:]
    return failure("progressive hedging failed: " + " | ".join(tail))


def run_ph(sd: StochasticData, options: SolveOptions, *, processes: int = 2,
           mpiexec: str = "mpiexec") -> SolveResult:
    """PH over ``processes`` MPI processes (started with ``mpiexec``), then the incumbent priced
    by the guarded EF route."""
    from bioplan.optimisation.guard import solve_guarded
    from bioplan.optimisation.stochastic import solve_extensive_form

    t0 = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="bioplan-ph-") as tmp:
        src, dst = Path(tmp) / "in.pkl", Path(tmp) / "out.pkl"
        src.write_bytes(pickle.dumps((sd, options, processes)))
        cmd = [mpiexec, "-n", str(processes), sys.executable, "-m", "bioplan.robust.ph_run",
               str(src), str(dst)]
        proc = subprocess.run(cmd, capture_output=True, text=True,
                              timeout=max(60.0, 4 * options.time_limit_s + 120))
        if proc.returncode != 0 or not dst.exists():
            return ph_failure(proc.stderr or proc.stdout,
                              sub_limit_s(options, local_samples(sd.samples, processes)))
        ph = pickle.loads(dst.read_bytes())
    t1 = time.perf_counter()
    def priced(integers: dict[str, dict[Any, float]]) -> SolveResult:
        """The EF with these first-stage integers fixed (the rest re-optimised)."""
        return solve_guarded(dataclasses.replace(sd, fixed=integers),
                             dataclasses.replace(options, lp_guided_start=False, start=None),
                             2 * options.time_limit_s + 60, solve=solve_extensive_form)

    best: SolveResult | None = None
    incumbent = "PH average, rounded"
    for how in (round, math.floor, math.ceil):
        integers = _rounded(ph["xbar"], how)
        if sd.segment_units is not None:  # the lot segments PH's average units reach, in order
            integers["slot_segment_open"] = segments_opened(
                sd.segment_units, ph["xbar"].get("slot_units", {}))
        res = priced(integers)
        if res.status.has_solution:
            best = res
            break
    if options.start:  # the program's start is a plan too (the rounded average may miss the fleet)
        res = priced({name: options.start.get(name, {})
                      for name in (*INTEGERS, "slot_segment_open") if name in options.start})
        if res.status.has_solution and res.objective is not None and (
                best is None or best.objective is None or res.objective < best.objective):
            best, incumbent = res, "the program's start"
    bound = max(float(ph["lagrangian"]), float(ph["trivial"]))
    if best is None or best.objective is None:
        return SolveResult(PlanStatus.NO_SOLUTION, Termination.LIMIT,
                           message="progressive hedging found no feasible first stage",
                           bound=bound)
    best.bound = min(bound, best.objective)
    best.gap = relative_gap(best.objective, best.bound)
    best.status = PlanStatus.FEASIBLE
    best.termination = Termination.LIMIT
    best.facts.update({"incumbent": incumbent, "iterations": ph["iterations"],
                       "lagrangian_bound": ph["lagrangian"],
                       "trivial_bound": ph["trivial"], "processes": processes,
                       "ph_s": round(t1 - t0, 2)})
    best.timings["solve"] = best.timings.get("solve", 0.0) + (t1 - t0)
    return best


if __name__ == "__main__":
    main(sys.argv[1:])

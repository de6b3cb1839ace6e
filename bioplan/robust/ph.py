"""Progressive hedging with mpi-sppy (the ``ph`` engine): availability check and entry point.

mpi-sppy, mpi4py and an MPI library (the ``mpich`` wheel) are the optional extra
``pip install 'bioplan[robust]'``.
"""

from __future__ import annotations

import importlib.util
import shutil
import sys
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from bioplan.optimisation.outcome import SolveOptions, SolveResult
    from bioplan.optimisation.stochastic import StochasticData


def mpiexec() -> str | None:
    """The ``mpiexec`` next to this Python (the mpich wheel installs it there), else on PATH."""
    local = Path(sys.executable).parent / "mpiexec"
    return str(local) if local.exists() else shutil.which("mpiexec")


def missing_mpi() -> str | None:
    """What is missing for ``ph`` (None: mpi-sppy, mpi4py and mpiexec are all there)."""
    for module in ("mpisppy", "mpi4py"):
        if importlib.util.find_spec(module) is None:
            return f"the Python package {module} is not installed"
    if mpiexec() is None:
        return "no mpiexec found"
    return None


def solve_progressive_hedging(sd: StochasticData, options: SolveOptions, *, processes: int = 2
                              ) -> SolveResult:
    """Progressive hedging over ``processes`` MPI processes (see :mod:`bioplan.robust.ph_run`)."""
    from bioplan.robust.ph_run import run_ph

    return run_ph(sd, options, processes=processes, mpiexec=mpiexec() or "mpiexec")

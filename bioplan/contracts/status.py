"""The one status of a planning outcome and the solver's typed termination."""

from __future__ import annotations

from enum import StrEnum

from bioplan.errors import ExitCode


class PlanStatus(StrEnum):
    """Outcome of a solve, in the user's terms."""

    OPTIMAL = "optimal"
    """Solved to the requested relative gap."""
    FEASIBLE = "feasible"
    """Stopped at a limit with a plan whose gap is above the requested gap."""
    INFEASIBLE = "infeasible"
    """No plan meets the hard constraints; see ``Plan.explanation``."""
    NO_SOLUTION = "no_solution"
    """Stopped (time limit, wall-clock guard or solver failure) before any plan was found."""

    @property
    def exit_code(self) -> ExitCode:
        """The documented process exit code of this outcome (CLI and unattended runs)."""
        return _EXIT_CODES[self]

    @property
    def has_solution(self) -> bool:
        return self in (PlanStatus.OPTIMAL, PlanStatus.FEASIBLE)


_EXIT_CODES = {
    PlanStatus.OPTIMAL: ExitCode.OK,
    PlanStatus.FEASIBLE: ExitCode.TIME_LIMIT_FEASIBLE,
    PlanStatus.INFEASIBLE: ExitCode.INFEASIBLE,
    PlanStatus.NO_SOLUTION: ExitCode.NO_SOLUTION,
}


class Termination(StrEnum):
    """Why the solver stopped (one vocabulary for both routes to HiGHS)."""

    OPTIMAL = "optimal"
    """Solved to the requested gap."""
    INFEASIBLE = "infeasible"
    """Proven infeasible (or infeasible-or-unbounded: every cost is non-negative)."""
    UNBOUNDED = "unbounded"
    LIMIT = "limit"
    """A time, iteration, solution, objective or memory limit, or an interrupt."""
    KILLED = "killed"
    """The wall-clock guard killed the solve process (HiGHS ignored its time limit)."""
    ERROR = "error"
    """HiGHS or the solve process failed."""

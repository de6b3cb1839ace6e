"""Exceptions and process exit codes shared by the library, the CLI and the dashboard.

Every error a user can cause is a :class:`BioplanError` carrying *where* (file, field) and *how to
fix it*, so entry points print one clear line instead of a traceback.
"""

from __future__ import annotations

from enum import IntEnum


class ExitCode(IntEnum):
    """Documented exit codes of every ``bioplan`` command (see README)."""

    OK = 0
    """Success (an optimal plan, or a feasible plan within the requested gap)."""
    INTERNAL = 1
    """An unexpected error: a bug, please report it with ``--debug`` output."""
    BAD_INPUT = 2
    """A scenario, card, config or command-line argument is invalid."""
    INFEASIBLE = 3
    """The scenario has no plan that satisfies its hard constraints."""
    NO_SOLUTION = 4
    """The solver stopped (time limit or wall-clock guard) before finding any plan."""
    TIME_LIMIT_FEASIBLE = 5
    """The time limit was reached with a plan whose gap is above the requested gap."""


class BioplanError(Exception):
    """Base of all errors bioplan raises on purpose.

    Parameters
    ----------
    message : what went wrong, in the user's terms.
    file : the file the problem is in, if any.
    field : the field (dotted path, or CSV column/row) the problem is in, if any.
    fix : what the user should do about it.
    """

    exit_code: ExitCode = ExitCode.INTERNAL

    def __init__(
        self,
        message: str,
        *,
        file: str | None = None,
        field: str | None = None,
        fix: str | None = None,
    ) -> None:
        self.message = message
        self.file = str(file) if file is not None else None
        self.field = field
        self.fix = fix
        super().__init__(self.describe())

    def __str__(self) -> str:
        return self.describe()

    def located(self, *, file: str | None = None, field: str | None = None) -> BioplanError:
        """The same error with a file and/or field filled in by a caller that knows where it
        occurred (e.g. the scenario file a card error came from); the message and fix stay."""
        return type(self)(self.message, file=file if file is not None else self.file,
                          field=field if field is not None else self.field, fix=self.fix)

    def describe(self) -> str:
        """One line (or a short bulleted block): ``file: field: message. Fix: ...``."""
        where = ": ".join(p for p in (self.file, self.field) if p)
        text = f"{where}: {self.message}" if where else self.message
        if self.fix:
            text = f"{text.rstrip('.')}. Fix: {self.fix}"
        return text


class InputError(BioplanError):
    """Invalid user input: a scenario, a yield card, a config file or an argument."""

    exit_code = ExitCode.BAD_INPUT


class InfeasibleError(BioplanError):
    """No plan satisfies the hard constraints; ``explanation`` says which ones, in process terms."""

    exit_code = ExitCode.INFEASIBLE


class SolverError(BioplanError):
    """The solver failed, was killed by the wall-clock guard, or found no solution in time."""

    exit_code = ExitCode.NO_SOLUTION

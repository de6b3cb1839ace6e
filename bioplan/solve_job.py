"""Run a function (normally a plan solve) in a separate process that can be polled and killed.

The dashboard must never freeze while HiGHS works and its *Cancel* button must really stop the
solver, which a thread cannot do. :class:`SolveJob` starts a ``spawn`` child process, the child
pickles its outcome to a file, and the parent polls :meth:`SolveJob.poll` (cheap, non-blocking).
:meth:`SolveJob.cancel` kills the child. Nothing here imports Streamlit.

>>> job = SolveJob.start(pow, 2, 10)               # doctest: +SKIP
>>> job.wait(30).value                             # doctest: +SKIP
1024
"""

from __future__ import annotations

import multiprocessing
import os
import pickle
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path
from typing import Any

from bioplan.errors import BioplanError, InfeasibleError, InputError, SolverError


class JobState(StrEnum):
    """Where a :class:`SolveJob` is."""

    RUNNING = "running"
    DONE = "done"
    """The function returned; ``value`` holds its result."""
    FAILED = "failed"
    """The function raised; ``error`` holds the (re-built) exception."""
    CANCELLED = "cancelled"
    """Killed on request."""
    CRASHED = "crashed"
    """The child process died without reporting (killed from outside, out of memory)."""


_ERROR_TYPES: dict[str, type[BioplanError]] = {
    cls.__name__: cls for cls in (BioplanError, InputError, InfeasibleError, SolverError)
}


def _error_payload(err: BaseException) -> dict[str, Any]:
    """A picklable description of ``err`` (bioplan errors keep file, field and fix)."""
    if isinstance(err, BioplanError):
        return {
            "type": type(err).__name__,
            "bioplan_base": next(
                (c.__name__ for c in type(err).__mro__ if c.__name__ in _ERROR_TYPES), "BioplanError"
            ),
            "message": err.message,
            "file": err.file,
            "field": err.field,
            "fix": err.fix,
            "extra": {k: v for k, v in vars(err).items() if k not in {"message", "file", "field", "fix"}},
        }
    return {"type": type(err).__name__, "message": str(err)}


def rebuild_error(payload: dict[str, Any]) -> BaseException:
    """Turn a payload from :func:`_error_payload` back into an exception."""
    base = payload.get("bioplan_base")
    if base:
        cls = _ERROR_TYPES.get(payload["type"], _ERROR_TYPES[base])
        err = cls(payload["message"], file=payload["file"], field=payload["field"], fix=payload["fix"])
        for key, value in payload.get("extra", {}).items():
            setattr(err, key, value)
        return err
    return RuntimeError(f"{payload['type']}: {payload['message']}")


def _child_main(result_path: str, func: Callable[..., Any], args: tuple[Any, ...], kwargs: dict[str, Any]) -> None:
    """Body of the child process: run ``func`` and pickle ``("ok", value)`` or ``("error", ...)``."""
    try:
        outcome: tuple[str, Any] = ("ok", func(*args, **kwargs))
    except BaseException as err:
        outcome = ("error", _error_payload(err))
    tmp = f"{result_path}.tmp"
    try:
        with open(tmp, "wb") as fh:
            pickle.dump(outcome, fh, protocol=pickle.HIGHEST_PROTOCOL)
    except Exception as err:  # the value itself could not be pickled
        with open(tmp, "wb") as fh:
            pickle.dump(("error", _error_payload(err)), fh)
    os.replace(tmp, result_path)


@dataclass
class SolveJob:
    """A function running in a child process; poll it, wait for it, or cancel it."""

    process: Any  # multiprocessing.Process (spawn context)
    result_path: Path
    started: float = field(default_factory=time.monotonic)
    label: str = ""
    state: JobState = JobState.RUNNING
    value: Any = None
    error: BaseException | None = None
    finished: float | None = None

    @classmethod
    def start(cls, func: Callable[..., Any], *args: Any, label: str = "", **kwargs: Any) -> SolveJob:
        """Start ``func(*args, **kwargs)`` in a fresh ``spawn`` process (``func`` must be importable)."""
        fd, name = tempfile.mkstemp(prefix="bioplan-job-", suffix=".pkl")
        os.close(fd)
        os.unlink(name)  # the child creates it when done: existence means "finished"
        ctx = multiprocessing.get_context("spawn")
        proc = ctx.Process(
            target=_child_main, args=(name, func, args, kwargs), daemon=True, name="bioplan-solve"
        )
        proc.start()
        return cls(process=proc, result_path=Path(name), label=label)

    @property
    def elapsed_s(self) -> float:
        """Seconds since start (frozen once the job has ended)."""
        end = self.finished if self.finished is not None else time.monotonic()
        return end - self.started

    @property
    def running(self) -> bool:
        return self.state is JobState.RUNNING

    def poll(self) -> JobState:
        """Update and return the state without blocking."""
        if self.state is not JobState.RUNNING:
            return self.state
        if self.result_path.exists():
            self._collect()
        elif not self.process.is_alive():
            # the child may have written the file between the two checks
            if self.result_path.exists():
                self._collect()
            else:
                self.state = JobState.CRASHED
                self.error = SolverError(
                    f"the solve process ended without a result (exit code {self.process.exitcode})",
                    fix="retry; if it repeats, run `bioplan plan --debug` on the same scenario",
                )
                self._finish()
        return self.state

    def wait(self, timeout_s: float, interval_s: float = 0.05) -> SolveJob:
        """Poll until the job ends or ``timeout_s`` passes (then it is still running)."""
        deadline = time.monotonic() + timeout_s
        while self.poll() is JobState.RUNNING and time.monotonic() < deadline:
            time.sleep(interval_s)
        return self

    def cancel(self) -> None:
        """Kill the child process (the solver stops at once); no-op when already ended."""
        if self.poll() is not JobState.RUNNING:
            return
        self.process.kill()
        self.process.join(5)
        self.state = JobState.CANCELLED
        self._finish()

    def _collect(self) -> None:
        with open(self.result_path, "rb") as fh:
            kind, payload = pickle.load(fh)
        if kind == "ok":
            self.state, self.value = JobState.DONE, payload
        else:
            self.state, self.error = JobState.FAILED, rebuild_error(payload)
        self._finish()

    def _finish(self) -> None:
        self.finished = time.monotonic()
        self.process.join(1)
        for path in (self.result_path, Path(f"{self.result_path}.tmp")):
            path.unlink(missing_ok=True)

"""Run a function (normally a plan solve) in a separate process that can be polled and killed.

The dashboard must never freeze while HiGHS works and its *Cancel* button must really stop the
solver, which a thread cannot do. :class:`SolveJob` runs the function in a child Python process
(:class:`WorkerProcess`), the child pickles its outcome to a file, and the parent polls
:meth:`SolveJob.poll` (cheap, non-blocking).
:meth:`SolveJob.cancel` kills the child. Nothing here imports Streamlit.

To save the child's start-up (imports, cached recipe tables) from the click-to-result time, a
:class:`StandbyPool` keeps one spawned, warmed-up worker waiting for the next job.

>>> job = SolveJob.start(pow, 2, 10)               # doctest: +SKIP
>>> job.wait(30).value                             # doctest: +SKIP
1024
"""

from __future__ import annotations

import atexit
import contextlib
import os
import pickle
import subprocess
import sys
import tempfile
import threading
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


WORKER_CODE = "import bioplan.app.job as m; m.worker_main()"
"""What a worker process runs (``python -c``): not ``multiprocessing``, whose ``spawn`` start
method re-runs the parent's ``__main__`` script in the child — under Streamlit that is the app."""


def worker_main() -> None:
    """Body of a worker process: read ``(warm, warm_args)`` from stdin and warm up, then read one
    job ``(result_path, func, args, kwargs)`` and run it (EOF instead of a job: exit quietly)."""
    stdin = sys.stdin.buffer
    try:
        warm, warm_args = pickle.load(stdin)
    except EOFError:
        return
    if warm is not None:
        # warming is an optimisation only; the job itself reports real errors
        with contextlib.suppress(Exception):
            warm(*warm_args)
    try:
        result_path, func, args, kwargs = pickle.load(stdin)
    except EOFError:
        return
    _child_main(result_path, func, args, kwargs)


class WorkerProcess:
    """A ``python -c`` child running :func:`worker_main`, with the small ``Process``-like
    interface :class:`SolveJob` uses (``pid``, ``is_alive``, ``kill``, ``join``, ``exitcode``)."""

    def __init__(self, warm: Callable[..., Any] | None = None, warm_args: tuple[Any, ...] = ()) -> None:
        env = dict(os.environ)
        # the child must import what the parent can (e.g. test modules under the repo root)
        paths = [p for p in sys.path if p]
        env["PYTHONPATH"] = os.pathsep.join(paths)
        # same process group as the server: stopping the dashboard (Ctrl-C) stops its solves
        self._popen = subprocess.Popen([sys.executable, "-c", WORKER_CODE], stdin=subprocess.PIPE,
                                       env=env)
        self._send((warm, warm_args))

    @property
    def pid(self) -> int:
        return self._popen.pid

    @property
    def exitcode(self) -> int | None:
        return self._popen.poll()

    def is_alive(self) -> bool:
        return self._popen.poll() is None

    def _send(self, message: Any) -> bool:
        stdin = self._popen.stdin
        if stdin is None or stdin.closed:
            return False
        try:
            pickle.dump(message, stdin, protocol=pickle.HIGHEST_PROTOCOL)
            stdin.flush()
        except (OSError, ValueError):
            return False
        return True

    def submit(self, result_path: str, func: Callable[..., Any], args: tuple[Any, ...],
               kwargs: dict[str, Any]) -> bool:
        """Hand over the job (once); False when the worker is gone or already has a job.

        The job is written from a helper thread: a scenario larger than the pipe buffer would
        otherwise block the caller until the worker has finished warming up.
        """
        if not self.is_alive() or self._popen.stdin is None or self._popen.stdin.closed:
            return False
        payload = pickle.dumps((result_path, func, args, kwargs), protocol=pickle.HIGHEST_PROTOCOL)

        def write() -> None:
            stdin = self._popen.stdin
            try:
                if stdin is not None:
                    stdin.write(payload)
                    stdin.flush()
            except (OSError, ValueError):
                pass  # the worker died: SolveJob.poll reports it
            finally:
                self._close_stdin()

        threading.Thread(target=write, name="bioplan-submit", daemon=True).start()
        return True

    def _close_stdin(self) -> None:
        if self._popen.stdin is not None and not self._popen.stdin.closed:
            with contextlib.suppress(OSError):
                self._popen.stdin.close()

    def kill(self) -> None:
        if self.is_alive():
            self._popen.kill()

    def join(self, timeout: float | None = None) -> None:
        with contextlib.suppress(subprocess.TimeoutExpired):
            self._popen.wait(timeout)

    def close(self) -> None:
        """Let an idle worker exit (EOF instead of a job), killing it if it does not."""
        self._close_stdin()
        self.join(2)
        self.kill()
        self.join(2)


class StandbyPool:
    """Keeps at most one warm standby worker ready (thread-safe; share one per server)."""

    def __init__(self, warm: Callable[..., Any] | None = None, *warm_args: Any) -> None:
        self._warm = warm
        self._warm_args = warm_args
        self._lock = threading.Lock()
        self._standby: WorkerProcess | None = None
        atexit.register(self.close)

    def take(self) -> WorkerProcess | None:
        """The waiting worker (None if there is none alive); call :meth:`refill` later."""
        with self._lock:
            standby, self._standby = self._standby, None
        if standby is not None and not standby.is_alive():
            return None
        return standby

    def refill(self) -> None:
        """Start a new warm worker unless one is waiting (do it when no solve is running)."""
        with self._lock:
            if self._standby is None or not self._standby.is_alive():
                self._standby = WorkerProcess(self._warm, self._warm_args)

    def close(self) -> None:
        with self._lock:
            standby, self._standby = self._standby, None
        if standby is not None:
            standby.close()


@dataclass
class SolveJob:
    """A function running in a child process; poll it, wait for it, or cancel it."""

    process: WorkerProcess
    result_path: Path
    started: float = field(default_factory=time.monotonic)
    label: str = ""
    state: JobState = JobState.RUNNING
    value: Any = None
    error: BaseException | None = None
    finished: float | None = None

    @classmethod
    def start(cls, func: Callable[..., Any], *args: Any, label: str = "",
              standby: WorkerProcess | None = None, **kwargs: Any) -> SolveJob:
        """Start ``func(*args, **kwargs)`` in ``standby`` (a warm worker) or, without one, in a
        fresh worker process. ``func`` and its arguments must be picklable (importable)."""
        fd, name = tempfile.mkstemp(prefix="bioplan-job-", suffix=".pkl")
        os.close(fd)
        os.unlink(name)  # the child creates it when done: existence means "finished"
        started = time.monotonic()
        if standby is not None and standby.submit(name, func, args, kwargs):
            return cls(process=standby, result_path=Path(name), label=label, started=started)
        proc = WorkerProcess()
        if not proc.submit(name, func, args, kwargs):
            proc.kill()
            msg = "could not start the solve process"
            raise SolverError(msg,
                              fix="check that the machine has free memory and processes")
        return cls(process=proc, result_path=Path(name), label=label, started=started)

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
        # no waiting here: a worker that has written its result may take a moment to shut down
        # (Pyomo and HiGHS loaded); is_alive() reaps it later
        self.process.is_alive()
        for path in (self.result_path, Path(f"{self.result_path}.tmp")):
            path.unlink(missing_ok=True)

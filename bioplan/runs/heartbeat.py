"""A small helper process that refreshes a running run's ``heartbeat_at``.

It is a separate process rather than a thread because the planner forks its solver child only
while the parent runs a single thread (fork is much faster than spawn). It stops when the run's
process is gone (checked every second) or when told to; so after a SIGKILL of the run the
heartbeat stops too, and other hosts see the row go stale.

The store URL travels in the environment (``BIOPLAN_HEARTBEAT_URL``), never on the command line
where ``ps`` would show a password.
"""

from __future__ import annotations

import logging
import os
import subprocess
import sys
import time

import psutil

log = logging.getLogger(__name__)

_ENV_URL = "BIOPLAN_HEARTBEAT_URL"


class Heartbeat:
    """Start a heartbeat process for ``run_id``; ``stop()`` ends it."""

    def __init__(self, url: str, run_id: str, interval_s: float) -> None:
        env = dict(os.environ, **{_ENV_URL: url})
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "bioplan.runs.heartbeat", run_id, str(os.getpid()),
             str(interval_s)],
            env=env, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
        )

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=5)
            except subprocess.TimeoutExpired:  # pragma: no cover - it sleeps in 1 s steps
                self.proc.kill()
                self.proc.wait()


def _loop(url: str, run_id: str, parent: int, interval_s: float) -> int:
    from bioplan.runs.store import RunStore

    store = RunStore(url, create=False)
    last = time.monotonic()
    while True:
        time.sleep(min(1.0, interval_s))
        if os.getppid() != parent or not psutil.pid_exists(parent):
            return 0
        if time.monotonic() - last >= interval_s:
            try:
                store.heartbeat(run_id)
            except Exception as err:  # keep trying: the database may come back
                log.warning("heartbeat of run %s failed: %s", run_id, err)
            last = time.monotonic()


def _main(argv: list[str]) -> int:
    """Run the loop; a store that cannot be opened is logged (one line), never a traceback."""
    if os.environ.get("BIOPLAN_LOG_JSON") == "1":
        from bioplan.runs.logjson import configure_json_logging

        configure_json_logging(level=logging.WARNING)
    run, parent_pid, interval = argv[0], int(argv[1]), float(argv[2])
    try:
        return _loop(os.environ[_ENV_URL], run, parent_pid, interval)
    except Exception as err:
        log.warning("heartbeat of run %s stopped: %s", run, err)
        return 0


if __name__ == "__main__":  # pragma: no cover - exercised through Heartbeat
    sys.exit(_main(sys.argv[1:]))

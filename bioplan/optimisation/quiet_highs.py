"""HiGHS without its banner on stdout.

The first ``highspy.Highs()`` constructed in a process prints "Running HiGHS ..." to file
descriptor 1 whatever ``output_flag`` is set to afterwards, which breaks ``--json`` output. Each
process constructs its first instance here with fd 1 pointed at ``/dev/null``; later
constructions print nothing.
"""

from __future__ import annotations

import logging
import os
import sys
from typing import Any

_silenced_in: int | None = None
"""The process id that has already constructed its first (silenced) Highs."""


def silence_banner() -> None:
    """Construct this process's first ``Highs`` with stdout redirected (once per process)."""
    global _silenced_in
    if _silenced_in == os.getpid():
        return
    import highspy

    sys.stdout.flush()
    saved = os.dup(1)
    devnull = os.open(os.devnull, os.O_WRONLY)
    try:
        os.dup2(devnull, 1)
        first = highspy.Highs()
        first.setOptionValue("output_flag", False)
    finally:
        os.dup2(saved, 1)
        os.close(saved)
        os.close(devnull)
    _silenced_in = os.getpid()


def run_highs(h: Any) -> Any:
    """``h.run()``; returns HiGHS's run status.

    HiGHS keeps one thread scheduler per process, sized by the ``threads`` option of the first
    run. A later run that asks for another thread count is refused (``kError``, model status
    "Not Set") until the scheduler is reset: seen when a pricing LP with ``threads = 1`` followed
    another HiGHS of the same process run with the default. Runs are sequential within a
    process here, so resetting (after the others finished: blocking) is safe.
    """
    import highspy

    status = h.run()
    if (status == highspy.HighsStatus.kError
            and h.getModelStatus() == highspy.HighsModelStatus.kNotset):
        h.resetGlobalScheduler(True)
        status = h.run()
    return status


def quiet_highs() -> Any:
    """A new ``highspy.Highs`` with ``output_flag`` off and no banner on stdout."""
    import highspy

    silence_banner()
    h = highspy.Highs()
    h.setOptionValue("output_flag", False)
    return h


def run_for_row_duals(h: Any, what: str) -> tuple[Any, float, str]:
    """Run the LP loaded in ``h``; (row duals or None, HiGHS seconds, message).

    The duals come back only for an optimal LP (a dual of a stopped LP prices nothing); the message
    names ``what`` and HiGHS's status otherwise, and is logged as a warning.
    """
    import time

    import highspy
    import numpy as np

    t0 = time.perf_counter()
    run_highs(h)
    seconds = time.perf_counter() - t0
    status = h.getModelStatus()
    if status != highspy.HighsModelStatus.kOptimal:
        message = f"{what}: {h.modelStatusToString(status)}"
        logging.getLogger(__name__).warning("%s (no duals)", message)
        return None, seconds, message
    return np.asarray(h.getSolution().row_dual, dtype=float), seconds, ""

"""Chunk-level threads for the solver's independent chunks (numpy releases the GIL in the stacked
matrix products and array arithmetic that dominate them).

BLAS itself stays single-threaded inside ``run_batch`` (``threadpoolctl``): threads inside one
40 x 40 product cost CPU without saving time, while whole chunks of matrices (their exponentials,
or their rows stepped through a phase) are independent and split across cores with no shared
writes. ``BIOPLAN_YIELD_THREADS`` sets the number of threads (default: the CPUs this process may
use, at most 4; 1 = serial).
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from typing import TypeVar

T = TypeVar("T")

_MAX_DEFAULT = 4
"""Default cap on threads: the chunks are memory-bound beyond a few cores."""


def thread_count() -> int:
    """Threads for chunk-level work: ``BIOPLAN_YIELD_THREADS`` or min(usable CPUs, 4)."""
    env = os.environ.get("BIOPLAN_YIELD_THREADS", "").strip()
    if env.isdigit() and int(env) >= 1:
        return int(env)
    usable = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    return max(1, min(usable or 1, _MAX_DEFAULT))


def run_chunks(work: Callable[[int], object], starts: Iterable[int], *, min_chunks: int = 2) -> None:
    """Call ``work(start)`` for every start, on ``thread_count()`` threads when there are at least
    ``min_chunks`` starts (else serially). ``work`` must write disjoint outputs; its first
    exception is re-raised here."""
    todo = list(starts)
    threads = min(thread_count(), len(todo))
    if threads <= 1 or len(todo) < min_chunks:
        for s in todo:
            work(s)
        return
    with ThreadPoolExecutor(threads) as pool:
        for _ in pool.map(work, todo):
            pass

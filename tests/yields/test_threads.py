"""Chunk-level threads (``bioplan.yields.workers``) change the speed of a batch, never its
numbers: every chunk writes its own rows, and each exponential is the same arithmetic."""

from __future__ import annotations

import numpy as np
import pytest

from bioplan.yields import exact_solver, expm
from bioplan.yields.bench import random_theta
from bioplan.yields.exact_solver import run_batch
from bioplan.yields.workers import run_chunks, thread_count


def _batch(threads: int, monkeypatch: pytest.MonkeyPatch) -> exact_solver.BatchResult:
    monkeypatch.setenv("BIOPLAN_YIELD_THREADS", str(threads))
    ps, theta, _ = random_theta("erythroid-cb-giarratana", 600, seed=11)
    return run_batch(ps, theta)


def test_threaded_chunks_give_bit_identical_results(monkeypatch: pytest.MonkeyPatch) -> None:
    """Per-chunk propagators (more distinct matrices than cached) on 3 threads equal the serial
    run exactly, and so do threaded exponentials of the cached matrices."""
    monkeypatch.setattr(exact_solver, "_CACHE_MATRICES", 16)
    monkeypatch.setattr(exact_solver, "_BATCH_CHUNK", 64)
    serial, threaded = _batch(1, monkeypatch), _batch(3, monkeypatch)
    np.testing.assert_array_equal(serial.x_end, threaded.x_end)
    np.testing.assert_array_equal(serial.medium_L, threaded.medium_L)
    np.testing.assert_array_equal(serial.peak_volume_L, threaded.peak_volume_L)
    monkeypatch.setattr(exact_solver, "_CACHE_MATRICES", 4096)
    monkeypatch.setattr(expm, "_THREAD_CHUNKS", 1)  # 600 matrices: many thread tasks
    np.testing.assert_array_equal(serial.x_end, _batch(3, monkeypatch).x_end)


def test_thread_count_reads_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("BIOPLAN_YIELD_THREADS", "3")
    assert thread_count() == 3
    monkeypatch.setenv("BIOPLAN_YIELD_THREADS", "zero")
    assert 1 <= thread_count() <= 4


def test_run_chunks_calls_every_start_once_and_reraises(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("BIOPLAN_YIELD_THREADS", "2")
    seen: list[int] = []
    run_chunks(seen.append, range(0, 50, 5))
    assert sorted(seen) == list(range(0, 50, 5))

    def fail(start: int) -> None:
        if start == 10:
            msg = "chunk 10"
            raise ValueError(msg)

    with pytest.raises(ValueError, match="chunk 10"):
        run_chunks(fail, range(0, 50, 5))

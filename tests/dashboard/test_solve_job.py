"""The background solve machinery: results, errors with file/field/fix, and a cancel that kills."""

from __future__ import annotations

import time

from bioplan.app.job import JobState, SolveJob, StandbyPool
from bioplan.errors import InputError
from tests.dashboard import jobfuncs


def test_result_comes_back() -> None:
    job = SolveJob.start(jobfuncs.slow_square, 7).wait(60)
    assert job.state is JobState.DONE
    assert job.value == 49
    assert not job.result_path.exists()
    assert job.elapsed_s > 0


def test_input_error_keeps_file_field_fix() -> None:
    job = SolveJob.start(jobfuncs.bad_input).wait(60)
    assert job.state is JobState.FAILED
    assert isinstance(job.error, InputError)
    assert (job.error.file, job.error.field, job.error.fix) == ("s.yaml", "demand.units", "use >= 0")


def test_other_errors_become_runtime_errors() -> None:
    job = SolveJob.start(jobfuncs.boom).wait(60)
    assert job.state is JobState.FAILED
    assert "ValueError: kaput" in str(job.error)


def test_cancel_kills_the_process_and_polling_never_blocks() -> None:
    job = SolveJob.start(jobfuncs.slow_square, 3, delay_s=60)
    t0 = time.monotonic()
    assert job.poll() is JobState.RUNNING
    assert time.monotonic() - t0 < 0.5
    job.cancel()
    assert job.state is JobState.CANCELLED
    assert not job.process.is_alive()
    frozen = job.elapsed_s
    time.sleep(0.05)
    assert job.elapsed_s == frozen


def test_standby_worker_runs_the_job_and_can_be_cancelled() -> None:
    pool = StandbyPool(jobfuncs.slow_square, 1)  # the warm-up call is any importable function
    pool.refill()
    standby = pool.take()
    assert standby is not None and pool.take() is None
    job = SolveJob.start(jobfuncs.slow_square, 6, standby=standby).wait(60)
    assert job.state is JobState.DONE and job.value == 36
    assert job.process is standby

    pool.refill()
    standby = pool.take()
    assert standby is not None
    job = SolveJob.start(jobfuncs.slow_square, 2, delay_s=60, standby=standby)
    job.cancel()
    assert job.state is JobState.CANCELLED and not standby.is_alive()
    pool.refill()
    pool.close()


def test_dead_standby_falls_back_to_a_fresh_process() -> None:
    pool = StandbyPool()
    pool.refill()
    standby = pool.take()
    assert standby is not None
    standby.close()
    job = SolveJob.start(jobfuncs.slow_square, 5, standby=standby).wait(60)
    assert job.value == 25 and job.process is not standby


def test_refill_later_has_a_worker_waiting_without_another_call() -> None:
    """After a solve the dashboard asks for the next worker in a moment; it must be there when
    the user clicks again, without a rerun in between."""
    pool = StandbyPool()
    pool.refill_later(1.0)
    assert pool.take() is None  # not yet: the delay (1 s, far above a take()'s time) has not passed
    deadline = time.monotonic() + 30
    standby = None
    while standby is None and time.monotonic() < deadline:
        time.sleep(0.05)
        standby = pool.take()
    assert standby is not None and standby.is_alive()
    job = SolveJob.start(jobfuncs.slow_square, 3, standby=standby).wait(60)
    assert job.value == 9 and job.process is standby
    pool.close()

"""The background solve machinery: results, errors with file/field/fix, and a cancel that kills."""

from __future__ import annotations

import time

from bioplan.errors import InputError
from bioplan.solve_job import JobState, SolveJob
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

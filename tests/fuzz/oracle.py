"""What every bad input must look like, shared by the fuzz suite and the error-class tests."""

from __future__ import annotations

import json

from bioplan.errors import BioplanError, ExitCode, InputError


def assert_input_error(err: BioplanError) -> None:
    """An InputError that names where (a file or a field) and how to fix it, on one line (or one
    bulleted block whose every bullet has a field and a fix)."""
    assert isinstance(err, InputError), f"{type(err).__name__} is not an InputError: {err}"
    assert err.exit_code == ExitCode.BAD_INPUT
    text = err.describe()
    assert err.file or err.field, f"names neither a file nor a field: {text}"
    lines = text.splitlines()
    if len(lines) == 1:
        assert "Fix: " in text, f"no fix: {text}"
        return
    assert "problems:" in lines[0], f"a multi-line message that is not a problem list: {text}"
    for bullet in lines[1:]:
        assert bullet.startswith("  - "), f"not a bullet: {bullet!r} in {text}"
        field, sep, rest = bullet[4:].partition(": ")
        assert sep and field, f"bullet names no field: {bullet!r}"
        assert "Fix: " in rest, f"bullet without a fix: {bullet!r}"


def assert_error_output(stderr: str) -> None:
    """The stderr of a command that exited 2: a single ``error: ... Fix: ...`` line (or a
    problem list), never a traceback or click's usage box."""
    assert "Traceback" not in stderr, stderr
    assert "Usage:" not in stderr, stderr
    lines = [line for line in stderr.splitlines() if line.strip()]
    assert lines, "exit 2 without a message"
    first = next(i for i, line in enumerate(lines) if line.startswith("error: "))
    block = lines[first:]
    assert "Fix: " in block[0] or "problems:" in block[0], f"no fix: {block[0]}"
    where = block[0].removeprefix("error: ").split(": ")
    assert len(where) >= 2, f"names no file or field: {block[0]}"


def assert_json_lines(stderr: str) -> None:
    """Every non-empty stderr line is a JSON object (``--log-json``)."""
    for line in stderr.splitlines():
        if line.strip():
            assert isinstance(json.loads(line), dict), line

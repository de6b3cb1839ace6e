"""How the command line reports a failure: one line on stderr (a JSON object under
``--log-json``) and a documented exit code.

Click's usage errors (a bad option value, an unknown option, a missing argument) become the same
``error: <field>: <what>. Fix: <how>`` line as every other bad input, with exit code 2, instead of
click's usage box.
"""

from __future__ import annotations

import datetime as dt
import difflib
import json
import re
import sys
from typing import Any

from bioplan.errors import BioplanError, ExitCode, InputError

_VALUE_FIXES = (
    (re.compile(r"valid integer"), "give a whole number"),
    (re.compile(r"valid number"), "give a number"),
    (re.compile(r"valid boolean"), "give true or false"),
    (re.compile(r"greater than or equal to (\S+)"), "give a value >= {0}"),
    (re.compile(r"greater than (\S+)"), "give a value > {0}"),
    (re.compile(r"less than or equal to (\S+)"), "give a value <= {0}"),
    (re.compile(r"less than (\S+)"), "give a value < {0}"),
    (re.compile(r"is not one of (.+)\.?$"), "use one of {0}"),
)


def is_usage_error(err: BaseException) -> bool:
    """A click usage error (bad value, unknown option, missing argument ...)."""
    return callable(getattr(err, "format_message", None)) and hasattr(err, "ctx")


def usage_error(err: Any) -> InputError:
    """The click usage error ``err`` as an :class:`InputError` naming the option and a fix."""
    ctx = getattr(err, "ctx", None)
    command = getattr(ctx, "command_path", "bioplan") or "bioplan"
    param = getattr(err, "param", None)
    option = getattr(err, "option_name", None)
    if param is not None:
        opts = [o for o in getattr(param, "opts", []) if o.startswith("--")] or \
            list(getattr(param, "opts", []))
        field = max(opts, key=len) if opts and param.param_type_name == "option" else \
            str(getattr(param, "human_readable_name", param.name)).upper()
    else:
        field = option or command
    message = str(getattr(err, "message", "") or err.format_message()).strip().rstrip(".")
    message = message.splitlines()[0] if message else "invalid command line"
    return InputError(message, field=field, fix=_fix(err, message, command))


def _fix(err: Any, message: str, command: str) -> str:
    possibilities = list(getattr(err, "possibilities", None) or [])
    option = getattr(err, "option_name", None)
    if option and possibilities:
        close = difflib.get_close_matches(option, possibilities, n=1, cutoff=0.3)
        return f"did you mean {(close or possibilities)[0]}? See `{command} --help`"
    for pattern, template in _VALUE_FIXES:
        found = pattern.search(message)
        if found:
            return template.format(*found.groups())
    return f"see `{command} --help`"


def json_wanted(args: list[str]) -> bool:
    """Whether errors should be JSON lines (``--log-json`` on the command line)."""
    return "--log-json" in args


def report(err: BioplanError | str, *, as_json: bool, exit_code: int) -> None:
    """Write the error line to stderr: ``error: ...`` or, as JSON, ``{"level": "ERROR", ...}``."""
    text = f"error: {err.describe()}" if isinstance(err, BioplanError) else str(err)
    if not as_json:
        print(text, file=sys.stderr, flush=True)
        return
    payload: dict[str, Any] = {
        "ts": dt.datetime.now(dt.UTC).isoformat(timespec="milliseconds"),
        "level": "ERROR",
        "logger": "bioplan.cli",
        "message": text,
        "event": "error",
        "exit_code": exit_code,
    }
    if isinstance(err, BioplanError):
        payload.update(file=err.file, field=err.field, fix=err.fix)
    print(json.dumps(payload), file=sys.stderr, flush=True)


def internal(err: BaseException) -> str:
    """The one line for a bug (exit 1)."""
    return (f"internal error: {type(err).__name__}: {str(err).splitlines()[0] if str(err) else ''}"
            " (rerun with --debug for the traceback)")


__all__ = ["ExitCode", "internal", "is_usage_error", "json_wanted", "report", "usage_error"]

"""Pydantic validation errors as one :class:`~bioplan.errors.InputError` naming the fields and fixes.

Used for every file a user writes (scenarios, run configs, sweeps), so messages read the same.
"""

from __future__ import annotations

import difflib
import math
from collections.abc import Mapping
from typing import Any

from pydantic import BaseModel, ValidationError

from bioplan.errors import InputError


def validation_error(
    err: ValidationError, file: str | None, model: type[BaseModel] | None = None
) -> InputError:
    """One InputError listing every problem as ``field: message (fix)``; with ``model``, unknown
    fields get a "did you mean" suggestion from that model's field names."""
    problems = [(".".join(str(p) for p in problem["loc"]) or "(top level)",
                 _message(problem, model)) for problem in err.errors()]
    if len(problems) == 1:
        field, message = problems[0]
        return InputError(message, file=file, field=field)
    lines = [f"{field}: {message}" for field, message in problems]
    return InputError(
        f"{len(lines)} problems:\n  - " + "\n  - ".join(lines), file=file, field=None
    )


_FIXES = {
    "missing": "add this field",
    "greater_than": "use a value > {gt}",
    "greater_than_equal": "use a value >= {ge}",
    "less_than": "use a value < {lt}",
    "less_than_equal": "use a value <= {le}",
    "literal_error": "use one of {expected}",
    "enum": "use one of {expected}",
    "date_from_datetime_parsing": "write dates as YYYY-MM-DD (a real calendar day)",
    "date_from_datetime_inexact": "write dates as YYYY-MM-DD, without a time",
    "date_parsing": "write dates as YYYY-MM-DD (a real calendar day)",
    "date_type": "write dates as YYYY-MM-DD",
    "float_parsing": "give a number",
    "float_type": "give a number",
    "finite_number": "give a finite number",
    "int_parsing": "give a whole number",
    "int_type": "give a whole number",
    "int_from_float": "give a whole number",
    "bool_parsing": "give true or false",
    "bool_type": "give true or false",
    "string_type": "give text (quote it if it looks like a number or a date)",
    "string_too_short": "give a non-empty text",
    "string_pattern_mismatch": "use letters, digits, '-' and '_' only",
    "dict_type": "give a mapping of names to values (key: value lines)",
    "list_type": "give a list, e.g. [a, b]",
    "too_short": "give at least {min_length} item(s)",
    "too_long": "give at most {max_length} item(s)",
    "model_type": "give a mapping of this section's fields",
    "model_attributes_type": "give a mapping of this section's fields",
}
_DEFAULT_FIX = "correct the value (the field's description is in docs/ and the shipped examples)"


def _message(problem: Mapping[str, Any], model: type[BaseModel] | None) -> str:
    """``message (got ...). Fix: ...`` for one pydantic problem; every message carries a fix."""
    kind = problem["type"]
    if kind == "extra_forbidden":
        field = str(problem["loc"][-1]) if problem["loc"] else "(field)"
        return f"unknown field {field!r}. Fix: remove it or correct the spelling{_did_you_mean(problem, model)}"
    msg = str(problem["msg"]).removeprefix("Value error, ").removeprefix("Assertion failed, ")
    got = problem.get("input")
    if kind != "missing" and "input" in problem and not isinstance(got, dict | list):
        shown = repr(got)
        msg = f"{msg} (got {shown[:60] + '...' if len(shown) > 60 else shown})"
    if "Fix:" in msg:
        return msg
    return f"{msg}. Fix: {_fix(kind, dict(problem.get('ctx') or {}))}"


def _fix(kind: str, ctx: dict[str, Any]) -> str:
    if kind == "greater_than" and ctx.get("gt") == 0:
        return "use a positive value"
    if kind == "greater_than_equal" and ctx.get("ge") == 0:
        return "use a value that is not negative"
    shown = {k: f"{v:g}" if isinstance(v, float) else v for k, v in ctx.items()}
    try:
        return _FIXES.get(kind, _DEFAULT_FIX).format(**shown)
    except (KeyError, IndexError, ValueError):
        return _DEFAULT_FIX


def _did_you_mean(problem: Mapping[str, Any], model: type[BaseModel] | None) -> str:
    """Suggest the closest valid field name for a typo such as ``working_volume_max_mL``."""
    if model is None:
        return ""
    node: Any = model
    for part in problem["loc"][:-1]:
        fields = getattr(node, "model_fields", None)
        if fields is None or part not in fields:
            continue
        annotation = fields[part].annotation
        args = getattr(annotation, "__args__", ())
        candidates = [a for a in (annotation, *args) if isinstance(a, type) and issubclass(a, BaseModel)]
        node = candidates[0] if candidates else node
    names = list(getattr(node, "model_fields", {}))
    close = difflib.get_close_matches(str(problem["loc"][-1]), names, n=1, cutoff=0.6)
    return f" (did you mean {close[0]!r}?)" if close else ""


MAX_MAGNITUDE = 1e15
"""Largest absolute number accepted anywhere in a scenario [-]: cells per unit (2e12) is the
largest quantity bioplan needs; bigger numbers overflow the solver's numerics."""


def check_numbers(data: Any, file: str | None, prefix: str = "") -> None:
    """Every number in ``data`` is finite and at most :data:`MAX_MAGNITUDE` in magnitude (in
    recipe ``rows`` a NaN stands for an empty cell of the recipe table and is allowed)."""
    stack: list[tuple[str, Any, bool]] = [(prefix, data, False)]
    while stack:
        path, node, in_rows = stack.pop()
        if isinstance(node, Mapping):
            stack.extend((f"{path}.{k}" if path else str(k), v, in_rows or k == "rows")
                         for k, v in node.items())
        elif isinstance(node, list):
            stack.extend((f"{path}.{i}" if path else str(i), v, in_rows)
                         for i, v in enumerate(node))
        elif isinstance(node, float | int) and not isinstance(node, bool) \
                and not (in_rows and node != node):  # recipe rows mark empty cells with NaN
            _check_number(node, path, file)


def _check_number(value: float, path: str, file: str | None) -> None:
    if isinstance(value, float) and not math.isfinite(value):
        msg = f"{value} is not a finite number"
        raise InputError(msg, file=file, field=path or "(value)",
                         fix=f"give a finite number (at most {MAX_MAGNITUDE:g} in magnitude)")
    if abs(value) > MAX_MAGNITUDE:
        msg = f"{value:g} is too large"
        raise InputError(msg, file=file, field=path or "(value)",
                         fix=f"give a number of at most {MAX_MAGNITUDE:g} in magnitude")

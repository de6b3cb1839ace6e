"""Pydantic validation errors as one :class:`~bioplan.errors.InputError` naming the fields and fixes.

Used for every file a user writes (scenarios, run configs, sweeps), so messages read the same.
"""

from __future__ import annotations

import difflib
from collections.abc import Mapping
from typing import Any

from pydantic import BaseModel, ValidationError

from bioplan.errors import InputError


def validation_error(
    err: ValidationError, file: str | None, model: type[BaseModel] | None = None
) -> InputError:
    """One InputError listing every problem as ``field: message (fix)``; with ``model``, unknown
    fields get a "did you mean" suggestion from that model's field names."""
    lines = []
    first_field = None
    for problem in err.errors():
        field = ".".join(str(p) for p in problem["loc"]) or "(top level)"
        first_field = first_field or field
        lines.append(f"{field}: {_message(problem, model)}")
    if len(lines) == 1:
        field, _, message = lines[0].partition(": ")
        return InputError(message, file=file, field=field)
    return InputError(
        f"{len(lines)} problems:\n  - " + "\n  - ".join(lines), file=file, field=None
    )


_FIXES = {
    "missing": "add this field",
    "greater_than": "use a positive value",
    "greater_than_equal": "use a value that is not negative",
    "less_than_equal": "use a smaller value",
    "literal_error": "use one of the allowed values",
    "date_from_datetime_parsing": "write dates as YYYY-MM-DD",
    "date_parsing": "write dates as YYYY-MM-DD",
    "float_parsing": "give a number",
    "int_parsing": "give a whole number",
    "string_pattern_mismatch": "use letters, digits, '-' and '_' only",
}


def _message(problem: Mapping[str, Any], model: type[BaseModel] | None) -> str:
    kind = problem["type"]
    if kind == "extra_forbidden":
        field = str(problem["loc"][-1])
        return f"unknown field {field!r}. Fix: remove it or correct the spelling{_did_you_mean(problem, model)}"
    msg = str(problem["msg"]).removeprefix("Value error, ")
    if "input" in problem and kind not in ("missing",) and not isinstance(problem["input"], dict | list):
        msg = f"{msg} (got {problem['input']!r})"
    fix = _FIXES.get(kind)
    return f"{msg}. Fix: {fix}" if fix else msg


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

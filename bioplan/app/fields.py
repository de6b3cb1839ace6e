"""The scenario schema as form metadata: label, unit, help, bounds and type of every field.

The pydantic models in :mod:`bioplan.scenario.schema` are the one definition: field names carry
their units, docstrings (read through ``use_attribute_docstrings``) are the help text with the unit
in brackets, ``Field(ge=..., le=...)`` are the bounds. The dashboard's editors are generated from
here, so one edit of the schema changes the form, the docs and the validation messages together.

>>> from bioplan.scenario.schema import Horizon, ReactorType
>>> spec = field_spec(Horizon, "days")
>>> spec.header, spec.minimum, spec.maximum, spec.integer
('days [days]', 0.0, 1096.0, True)
>>> field_spec(ReactorType, "units_owned").parse("-5")
Traceback (most recent call last):
...
ValueError: must be ≥ 0, not -5
"""

from __future__ import annotations

import math
import re
import types
import typing
from dataclasses import dataclass
from typing import Any, Literal, Union

import annotated_types as at
from pydantic import BaseModel

_UNIT = re.compile(r"\[([^\]]+)\]")
_UNIT_TOKENS = {"L", "usd", "days", "units", "s", "mg", "kU", "cells"}
"""Name parts that start a field's unit suffix (``turnaround_days``, ``cost_usd_per_lot``)."""


@dataclass(frozen=True)
class FieldSpec:
    """One scalar field of a schema model, as a form shows and checks it."""

    name: str
    label: str
    unit: str
    help: str
    minimum: float | None
    maximum: float | None
    exclusive_minimum: bool
    integer: bool
    numeric: bool
    optional: bool
    required: bool
    choices: tuple[str, ...] | None

    @property
    def header(self) -> str:
        """Column header: the label with its unit in brackets."""
        return f"{self.label} [{self.unit}]" if self.unit else self.label

    def bounds_text(self) -> str:
        """``whole number ≥ 0``, ``number in [0, 1]`` ..."""
        kind = "whole number" if self.integer else "number"
        if self.minimum is not None and self.maximum is not None:
            return f"{kind} in [{_plain(self.minimum)}, {_plain(self.maximum)}]"
        if self.minimum is not None:
            return f"{kind} {'>' if self.exclusive_minimum else '≥'} {_plain(self.minimum)}"
        return kind

    def parse(self, text: Any) -> Any:
        """A cell's text as the field's value (None for an empty cell of an optional field).

        Raises ``ValueError`` with a short reason (``must be ≥ 0, not -5``); nothing is clamped or
        guessed: ``-5`` stays an error, ``twelve`` is not a number.
        """
        if _blank(text):
            if self.required:
                msg = "is required"
                raise ValueError(msg)
            return None
        if self.choices is not None:
            if str(text).strip() not in self.choices:
                msg = f"must be one of {', '.join(self.choices)}, not {text!r}"
                raise ValueError(msg)
            return str(text).strip()
        if not self.numeric:
            return str(text).strip()
        return self._number(text)

    def _number(self, text: Any) -> float | int:
        cleaned = str(text).strip().replace(",", "").replace("_", "").replace(" ", "")
        try:
            number = float(cleaned)
        except ValueError:
            msg = f"{str(text).strip()!r} is not a number; give a {self.bounds_text()}"
            raise ValueError(msg) from None
        if not math.isfinite(number):
            msg = f"{str(text).strip()!r} is not a finite number"
            raise ValueError(msg)
        if self.integer and number != int(number):
            msg = f"must be a whole number, not {_plain(number)}"
            raise ValueError(msg)
        low = self.minimum
        if low is not None and (number < low or (self.exclusive_minimum and number == low)):
            msg = (
                f"must be {'>' if self.exclusive_minimum else '≥'} {_plain(low)}, "
                             f"not {_plain(number)}"
            )
            raise ValueError(msg)
        if self.maximum is not None and number > self.maximum:
            msg = f"must be ≤ {_plain(self.maximum)}, not {_plain(number)}"
            raise ValueError(msg)
        return int(number) if self.integer else number


def _plain(number: float) -> str:
    return str(int(number)) if float(number).is_integer() and abs(number) < 1e15 else f"{number:g}"


def _blank(value: Any) -> bool:
    if value is None:
        return True
    if isinstance(value, float) and math.isnan(value):
        return True
    return isinstance(value, str) and not value.strip()


def _label(name: str) -> str:
    parts = name.split("_")
    for i, part in enumerate(parts):
        if i > 0 and part in _UNIT_TOKENS:
            parts = parts[:i]
            break
    return " ".join(parts)


def _unit(description: str) -> str:
    match = _UNIT.search(description)
    if match is None or match.group(1) == "-":
        return ""
    return match.group(1)


def _inner(annotation: Any) -> tuple[Any, bool]:
    """The annotation without ``None`` (``float | None`` -> float) and whether None was allowed."""
    origin = typing.get_origin(annotation)
    if origin in (Union, types.UnionType):
        args = [a for a in typing.get_args(annotation) if a is not type(None)]
        return (args[0] if len(args) == 1 else annotation), True
    return annotation, False


def _bounds(metadata: list[Any]) -> tuple[float | None, float | None, bool]:
    low: float | None = None
    high: float | None = None
    exclusive = False
    for item in metadata:
        if isinstance(item, at.Ge):
            low = float(item.ge)  # type: ignore[arg-type]
        elif isinstance(item, at.Gt):
            low, exclusive = float(item.gt), True  # type: ignore[arg-type]
        elif isinstance(item, at.Le):
            high = float(item.le)  # type: ignore[arg-type]
    return low, high, exclusive


def field_spec(model: type[BaseModel], name: str) -> FieldSpec:
    """The form metadata of ``model``'s field ``name``."""
    info = model.model_fields[name]
    annotation, optional = _inner(info.annotation)
    description = " ".join((info.description or "").split())
    low, high, exclusive = _bounds(list(info.metadata))
    choices = tuple(str(c) for c in typing.get_args(annotation)) \
        if typing.get_origin(annotation) is Literal else None
    return FieldSpec(
        name=name, label=_label(name), unit=_unit(description), help=description,
        minimum=low, maximum=high, exclusive_minimum=exclusive,
        integer=annotation is int, numeric=annotation in (int, float), optional=optional,
        required=info.is_required(), choices=choices,
    )


def scalar_fields(model: type[BaseModel]) -> list[FieldSpec]:
    """Specs of ``model``'s fields that fit in one table cell (numbers, text, choices) and of its
    lists of names (``list[str]``, edited as comma-separated text), in schema order."""
    out = []
    for name, info in model.model_fields.items():
        annotation, _ = _inner(info.annotation)
        if annotation in (int, float, str) or typing.get_origin(annotation) is Literal \
                or annotation == list[str]:
            out.append(field_spec(model, name))
    return out

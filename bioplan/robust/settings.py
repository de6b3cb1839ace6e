"""Asking for robust plans from a run config or a sweep file (``robust:``).

Both files take the same field::

    robust: true                 # robust plans with the scenario's own ``uncertainty:`` block
    robust:                      # or: these settings on top of the scenario's block
      samples: 10
      service_level: 0.95
      confidence: 0.9

A mapping is validated like a scenario's ``uncertainty:`` block (:class:`Uncertainty`: unknown
keys, K < 1, P outside (0, 1], unknown engines are bad input); only the keys it gives replace the
scenario's. ``false`` or no field: deterministic plans.
"""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import BeforeValidator, ValidationError

from bioplan.input_errors import validation_error
from bioplan.scenario.schema import Uncertainty


def _request(value: Any) -> Any:
    """``true`` -> an empty block (the scenario's settings), ``false`` -> None."""
    if value is True:
        return {}
    if value is False:
        return None
    return value


RobustRequest = Annotated[Uncertainty | None, BeforeValidator(_request)]
"""The ``robust:`` field of run configs and sweep files (see the module docstring)."""


def merged_uncertainty(scenario_block: Uncertainty | None, requested: Uncertainty | None, *,
                       file: str | None = None) -> Uncertainty | None:
    """The settings of a requested robust plan: the scenario's ``uncertainty:`` block (defaults if
    it has none) with the keys ``requested`` gives on top; None when nothing is requested.

    Settings that contradict each other once merged (a chance constraint on top of the
    scenario's risk measure) raise :class:`~bioplan.errors.InputError` naming ``file`` and the
    field ``robust``.

    >>> block = Uncertainty(samples=5, seed=3)
    >>> merged = merged_uncertainty(block, Uncertainty(samples=8))
    >>> merged.samples, merged.seed
    (8, 3)
    >>> merged_uncertainty(block, None) is None
    True
    """
    if requested is None:
        return None
    base = scenario_block.model_dump() if scenario_block is not None else {}
    given = requested.model_dump(include=requested.model_fields_set)
    try:
        return Uncertainty.model_validate(base | given)
    except ValidationError as err:
        found = validation_error(err, file, Uncertainty)
        where = "robust" + (f".{found.field}" if found.field and found.field != "(top level)" else "")
        raise found.located(field=where) from None


def uncertainty_record(unc: Uncertainty) -> dict[str, Any]:
    """The settings as plain JSON (hashed into a run's inputs, stored with its options)."""
    return unc.model_dump(mode="json")

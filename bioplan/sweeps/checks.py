"""Checks of a whole sweep against its base scenario, before any point runs.

A sweep that cannot work — a parameter path that does not exist or runs into a list, a ``yield:``
parameter naming a card the scenario does not use or a parameter the card does not have, no
points at all — is a bad input (exit 2), not one ``error`` row per point. Values that fail on their
own (``demand.scale: -1`` among good ones) stay per-point errors.
"""

from __future__ import annotations

import copy
import difflib
from typing import Any

from pydantic import ValidationError

from bioplan.errors import InputError
from bioplan.sweeps.spec import YIELD_PREFIX, SweepSpec


def check_sweep(spec: SweepSpec, base: Any, base_data: dict[str, Any], file: str | None) -> None:
    """Raise :class:`InputError` (naming the sweep file and the parameter) when ``spec`` cannot
    work on the base scenario ``base`` (validated) / ``base_data`` (its JSON form)."""
    points = spec.points()
    if not points:
        msg = "the sweep has no points"
        raise InputError(msg, file=file, field="grid",
                         fix="give at least one value per grid parameter or samples.n >= 1")
    first = points[0].values
    for name in spec.parameters():
        field = f"grid.{name}" if name in spec.grid else f"samples.parameters.{name}"
        try:
            if name.startswith(YIELD_PREFIX):
                _check_yield_parameter(base, name, first[name])
            else:
                _check_path(base_data, name, first[name])
        except InputError as err:
            raise InputError(err.message, file=file, field=field, fix=err.fix) from None


def _check_path(base_data: dict[str, Any], name: str, value: Any) -> None:
    from bioplan.scenario import apply_overrides
    from bioplan.scenario.schema import Scenario

    trial = copy.deepcopy(base_data)
    apply_overrides(trial, {name: value}, label=name)  # a missing path or a list index: InputError
    try:
        Scenario.model_validate(trial)
    except ValidationError as err:
        unknown = [p for p in err.errors() if p["type"] == "extra_forbidden"]
        if unknown:
            loc = [str(p) for p in unknown[0]["loc"]]
            msg = f"{name!r} is not a scenario field ({'.'.join(loc)} is unknown)"
            raise InputError(msg, fix=_suggest(base_data, loc)) from None


def _suggest(base_data: dict[str, Any], loc: list[str]) -> str:
    """'did you mean <path>?' from the field names next to the unknown one."""
    node: Any = base_data
    for key in loc[:-1]:
        node = node[int(key)] if isinstance(node, list) else node.get(key, {})
    close = difflib.get_close_matches(loc[-1], [str(k) for k in node], n=1) \
        if isinstance(node, dict) else []
    if close:
        return f"did you mean {'.'.join([*loc[:-1], close[0]])!r}?"
    return "use a dotted path of an existing field, e.g. demand.scale"


def _check_yield_parameter(base: Any, name: str, value: Any) -> None:
    from bioplan.sweeps.yields_bridge import perturbed_recipe_overrides

    try:
        perturbed_recipe_overrides(base, {name: value})
    except InputError:
        raise
    except (KeyError, ValueError, TypeError) as err:
        msg = f"{name!r} cannot be applied to the scenario's cards ({err})"
        raise InputError(msg, fix="write yield parameters as yield:<card>:<parameter>") from None

"""Yield-parameter sweep points: recipe tables of a card with some kinetic parameters changed.

A point that sets ``yield:<card>:<parameter>`` (a dotted parameter path of
``bioplan.yields.kinetics``, e.g. ``stages.proE.proliferation_per_day``) re-evaluates that card's
recipes with the parameter changed in every recipe, and hands the scenario the resulting table as
hand-made recipe rows (``recipes.<i>.rows``), so the planner sees the perturbed yields without any
file being written. ``dist: card`` draws the value from the card's own ``variability`` entry
(lot-to-lot / donor variability), like ``bioplan.yields.sample``.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from bioplan.errors import InputError
from bioplan.sweeps.spec import YIELD_PREFIX, _CardDraw


def split_key(key: str) -> tuple[str, str]:
    """``yield:<card>:<parameter>`` -> (card, parameter)."""
    _, card, parameter = key.split(":", 2)
    return card, parameter


def draw_from_card(card: Any, parameter: str, base: float, seed: int) -> float:
    """One draw of ``parameter`` from the card's ``variability`` entry, with the same
    distributions as ``bioplan.yields.sample`` (mean-preserving lognormal, normal truncated at 0,
    uniform; fractions clipped to [0, 1])."""
    from bioplan.yields.variability import _draw

    entry = next((v for v in card.variability if v.parameter == parameter), None)
    if entry is None:
        known = [v.parameter for v in card.variability]
        msg = f"card {card.name!r} declares no variability for {parameter!r}"
        raise InputError(
            msg,
            field=f"{YIELD_PREFIX}{card.name}:{parameter}",
            fix=f"use one of {known} or give an explicit distribution" if known
            else "give an explicit distribution (uniform, normal, lognormal ...)",
        )
    value = float(_draw(entry, base, 1, np.random.default_rng(seed))[0])
    if ".transit_to." in parameter or parameter.startswith("seed."):
        value = min(max(value, 0.0), 1.0)
    return value


def perturbed_recipe_overrides(scenario: Any, values: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    """Scenario overrides replacing each affected card's recipes by perturbed rows, and the
    parameter values actually used (card draws resolved)."""
    from bioplan.yields import load_card
    from bioplan.yields.exact_solver import run_batch
    from bioplan.yields.kinetics import param_space
    from bioplan.yields.recipes import table_from_batch, variant_theta
    from bioplan.yields.validity import validate_theta

    by_card: dict[str, dict[str, Any]] = {}
    for key, value in values.items():
        card_name, parameter = split_key(key)
        by_card.setdefault(card_name, {})[parameter] = (key, value)
    used: dict[str, Any] = {}
    overrides: dict[str, Any] = {}
    matched: set[str] = set()
    for i, src in enumerate(scenario.recipes):
        if src.card is None:
            continue
        card = load_card(src.card)
        wanted = by_card.get(card.name) or by_card.get(src.card)
        if not wanted:
            continue
        matched.add(card.name if card.name in by_card else src.card)
        ps = param_space(card)
        theta, keys = variant_theta(ps, src.variants or None)
        for parameter, (key, value) in wanted.items():
            column = ps.check_key(parameter, what="yield parameter", settings_only=False)
            if isinstance(value, _CardDraw):
                value = draw_from_card(card, parameter, ps.defaults[column], value.seed)
            theta[:, column] = float(value)
            used[key] = float(value)
        validate_theta(ps, theta)
        table = table_from_batch(ps, theta, run_batch(ps, theta), keys)
        rows = [
            {str(k): (v.item() if hasattr(v, "item") else v) for k, v in rec.items()}
            for rec in table.reset_index().to_dict("records")
        ]
        overrides.update({
            f"recipes.{i}.card": None,
            f"recipes.{i}.variants": {},
            f"recipes.{i}.table": f"{card.name} (sweep point)",
            f"recipes.{i}.rows": rows,
        })
    missing = sorted(set(by_card) - matched)
    if missing:
        msg = f"the scenario has no recipes from yield card(s) {missing}"
        raise InputError(
            msg,
            field="samples.parameters",
            fix="write yield parameters as yield:<card used in the scenario>:<parameter>",
        )
    return overrides, used

"""Recipe tables: many protocol variants of one card, evaluated in one vectorised call.

This is the table the planner chooses from (contract in ``docs/architecture.md``).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd

from bioplan.errors import InputError
from bioplan.yields.card import YieldCard
from bioplan.yields.exact_solver import BatchResult, run_batch
from bioplan.yields.kinetics import ParamSpace, param_space
from bioplan.yields.loader import as_card
from bioplan.yields.outcomes import (
    cytokine_amounts,
    factor_column,
    phase_cytokine_amounts,
    phase_factor_column,
    state_outcomes,
)
from bioplan.yields.validity import extrapolation, validate_theta

MAX_RECIPES = 5_000_000


def variant_theta(
    ps: ParamSpace, variants: Mapping[str, Sequence[float]] | None
) -> tuple[np.ndarray, list[str]]:
    """Parameter matrix: row 0 = the card's default protocol, then the full factorial of
    ``variants`` (rows identical to the default are dropped). Returns (theta, keys)."""
    variants = dict(variants or {})
    keys = list(variants)
    cols = [ps.check_key(k, what="variant") for k in keys]
    levels: list[list[float]] = []
    for k in keys:
        vals = variants[k]
        if isinstance(vals, str | bytes) or not isinstance(vals, Sequence) or len(vals) == 0:
            msg = f"variant {k!r} of card {ps.card.name!r} must be a non-empty list of numbers"
            raise InputError(
                msg,
                field=k,
                fix=f'write e.g. "{k}": [1, 2, 3]',
            )
        try:
            levels.append([float(v) for v in vals])
        except (TypeError, ValueError):
            msg = f"variant {k!r} of card {ps.card.name!r} has a non-numeric value in {list(vals)!r}"
            raise InputError(
                msg,
                field=k,
                fix="give numbers only",
            ) from None
    count = int(np.prod([len(v) for v in levels])) if levels else 0
    if count > MAX_RECIPES:
        msg = f"{count} variants of card {ps.card.name!r} exceed {MAX_RECIPES}"
        raise InputError(
            msg,
            field="variants",
            fix="use fewer levels per key",
        )
    base = ps.theta(1)
    if not keys:
        theta = base
    else:
        # full factorial, last key varying fastest (itertools.product order)
        idx = np.indices([len(v) for v in levels]).reshape(len(keys), -1)
        theta = ps.theta(count + 1)  # column-major, like ps.theta
        for j, (c, v) in enumerate(zip(cols, levels, strict=True)):
            theta[1:, c] = np.asarray(v)[idx[j]]
        same = np.all(theta[1:, cols] == base[0, cols], axis=1)
        if same.any():
            theta = np.asfortranarray(theta[np.concatenate([[True], ~same])])
    validate_theta(ps, theta, cols)
    validate_theta(ps, theta[:1])
    return theta, keys


def table_from_batch(
    ps: ParamSpace, theta: np.ndarray, res: BatchResult, keys: Sequence[str]
) -> pd.DataFrame:
    """Assemble the recipe-table columns (all per seed cell) from a solved batch."""
    card = ps.card
    n = theta.shape[0]
    out = state_outcomes(card, res.x_end[:, -1, :], res.x0)
    data: dict[str, object] = {
        "card": card.name,
        "lineage": card.lineage,
        "product": card.product,
        "cell_source": card.cell_source,
        "n_phases": len(card.protocol),
        "days": res.days.sum(axis=1).astype(int),
        "product_cells_per_seed_cell": out["product_cells_per_seed_cell"],
        "fold_expansion": out["fold_expansion"],
        "purity": out["purity"],
        "enucleation": out["enucleation"],
        "medium_L_per_seed_cell": res.medium_L.sum(axis=1),
        "peak_volume_L_per_seed_cell": res.peak_volume_L.max(axis=1),
    }
    amounts = cytokine_amounts(ps, theta, res)
    for f in card.costed_factors:
        data[factor_column(card, f)] = amounts[f"{f}_{card.factors[f].amount_unit}"]
    per_phase = phase_cytokine_amounts(ps, theta, res)
    for j, ph in enumerate(card.protocol):
        p = f"phase{j + 1}"
        data[f"{p}_name"] = ph.name
        data[f"{p}_days"] = res.days[:, j].astype(int)
        data[f"{p}_vessel_class"] = ph.vessel_class
        data[f"{p}_peak_volume_L_per_seed_cell"] = res.peak_volume_L[:, j].copy()
        data[f"{p}_medium_L_per_seed_cell"] = res.medium_L[:, j].copy()
        for f in card.costed_factors:
            data[phase_factor_column(card, j + 1, f)] = per_phase[
                f"{f}_{card.factors[f].amount_unit}"
            ][:, j]
    reasons = extrapolation(ps, theta)
    data["extrapolates"] = np.asarray(reasons, dtype=object) != ""
    data["extrapolation"] = reasons
    for k in keys:
        data[f"set:{k}"] = theta[:, ps.col(k)].copy()
    index = pd.Index([f"{card.name}/{i}" for i in range(n)], name="recipe")
    # copy=False: no consolidation copy of ~100 columns (~10 % of a big table's time); every
    # column is a fresh array owned by this table (the theta and res columns are copied above)
    return pd.DataFrame(data, index=index, copy=False)


def recipe_table(
    card: YieldCard | str, variants: Mapping[str, Sequence[float]] | None = None
) -> pd.DataFrame:
    """Candidate recipes of ``card``: the default protocol (row 0) plus the full factorial of
    ``variants`` (dotted keys ``<phase>.<factor>`` [factor unit], ``<phase>.days`` [integer days],
    ``<phase>.density_setpoint`` [cells/mL], ``<phase>.seed_density`` [cells/mL]).

    All outcome columns are **per seed cell**; index ``recipe`` = ``"<card>/<k>"``.

    >>> t = recipe_table("erythroid-cb-giarratana", {"expansion.days": [7, 8, 9]})
    >>> list(t["phase1_days"])
    [8, 7, 9]
    """
    c = as_card(card)
    ps = param_space(c)
    theta, keys = variant_theta(ps, variants)
    res = run_batch(ps, theta)
    return table_from_batch(ps, theta, res, keys)

"""Lot-to-lot variability: draw N parameter realisations from a card's distributions and evaluate
them in one vectorised call (N outcome rows)."""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pandas as pd

from bioplan.errors import InputError
from bioplan.yields.card import Variation, YieldCard
from bioplan.yields.kinetics import ParamSpace, apply_settings, param_space, validate_theta
from bioplan.yields.loader import as_card
from bioplan.yields.recipes import table_from_batch
from bioplan.yields.solver import run_batch


def _draw(v: Variation, base: float, n: int, rng: np.random.Generator) -> np.ndarray:
    if v.distribution == "uniform":
        assert v.low is not None and v.high is not None
        return rng.uniform(v.low, v.high, n)
    assert v.cv is not None
    if v.distribution == "lognormal":
        sigma = np.sqrt(np.log1p(v.cv**2))
        return base * np.exp(rng.normal(-0.5 * sigma**2, sigma, n))  # mean = base
    return np.maximum(rng.normal(base, v.cv * base, n), 0.0)


def sample_theta(
    ps: ParamSpace, n: int, *, seed: int | None = 0, settings: Mapping[str, float] | None = None
) -> np.ndarray:
    """(n, P) parameter matrix: the protocol with ``settings``, card parameters drawn."""
    if n < 1:
        raise InputError(f"n = {n} must be >= 1", field="n", fix="ask for at least one sample")
    card = ps.card
    rng = np.random.default_rng(seed)
    theta = apply_settings(ps, ps.theta(n), settings)
    for v in card.variability:
        c = ps.check_key(v.parameter, what="variability parameter", settings_only=False)
        theta[:, c] = _draw(v, theta[0, c], n, rng)
        if ".transit_to." in v.parameter or v.parameter.startswith("seed."):
            theta[:, c] = np.clip(theta[:, c], 0.0, 1.0)
    validate_theta(ps, theta)
    return theta


def sample(
    card: YieldCard | str,
    n: int = 1000,
    *,
    seed: int | None = 0,
    settings: Mapping[str, float] | None = None,
) -> pd.DataFrame:
    """N realisations of the card's lot-to-lot variability for one protocol.

    Returns the recipe-table columns (per seed cell) for each draw, plus ``draw:<parameter>``
    columns with the drawn values; index ``draw`` (0..n-1).

    >>> t = sample("mk-cb-tpo", 100, seed=1)
    >>> len(t), bool(t["product_cells_per_seed_cell"].std() > 0)
    (100, True)
    """
    c = as_card(card)
    if not c.variability:
        raise InputError(
            f"card {c.name!r} declares no variability",
            field="variability",
            fix="add entries under 'variability' (parameter, distribution, cv or low/high, source)",
        )
    ps = param_space(c)
    theta = sample_theta(ps, n, seed=seed, settings=settings)
    res = run_batch(ps, theta)
    table = table_from_batch(ps, theta, res, [])
    for v in c.variability:
        table[f"draw:{v.parameter}"] = theta[:, ps.col(v.parameter)]
    table.index = pd.RangeIndex(n, name="draw")
    return table

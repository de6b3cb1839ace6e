"""A candidate recipe's yield factors in the robust program's own samples (common random numbers).

The robust program gives recipe r seeded on day d in sample k the factor
``mean_{l < m} Y(θ_r, draw[k·H·L + d·L + l]) / Y(θ_r)`` (:func:`bioplan.robust.samples.factor_grid`
and :func:`~bioplan.robust.samples.pick`: ``H`` horizon days, ``L = MAX_POOLED_LOTS``, ``m`` the lots
a smallest batch pools, the draws those of the card's stream for the program's seed, ``Y`` the
exact yield model's product cells per seed cell). :class:`LotDraws` draws the card's parameters
once and evaluates a candidate's settings on just the draws a few seeding days need, in one
vectorised call; ``tests/media_search/test_robust_pricing.py`` checks it against
:func:`bioplan.robust.samples.recipe_factors` itself.

Cards without a ``variability:`` section keep their factors independent of the settings (a
lognormal ``yield_cv`` spread, or 1): those come from ``recipe_factors`` once per card.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from bioplan.robust.samples import (
    MAX_POOLED_LOTS,
    _seed,
    card_references,
    pooled_lots,
    recipe_factors,
)
from bioplan.yields import load_card
from bioplan.yields.exact_solver import run_batch
from bioplan.yields.kinetics import param_space
from bioplan.yields.recipes import table_from_batch
from bioplan.yields.variability import available_uncertainty, parameter_draws

if TYPE_CHECKING:
    from bioplan.optimisation.data import Option
    from bioplan.scenario import Scenario
    from bioplan.scenario.schema import Uncertainty


class LotDraws:
    """The lot draws of one card in a robust program of ``samples`` K over ``horizon`` H days."""

    def __init__(self, sc: Scenario, card: str, recipes: pd.DataFrame, unc: Uncertainty) -> None:
        self.card, self.samples = card, unc.samples
        self.horizon = sc.horizon.days
        n = self.samples * self.horizon * MAX_POOLED_LOTS
        ref = card_references(sc).get(card)
        self.ps = param_space(load_card(ref)) if ref is not None else None
        self.draws: dict[str, np.ndarray] = {}
        self.fixed: np.ndarray | None = None
        kind = available_uncertainty(load_card(ref), unc.yield_uncertainty) if ref is not None else None
        if kind is not None:
            self.draws = parameter_draws(self.ps, n, seed=_seed(unc.seed, card),  # type: ignore[arg-type]
                                         uncertainty=kind, fit_blocks=self.samples)
        else:  # factors that do not depend on the settings: any recipe of the card will do
            name = str(recipes.index[recipes["card"] == card][0])
            f = recipe_factors(sc, recipes, [name], n, unc.seed, unc.yield_cv, samples=self.samples,
                               uncertainty=unc.yield_uncertainty)[name]
            self.fixed = f.reshape(self.samples, self.horizon, MAX_POOLED_LOTS)

    def index(self, days: np.ndarray, lots: int) -> np.ndarray:
        """(K, D, m) draw positions of samples k, seeding days ``days`` and lots l < m."""
        m = max(1, min(lots, MAX_POOLED_LOTS))
        k = np.arange(self.samples)[:, None, None]
        d = np.asarray(days, dtype=int)[None, :, None]
        lot = np.arange(m)[None, None, :]
        return (k * self.horizon + d) * MAX_POOLED_LOTS + lot

    def factors(self, settings: Mapping[str, float], nominal: float, days: np.ndarray,
                lots: int) -> np.ndarray:
        """(K, D) factors of a recipe with ``settings`` (dotted keys) and nominal yield
        ``nominal`` [product cells per seed cell] seeded on ``days`` [-]."""
        days = np.asarray(days, dtype=int)
        inside = (days >= 0) & (days < self.horizon)
        out = np.ones((self.samples, days.size))
        if not inside.any():
            return out
        pos = self.index(days[inside], lots)
        if self.fixed is not None:
            out[:, inside] = self.fixed.reshape(-1)[pos].mean(axis=2)
            return out
        assert self.ps is not None
        flat = pos.reshape(-1)
        theta = self.ps.theta(flat.size)
        for key, value in settings.items():
            theta[:, self.ps.col(key)] = float(value)
        for p, values in self.draws.items():
            theta[:, self.ps.col(p)] = values[flat]
        table = table_from_batch(self.ps, theta, run_batch(self.ps, theta), [])
        y = table["product_cells_per_seed_cell"].to_numpy(dtype=float).reshape(pos.shape)
        out[:, inside] = y.mean(axis=2) / nominal
        return out


def recipe_settings_of(row: pd.Series) -> dict[str, float]:
    """The dotted settings of a recipe row (its non-empty ``set:<key>`` entries)."""
    return {str(c)[4:]: float(v) for c, v in row.items()
            if str(c).startswith("set:") and pd.notna(v)}


class FactorSource:
    """Factors of the options of a recipe table's rows (the search's candidates), per card."""

    def __init__(self, sc: Scenario, recipes: pd.DataFrame, unc: Uncertainty) -> None:
        self.sc, self.recipes, self.unc = sc, recipes, unc
        self._cards: dict[str, LotDraws] = {}
        self.table: pd.DataFrame | None = None

    def lots(self, card: str) -> LotDraws:
        if card not in self._cards:
            self._cards[card] = LotDraws(self.sc, card, self.recipes, self.unc)
        return self._cards[card]

    def __call__(self, opt: Option, days: np.ndarray) -> np.ndarray:
        table = self.table if self.table is not None and opt.recipe in self.table.index else (
            self.recipes)
        row: pd.Series = table.loc[opt.recipe]  # type: ignore[assignment]
        m = pooled_lots(opt.units_min * opt.seed_cells_per_unit,
                        self.sc.sources[opt.source].cells_per_lot)
        return self.lots(str(row["card"])).factors(
            recipe_settings_of(row), float(row.to_dict()["product_cells_per_seed_cell"]), days, m)

"""The data of the two-stage stochastic program (picklable, no Pyomo): the deterministic
:class:`~bioplan.optimisation.data.PlanData`, the yield factors per sample and the targets."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np

from bioplan.optimisation.data import PlanData


@dataclass
class StochasticData:
    """Everything the EF needs (picklable, no Pyomo)."""

    base: PlanData
    factors: np.ndarray
    """(K, S) yield factor of each slot in each sample [-]."""
    probabilities: np.ndarray
    """(K,) probability of each sample [-]; sums to 1."""
    service_level: float | None = None
    product_levels: dict[str, float] | None = None
    """Per product, a service level replacing ``service_level`` in the chance constraint (a
    calibrated SAA, :mod:`bioplan.robust.calibrate`, sets each product's own) [-]."""
    confidence: float | None = None
    as_planned_short: dict[str, float] | None = None
    """Per product, the most units the plan as planned (the nominal block) may be short [unit]
    (:func:`~bioplan.optimisation.chance.add_as_planned_rows`); None: no bound."""
    elastic: bool = False
    """Chance rows with a priced excess (:func:`~bioplan.optimisation.chance.add_chance_constraints`):
    always a plan, and one with excess misses the constraint."""
    cvar_alpha: float | None = None
    cvar_weight: float = 0.0
    nominal_block: bool = True
    """Add the probability-0 nominal block (the plan as planned must be storable)."""
    excused: dict[str, set[int]] | None = None
    """Samples excused from the chance constraint per product (default: :func:`excused_samples`;
    progressive hedging passes each one-sample model its share of the global choice)."""
    window_cuts: bool = True
    """Add the valid inequalities of :func:`add_window_cuts` (a tighter LP bound)."""
    compact: bool | None = None
    """Sample blocks in the compact form (:mod:`bioplan.optimisation.compact_recourse`) instead of
    the cohort rows: None when that is smaller, True whenever it applies, False never."""
    whole_units: bool = True
    """Each sample packages whole bags per product and release day, as the realised plan does
    (:func:`~bioplan.optimisation.compact_recourse.add_whole_unit_recourse`); False: fractional
    releases (docs/robust.md, "Whole units in the samples")."""
    fixed: dict[str, dict[Any, float]] | None = None
    """First-stage integer values to fix (``slot_batches``, ``reactor_added``): the EF becomes
    the LP that prices a given set of batches (progressive hedging's incumbent)."""
    fixed_releases: dict[str, dict[int, np.ndarray]] | None = None
    """Per product and cohort day, (K,) units the fixed batches (and opening stock) release in
    each sample, replacing ``base.products[p].fixed_release`` there (kept batches drawn from
    their forecasts, :mod:`bioplan.robust.kept`) [unit]; None: as planned in every sample."""
    segment_units: np.ndarray | None = None
    """(S, G) units per lot segment [unit] (:mod:`~bioplan.optimisation.lot_segments`); None:
    one draw per slot. ``segment_factors`` (K, S, G) their factors [-] (``factors``: the means)."""
    segment_factors: np.ndarray | None = None

    @property
    def samples(self) -> int:
        return int(self.factors.shape[0])

    def sample_factor(self, k: int) -> np.ndarray:  # (S, G) per lot segment, or (S,) per slot
        return self.factors[k] if self.segment_factors is None else self.segment_factors[k]

    def peak_factor(self) -> np.ndarray:
        """(S,) the highest factor of each slot over samples (and segments) [-]."""
        f = self.factors if self.segment_factors is None else self.segment_factors.max(axis=2)
        return f.max(axis=0, initial=1.0)

    def allowed_misses(self) -> int:
        """Samples per product that may miss the service level: ⌊(1 − C) K⌋."""
        return math.floor((1.0 - float(self.confidence or 1.0)) * self.samples + 1e-9)

"""Model trajectories of one protocol: the card's nominal daily viable cells and product per seed
cell, and the same for draws of the card's uncertainty (lot-to-lot and fit), in one vectorised
run of the exact kinetics."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field

import numpy as np
from numpy.typing import NDArray

from bioplan.yields import YieldCard
from bioplan.yields.exact_solver import BatchResult, run_batch
from bioplan.yields.kinetics import ParamSpace, apply_settings, param_space
from bioplan.yields.loader import as_card
from bioplan.yields.outcomes import stage_masks, state_outcomes
from bioplan.yields.validity import validate_theta
from bioplan.yields.variability import Uncertainty, available_uncertainty, sample_theta

FloatArray = NDArray[np.float64]
TINY = 1e-300
"""Floor before taking logarithms of cell counts [cells per seed cell]."""


@dataclass(frozen=True)
class Trajectories:
    """Row 0: the card's nominal parameters; rows 1..n: draws of its uncertainty."""

    cells: FloatArray
    """(n + 1, D + 1) viable cells (platelets excluded) per seed cell at the end of each day."""
    product: FloatArray
    """(n + 1,) product cells per seed cell at harvest."""
    uncertainty: str
    """Which uncertainty the draws carry (``lot``, ``fit``, ``both`` or ``none``)."""
    markers: dict[str, FloatArray] = field(default_factory=dict)
    """Per stage marker the card has a compartment for (:func:`marker_courses`), (n + 1, D + 1)
    its value at the end of each day."""

    @property
    def days(self) -> int:
        """Culture days of the protocol."""
        return self.cells.shape[1] - 1

    def log_cells(self, days: NDArray[np.int64]) -> FloatArray:
        """(n + 1, len(days)) ln viable cells per seed cell on ``days``."""
        return np.log(np.maximum(self.cells[:, np.clip(days, 0, self.days)], TINY))

    @property
    def log_product(self) -> FloatArray:
        """(n + 1,) ln product cells per seed cell."""
        return np.log(np.maximum(self.product, TINY))


MK_PLOIDY = re.compile(r"^MK(\d+)N$")
"""Megakaryocyte stages named by their ploidy (``MK2N`` ... ``MK32N``)."""


def marker_courses(card: YieldCard, course: FloatArray) -> dict[str, FloatArray]:
    """The stage markers of records that ``card`` has compartments for, from a time course
    ``course`` (N, D + 1, stages) [cells per seed cell]:

    - ``enucleated_fraction`` [-]: the product stage's cells over all viable cells, when the
      product stage is a cell (reticulocytes of erythroid cards);
    - ``ploidy_mean_N`` [N]: the cell-weighted mean ploidy of the stages named ``MK<N>N``.

    Other markers (CD71, CD235a, CD41, CD42b fractions) have no compartment of their own in the
    cards and are not modelled."""
    m = stage_masks(card)
    cells = course[:, :, m["cell"]].sum(axis=2)
    out: dict[str, FloatArray] = {}
    if (m["product"] & m["cell"]).any():
        enucleated = course[:, :, m["product"] & m["cell"]].sum(axis=2)
        out["enucleated_fraction"] = enucleated / np.maximum(cells, TINY)
    ploidy = {i: float(hit.group(1)) for i, s in enumerate(card.stages)
              if (hit := MK_PLOIDY.match(s.name))}
    if ploidy:
        idx = list(ploidy)
        weights = course[:, :, idx]
        total = weights.sum(axis=2)
        mean = (weights * np.array(list(ploidy.values()))).sum(axis=2) / np.maximum(total, TINY)
        out["ploidy_mean_N"] = np.where(total > TINY, mean, np.nan)
    return out


def _course(ps: ParamSpace, theta: FloatArray) -> BatchResult:
    """The exact kinetics of the parameter rows ``theta``, with their daily time course."""
    validate_theta(ps, theta)
    res = run_batch(ps, theta, time_course=True)
    assert res.course_x is not None
    return res


def _cells_product(ps: ParamSpace, res: BatchResult) -> tuple[FloatArray, FloatArray]:
    assert res.course_x is not None
    cells = res.course_x[:, :, stage_masks(ps.card)["cell"]].sum(axis=2)
    product = state_outcomes(ps.card, res.x_end[:, -1, :], res.x0)["product_cells_per_seed_cell"]
    return cells, np.asarray(product, dtype=float)


def run_theta(ps: ParamSpace, theta: FloatArray) -> tuple[FloatArray, FloatArray]:
    """(cells (N, D + 1), product (N,)) per seed cell of the parameter rows ``theta``."""
    return _cells_product(ps, _course(ps, theta))


def trajectories(card: YieldCard | str, settings: Mapping[str, float] | None = None, *,
                 n: int = 400, seed: int = 0,
                 uncertainty: Uncertainty | str | None = "auto") -> Trajectories:
    """Nominal and ``n`` drawn trajectories of the protocol ``settings`` of ``card``.

    ``uncertainty`` ``auto`` takes what the card has (:func:`available_uncertainty`); ``none``
    (or a card without any) gives ``n`` copies of the nominal row."""
    c = as_card(card)
    ps = param_space(c)
    nominal = apply_settings(ps, ps.theta(1), settings)
    unc = available_uncertainty(c) if uncertainty == "auto" else uncertainty
    if unc in (None, "none"):
        theta = np.repeat(nominal, n + 1, axis=0)
        label = "none"
    else:
        draws = sample_theta(ps, n, seed=seed, settings=settings, uncertainty=unc)  # type: ignore[arg-type]
        theta = np.vstack([nominal, draws])
        label = str(unc)
    res = _course(ps, theta)
    assert res.course_x is not None
    return Trajectories(*_cells_product(ps, res), label, marker_courses(ps.card, res.course_x))

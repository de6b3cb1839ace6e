"""Per-seed-cell outcomes of a batch: product, fold expansion, purity, enucleation, medium, volume,
cytokine amounts. All quantities are linear (positively homogeneous) in the seed, so a planner can
scale them by the number of seed cells.

Definitions (at the end of the protocol unless a phase is named):
- fold expansion = live cells / seed cells (platelets are not cells);
- purity = cells of the card's lineage (``committed`` stages, product included when it is a cell) /
  live cells;
- enucleation (erythroid) = product cells / (product cells + nucleated committed cells).
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

from bioplan.yields.card import YieldCard
from bioplan.yields.exact_solver import BatchResult
from bioplan.yields.kinetics import ParamSpace

FloatArray = NDArray[np.float64]


def stage_masks(card: YieldCard) -> dict[str, NDArray[np.bool_]]:
    """Boolean masks over stages: ``cell``, ``committed``, ``product``, ``nucleated_committed``."""
    cell = np.array([s.is_cell for s in card.stages])
    committed = np.array([s.committed for s in card.stages])
    product = np.array([s.product for s in card.stages])
    return {
        "cell": cell,
        "committed": committed & cell,
        "product": product,
        "nucleated_committed": committed & cell & ~product,
    }


def state_outcomes(card: YieldCard, x: FloatArray, seed: FloatArray) -> dict[str, FloatArray]:
    """Outcomes of states ``x`` (N, k) reached from seed compositions ``seed`` (N, k)."""
    m = stage_masks(card)
    cells = x[:, m["cell"]].sum(axis=1)
    seed_cells = seed[:, m["cell"]].sum(axis=1)
    product = x[:, m["product"]].sum(axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        purity = np.where(cells > 0, x[:, m["committed"]].sum(axis=1) / cells, np.nan)
        if card.product == "rbc":
            nucl = x[:, m["nucleated_committed"]].sum(axis=1)
            enuc = np.where(product + nucl > 0, product / (product + nucl), np.nan)
        else:
            enuc = np.full(x.shape[0], np.nan)
    return {
        "product_cells_per_seed_cell": product,
        "fold_expansion": cells / seed_cells,
        "purity": purity,
        "enucleation": enuc,
    }


def _amounts_by_phase(ps: ParamSpace, theta: FloatArray, res: BatchResult) -> FloatArray:
    """(N, F, J) amount of each costed factor used in each phase [mg or kU per seed cell]:
    concentration × medium litres × unit factor, gathered in one pass over ``theta`` (a big
    table's columns are strided when it is row-major: one read per column is slow)."""
    factors, phases = ps.card.costed_factors, ps.card.protocol
    cols = [ps.col(f"{ph.name}.{f}") for f in factors for ph in phases]
    conc = theta[:, cols].reshape(theta.shape[0], len(factors), len(phases))
    unit = np.array([spec.amount_per_conc_litre() for spec in factors.values()])
    return conc * res.medium_L[:, None, :] * unit[None, :, None]


def cytokine_amounts(ps: ParamSpace, theta: FloatArray, res: BatchResult) -> dict[str, FloatArray]:
    """Amount of each factor consumed [mg or kU per seed cell], keyed ``<factor>_<unit>``.

    amount = sum over phases of concentration × medium litres × unit factor
    (ng/mL × L = 1e-3 mg; ug/mL × L = 1 mg; U/mL × L = 1 kU; uM × L × g/mol = 1e-3 mg).
    """
    total = _amounts_by_phase(ps, theta, res).sum(axis=2)
    return {f"{f}_{spec.amount_unit}": total[:, i]
            for i, (f, spec) in enumerate(ps.card.costed_factors.items())}


def phase_cytokine_amounts(
    ps: ParamSpace, theta: FloatArray, res: BatchResult
) -> dict[str, FloatArray]:
    """Amount of each factor consumed in each phase [mg or kU per seed cell], keyed
    ``<factor>_<unit>``, each an (N, n_phases) array: concentration in the phase × the phase's
    medium litres × unit factor (summed over phases: :func:`cytokine_amounts`)."""
    amt = _amounts_by_phase(ps, theta, res)
    return {f"{f}_{spec.amount_unit}": amt[:, i]
            for i, (f, spec) in enumerate(ps.card.costed_factors.items())}


def factor_column(card: YieldCard, factor: str) -> str:
    """Recipe-table column of a factor, e.g. ``cytokine_EPO_kU_per_seed_cell``."""
    return f"cytokine_{factor}_{card.factors[factor].amount_unit}_per_seed_cell"


def phase_factor_column(card: YieldCard, k: int, factor: str) -> str:
    """Recipe-table column of a factor's use in phase ``k`` (1-based), e.g.
    ``phase2_cytokine_EPO_kU_per_seed_cell``."""
    return f"phase{k}_{factor_column(card, factor)}"

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


def cytokine_amounts(ps: ParamSpace, theta: FloatArray, res: BatchResult) -> dict[str, FloatArray]:
    """Amount of each factor consumed [mg or kU per seed cell], keyed ``<factor>_<unit>``.

    amount = sum over phases of concentration × medium litres × unit factor
    (ng/mL × L = 1e-3 mg; ug/mL × L = 1 mg; U/mL × L = 1 kU; uM × L × g/mol = 1e-3 mg).
    """
    out: dict[str, FloatArray] = {}
    for f, spec in ps.card.costed_factors.items():
        conc = np.stack([theta[:, ps.col(f"{ph.name}.{f}")] for ph in ps.card.protocol], axis=1)
        out[f"{f}_{spec.amount_unit}"] = (conc * res.medium_L).sum(
            axis=1
        ) * spec.amount_per_conc_litre()
    return out


def phase_cytokine_amounts(
    ps: ParamSpace, theta: FloatArray, res: BatchResult
) -> dict[str, FloatArray]:
    """Amount of each factor consumed in each phase [mg or kU per seed cell], keyed
    ``<factor>_<unit>``, each an (N, n_phases) array: concentration in the phase × the phase's
    medium litres × unit factor (summed over phases: :func:`cytokine_amounts`)."""
    out: dict[str, FloatArray] = {}
    for f, spec in ps.card.costed_factors.items():
        conc = np.stack([theta[:, ps.col(f"{ph.name}.{f}")] for ph in ps.card.protocol], axis=1)
        out[f"{f}_{spec.amount_unit}"] = conc * res.medium_L * spec.amount_per_conc_litre()
    return out


def factor_column(card: YieldCard, factor: str) -> str:
    """Recipe-table column of a factor, e.g. ``cytokine_EPO_kU_per_seed_cell``."""
    return f"cytokine_{factor}_{card.factors[factor].amount_unit}_per_seed_cell"


def phase_factor_column(card: YieldCard, k: int, factor: str) -> str:
    """Recipe-table column of a factor's use in phase ``k`` (1-based), e.g.
    ``phase2_cytokine_EPO_kU_per_seed_cell``."""
    return f"phase{k}_{factor_column(card, factor)}"

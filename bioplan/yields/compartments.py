"""Generation-structured compartments: how a card's stages become the state vector of the ODE.

A stage with a ``division_budget`` of D divisions is split into D + 1 compartments, one per
generation g = 0..D (divisions made since the cell entered the budget). A division takes a cell
of generation g < D out of its compartment and puts two cells into generation g + 1; cells of
generation D no longer divide (they can still differentiate or die). So a cell entering a budget
can give at most 2^D descendants: the budget is a hard, linear ceiling on amplification. Stages
that share a budget (e.g. pro-, basophilic and polychromatic erythroblasts: ~4 terminal
divisions) pass the generation on with transit; a cell entering a new budget starts at
generation 0. A stage without a budget is one compartment whose cells self-renew without limit
(immortalised lines).

Compartments are ordered stage by stage (differentiation order), generations ascending, so every
flow (division: g -> g + 1; transit: earlier stage -> later stage) goes to a later compartment and
the rate matrix stays lower triangular.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from bioplan.yields.card import YieldCard


@dataclass(frozen=True)
class Compartments:
    """The compartment layout of one card (K compartments over S stages)."""

    stage_of: NDArray[np.int64]
    """(K,) stage index of each compartment."""
    generation: NDArray[np.int64]
    """(K,) generation of each compartment (0 for stages without a budget)."""
    budgeted: NDArray[np.bool_]
    """(K,) True if the compartment's stage has a division budget."""
    last: NDArray[np.bool_]
    """(K,) True for the last generation of a budget (no further division)."""
    first: list[int]
    """First compartment of each stage."""
    n_gen: list[int]
    """Compartments per stage."""

    @property
    def size(self) -> int:
        """Number of compartments K."""
        return int(self.stage_of.shape[0])

    def aggregate(self, x: NDArray[np.float64]) -> NDArray[np.float64]:
        """Sum the last axis (compartments) into stages: (..., K) -> (..., S)."""
        return np.add.reduceat(x, self.first, axis=-1)  # stages are contiguous, in order

    def target(self, card: YieldCard, src_stage: int, gen: int, dst_stage: int) -> int:
        """Compartment that a transiting cell of (stage, generation) enters in ``dst_stage``."""
        a = card.stages[src_stage].division_budget
        b = card.stages[dst_stage].division_budget
        g = min(gen, self.n_gen[dst_stage] - 1) if a is not None and a == b else 0
        return self.first[dst_stage] + g


def compartments(card: YieldCard) -> Compartments:
    """The compartment layout of ``card``."""
    stage_of: list[int] = []
    gen: list[int] = []
    budgeted: list[bool] = []
    last: list[bool] = []
    first: list[int] = []
    n_gen: list[int] = []
    for i, st in enumerate(card.stages):
        first.append(len(stage_of))
        if st.division_budget is None:
            n = 1
        else:
            n = round(card.division_budgets[st.division_budget].value) + 1
        n_gen.append(n)
        for g in range(n):
            stage_of.append(i)
            gen.append(g)
            budgeted.append(st.division_budget is not None)
            last.append(st.division_budget is not None and g == n - 1)
    return Compartments(
        np.array(stage_of, dtype=np.int64),
        np.array(gen, dtype=np.int64),
        np.array(budgeted, dtype=bool),
        np.array(last, dtype=bool),
        first,
        n_gen,
    )

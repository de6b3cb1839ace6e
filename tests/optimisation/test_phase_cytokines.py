"""Cytokines by phase: each batch phase row and each day of ``media_use`` carries the phase's own
cytokines (recipe-table columns ``phase<k>_cytokine_<F>_<unit>_per_seed_cell``); a hand-made table
without them falls back to splitting the recipe's totals by the phases' medium.

The recipe (see ``builders``): 7 days = 3 d expansion + 4 d maturation in the one 10 L tank,
10 L medium per unit in each phase; SCF 1e-9 mg per seed cell, all in the expansion; EPO 1e-6 kU
per seed cell, all in the maturation. 10 units due on day 7 → one batch of 10 units, 1e7 seed
cells: 0.01 mg SCF on days 0-2 and 10 kU EPO on days 3-6. Cytokine cost = 0.01 mg × 1000 USD/mg
+ 10 kU × 5 USD/kU = **60 USD** either way.
"""

from __future__ import annotations

from typing import Any

import pandas as pd
import pytest

from bioplan.contracts import PlanStatus
from bioplan.errors import InputError
from bioplan.planning import plan
from bioplan.results import check_plan
from tests.optimisation.builders import base, build, demand, recipe
from tests.optimisation.invariants import assert_valid

PHASES = [("expansion", 3, "stirred"), ("maturation", 4, "stirred")]


def _recipe(per_phase: bool) -> dict[str, Any]:
    row = recipe("two/0", phases=PHASES)
    row["cytokine_SCF_mg_per_seed_cell"] = 1.0e-9
    if per_phase:
        row |= {"phase1_cytokine_EPO_kU_per_seed_cell": 0.0,
                "phase2_cytokine_EPO_kU_per_seed_cell": 1.0e-6,
                "phase1_cytokine_SCF_mg_per_seed_cell": 1.0e-9,
                "phase2_cytokine_SCF_mg_per_seed_cell": 0.0}
    return row


def _raw(per_phase: bool) -> dict[str, Any]:
    raw = base(14)
    raw["recipes"][0]["rows"] = [_recipe(per_phase)]
    raw["media"]["cytokine_price_usd_per_mg"] = {"SCF": 1000}
    return demand(raw, {7: 10})


def _solve(per_phase: bool):
    p = plan(build(_raw(per_phase)), marginal_values=False)
    assert p.status is PlanStatus.OPTIMAL
    assert_valid(p)
    assert len(p.batches) == 2
    return p


def test_epo_only_in_phase_two_stays_in_phase_two() -> None:
    p = _solve(per_phase=True)
    rows = p.batches.set_index("phase")
    assert rows.loc["expansion", "epo_kU"] == 0.0
    assert rows.loc["maturation", "epo_kU"] == pytest.approx(10.0, rel=1e-9)
    # cytokine_mg holds mass-dosed factors only (no kU added in)
    assert rows.loc["expansion", "cytokine_mg"] == pytest.approx(0.01, rel=1e-9)
    assert rows.loc["maturation", "cytokine_mg"] == 0.0
    media = p.media_use
    assert media.loc[[0, 1, 2], "EPO_kU"].tolist() == [0.0, 0.0, 0.0]
    assert media.loc[[3, 4, 5, 6], "EPO_kU"].tolist() == pytest.approx([2.5] * 4, rel=1e-9)
    assert media.loc[[0, 1, 2], "SCF_mg"].tolist() == pytest.approx([0.01 / 3] * 3, rel=1e-9)
    assert media.loc[[3, 4, 5, 6], "SCF_mg"].tolist() == [0.0] * 4
    assert media["EPO_kU"].sum() == pytest.approx(10.0, rel=1e-9)
    assert p.cost_breakdown["cytokine:EPO"] == pytest.approx(50.0, rel=1e-9)
    assert p.cost_breakdown["cytokine:SCF"] == pytest.approx(10.0, rel=1e-9)
    assert p.cost_breakdown["cytokines"] == pytest.approx(60.0, rel=1e-9)


def test_table_without_phase_columns_splits_by_medium() -> None:
    """Equal medium in both phases: each factor's total is split 50/50, costs are unchanged."""
    p = _solve(per_phase=False)
    rows = p.batches.set_index("phase")
    assert rows["epo_kU"].tolist() == pytest.approx([5.0, 5.0], rel=1e-9)
    assert rows["cytokine_mg"].tolist() == pytest.approx([0.005, 0.005], rel=1e-9)
    media = p.media_use
    assert media.loc[[0, 1, 2], "EPO_kU"].tolist() == pytest.approx([5 / 3] * 3, rel=1e-9)
    assert media.loc[[3, 4, 5, 6], "EPO_kU"].tolist() == pytest.approx([1.25] * 4, rel=1e-9)
    assert p.cost_breakdown["cytokines"] == pytest.approx(60.0, rel=1e-9)


def test_checker_finds_epo_in_the_wrong_phase() -> None:
    p = _solve(per_phase=True)
    batch = p.batches.index[0]
    swapped = p.batches.copy()
    swapped["epo_kU"] = swapped["epo_kU"].to_numpy()[::-1]
    p.batches = swapped
    problems = check_plan(p)
    assert any(f"batch {batch} phase expansion: epo_kU 10" in m for m in problems), problems


def test_checker_finds_epo_on_days_its_phase_does_not_run() -> None:
    p = _solve(per_phase=True)
    media = p.media_use.copy()
    media.loc[0, "EPO_kU"] += 1.0
    media.loc[3, "EPO_kU"] -= 1.0
    p.media_use = media
    problems = check_plan(p)
    assert any("day 0: 1 kU of EPO but no batch phase using EPO runs" in m for m in problems), problems


@pytest.mark.parametrize(("change", "message"), [
    ({"phase2_cytokine_EPO_kU_per_seed_cell": 2.0e-6}, "add up to 2e-06 but"),
    ({"phase2_cytokine_EPO_kU_per_seed_cell": float("nan")}, "for some of its 2 phases only"),
])
def test_inconsistent_phase_columns_are_rejected(change: dict[str, float], message: str) -> None:
    raw = _raw(per_phase=True)
    raw["recipes"][0]["rows"][0] |= change
    with pytest.raises(InputError, match=message):
        build(raw).recipe_table()


def test_fixed_batches_without_epo_column_get_their_cytokines_recomputed() -> None:
    """A batches table stored before ``epo_kU`` existed (``cytokine_mg`` then mixed mg and kU):
    kept as given, but its cytokine columns are recomputed from the recipe by phase."""
    old = pd.DataFrame([
        {"batch_id": "old-1", "product": "rbc", "recipe": "two/0", "phase": name,
         "reactor_type": "tank", "reactor_unit": 1, "start_day": start, "end_day": start + days,
         "seed_cells": 1.0e7, "product_units": 10.0, "medium_L": 100.0, "cytokine_mg": 5.005}
        for name, start, days in (("expansion", 0, 3), ("maturation", 3, 4))
    ]).set_index("batch_id")
    p = plan(build(_raw(per_phase=True)), fixed_batches=old, marginal_values=False)
    assert p.status is PlanStatus.OPTIMAL
    assert_valid(p)
    rows = p.batches.loc[["old-1"]].set_index("phase")
    assert rows["epo_kU"].tolist() == pytest.approx([0.0, 10.0], rel=1e-9)
    assert rows["cytokine_mg"].tolist() == pytest.approx([0.01, 0.0], rel=1e-9)


@pytest.mark.parametrize(("dose", "warned"), [(0.0, False), (1.0e-9, True)])
def test_unpriced_factor_is_warned_only_when_dosed(
    dose: float, warned: bool, caplog: pytest.LogCaptureFixture
) -> None:
    """IL6 has no price in the scenario: a recipe dosing it at 0 costs nothing either way and is
    not warned about; a recipe that doses it is (and IL6 is costed at 0)."""
    from bioplan.optimisation.inputs import prepare

    raw = _raw(per_phase=False)
    raw["recipes"][0]["rows"][0]["cytokine_IL6_mg_per_seed_cell"] = dose
    with caplog.at_level("WARNING", logger="bioplan.optimisation.inputs"):
        prepare(build(raw))
    found = [r.getMessage() for r in caplog.records if "no price for cytokine IL6" in r.getMessage()]
    assert bool(found) is warned, found

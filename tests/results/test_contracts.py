"""The contracts leaf: each shared fact defined once, checked by hand-worked values."""

from __future__ import annotations

import numpy as np

from bioplan.contracts import (
    CytokineKey,
    cytokine_keys,
    last_usable_day,
    maintenance_days,
    pareto_efficient,
)


def test_last_usable_day_counts_from_harvest() -> None:
    """Platelets harvested on day 9, released on day 10 after 1 day of testing, 5-day shelf life:
    usable on days 10..13 (harvest day + 5 − 1), expired on day 14."""
    assert last_usable_day(10, shelf_life_days=5, release_delay_days=1) == 13
    assert last_usable_day(0, shelf_life_days=42, release_delay_days=0) == 41


def test_maintenance_windows_are_clipped_to_the_horizon() -> None:
    assert maintenance_days(-2, 5, 28) == range(0, 3)
    assert maintenance_days(26, 5, 28) == range(26, 28)
    assert list(maintenance_days(40, 5, 28)) == []


def test_cytokine_keys_come_from_the_one_pattern() -> None:
    cols = ["days", "cytokine_EPO_kU_per_seed_cell", "cytokine_IL_3_mg_per_seed_cell",
            "phase1_cytokine_EPO_kU_per_seed_cell", "cytokine_TPO_ug_per_seed_cell"]
    keys = cytokine_keys(cols)
    assert keys == [CytokineKey("EPO", "kU"), CytokineKey("IL_3", "mg")]
    assert keys[1].label == "IL_3_mg" and keys[1].cost_row == "cytokine:IL_3"
    assert keys[0].phase_column(2) == "phase2_cytokine_EPO_kU_per_seed_cell"
    assert CytokineKey.from_column(keys[1].per_seed_column) == keys[1]


def test_pareto_rule() -> None:
    points = np.array([[1, 2], [2, 1], [2, 2], [1, 2], [np.nan, 0]])
    assert pareto_efficient(points).tolist() == [True, True, False, True, False]

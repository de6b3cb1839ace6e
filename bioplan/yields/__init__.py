"""Differentiation yield models: cited model cards -> exact linear kinetics -> recipe tables.

Public API (contract in ``docs/architecture.md``; user guide in ``docs/yields.md``):

- :func:`list_cards`, :func:`load_card` — the shipped cards (``models/yields/*.yaml``)
- :func:`simulate` — one protocol, per-phase table, per seed cell and per transfusion unit
- :func:`recipe_table` — many protocol variants in one vectorised call (what the planner uses)
- :func:`sample` — lot-to-lot variability: N realisations -> N outcome rows
- :func:`calibrate` — fit a card's rates to its published outcomes;
  :func:`fit_time_course` — to a measured time-course table
"""

from __future__ import annotations

from bioplan.yields.calibration import (
    CalibrationResult,
    calibrate,
    fit_time_course,
    target_table,
)
from bioplan.yields.card import YieldCard
from bioplan.yields.cardio import dump_card
from bioplan.yields.loader import list_cards, load_card
from bioplan.yields.recipes import recipe_table
from bioplan.yields.simulate import CELLS_PER_UNIT, Simulation, simulate
from bioplan.yields.variability import sample

__all__ = [
    "CELLS_PER_UNIT",
    "CalibrationResult",
    "Simulation",
    "YieldCard",
    "calibrate",
    "dump_card",
    "fit_time_course",
    "list_cards",
    "load_card",
    "recipe_table",
    "sample",
    "simulate",
    "target_table",
]

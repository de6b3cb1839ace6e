"""Differentiation yield models: cited model cards -> exact linear kinetics -> recipe tables.

Public API (contract in ``docs/architecture.md``; user guide in ``docs/yields.md``):

- :func:`list_cards`, :func:`load_card` — the shipped cards (``models/yields/*.yaml``)
- :func:`simulate` — one protocol, per-phase table, per seed cell and per transfusion unit
- :func:`recipe_table` — many protocol variants in one vectorised call (what the planner uses)
- :func:`sample` — yield uncertainty (lot-to-lot, fit, or both): N realisations -> N outcome rows;
  :func:`sample_recipe_yields` — N realisations of each recipe's product per seed cell (for
  robust plans); :func:`quantiles` — P5/P50/P95
- :func:`calibrate` — fit a card jointly to its published datasets; :func:`validation_table`
  — fit and leave-one-dataset-out errors per published observation;
  :func:`fit_time_course` — to a measured time-course table
"""

from __future__ import annotations

from bioplan.yields.calibration import (
    CalibrationResult,
    calibrate,
    target_table,
    validation_table,
)
from bioplan.yields.card import YieldCard
from bioplan.yields.card_writer import dump_card
from bioplan.yields.loader import list_cards, load_card
from bioplan.yields.recipes import recipe_table
from bioplan.yields.simulate import CELLS_PER_UNIT, Simulation, simulate
from bioplan.yields.time_course_fit import fit_time_course
from bioplan.yields.variability import quantiles, sample, sample_recipe_yields

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
    "quantiles",
    "recipe_table",
    "sample",
    "sample_recipe_yields",
    "simulate",
    "target_table",
    "validation_table",
]

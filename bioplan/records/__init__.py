"""Batch records: what the facility measured on its running and finished batches, the per-batch
forecasts they give, and the cards they teach (``docs/learning.md``).

- :func:`read_records` — the validated records CSV;
- :func:`planned_batches` — what a plan says about its batches (recipe, card, dates, units);
- :func:`forecast` — per batch: planned units, forecast P10/P50/P90, change;
- :func:`learn` — Bayesian update of a card's lot-to-lot distribution (and identified rates)
  from completed batches.
"""

from __future__ import annotations

from bioplan.records.batches import PlannedBatch, check_records, planned_batches
from bioplan.records.forecast import forecast
from bioplan.records.table import RECORD_COLUMNS, read_records

__all__ = [
    "RECORD_COLUMNS",
    "PlannedBatch",
    "check_records",
    "forecast",
    "planned_batches",
    "read_records",
]

"""Rolling horizons: which batches of the previous stored plan a new run must keep.

A batch of the previous plan is kept exactly as planned when it starts before the frozen-window
cut-off (``start_day < frozen_days`` on the new plan grid: it has started already, or it is
committed for the next ``frozen_days`` days) and is still in a reactor on or after the new day 0
(``end_day >= 0``). Batches that finished before the new day 0 are history: what they produced is
the scenario's ``initial_inventory_units``. Days are shifted to the new grid, so a batch that
started before the new horizon has a negative ``start_day``.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any

import pandas as pd

from bioplan.results import BATCH_COLUMNS


def batches_to_records(batches: pd.DataFrame) -> list[dict[str, Any]]:
    """A batches table as JSON-ready records (``batch_id`` included), for the run store."""
    frame = batches.reset_index()
    records = frame.astype(object).where(frame.notna(), None).to_dict("records")
    return [{str(k): _plain(v) for k, v in rec.items()} for rec in records]


def records_to_batches(records: Sequence[dict[str, Any]]) -> pd.DataFrame:
    """Inverse of :func:`batches_to_records`: a table indexed by ``batch_id``."""
    if not records:
        frame = pd.DataFrame(columns=["batch_id", *BATCH_COLUMNS])
    else:
        frame = pd.DataFrame(list(records))
    frame = frame.set_index("batch_id")
    for column in ("start_day", "end_day", "reactor_unit"):
        if column in frame and len(frame):
            frame[column] = frame[column].astype(int)
    return frame


def _plain(value: Any) -> Any:
    return value.item() if hasattr(value, "item") else value


def fixed_batches(
    previous: pd.DataFrame,
    previous_start: dt.date,
    new_start: dt.date,
    frozen_days: int,
) -> pd.DataFrame:
    """The batches of ``previous`` (a ``Plan.batches`` table planned from ``previous_start``) to
    keep in a plan starting on ``new_start``, with days on the new grid.

    A batch with several phase rows (same ``batch_id``) is kept or dropped as a whole, judged by
    its first start and last end.

    >>> prev = pd.DataFrame({"start_day": [0, 5, 9], "end_day": [10, 12, 20]},
    ...                     index=pd.Index(["a", "b", "c"], name="batch_id"))
    >>> fixed_batches(prev, dt.date(2027, 1, 4), dt.date(2027, 1, 8), frozen_days=2).to_dict("index")
    {'a': {'start_day': -4, 'end_day': 6}, 'b': {'start_day': 1, 'end_day': 8}}
    """
    shift = (previous_start - new_start).days
    if previous.empty:
        return previous.copy()
    moved = previous.copy()
    moved["start_day"] = moved["start_day"].astype(int) + shift
    moved["end_day"] = moved["end_day"].astype(int) + shift
    by_batch = moved.groupby(level=0)
    first_start = by_batch["start_day"].transform("min")
    last_end = by_batch["end_day"].transform("max")
    keep = (first_start < frozen_days) & (last_end >= 0)
    return moved.loc[keep.to_numpy()]

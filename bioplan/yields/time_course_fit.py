"""Fit a card to one measured time course of its default protocol (e.g. a facility's own batch).

The table is turned into a one-dataset :class:`~bioplan.yields.datasets.CalibrationData` and
fitted with :func:`~bioplan.yields.calibration.calibrate` (a MAP fit: the card's priors still
apply; measurement errors ``count_error`` log10 for counts, 0.05 for enucleation).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from bioplan.errors import InputError
from bioplan.yields.calibration import CalibrationResult, calibrate
from bioplan.yields.card import YieldCard
from bioplan.yields.datasets import CalibrationData, Dataset, Observation
from bioplan.yields.loader import as_card

TIME_COURSE_COLUMNS = ("cells_total", "product", "enucleation")
"""Besides ``cells_<stage>``, the columns a time-course table may have."""


def _observation(card: YieldCard, col: str, day: int, value: float,
                 seed_cells: float, err: float) -> Observation:
    if col == "enucleation":
        return Observation(quantity="enucleation", day=day, value=value, error=0.05,
                           provenance="D")
    if value <= 0:
        msg = f"time course {col} on day {day} is {value:g}; counts must be > 0"
        raise InputError(msg,
                         field=col, fix="drop the row or leave the cell empty")
    if col == "product":
        return Observation(quantity="product_per_seed_cell", day=day, value=value / seed_cells,
                           error=err, provenance="D")
    stages = [] if col == "cells_total" else [col.removeprefix("cells_")]
    return Observation(quantity="fold_expansion", day=day, value=value / seed_cells, error=err,
                       provenance="D", numerator=stages)


def fit_time_course(
    card: YieldCard | str,
    data: pd.DataFrame,
    parameters: Sequence[str],
    *,
    seed_cells: float = 1.0,
    count_error: float = 0.05,
    max_nfev: int = 200,
) -> CalibrationResult:
    """Fit ``parameters`` to a measured time course of the card's default protocol.

    ``data`` has a ``day`` column (or index) and any of ``cells_total``, ``cells_<stage>``,
    ``product`` [cells or platelets from ``seed_cells`` seed cells] and ``enucleation`` [0-1];
    NaN cells are skipped; ``count_error`` is the counts' measurement error [log10]. Residuals
    are stored as ``time-course:<quantity>@d<day>``.
    """
    c = as_card(card)
    frame = data.reset_index() if "day" not in data.columns else data
    if "day" not in frame.columns:
        msg = "time course needs a 'day' column"
        raise InputError(msg, field="day", fix="add the day [d]")
    allowed = set(TIME_COURSE_COLUMNS) | {f"cells_{s}" for s in c.stage_names}
    cols = [col for col in frame.columns if col not in ("day", "index")]
    unknown = [col for col in cols if col not in allowed]
    if unknown or not cols:
        msg = f"time course column(s) {unknown or '(none)'} not understood for card {c.name!r}"
        raise InputError(
            msg,
            field=str(unknown[0]) if unknown else "columns",
            fix=f"use {', '.join(sorted(allowed))}",
        )
    days = frame["day"].to_numpy()
    if np.any(days != np.round(days)) or days.min() < 0 or days.max() > c.total_days:
        msg = f"time-course days must be whole days within 0-{c.total_days}"
        raise InputError(msg,
                         field="day", fix="give integer days inside the protocol")
    obs = [
        _observation(c, col, int(d), float(v), seed_cells, count_error)
        for col in cols
        for d, v in zip(days, frame[col].to_numpy(dtype=float), strict=True)
        if np.isfinite(v)
    ]
    ds = Dataset(id="time-course", citation="measured time course (user data)",
                 read_in="user table", group="user", observations=obs)
    cal = CalibrationData(card=c.name, lineage=c.lineage, datasets=[ds])
    return calibrate(c, parameters, data=cal, max_nfev=max_nfev)

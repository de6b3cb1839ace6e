"""Kept batches in robust plans and out-of-sample evaluations: a running batch whose records give
a forecast enters every yield sample with its own draw of that forecast.

A batch a nightly run keeps (started or committed, ``rolling:``) is a constant of the plan: it
releases its ``product_units`` (whole bags of its forecast P50, :mod:`bioplan.records.replan`) on
its harvest day. With records its units are still uncertain: the forecast, conditioned on its
counts (:mod:`bioplan.records.forecast`), is lognormal with median P50 and standard deviation
``log_sd`` of ln units. In sample k the batch releases

    ``u_b · g_kb``,   ``g_kb = min((P50_b / w_b) · exp(σ_b z_kb), cap_b)``

with u_b the units it is planned with (whole bags) [unit], w_b the forecast units it is planned
with (P50, unless the vessels' working volumes held it) [unit], σ_b its ``log_sd`` [-], z_kb a
standard normal draw and cap_b = 1 when its forecast was held at the vessels' maximum working
volume (a culture cannot outgrow its vessels), else no cap.

Common random numbers: z_kb is the batch's own (a stream seeded by the plan's seed and the batch
id, :func:`bioplan.records.forecast.forecast_draws`), independent of the lot draws of new batches
and of the other kept batches, and the same for a batch whichever other batches are kept. The
running culture's lot is already in it and its counts condition its forecast; new batches are
seeded from later lots, independent of it under the cards' lot model (the fit uncertainty that
would correlate them is not sampled for new batches). Two kept batches seeded from one lot share
part of their deviation; each one's counts condition its own forecast and the residuals are taken
as independent (an approximation).

Kept batches without records, harvested ones, those of hand-made recipes (no card) and lost ones
have ``log_sd`` 0: they stay constants, as they were before records existed.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

if TYPE_CHECKING:
    from bioplan.optimisation.data import PlanData

KEPT_COLUMNS = ("product", "harvest_day", "units", "forecast_p10", "forecast_p50",
                "forecast_p90", "planned_with", "log_sd", "cap")
"""Columns of :func:`kept_batches` (index ``batch_id``)."""
RECORD_KEY = "kept_batches"
"""Key of the kept batches drawn from their forecasts in ``plan.robust``."""
HELD_AT_MAXIMUM = "maximum"
"""Word of a forecast note that says the vessels' maximum working volume held it."""


def kept_batches(forecasts: pd.DataFrame | None, fixed: pd.DataFrame | None) -> pd.DataFrame:
    """The kept batches whose forecast has a spread (index ``batch_id``, :data:`KEPT_COLUMNS`):
    rows of ``forecasts`` (the table of :func:`bioplan.records.replan.forecast_kept_batches`) with
    ``log_sd`` > 0 and units planned, joined to the ``fixed`` batches table (its product, harvest
    day and the whole bags ``units`` it is planned with)."""
    empty = pd.DataFrame(columns=list(KEPT_COLUMNS), index=pd.Index([], name="batch_id"))
    if forecasts is None or fixed is None or forecasts.empty or fixed.empty:
        return empty
    rows = fixed.reset_index()
    rows = rows.rename(columns={rows.columns[0]: "batch_id"}) if "batch_id" not in rows else rows
    per_batch = rows.assign(batch_id=rows["batch_id"].astype(str)).groupby("batch_id").agg(
        product=("product", "first"), harvest_day=("end_day", "max"),
        units=("product_units", "first"))
    table = forecasts.copy()
    table.index = table.index.astype(str)
    planned_with = table.get("planned_with", table["forecast_p50"]).astype(float)
    note = table.get("note", pd.Series("", index=table.index)).fillna("").astype(str)
    table = table.assign(planned_with=planned_with,
                         cap=np.where(note.str.contains(HELD_AT_MAXIMUM), 1.0, np.inf))
    spread = table[(table["log_sd"].astype(float) > 0) & (table["planned_with"] > 0)
                   & table.index.isin(per_batch.index)]
    if spread.empty:
        return empty
    out = per_batch.loc[spread.index].join(spread[[c for c in KEPT_COLUMNS
                                                   if c not in per_batch.columns]])
    out.index.name = "batch_id"
    return out[list(KEPT_COLUMNS)].sort_index()


def kept_factors(kept: pd.DataFrame, n: int, seed: int) -> np.ndarray:
    """(n, len(kept)) yield factors g of the kept batches [-] (their units × g are what they
    release; see the module docstring)."""
    from bioplan.records.forecast import forecast_draws

    if kept.empty:
        return np.ones((n, 0))
    draws = forecast_draws(kept, n, seed=seed)[[str(b) for b in kept.index]].to_numpy(float)
    g = draws / kept["planned_with"].to_numpy(float)
    return np.minimum(g, kept["cap"].to_numpy(float))


def with_kept(batch_ids: pd.Index, factors: np.ndarray, kept: pd.DataFrame, n: int, seed: int
              ) -> np.ndarray:
    """``factors`` (n, batches) of the batches ``batch_ids`` [-] with the kept batches' columns
    replaced by their forecast draws (:func:`kept_factors`)."""
    if kept.empty:
        return factors
    out = np.array(factors, dtype=float, copy=True)
    draws = kept_factors(kept, n, seed)
    where = {str(b): i for i, b in enumerate(batch_ids)}
    for j, b in enumerate(kept.index):
        if str(b) in where:
            out[:, where[str(b)]] = draws[:, j]
    return out


def sample_releases(data: PlanData, kept: pd.DataFrame, factors: np.ndarray
                    ) -> dict[str, dict[int, np.ndarray]]:
    """Per product and cohort day, (K,) units the fixed batches and the opening stock release in
    each sample when the kept batches release ``units × factors`` (K, len(kept)) [unit]; only
    cohorts with a kept batch are given (the others release as planned)."""
    out: dict[str, dict[int, np.ndarray]] = {}
    for j, (_b, row) in enumerate(kept.iterrows()):
        prod = data.products.get(str(row["product"]))
        if prod is None:
            continue
        cohort = int(row["harvest_day"]) + prod.release_days
        if cohort not in prod.fixed_release:  # released after the horizon or expired before it
            continue
        cohorts = out.setdefault(prod.name, {})
        if cohort not in cohorts:
            cohorts[cohort] = np.full(factors.shape[0], float(prod.fixed_release[cohort]))
        cohorts[cohort] = cohorts[cohort] + float(row["units"]) * (factors[:, j] - 1.0)
    for cohorts in out.values():
        for c, units in cohorts.items():
            cohorts[c] = np.maximum(units, 0.0)
    return out


def kept_record(kept: pd.DataFrame) -> dict[str, dict[str, Any]]:
    """The kept batches as JSON (``plan.robust["kept_batches"]``): per batch id its product,
    harvest day, units planned with, forecast P10/P50/P90, ``log_sd`` and cap."""
    def plain(column: str, value: Any) -> Any:
        if isinstance(value, str):
            return value
        return None if column == "cap" and not np.isfinite(value) else float(value)

    return {str(b): {str(c): plain(str(c), v) for c, v in row.items()}
            for b, row in kept.iterrows()}


def kept_from(robust: dict[str, Any] | None) -> pd.DataFrame:
    """The kept batches a robust plan drew from their forecasts (inverse of
    :func:`kept_record`); empty for other plans."""
    record = (robust or {}).get(RECORD_KEY) or {}
    if not record:
        return kept_batches(None, None)
    frame = pd.DataFrame.from_dict(record, orient="index")
    frame.index.name = "batch_id"
    frame["cap"] = frame["cap"].astype(float).fillna(np.inf)
    return frame[list(KEPT_COLUMNS)]

"""Per-batch forecasts: re-simulate the rest of a batch's protocol from its measured state, with
the card's uncertainty conditioned on what was measured.

For a running batch seeded with s cells (its ``seed`` record, else the plan's seed cells) and
counted c_i viable cells on culture days d_i (the last on day L):

- the kinetics are linear, so the batch measured at c_L cells on day L yields
  ``c_L · r_nom`` product cells, r_nom = Y_nom / N_nom(L) the card's nominal product per viable
  cell on day L (its protocol re-simulated from the measured state, the nominal composition of
  day L scaled to the count) [cells];
- the card's uncertainty (draws k of lot-to-lot and fit parameters) gives the joint spread of the
  observed growth deviations a_ki = ln N_k(d_i) / N_nom(d_i) and of the remaining fold's
  deviation b_k = ln r_k / r_nom. Conditioning b on the measured deviations
  o_i = ln c_i / (s · N_nom(d_i)) (Gaussian in log space, counts with a lognormal error of
  ``count_cv``):

      E[b | o] = Σ_ba (Σ_aa + σ_c² I)^-1 o,   Var[b | o] = Σ_bb − Σ_ba (Σ_aa + σ_c² I)^-1 Σ_ab

  centred on the card's nominal (the plan's own assumption: a batch that grows as the card says
  is forecast exactly as planned);
- stage markers: where the card has the matching compartment
  (:func:`bioplan.records.trajectory.marker_courses`: the enucleated fraction when the product
  stage is a cell, the mean ploidy of ``MK<N>N`` stages), each measured marker m_j on day d_j
  joins the observed deviations as ``T(m_j) − T(m_nom(d_j))`` (T = logit of a fraction, ln of a
  ploidy), the draws' ``T(m_k(d_j)) − T(m_nom(d_j))`` beside the growth deviations, with its own
  measurement variance on the diagonal (:data:`MARKER_SCALES`);
- units: P50 = c_L · r_nom · exp(E[b | o]) / cells per unit, P10/P90 = P50 · exp(∓1.2816 σ) with
  σ² = σ_c² + Var[b | o] (the count's own error plus the conditioned remaining spread).

A batch with a harvest record is done: its forecast is what it gave. A batch of a hand-made recipe
(no card) keeps its planned units (status ``no card``); a batch seeded or counted at 0 viable cells
is ``lost`` (0 units). A batch without counts after
seeding keeps the plan (scaled by its seed record) with the card's prior spread.
"""

from __future__ import annotations

import math
import zlib
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from bioplan.records.batches import PlannedBatch, check_records, culture_days
from bioplan.records.trajectory import Trajectories, trajectories

Z90 = 1.2815515655446004
"""Standard normal quantile of 0.90: P10/P90 = P50 · exp(∓Z90 · σ) for a lognormal forecast."""
COUNT_CV = 0.10
"""Default relative error of one viable-cell count [-] (assumption: automated counters repeat
within 5-10 %; the larger value is the safe one)."""
MARKER_SCALES: dict[str, tuple[str, float]] = {
    "enucleated_fraction": ("logit", 0.25),
    "ploidy_mean_N": ("log", 0.10),
}
"""Stage markers the forecast conditions on (when the card models them): the scale they enter on
and the standard deviation of one measurement on it [-] (assumption: flow-cytometric fractions
repeat within a few percentage points, 0.25 on the logit scale near 50 %; a mean ploidy from a DNA
histogram within ~10 %)."""
MARKER_CLIP = 1e-4
"""Fractions are held in [1e-4, 1 - 1e-4] (ploidies above 1e-4) before their transform [-]."""
FORECAST_COLUMNS = ("product", "recipe", "status", "last_day", "seed_cells", "planned_units",
                    "forecast_p10", "forecast_p50", "forecast_p90", "change_units", "change_pct",
                    "log_sd", "markers")


@dataclass(frozen=True)
class Conditioned:
    """The forecast of one batch in log space: product cells = exp(N(mean, sd²))."""

    log_mean: float
    """ln median product cells [ln cells]."""
    log_sd: float
    """Standard deviation of ln product cells [-]."""
    last_day: int
    """Culture day of the last count used (0: none)."""


def condition(traj: Trajectories, seed_cells: float, days: np.ndarray, counts: np.ndarray,
              count_cv: float = COUNT_CV,
              markers: Mapping[str, tuple[np.ndarray, np.ndarray]] | None = None) -> Conditioned:
    """The forecast of a batch seeded with ``seed_cells`` and counted ``counts`` on ``days``
    (culture days > 0), from the card trajectories ``traj`` (see the module docstring).

    ``markers`` (marker -> (days, values)) adds stage-marker measurements of the markers
    ``traj`` models (:func:`~bioplan.records.trajectory.marker_courses`) to the observed
    deviations, on their transformed scale (:data:`MARKER_SCALES`), with their measurement error
    (used only together with counts: the forecast starts from the last count)."""
    sigma_c = math.sqrt(math.log1p(count_cv**2))
    z = traj.log_product - traj.log_product[0]
    if len(days) == 0:
        return Conditioned(math.log(seed_cells) + float(traj.log_product[0]),
                           float(np.std(z[1:])), 0)
    order = np.argsort(days, kind="stable")
    days, counts = days[order], counts[order]
    log_n = traj.log_cells(days)
    a = (log_n - log_n[0])[1:]  # (n, m) growth deviations of the draws
    b = (z - (log_n[:, -1] - log_n[0, -1]))[1:]  # remaining-fold deviations
    o = np.log(np.maximum(counts, 1e-300)) - math.log(seed_cells) - log_n[0]
    noise = np.full(len(o), sigma_c**2)
    a, o, noise = _with_markers(traj, a, o, noise, markers or {})
    mean_b, var_b = 0.0, 0.0
    if a.shape[0] > 1:
        joint = np.cov(np.column_stack([a, b]), rowvar=False).reshape(a.shape[1] + 1, -1)
        s_aa = joint[:-1, :-1] + np.diag(noise)
        s_ba = joint[-1, :-1]
        gain = np.linalg.solve(s_aa, s_ba)
        mean_b = float(gain @ o)
        var_b = max(float(joint[-1, -1] - gain @ s_ba), 0.0)
    log_r_nom = float(traj.log_product[0] - log_n[0, -1])
    log_mean = math.log(max(float(counts[-1]), 1e-300)) + log_r_nom + mean_b
    return Conditioned(log_mean, math.sqrt(sigma_c**2 + var_b), int(days[-1]))


def _scaled(marker: str, values: np.ndarray) -> np.ndarray:
    """A marker on its conditioning scale (logit of a fraction, ln of a ploidy)."""
    kind, _sd = MARKER_SCALES[marker]
    if kind == "logit":
        p = np.clip(values, MARKER_CLIP, 1.0 - MARKER_CLIP)
        return np.asarray(np.log(p / (1.0 - p)), dtype=float)
    return np.asarray(np.log(np.maximum(values, MARKER_CLIP)), dtype=float)


def _with_markers(traj: Trajectories, a: np.ndarray, o: np.ndarray, noise: np.ndarray,
                  markers: Mapping[str, tuple[np.ndarray, np.ndarray]]
                  ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The draws' deviations ``a`` (n, m), the observed ``o`` (m,) and their error variances
    with the modelled markers' measurements appended (observations the model leaves undefined,
    e.g. a ploidy before any megakaryocyte exists, are skipped)."""
    for name, (days, values) in sorted(markers.items()):
        course = traj.markers.get(name)
        if course is None or name not in MARKER_SCALES or len(days) == 0:
            continue
        at = np.clip(days.astype(np.int64), 0, traj.days)
        model = _scaled(name, course[:, at])  # (n + 1, q)
        seen = _scaled(name, values.astype(float))
        ok = np.isfinite(model).all(axis=0) & np.isfinite(seen) & np.isfinite(course[:, at]).all(axis=0)
        if not ok.any():
            continue
        a = np.column_stack([a, (model[1:, ok] - model[0, ok])])
        o = np.concatenate([o, seen[ok] - model[0, ok]])
        noise = np.concatenate([noise, np.full(int(ok.sum()), MARKER_SCALES[name][1] ** 2)])
    return a, o, noise


def _harvested_units(rows: pd.DataFrame, batch: PlannedBatch) -> float | None:
    harvest = rows[rows["kind"] == "harvest"]
    if harvest.empty:
        return None
    last = harvest.iloc[-1]
    if pd.notna(last["units_packaged"]):
        return float(last["units_packaged"])
    return float(last["product_cells"]) / batch.cells_per_unit


def _row(batch: PlannedBatch, status: str, last_day: int, seed: float,
         p: tuple[float, float, float], log_sd: float, markers: str = "") -> dict[str, Any]:
    change = p[1] - batch.planned_units
    pct = 100.0 * change / batch.planned_units if batch.planned_units > 0 else float("nan")
    return {"batch_id": batch.batch_id, "product": batch.product, "recipe": batch.recipe,
            "status": status, "last_day": last_day, "seed_cells": seed,
            "planned_units": batch.planned_units, "forecast_p10": p[0], "forecast_p50": p[1],
            "forecast_p90": p[2], "change_units": change, "change_pct": pct, "log_sd": log_sd,
            "markers": markers}


def seeded_cells(rows: pd.DataFrame, batch: PlannedBatch) -> float:
    """Cells the batch was seeded with: its ``seed`` record (else a count on day 0), else the
    plan's seed cells [cells]."""
    seeds = rows[(rows["kind"] == "seed") | ((rows["kind"] == "count") & (rows["day"] == 0))]
    seeds = seeds.sort_values("kind", key=lambda k: k != "seed", kind="stable")
    return float(seeds["viable_cells"].iloc[0]) if len(seeds) else batch.seed_cells


def forecast_batch(batch: PlannedBatch, rows: pd.DataFrame, traj: Trajectories | None,
                   count_cv: float = COUNT_CV) -> dict[str, Any]:
    """One forecast row for ``batch`` from its records ``rows`` (with a ``day`` column);
    ``traj`` None: no card to forecast with (the plan stands until the harvest)."""
    harvested = _harvested_units(rows, batch)
    seed = seeded_cells(rows, batch)
    if harvested is not None:
        return _row(batch, "harvested", batch.days, seed, (harvested,) * 3, 0.0)
    if traj is None:
        return _row(batch, "no card", 0, seed, (batch.planned_units,) * 3, 0.0)
    counts = rows[(rows["kind"] == "count") & (rows["day"] > 0)]
    latest = counts.sort_values("day", kind="stable")["viable_cells"]
    if seed <= 0 or (len(latest) and float(latest.iloc[-1]) <= 0):  # no live cells: lost
        day = int(counts["day"].max()) if len(counts) else 0
        return _row(batch, "lost", day, seed, (0.0, 0.0, 0.0), 0.0)
    markers = measured_markers(rows, traj)
    cond = condition(traj, seed, counts["day"].to_numpy(dtype=np.int64),
                     counts["viable_cells"].to_numpy(dtype=float), count_cv, markers)
    p50 = math.exp(cond.log_mean) / batch.cells_per_unit
    spread = math.exp(Z90 * cond.log_sd)
    status = "running" if cond.last_day else "seeded"
    used = ", ".join(f"{k} ({len(d)})" for k, (d, _v) in markers.items()) if len(counts) else ""
    return _row(batch, status, cond.last_day, seed, (p50 / spread, p50, p50 * spread),
                cond.log_sd, used)


def measured_markers(rows: pd.DataFrame, traj: Trajectories
                     ) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """Marker -> (culture days, values) of the stage markers in ``rows`` (after seeding) that
    the card's trajectories model (:data:`MARKER_SCALES`)."""
    out: dict[str, tuple[np.ndarray, np.ndarray]] = {}
    for name in MARKER_SCALES:
        if name not in traj.markers or name not in rows.columns:
            continue
        given = rows[(rows["day"] > 0) & rows[name].notna() & (rows["kind"] != "harvest")]
        if len(given):
            out[name] = (given["day"].to_numpy(dtype=np.int64),
                         given[name].to_numpy(dtype=float))
    return out


def forecast(records: pd.DataFrame, batches: Mapping[str, PlannedBatch], *, n: int = 400,
             seed: int = 0, count_cv: float = COUNT_CV) -> pd.DataFrame:
    """Forecast table (index ``batch_id``, columns :data:`FORECAST_COLUMNS`) of every batch that
    has records. Records are checked against ``batches`` first (unknown batch, dates outside)."""
    known = dict(batches)
    check_records(records, known)
    frame = records.assign(day=culture_days(records, known))
    memo: dict[tuple[str, tuple[tuple[str, float], ...]], Trajectories] = {}
    rows = []
    for batch_id, group in frame.groupby("batch_id", sort=True):
        batch = known[str(batch_id)]
        if not batch.card:  # a hand-made recipe: no model to re-simulate
            rows.append(forecast_batch(batch, group, None, count_cv))
            continue
        key = (batch.card, tuple(sorted(batch.settings.items())))
        if key not in memo:
            memo[key] = trajectories(batch.card, batch.settings, n=n, seed=seed)
        rows.append(forecast_batch(batch, group.sort_values("day", kind="stable"), memo[key],
                                   count_cv))
    table = pd.DataFrame(rows, columns=["batch_id", *FORECAST_COLUMNS]).set_index("batch_id")
    return table


def forecast_draws(table: pd.DataFrame, n: int, *, seed: int = 0) -> pd.DataFrame:
    """``n`` draws of each forecast batch's units (index ``draw``, one column per batch id):
    lognormal around P50 with the forecast's ``log_sd`` (what a robust plan or an out-of-sample
    evaluation gives a kept batch instead of its nominal units, :mod:`bioplan.robust.kept`).

    Each batch draws from its own stream (``seed`` and its batch id): its draws do not depend on
    which other batches the table holds, nor on any lot draw of new batches."""
    out = pd.DataFrame(index=pd.RangeIndex(n, name="draw"))
    for batch_id, row in table.iterrows():
        z = np.random.default_rng(batch_stream(seed, str(batch_id))).standard_normal(n)
        out[str(batch_id)] = float(row["forecast_p50"]) * np.exp(z * float(row["log_sd"]))
    return out


def batch_stream(seed: int, batch_id: str) -> int:
    """The reproducible integer seed of batch ``batch_id``'s forecast draws under ``seed``."""
    key = zlib.crc32(f"forecast:{batch_id}".encode())
    return int(np.random.SeedSequence([seed, key]).generate_state(1)[0])

"""Cards learn from completed batches: a Bayesian update of a card's lot-to-lot distribution.

For every lognormal ``variability`` entry p of the card (value m_p, lot spread σ_p² = ln(1 + cv²)),
batch j ran with ln(θ_jp / m_p) = μ_p + η_jp, η_jp ~ N(0, σ_p²) its lot; the card's other
calibrated rates (no lot spread, σ_p = 0) are learned alongside, where the data identify them. The batch's observations
y_j = (ln c_ji / s_j on its count days, ln harvested product / s_j) [ln cells per seed cell] are
the card's model f_j(w) plus count / harvest errors (lognormal, ``count_cv``), linearised around
the current estimate w0 (Gauss-Newton, a few rounds): y_j ≈ f_j(w0) + J_j (w − w0).

- **The rate** μ (the centre of the lot distribution, i.e. the card's value of p): prior
  μ ~ N(0, T) with T the fit covariance for calibrated parameters and σ_p² otherwise; each batch
  adds y_j ~ N(f_j(w0) + J_j (μ − w0), J_j Σ J_jᵀ + R_j), Σ = diag(σ_p²), so the posterior is
  Gaussian (conjugate): Λ = T⁻¹ + Σ_j J_jᵀ V_j⁻¹ J_j, mean = Λ⁻¹ Σ_j J_jᵀ V_j⁻¹ (y_j − f_j(w0) + J_j w0).
  The card's value moves to m_p · exp(mean) when the data identify it (posterior sd below
  ``IDENTIFIED`` × prior sd); otherwise it stays.
- **The spread** σ_p: posterior on a grid (prior lognormal around the card's σ_p, sd of ln 0.7),
  likelihood Π_j N(y_j; f_j(μ̂), J_j Σ(σ_p) J_jᵀ + J_j Λ⁻¹ J_jᵀ + R_j); the card's cv becomes the
  posterior median when at least ``MIN_BATCHES`` batches are complete.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from bioplan.errors import InputError
from bioplan.records.batches import PlannedBatch, check_records, culture_days
from bioplan.records.forecast import COUNT_CV, seeded_cells
from bioplan.records.trajectory import TINY, run_theta
from bioplan.yields import YieldCard
from bioplan.yields.kinetics import apply_settings, param_space

STEP = 1e-3
"""Finite-difference step in ln(parameter) for the sensitivities J [-]."""
IDENTIFIED = 0.5
"""A rate is identified when its posterior sd is below this share of its prior sd [-]."""
MIN_BATCHES = 3
"""Completed batches needed before the lot spread is updated."""
SPREAD_PRIOR_SD = 0.7
"""sd of ln σ_p in the spread's prior (lognormal around the card's σ_p) [-]."""
Z95 = 1.6448536269514722


@dataclass
class _Batch:
    settings: dict[str, float]
    days: np.ndarray
    y: np.ndarray
    noise: np.ndarray


@dataclass
class Learned:
    """Outcome of :func:`learn`."""

    card: YieldCard
    """The updated card (a new version: its own name)."""
    table: pd.DataFrame
    """Index ``quantity`` (``value:<p>`` the rate, ``cv:<p>`` the lot spread): prior, prior_p05,
    prior_p95, posterior, posterior_p05, posterior_p95, identified, updated."""
    batches: list[str]
    """Completed batches used."""
    provenance: dict[str, Any] = field(default_factory=dict)


def _observations(records: pd.DataFrame, batch: PlannedBatch, count_cv: float) -> _Batch:
    seed = seeded_cells(records, batch)
    counts = records[(records["kind"] == "count") & (records["day"] > 0)]
    harvest = records[records["kind"] == "harvest"].iloc[-1]
    product = (float(harvest["product_cells"]) if pd.notna(harvest["product_cells"])
               else float(harvest["units_packaged"]) * batch.cells_per_unit)
    sigma = math.sqrt(math.log1p(count_cv**2))
    y = np.log(np.maximum(np.append(counts["viable_cells"].to_numpy(float), product), TINY) / seed)
    return _Batch(batch.settings, counts["day"].to_numpy(np.int64), y,
                  np.full(len(y), sigma**2))


def _model(card: YieldCard, params: list[str], batch: _Batch, w: np.ndarray
           ) -> tuple[np.ndarray, np.ndarray]:
    """(f(w), J) of one batch: ln viable cells on its count days and ln product per seed cell."""
    ps = param_space(card)
    theta = np.repeat(apply_settings(ps, ps.theta(1), batch.settings), len(params) + 1, axis=0)
    for i, p in enumerate(params):
        theta[:, ps.col(p)] *= math.exp(w[i])
        theta[i + 1, ps.col(p)] *= math.exp(STEP)
    cells, product = run_theta(ps, theta)
    out = np.column_stack([np.log(np.maximum(cells[:, batch.days], TINY)),
                           np.log(np.maximum(product, TINY))])
    return out[0], ((out[1:] - out[0]) / STEP).T


def _bounded(path: str) -> bool:
    """Fractions (transit splits, seed composition) are not scaled: they must stay in [0, 1]."""
    return ".transit_to." in path or path.startswith("seed.")


def _lot_params(card: YieldCard) -> tuple[list[str], np.ndarray, np.ndarray]:
    """(parameters, lot σ², prior variance of ln centre): the lognormal variability entries
    (lot σ² from their cv), then the calibrated rates without lot spread (σ² = 0; prior from the
    fit covariance, else from the fit's prior sigma)."""
    entries = [v for v in card.variability if v.distribution == "lognormal" and v.cv is not None
               and v.cv > 0 and not _bounded(v.parameter)]
    if not entries:
        msg = f"card {card.name!r} has no lognormal variability to learn"
        raise InputError(msg, field="variability",
                         fix="give the card lognormal lot-to-lot entries (parameter, cv)")
    params = [v.parameter for v in entries]
    lot = [math.log1p(float(v.cv or 0.0) ** 2) for v in entries]
    prior = list(lot)
    cal = card.calibration
    for i, p in enumerate(params):
        if p in cal.parameters and cal.covariance:
            k = cal.parameters.index(p)
            prior[i] = float(cal.covariance[k][k])
    for k, p in enumerate(cal.parameters):
        if p in params or _bounded(p):
            continue
        if cal.covariance:
            var = float(cal.covariance[k][k])
        elif p in cal.priors:
            var = float(cal.priors[p][1]) ** 2
        else:
            continue
        if var > 0:
            params.append(p)
            lot.append(0.0)
            prior.append(var)
    return params, np.array(lot), np.array(prior)


def _centre(card: YieldCard, params: list[str], data: list[_Batch], lot: np.ndarray,
            prior: np.ndarray, rounds: int = 3) -> tuple[np.ndarray, np.ndarray]:
    """Posterior (mean, covariance) of the centre μ (Gauss-Newton on the conjugate update)."""
    mean = np.zeros(len(params))
    cov = np.diag(prior)
    for _ in range(rounds):
        precision = np.diag(1.0 / prior)
        info = np.zeros(len(params))
        for b in data:
            f0, J = _model(card, params, b, mean)
            V = J @ np.diag(lot) @ J.T + np.diag(b.noise)
            Vi_J = np.linalg.solve(V, J)
            precision += J.T @ Vi_J
            info += Vi_J.T @ (b.y - f0 + J @ mean)
        cov = np.linalg.inv(precision)
        mean = cov @ info
    return mean, cov


def _spread(card: YieldCard, params: list[str], data: list[_Batch], lot: np.ndarray,
            mean: np.ndarray, cov: np.ndarray) -> list[np.ndarray]:
    """Per parameter: posterior of σ_p on a grid, as (grid, cumulative probability)."""
    fits = [_model(card, params, b, mean) for b in data]
    out = []
    for i in range(len(params)):
        if lot[i] <= 0:
            out.append(np.empty((2, 0)))
            continue
        centre = math.log(math.sqrt(lot[i]))
        grid = np.exp(np.linspace(centre - 3.5 * SPREAD_PRIOR_SD, centre + 3.5 * SPREAD_PRIOR_SD,
                                  241))
        logp = -0.5 * ((np.log(grid) - centre) / SPREAD_PRIOR_SD) ** 2
        for (f0, J), b in zip(fits, data, strict=True):
            # V(s) = A + s² j jᵀ (rank one in the grid value s): determinant lemma and
            # Sherman-Morrison give every grid point from one solve
            var = lot.copy()
            var[i] = 0.0
            A = J @ (np.diag(var) + cov) @ J.T + np.diag(b.noise)
            j, r = J[:, i], b.y - f0
            Ai_j, Ai_r = np.linalg.solve(A, j), np.linalg.solve(A, r)
            _, logdet = np.linalg.slogdet(A)
            q = 1.0 + grid**2 * float(j @ Ai_j)
            quad = float(r @ Ai_r) - grid**2 * float(j @ Ai_r) ** 2 / q
            logp += -0.5 * (logdet + np.log(q) + quad)
        weights = np.exp(logp - logp.max())
        out.append(np.vstack([grid, np.cumsum(weights) / weights.sum()]))
    return out


def _quantile(curve: np.ndarray, q: float) -> float:
    return float(np.interp(q, curve[1], curve[0]))


def _cv(sigma: float) -> float:
    return math.sqrt(math.expm1(sigma**2))


def learn(card: YieldCard, records: pd.DataFrame, batches: Mapping[str, PlannedBatch], *,
          count_cv: float = COUNT_CV, name: str | None = None,
          today: dt.date | None = None) -> Learned:
    """Update ``card`` from the completed batches of ``records`` (see the module docstring).
    Batches that ended with no cells or no product are failed cultures, not lots: they are left
    out and listed in the provenance."""
    known = dict(batches)
    check_records(records, known)
    frame = records.assign(day=culture_days(records, known))
    done = sorted(str(b) for b in frame.loc[frame["kind"] == "harvest", "batch_id"].unique())
    file = str(records.attrs.get("file", "records"))
    own = [b for b in done if known[b].card and load_name(known[b].card) == card.name]
    data_by = {b: _observations(frame[frame["batch_id"] == b], known[b], count_cv) for b in own}
    lost = [b for b, d in data_by.items() if not np.all(np.isfinite(d.y)) or d.y.min() < -600]
    own = [b for b in own if b not in lost]  # failed cultures are not lots of this card
    if not own:
        msg = f"no completed batch of card {card.name!r} (a harvest row) in the records"
        raise InputError(msg, file=file, field="kind",
                         fix="add harvest rows (product_cells or units_packaged) of finished batches")
    data = [data_by[b] for b in own]
    params, lot, prior = _lot_params(card)
    mean, cov = _centre(card, params, data, lot, prior)
    curves = _spread(card, params, data, lot, mean, cov)
    rows, new_values, new_cvs = _table(card, params, lot, prior, mean, cov, curves, len(own))
    fit_var = {p: float(cov[i, i]) for i, p in enumerate(params)
               if p in new_values and p in card.calibration.parameters}
    from bioplan.records.card_version import updated_card

    stamp = (today or dt.datetime.now(dt.UTC).date()).isoformat()
    provenance = {"card": card.name, "batches": own, "learned_on": stamp,
                  "records": file, "count_cv": count_cv, "skipped_lost_batches": lost}
    new = updated_card(card, new_values, new_cvs, provenance, name=name, fit_variances=fit_var)
    return Learned(new, rows, own, provenance)


def load_name(ref: str) -> str:
    """The card name of a card reference."""
    from bioplan.yields import load_card

    return load_card(ref).name


def _table(card: YieldCard, params: list[str], lot: np.ndarray, prior: np.ndarray,
           mean: np.ndarray, cov: np.ndarray, curves: list[np.ndarray], n: int,
           ) -> tuple[pd.DataFrame, dict[str, float], dict[str, float]]:
    ps = param_space(card)
    rows = []
    values: dict[str, float] = {}
    cvs: dict[str, float] = {}
    for i, p in enumerate(params):
        m = float(ps.theta(1)[0, ps.col(p)])
        sd0, sd1 = math.sqrt(prior[i]), math.sqrt(cov[i, i])
        ident = sd1 < IDENTIFIED * sd0
        rows.append({"quantity": f"value:{p}", "prior": m, "prior_p05": m * math.exp(-Z95 * sd0),
                     "prior_p95": m * math.exp(Z95 * sd0), "posterior": m * math.exp(mean[i]),
                     "posterior_p05": m * math.exp(mean[i] - Z95 * sd1),
                     "posterior_p95": m * math.exp(mean[i] + Z95 * sd1),
                     "identified": ident, "updated": ident})
        if ident:
            values[p] = m * math.exp(mean[i])
        if lot[i] <= 0:
            continue  # a calibrated rate without lot spread: its centre only
        s0 = math.sqrt(lot[i])
        post = _quantile(curves[i], 0.5)
        enough = n >= MIN_BATCHES
        rows.append({"quantity": f"cv:{p}", "prior": _cv(s0),
                     "prior_p05": _cv(s0 * math.exp(-Z95 * SPREAD_PRIOR_SD)),
                     "prior_p95": _cv(s0 * math.exp(Z95 * SPREAD_PRIOR_SD)),
                     "posterior": _cv(post), "posterior_p05": _cv(_quantile(curves[i], 0.05)),
                     "posterior_p95": _cv(_quantile(curves[i], 0.95)),
                     "identified": enough, "updated": enough})
        if enough:
            cvs[p] = _cv(post)
    return pd.DataFrame(rows).set_index("quantity"), values, cvs

"""Joint calibration of a card to all its published datasets, its parameter uncertainty, and
leave-one-dataset-out validation.

The fit is a maximum a posteriori estimate over z = ln(parameters): it minimises
sum_obs (r_obs / error_obs)^2 + sum_par ((z - ln prior) / sigma_prior)^2 with
``scipy.optimize.least_squares``, where r = log10(model / published) for counts and
model - published for fractions, ``error`` is the dataset's stated measurement error and the
priors are the card's literature values (``calibration.priors``). The parameter uncertainty is the
Laplace approximation at the optimum, cov(z) = (J^T J)^-1 of the same scaled residuals, stored in
the card (``calibration.covariance``), apart from lot-to-lot variability. Leave-one-dataset-out:
each ``use: fit`` dataset is dropped in turn, the card is refitted to the others, and the held-out
observations are predicted (``loo_log10_error``).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
import scipy.optimize

from bioplan.errors import InputError
from bioplan.yields.card import Calibration, YieldCard
from bioplan.yields.card_writer import set_parameter
from bioplan.yields.datasets import (
    CalibrationData,
    Dataset,
    calibration_dir,
    check_dataset_keys,
    dataset_theta,
    load_datasets,
    needs_shedding,
    predict,
    residual,
    shedding_theta,
)
from bioplan.yields.exact_solver import run_batch
from bioplan.yields.kinetics import ParamSpace, param_space
from bioplan.yields.loader import as_card

TOLERANCE = {"log10": 0.5, "fraction": 0.10}
"""Fit tolerance per kind (issue 9): ±0.5 log10 for counts, ±10 points for fractions."""
PRIMARY_TOLERANCE = 0.3
"""The primary published end-point: ±0.3 log10."""


@dataclass
class CalibrationResult:
    """Outcome of :func:`calibrate`."""

    card: YieldCard
    """The card with fitted values written into its numbers and its calibration block updated."""
    fitted: dict[str, float]
    residuals: dict[str, float]
    cost: float
    success: bool
    message: str


def _data(card: YieldCard, data: CalibrationData | None) -> CalibrationData:
    out = data if data is not None else load_datasets(card)
    if out is None:
        msg = f"card {card.name!r} has no calibration data"
        raise InputError(
            msg,
            file=str(calibration_dir() / f"{card.name}.yaml"),
            fix="add the card's published datasets there (docs/yields.md, 'Calibration data')",
        )
    check_dataset_keys(param_space(card), out, str(calibration_dir() / f"{card.name}.yaml"))
    return out


def predictions(ps: ParamSpace, base: np.ndarray, datasets: Sequence[Dataset]) -> list[list[float]]:
    """Model value of every observation of every dataset, for parameter row ``base`` (1, P)."""
    theta = dataset_theta(ps, base, datasets)
    res = run_batch(ps, theta, time_course=True)
    shed = (run_batch(ps, shedding_theta(ps, theta), time_course=True)
            if needs_shedding(datasets) else None)
    return [[predict(ps, res, i, ob, shed) for ob in ds.observations]
            for i, ds in enumerate(datasets)]


def _bounds(c: YieldCard, names: Sequence[str]) -> tuple[np.ndarray, np.ndarray]:
    """Bounds on ln(parameter): fractions <= 1, plus the card's ``calibration.bounds``."""
    upper = np.array([0.0 if ".transit_to." in n or n.startswith("seed.") else np.inf
                      for n in names])
    lower = np.full(len(names), -np.inf)
    for i, n in enumerate(names):
        if n in c.calibration.bounds:
            lo, hi = c.calibration.bounds[n]
            lower[i] = np.log(max(lo, 1e-12))
            upper[i] = min(upper[i], np.log(hi))
    return lower, upper


def _objective(ps: ParamSpace, names: Sequence[str], datasets: Sequence[Dataset]) -> Any:
    """z -> scaled residuals (observations, then priors)."""
    c = ps.card
    cols = [ps.check_key(n, what="calibration parameter", settings_only=False) for n in names]
    base = ps.theta(1)
    prior = [(np.log(c.calibration.priors[n][0]), c.calibration.priors[n][1])
             if n in c.calibration.priors else None for n in names]

    def fun(z: np.ndarray) -> np.ndarray:
        theta = base.copy()
        theta[0, cols] = np.exp(z)
        pred = predictions(ps, theta, datasets)
        out = [residual(m, ob) / ob.error for ds, row in zip(datasets, pred, strict=True)
               for ob, m in zip(ds.observations, row, strict=True)]
        out += [(zi - p[0]) / p[1] for zi, p in zip(z, prior, strict=True) if p is not None]
        return np.array(out)

    return fun, cols, base


def _fit(c: YieldCard, names: Sequence[str], datasets: Sequence[Dataset],
         max_nfev: int) -> tuple[Any, ParamSpace]:
    ps = param_space(c)
    fun, cols, base = _objective(ps, names, datasets)
    lower, upper = _bounds(c, names)
    x0 = np.clip(np.log(np.maximum(base[0, cols], 1e-12)), lower + 1e-9, upper - 1e-9)
    sol = scipy.optimize.least_squares(fun, x0, bounds=(lower, upper), max_nfev=max_nfev,
                                       x_scale=1.0, diff_step=1e-4)
    return sol, ps


def _with_values(c: YieldCard, fitted: dict[str, float], note: str) -> YieldCard:
    data = c.model_dump(mode="python")
    for n, v in fitted.items():
        set_parameter(data, n, v, note)
    return YieldCard.model_validate(data)


def _obs_key(ds: Dataset, i: int) -> str:
    ob = ds.observations[i]
    return f"{ds.id}[{i}]:{ob.quantity}@d{ob.day}"


def calibrate(
    card: YieldCard | str,
    parameters: Sequence[str] | None = None,
    *,
    data: CalibrationData | None = None,
    exclude: Sequence[str] = (),
    max_nfev: int = 200,
) -> CalibrationResult:
    """Fit ``parameters`` (default: the card's ``calibration.parameters``) jointly to all the
    card's ``use: fit`` datasets except ``exclude`` (dataset ids).

    Returns the updated card (numbers replaced, sources marked ``calibrated``, residuals and the
    Laplace covariance of ln(parameters) stored); save it with
    :func:`bioplan.yields.card_writer.dump_card`.
    """
    c = as_card(card)
    cal = _data(c, data)
    names = list(parameters if parameters is not None else c.calibration.parameters)
    fit_sets = [ds for ds in cal.datasets if ds.use == "fit" and ds.id not in exclude]
    if not names or not fit_sets:
        msg = f"card {c.name!r} has no calibration parameters or datasets to fit"
        raise InputError(
            msg,
            field="calibration.parameters",
            fix="list parameters under 'calibration' and datasets with use: fit",
        )
    sol, _ = _fit(c, names, fit_sets, max_nfev)
    fitted = {n: float(np.exp(v)) for n, v in zip(names, sol.x, strict=True)}
    J = sol.jac
    try:
        cov = np.linalg.inv(J.T @ J)
    except np.linalg.LinAlgError:
        cov = np.linalg.pinv(J.T @ J)
    new = _with_values(c, fitted, "joint MAP fit to " + ", ".join(ds.id for ds in fit_sets))
    ps = param_space(new)
    pred = predictions(ps, ps.theta(1), fit_sets)
    resid = {_obs_key(ds, i): float(residual(m, ds.observations[i]))
             for ds, row in zip(fit_sets, pred, strict=True) for i, m in enumerate(row)}
    block = Calibration(
        parameters=names,
        priors=dict(c.calibration.priors),
        bounds=dict(c.calibration.bounds),
        fitted=fitted,
        residuals=resid,
        method=(
            "joint MAP: scipy.optimize.least_squares over ln(parameters); residuals "
            "log10(model/published) (counts) or model - published (fractions), each divided by "
            "its stated measurement error, plus log-normal priors; covariance = (J^T J)^-1"
        ),
        datasets=[ds.id for ds in fit_sets],
        covariance=[[float(v) for v in row] for row in cov],
    )
    data_dict = new.model_dump(mode="python")
    data_dict["calibration"] = block.model_dump(mode="python")
    out = YieldCard.model_validate(data_dict)
    return CalibrationResult(out, fitted, resid, float(sol.cost), bool(sol.success),
                             str(sol.message))


def _rows(c: YieldCard, cal: CalibrationData, pred: list[list[float]]) -> list[dict[str, Any]]:
    rows = []
    for ds, row in zip(cal.datasets, pred, strict=True):
        for ob, m in zip(ds.observations, row, strict=True):
            err = residual(m, ob)
            tol = PRIMARY_TOLERANCE if ob.primary else TOLERANCE[ob.kind]
            rows.append({
                "lineage": cal.lineage, "card": c.name, "dataset": ds.id, "use": ds.use,
                "quantity": ob.quantity, "day": ob.day, "published": ob.value,
                "predicted": float(m), "kind": ob.kind, "fit_error": float(err),
                "within_tolerance": bool(abs(err) <= tol + 1e-9), "primary": ob.primary,
                "provenance": ob.provenance, "group": ds.group, "citation": ds.citation,
            })
    return rows


def validation_table(card: YieldCard | str, *, loo: bool = True,
                     data: CalibrationData | None = None) -> pd.DataFrame:
    """One row per published observation: lineage, card, dataset, quantity, day, published,
    predicted (the shipped fit), fit_error (log10 or points), within_tolerance, and with
    ``loo`` the leave-one-dataset-out prediction ``loo_predicted`` and ``loo_log10_error``
    (points for fractions; for ``use: check`` datasets = the fit error, they are never fitted)."""
    c = as_card(card)
    cal = _data(c, data)
    ps = param_space(c)
    rows = _rows(c, cal, predictions(ps, ps.theta(1), cal.datasets))
    table = pd.DataFrame(rows)
    if loo:
        loo_pred: list[float] = []
        fit_ids = [ds.id for ds in cal.datasets if ds.use == "fit"]
        for ds in cal.datasets:
            if ds.use == "fit" and len(fit_ids) > 1 and c.calibration.parameters:
                held = calibrate(c, data=cal, exclude=[ds.id], max_nfev=60).card
                hps = param_space(held)
                loo_pred += predictions(hps, hps.theta(1), [ds])[0]
            else:
                loo_pred += [float("nan") if ds.use == "fit" else r["predicted"]
                             for r in rows if r["dataset"] == ds.id]
        table["loo_predicted"] = loo_pred
        table["loo_log10_error"] = [
            residual(m, ob) if np.isfinite(m) else float("nan")
            for m, ob in zip(loo_pred, [o for ds in cal.datasets for o in ds.observations],
                             strict=True)
        ]
    table.index = pd.RangeIndex(len(table), name="observation")
    return table


def target_table(card: YieldCard | str) -> pd.DataFrame:
    """The fit table without the leave-one-out refits (fast): see :func:`validation_table`."""
    return validation_table(card, loo=False)

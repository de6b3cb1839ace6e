"""Calibration: compare a card with its published outcomes and fit its rates to them.

Residuals: counts (fold expansion, product per seed cell, product per run) as
log10(model / published); fractions (enucleation) as model - published. The fit minimises the
sum of squares of residual / scale (scale 0.3 for log10 counts, 0.10 for fractions: the test
tolerances of issue 2) over the log of the chosen parameters with ``scipy.optimize.least_squares``.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
import scipy.optimize

from bioplan.errors import InputError
from bioplan.yields.card import Calibration, Target, YieldCard
from bioplan.yields.kinetics import ParamSpace, param_space
from bioplan.yields.loader import as_card
from bioplan.yields.outcomes import stage_masks, state_outcomes
from bioplan.yields.solver import BatchResult, run_batch

SCALE = {"log10": 0.3, "fraction": 0.10}
"""Residual scale per kind: ±0.3 log10 for counts, ±10 points for fractions."""


def _kind(t: Target) -> str:
    return "fraction" if t.quantity == "enucleation" else "log10"


def _target_values(ps: ParamSpace, res: BatchResult, targets: Sequence[Target]) -> np.ndarray:
    """(N, T) model values of each target for every recipe in the batch."""
    card = ps.card
    phases = [p.name for p in card.protocol]
    names = card.stage_names
    cell = stage_masks(card)["cell"]
    cols = []
    for t in targets:
        j = phases.index(t.at_end_of_phase) if t.at_end_of_phase else len(phases) - 1
        x = res.x_end[:, j, :]
        if t.quantity == "fold_expansion":
            num_mask = cell.copy()
            if t.numerator_stages:
                num_mask = np.isin(names, t.numerator_stages) & cell
            den_mask = cell.copy()
            if t.seed_stages:
                den_mask = np.isin(names, t.seed_stages) & cell
            cols.append(x[:, num_mask].sum(axis=1) / res.x0[:, den_mask].sum(axis=1))
            continue
        out = state_outcomes(card, x, res.x0)
        if t.quantity == "enucleation":
            cols.append(out["enucleation"])
        elif t.quantity == "product_per_seed_cell":
            cols.append(out["product_cells_per_seed_cell"])
        else:  # product_per_run
            assert t.run_phase is not None and t.run_volume_L is not None
            jr = phases.index(t.run_phase)
            seeds = t.run_volume_L / res.peak_volume_L[:, jr]
            cols.append(out["product_cells_per_seed_cell"] * seeds)
    return np.stack(cols, axis=1) if cols else np.zeros((res.x0.shape[0], 0))


def _check_targets(card: YieldCard) -> None:
    phases = [p.name for p in card.protocol]
    for t in card.calibration.targets:
        for ph in (t.at_end_of_phase, t.run_phase):
            if ph is not None and ph not in phases:
                raise InputError(
                    f"target {t.name}: unknown phase {ph!r}",
                    field=f"calibration.targets.{t.name}",
                    fix=f"use one of {', '.join(phases)}",
                )
        for s in (t.numerator_stages or []) + (t.seed_stages or []):
            if s not in card.stage_names:
                raise InputError(
                    f"target {t.name}: unknown stage {s!r}",
                    field=f"calibration.targets.{t.name}",
                    fix=f"use one of {', '.join(card.stage_names)}",
                )
        if t.quantity == "product_per_run" and (t.run_phase is None or t.run_volume_L is None):
            raise InputError(
                f"target {t.name}: product_per_run needs run_phase and run_volume_L",
                field=f"calibration.targets.{t.name}",
                fix="name the phase that defines a run and its volume in litres",
            )


def residuals(model: np.ndarray, targets: Sequence[Target]) -> np.ndarray:
    """Residuals (N, T): log10(model / published) or model - published."""
    out = np.empty_like(model)
    for i, t in enumerate(targets):
        if _kind(t) == "fraction":
            out[:, i] = model[:, i] - t.value
        else:
            out[:, i] = np.log10(np.maximum(model[:, i], 1e-300) / t.value)
    return out


def target_table(card: YieldCard | str) -> pd.DataFrame:
    """Published outcome, model value, residual and pass/fail (±0.3 log10 counts, ±10 points
    fractions; ``product_per_run`` within a factor of 2) for each calibration target."""
    c = as_card(card)
    _check_targets(c)
    ps = param_space(c)
    res = run_batch(ps, ps.theta(1))
    targets = c.calibration.targets
    model = _target_values(ps, res, targets)
    resid = residuals(model, targets)[0]
    rows = []
    for t, m, r in zip(targets, model[0], resid, strict=True):
        if t.quantity == "product_per_run":
            ok = abs(r) <= math.log10(2.0)
        else:
            ok = abs(r) <= (0.3 if _kind(t) == "log10" else 0.10) + 1e-12
        rows.append(
            {
                "target": t.name,
                "quantity": t.quantity,
                "published": t.value,
                "model": float(m),
                "residual": float(r),
                "within_tolerance": bool(ok),
                "source": t.source,
            }
        )
    return pd.DataFrame(rows).set_index("target")


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


def _set_value(data: dict, path: str, value: float, note: str) -> None:
    """Write ``value`` into the card dict at parameter ``path`` (source marked calibrated)."""
    parts = path.split(".")
    src = f"calibrated: {note}"

    def put(holder: dict, key: str) -> None:
        old = holder[key]
        old_src = old["source"] if isinstance(old, dict) else str(old[1])
        if not old_src.startswith("calibrated"):
            src_full = f"{src} (prior: {old_src})"
        else:
            src_full = old_src.split(" (prior:")[0]
            src_full = src + (old_src[len(src_full) :] if "(prior:" in old_src else "")
        holder[key] = {"value": float(value), "source": src_full}

    if parts[0] == "stages":
        stage = next(s for s in data["stages"] if s["name"] == parts[1])
        if len(parts) == 3:
            put(stage, parts[2])
        elif parts[2] == "transit_to":
            tt = stage["transit_to"]
            old0 = float(tt[0]["fraction"]["value"])
            put(tt[0], "fraction")
            rest = 1.0 - old0
            for other in tt[1:]:
                share = (
                    float(other["fraction"]["value"]) / rest if rest > 0 else 1.0 / (len(tt) - 1)
                )
                put(other, "fraction")
                other["fraction"]["value"] = (1.0 - float(value)) * share
        else:
            factor, effect, what = parts[2], parts[3], parts[4]
            resp = next(
                r for r in stage["responses"] if r["factor"] == factor and r["effect"] == effect
            )
            put(resp, what)
    elif parts[0] == "platelets":
        pr = data["platelet_release"]
        if parts[1] == "shear":
            put(pr["shear_multiplier"], parts[2])
        else:
            put(pr, parts[1])
    elif parts[0] == "density":
        put(data["density_effect"], parts[1])
    elif parts[0] == "seed":
        seed = data["seed"]
        old = float(seed[parts[1]]["value"])
        put(seed, parts[1])
        for other, num in seed.items():
            if other != parts[1]:
                scale = (1.0 - float(value)) / (1.0 - old) if old < 1 else 0.0
                seed[other] = {"value": float(num["value"]) * scale, "source": num["source"]}
    else:
        raise InputError(
            f"calibration parameter {path!r} is a protocol setting, not a model rate",
            field="calibration.parameters",
            fix="fit stage, platelet, density or seed parameters only",
        )


def _bounds(c: YieldCard, names: Sequence[str]) -> tuple[np.ndarray, np.ndarray]:
    """Bounds on log(parameter): fractions <= 1, plus the card's ``calibration.bounds``."""
    fractions = [n for n in names if ".transit_to." in n or n.startswith("seed.")]
    upper = np.array([0.0 if n in fractions else np.inf for n in names])
    lower = np.full(len(names), -np.inf)
    for i, n in enumerate(names):
        if n in c.calibration.bounds:
            lo, hi = c.calibration.bounds[n]
            lower[i] = np.log(max(lo, 1e-12))
            upper[i] = min(upper[i], np.log(hi))
    return lower, upper


def _fit(
    c: YieldCard,
    names: Sequence[str],
    scaled_residuals: Callable[[ParamSpace, np.ndarray], np.ndarray],
    max_nfev: int,
) -> tuple[Any, ParamSpace]:
    """least_squares over log(parameters); ``scaled_residuals(ps, theta)`` gives the residuals."""
    ps = param_space(c)
    cols = [ps.check_key(n, what="calibration parameter", settings_only=False) for n in names]
    base = ps.theta(1)
    lower, upper = _bounds(c, names)
    x0 = np.clip(np.log(np.maximum(base[0, cols], 1e-12)), lower + 1e-9, upper - 1e-9)

    def fun(z: np.ndarray) -> np.ndarray:
        theta = base.copy()
        theta[0, cols] = np.exp(z)
        return scaled_residuals(ps, theta)

    sol = scipy.optimize.least_squares(fun, x0, bounds=(lower, upper), max_nfev=max_nfev)
    return sol, ps


def _updated_card(
    c: YieldCard,
    names: Sequence[str],
    fitted: dict[str, float],
    resid: dict[str, float],
    note: str,
    method: str,
) -> YieldCard:
    data = c.model_dump(mode="python")
    for n, v in fitted.items():
        _set_value(data, n, v, note)
    data["calibration"] = Calibration(
        targets=list(c.calibration.targets),
        parameters=list(names),
        bounds=dict(c.calibration.bounds),
        fitted=fitted,
        residuals=resid,
        method=method,
    ).model_dump(mode="python")
    return YieldCard.model_validate(data)


def calibrate(
    card: YieldCard | str, parameters: Sequence[str] | None = None, *, max_nfev: int = 400
) -> CalibrationResult:
    """Fit ``parameters`` (default: the card's ``calibration.parameters``) to the card's targets.

    Returns the updated card (numbers replaced, sources marked ``calibrated``, residuals stored);
    save it with :func:`bioplan.yields.cardio.dump_card`.
    """
    c = as_card(card)
    _check_targets(c)
    names = list(parameters if parameters is not None else c.calibration.parameters)
    targets = c.calibration.targets
    if not names or not targets:
        raise InputError(
            f"card {c.name!r} has no calibration parameters or targets",
            field="calibration",
            fix="list targets and parameters under 'calibration'",
        )
    scales = np.array([SCALE[_kind(t)] for t in targets])

    def scaled(ps: ParamSpace, theta: np.ndarray) -> np.ndarray:
        model = _target_values(ps, run_batch(ps, theta), targets)
        return residuals(model, targets)[0] / scales

    sol, _ = _fit(c, names, scaled, max_nfev)
    fitted = {n: float(np.exp(v)) for n, v in zip(names, sol.x, strict=True)}
    resid = {t.name: float(r * s) for t, r, s in zip(targets, sol.fun, scales, strict=True)}
    new = _updated_card(
        c,
        names,
        fitted,
        resid,
        "least squares on " + ", ".join(t.name for t in targets),
        "scipy.optimize.least_squares over log(parameters); residuals log10(model/published) "
        "for counts, model - published for fractions; scaled by 0.3 and 0.10",
    )
    return CalibrationResult(
        new, fitted, resid, float(sol.cost), bool(sol.success), str(sol.message)
    )


TIME_COURSE_COLUMNS = ("cells_total", "product", "enucleation")
"""Besides ``cells_<stage>``, the columns a time-course table may have."""


def fit_time_course(
    card: YieldCard | str,
    data: pd.DataFrame,
    parameters: Sequence[str],
    *,
    seed_cells: float = 1.0,
    max_nfev: int = 400,
) -> CalibrationResult:
    """Fit ``parameters`` to a measured time course of the card's default protocol.

    ``data`` has a ``day`` column (or index) and any of ``cells_total``, ``cells_<stage>``,
    ``product`` [cells or platelets from ``seed_cells`` seed cells] and ``enucleation`` [0-1];
    NaN cells are skipped. Residuals: log10(model / measured) for counts, model - measured for
    enucleation (scaled by 0.3 and 0.10 as in :func:`calibrate`); stored in the card as
    ``tc:<column>@d<day>``.
    """
    c = as_card(card)
    frame = data.reset_index() if "day" not in data.columns else data
    if "day" not in frame.columns:
        raise InputError("time course needs a 'day' column", field="day", fix="add the day [d]")
    allowed = set(TIME_COURSE_COLUMNS) | {f"cells_{s}" for s in c.stage_names}
    cols = [col for col in frame.columns if col not in ("day", "index")]
    unknown = [col for col in cols if col not in allowed]
    if unknown or not cols:
        raise InputError(
            f"time course column(s) {unknown or '(none)'} not understood for card {c.name!r}",
            field=str(unknown[0]) if unknown else "columns",
            fix=f"use {', '.join(sorted(allowed))}",
        )
    days = frame["day"].to_numpy()
    if np.any(days != np.round(days)) or days.min() < 0 or days.max() > c.total_days:
        raise InputError(
            f"time-course days must be whole days within 0-{c.total_days}",
            field="day",
            fix="give integer days inside the protocol",
        )
    day_idx = days.astype(int)
    names_stage = c.stage_names
    prod = names_stage.index(c.product_stage)
    cell = np.array([s.is_cell for s in c.stages])
    nucl = np.array([s.committed and s.is_cell and not s.product for s in c.stages])
    obs: list[tuple[str, int, int, float]] = []  # (column, row, day, value)
    for col in cols:
        for row, (d, v) in enumerate(zip(day_idx, frame[col].to_numpy(dtype=float), strict=True)):
            if np.isfinite(v):
                if col != "enucleation" and v <= 0:
                    raise InputError(
                        f"time course {col} on day {d} is {v:g}; counts must be > 0",
                        field=col,
                        fix="drop the row or leave the cell empty",
                    )
                obs.append((col, row, int(d), float(v)))

    def model_of(course: np.ndarray, col: str, d: int) -> float:
        x = course[d]
        if col == "cells_total":
            return float(x[cell].sum()) * seed_cells
        if col == "product":
            return float(x[prod]) * seed_cells
        if col == "enucleation":
            return float(x[prod] / (x[prod] + x[nucl].sum()))
        return float(x[names_stage.index(col.removeprefix("cells_"))]) * seed_cells

    def raw(ps: ParamSpace, theta: np.ndarray) -> np.ndarray:
        res = run_batch(ps, theta, time_course=True)
        assert res.course_x is not None
        course = res.course_x[0]
        out = []
        for col, _, d, v in obs:
            m = model_of(course, col, d)
            if col == "enucleation":
                out.append((m - v) / SCALE["fraction"])
            else:
                out.append(np.log10(max(m, 1e-300) / v) / SCALE["log10"])
        return np.array(out)

    sol, _ = _fit(c, list(parameters), raw, max_nfev)
    fitted = {n: float(np.exp(v)) for n, v in zip(parameters, sol.x, strict=True)}
    resid = {
        f"tc:{col}@d{d}": float(r * (SCALE["fraction"] if col == "enucleation" else SCALE["log10"]))
        for (col, _, d, _), r in zip(obs, sol.fun, strict=True)
    }
    new = _updated_card(
        c,
        list(parameters),
        fitted,
        resid,
        f"least squares on a {len(obs)}-point time course",
        "scipy.optimize.least_squares over log(parameters) on a time-course table; residuals "
        "log10(model/measured) for counts, model - measured for enucleation",
    )
    return CalibrationResult(
        new, fitted, resid, float(sol.cost), bool(sol.success), str(sol.message)
    )

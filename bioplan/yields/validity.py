"""Valid parameter values (``validate_theta``: errors) and a card's validity domain, checked for
every recipe: where a protocol leaves what the
calibration supports (phase days, total days, factor concentrations, density set-points,
feeding policy).

``simulate`` turns the reasons into warnings, ``recipe_table`` into the ``extrapolates`` and
``extrapolation`` columns, and a scenario that offers such a recipe is refused unless it sets
``allow_extrapolation: true``.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
from numpy.typing import NDArray

from bioplan.errors import InputError
from bioplan.yields.kinetics import ParamSpace

FloatArray = NDArray[np.float64]


Reasons = NDArray[np.object_]
"""(N,) per recipe: '' inside the domain, else why it extrapolates (reasons joined by '; ')."""


def _no_reasons(n: int) -> Reasons:
    out = np.empty(n, dtype=object)
    out[:] = ""
    return out


def _add(out: Reasons, rows: NDArray[np.bool_], msgs: NDArray[np.object_] | str) -> None:
    """Append ``msgs`` (one per True row, or one for all) to the reasons of ``rows``."""
    idx = np.flatnonzero(rows)
    if len(idx) == 0:
        return
    new = msgs if not isinstance(msgs, str) else np.full(len(idx), msgs, dtype=object)
    cur = out[idx]
    out[idx] = np.where(cur == "", new, cur + "; " + new)


def _per_value(vals: FloatArray, fmt: Callable[[float], str]) -> NDArray[np.object_]:
    """``fmt(v)`` for each value, formatted once per distinct value (big tables repeat few)."""
    uniq, inv = np.unique(vals, return_inverse=True)
    return np.array([fmt(float(u)) for u in uniq], dtype=object)[inv.reshape(-1)]


def _range_reasons(vals: FloatArray, lo: float, hi: float, what: str, unit: str,
                   out: Reasons, skip: NDArray[np.bool_] | None = None) -> None:
    bad = (vals < lo) | (vals > hi)
    if skip is not None:
        bad &= ~skip
    if bad.any():
        _add(out, bad, _per_value(vals[bad], lambda v: (
            f"{what} = {v:g}{unit} is outside the card's validity range {lo:g}-{hi:g}{unit}")))


def validity_reasons(ps: ParamSpace, theta: FloatArray, out: Reasons | None = None) -> Reasons:
    """Per recipe (row of ``theta``) outside the card's validity domain: why (appended to
    ``out`` when given)."""
    v = ps.card.validity
    out = _no_reasons(theta.shape[0]) if out is None else out
    days_all = theta[:, [ps.col(f"{ph.name}.days") for ph in ps.card.protocol]]
    _range_reasons(days_all.sum(axis=1), v.total_days_min, v.total_days_max,
                   "total culture days", " days", out)
    for j, ph in enumerate(ps.card.protocol):
        days = days_all[:, j]
        off = days == 0
        if ph.name in v.phase_days_ranges:
            dlo, dhi = v.phase_days_ranges[ph.name]
            _range_reasons(days, dlo, dhi, f"{ph.name}.days", " days", out)
        for f, (clo, chi) in v.concentration_ranges.items():
            conc = theta[:, ps.col(f"{ph.name}.{f}")]
            unit = f" {ps.card.factors[f].unit}"
            _range_reasons(conc, clo, chi, f"{ph.name}.{f}", unit, out, skip=off | (conc == 0))
        if v.density_setpoint_range_cells_per_mL is not None:
            slo, shi = v.density_setpoint_range_cells_per_mL
            _range_reasons(theta[:, ps.col(f"{ph.name}.density_setpoint")], slo, shi,
                           f"{ph.name}.density_setpoint", " cells/mL", out, skip=off)
        allowed = {ph.feeding, *v.feeding_policies.get(ph.name, [])}
        perfused = theta[:, ps.col(f"{ph.name}.perfusion")] > 0.5
        for policy, rows in (("perfusion", perfused & ~off), ("dilution", ~perfused & ~off)):
            if policy not in allowed:
                _add(out, rows, f"{ph.name} fed by {policy}: the card supports only "
                                f"{' or '.join(sorted(allowed))} feeding in this phase")
        dry = perfused & ~off & (theta[:, ps.col(f"{ph.name}.perfusion_exchange_per_day")] <= 0)
        _add(out, dry, f"{ph.name} is perfused without medium exchange (set "
                       f"{ph.name}.perfusion_exchange_per_day > 0 [volumes/day])")
    return out


def required_factor_reasons(ps: ParamSpace, theta: FloatArray,
                            out: Reasons | None = None) -> Reasons:
    """Per recipe: factors the card's validity range requires (low end > 0) that a phase which
    uses them in the default protocol leaves out (e.g. ``IL3: 0`` where the range is 1-20)."""
    v = ps.card.validity
    out = _no_reasons(theta.shape[0]) if out is None else out
    for ph in ps.card.protocol:
        days = theta[:, ps.col(f"{ph.name}.days")]
        for f, (lo, hi) in v.concentration_ranges.items():
            if lo <= 0 or f not in ph.medium or ph.medium[f].value == 0:
                continue
            conc = theta[:, ps.col(f"{ph.name}.{f}")]
            _add(out, (conc == 0) & (days > 0),
                 f"{ph.name}.{f} = 0 leaves out a factor the card was calibrated "
                 f"with (validity range {lo:g}-{hi:g} {ps.card.factors[f].unit})")
    return out


def extrapolation(ps: ParamSpace, theta: FloatArray) -> list[str]:
    """Per recipe: '' inside the domain, else the reasons joined by '; '."""
    return list(required_factor_reasons(ps, theta, validity_reasons(ps, theta)))


def validate_theta(ps: ParamSpace, theta: FloatArray, columns: list[int] | None = None) -> None:
    """Raise :class:`InputError` for negative values, non-integer days or broken densities."""
    cols = range(theta.shape[1]) if columns is None else columns
    for c in cols:
        name = ps.names[c]
        vals = theta[:, c]
        if not np.all(np.isfinite(vals)):
            msg = f"{name} must be a finite number"
            raise InputError(msg, field=name, fix="give a number")
        if np.any(vals < 0):
            bad = float(vals[vals < 0][0])
            msg = f"{name} = {bad:g} is negative"
            raise InputError(msg, field=name, fix="use a value >= 0")
        if name.endswith((".perfusion", ".stroma")) and np.any((vals != 0) & (vals != 1)):
            msg = f"{name} must be 0 or 1"
            raise InputError(msg, field=name,
                             fix="0 = off (dilution feeding / no stroma), 1 = on")
        if name.endswith(".days") and np.any(vals != np.round(vals)):
            bad = float(vals[vals != np.round(vals)][0])
            msg = f"{name} = {bad:g} is not a whole number of days"
            raise InputError(
                msg,
                field=name,
                fix="phase durations are integer days (the planner works on a daily grid)",
            )
    for ph in ps.card.protocol:
        for key in (f"{ph.name}.seed_density", f"{ph.name}.density_setpoint"):
            if np.any(theta[:, ps.col(key)] <= 0):
                msg = f"{key} must be > 0 [cells/mL]"
                raise InputError(msg, field=key, fix="give a positive density in cells/mL")

"""Simulate one protocol of one card for a given seed: per-phase table, totals, time course."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
import scipy.linalg

from bioplan.errors import InputError
from bioplan.yields.card import YieldCard
from bioplan.yields.exact_solver import BatchResult, run_batch
from bioplan.yields.kinetics import (
    ParamSpace,
    _transit_fractions,
    apply_settings,
    param_space,
)
from bioplan.yields.loader import as_card
from bioplan.yields.outcomes import cytokine_amounts, stage_masks, state_outcomes
from bioplan.yields.validity import extrapolation, validate_theta

log = logging.getLogger(__name__)

CELLS_PER_UNIT = {"rbc": 2.0e12, "platelet": 2.4e11}
"""Default transfusion unit: 2 × 10^12 RBCs (Pellegrin 2021; Mountford 2016 [R]); 2.4 × 10^11
platelets (EU standard, Moreau 2016 [R])."""


@dataclass
class Simulation:
    """Result of :func:`simulate`. Amounts in ``phases`` and ``time_course`` are for ``seed_cells``
    seed cells; ``per_seed`` holds the per-seed-cell totals."""

    card: YieldCard
    seed_cells: float
    settings: dict[str, float]
    cells_per_unit: float
    phases: pd.DataFrame
    """Index ``phase``: start_day, end_day, days, vessel_class, feeding, cells_<stage> at the end,
    cells_total, peak_volume_L, medium_L, <factor>_<mg|kU>, and the cell balance (cells_in,
    births, deaths, released, cells_out)."""
    per_seed: dict[str, float]
    """Per seed cell: product_cells_per_seed_cell, fold_expansion, purity, enucleation,
    medium_L_per_seed_cell, peak_volume_L_per_seed_cell, cytokine amounts."""
    time_course: pd.DataFrame | None = None
    """Index ``day``: cells per stage, cells_total, volume_L (when requested)."""
    warnings: list[str] = field(default_factory=list)

    @property
    def days(self) -> int:
        """Total culture days."""
        return int(self.phases["days"].sum())

    @property
    def product_cells(self) -> float:
        """Product cells (RBCs or platelets) from ``seed_cells``."""
        return self.per_seed["product_cells_per_seed_cell"] * self.seed_cells

    @property
    def units(self) -> float:
        """Transfusion units from ``seed_cells`` = seed × product per seed ÷ cells per unit."""
        return self.product_cells / self.cells_per_unit

    def seed_cells_per_unit(self) -> float:
        """Seed cells needed for one transfusion unit."""
        p = self.per_seed["product_cells_per_seed_cell"]
        return self.cells_per_unit / p if p > 0 else float("inf")

    def summary(self) -> dict[str, Any]:
        """The ``--json`` object."""
        c = self.card
        per_unit = self.seed_cells_per_unit()
        mass: dict[str, float] = {}
        ku: dict[str, float] = {}
        for f, spec in c.costed_factors.items():
            amount = self.per_seed[f"{f}_{spec.amount_unit}"] * per_unit
            (mass if spec.amount_unit == "mg" else ku)[f] = amount
        phases = []
        for name, row in self.phases.iterrows():
            phases.append(
                {
                    "name": name,
                    "days": int(row["days"]),
                    "start_day": int(row["start_day"]),
                    "vessel_class": row["vessel_class"],
                    "feeding": row["feeding"],
                    "cells_total": float(row["cells_total"]),
                    "peak_volume_L": float(row["peak_volume_L"]),
                    "medium_L": float(row["medium_L"]),
                    "cells_by_stage": {s: float(row[f"cells_{s}"]) for s in c.stage_names},
                    "cytokines": {
                        f: {"amount": float(row[f"{f}_{spec.amount_unit}"]),
                            "unit": spec.amount_unit}
                        for f, spec in c.costed_factors.items()
                    },
                }
            )
        enuc = self.per_seed["enucleation"]
        return {
            "card": c.name,
            "lineage": c.lineage,
            "product": c.product,
            "cell_source": c.cell_source,
            "seed_cells": self.seed_cells,
            "days": self.days,
            "settings": self.settings,
            "fold_expansion": self.per_seed["fold_expansion"],
            "purity": self.per_seed["purity"],
            "enucleation": None if np.isnan(enuc) else enuc,
            "product_cells_per_seed_cell": self.per_seed["product_cells_per_seed_cell"],
            "product_cells": self.product_cells,
            "cells_per_unit": self.cells_per_unit,
            "units": self.units,
            "seed_cells_per_unit": per_unit,
            "medium_L_per_seed_cell": self.per_seed["medium_L_per_seed_cell"],
            "medium_L_per_unit": self.per_seed["medium_L_per_seed_cell"] * per_unit,
            "peak_volume_L_per_unit": self.per_seed["peak_volume_L_per_seed_cell"] * per_unit,
            "cytokine_mg_per_unit": mass,
            "cytokine_kU_per_unit": ku,
            "cytokine_per_unit": {
                f: {"amount": (mass | ku)[f], "unit": spec.amount_unit}
                for f, spec in c.costed_factors.items()
            },
            "phases": phases,
            "warnings": self.warnings,
        }


def _days_settings(card: YieldCard, base: dict[str, float], days: int) -> dict[str, float]:
    """Settings that stop the protocol after ``days`` (or extend its last phase)."""
    if days < 1:
        msg = f"days = {days}: nothing would be cultured"
        raise InputError(msg, field="days",
                         fix="give days >= 1")
    out = dict(base)
    left = days
    lengths = [int(out.get(f"{p.name}.days", p.days)) for p in card.protocol]
    for i, p in enumerate(card.protocol):
        take = min(lengths[i], left) if i < len(card.protocol) - 1 else left
        out[f"{p.name}.days"] = float(take)
        left -= take
    return out


def _integral_matrix(A: np.ndarray, t: float) -> tuple[np.ndarray, np.ndarray]:
    """(expm(A t), ∫_0^t expm(A s) ds) exactly, via the block matrix [[A, 0], [I, 0]]."""
    k = A.shape[0]
    big = np.zeros((2 * k, 2 * k))
    big[:k, :k] = A
    big[k:, :k] = np.eye(k)
    F = scipy.linalg.expm(big * t)
    return F[:k, :k], F[k:, :k]


def _balance(ps: ParamSpace, res: BatchResult) -> list[dict[str, float]]:
    """Per phase, per seed cell: cells_in + births = cells_out + deaths + released (exact).

    Integrated over compartments: births = sum_c p_c ∫ x_c dt (a division adds one cell),
    deaths = sum_c m_c ∫ x_c dt, released = MKs consumed by platelet release."""
    card = ps.card
    comp = ps.comp
    cell = np.array([s.is_cell for s in card.stages])[comp.stage_of]
    release = np.zeros(comp.size)  # fraction of each compartment's transit that is release
    if card.product == "platelet":
        for i, st in enumerate(card.stages):
            for tt, fr in zip(st.transit_to, _transit_fractions(ps, ps.theta(1), i),
                              strict=True):
                if tt.stage == card.product_stage:
                    release[comp.stage_of == i] = float(fr[0])
    assert res.x0_comp is not None and res.x_end_comp is not None
    rows = []
    x = res.x0_comp[0]
    for j in range(len(card.protocol)):
        r = res.rates[j]
        d = float(res.days[0, j])
        _, integ = _integral_matrix(r.A[0], d)
        cum = integ @ x  # ∫ x dt over the phase [cell-days]
        x_out = res.x_end_comp[0, j]
        rows.append(
            {
                "cells_in": float(x[cell].sum()),
                "births": float((r.proliferation[0] * cum)[cell].sum()),
                "deaths": float((r.death[0] * cum)[cell].sum()),
                "released": float((r.transit[0] * release * cum).sum()),
                "cells_out": float(x_out[cell].sum()),
                "density_multiplier": float(r.density_multiplier[0]),
            }
        )
        x = x_out
    return rows


def simulate(
    card: YieldCard | str,
    seed_cells: float = 1.0,
    settings: Mapping[str, float] | None = None,
    days: int | None = None,
    time_course: bool = False,
    *,
    cells_per_unit: float | None = None,
) -> Simulation:
    """Simulate the default protocol of ``card`` with ``settings`` applied.

    ``settings`` maps ``"<phase>.<factor>"`` [factor unit], ``"<phase>.days"``,
    ``"<phase>.density_setpoint"`` / ``"<phase>.seed_density"`` [cells/mL] to values.
    ``days`` stops the protocol after that many days (shortening or dropping later phases) or,
    if longer than the protocol, extends its last phase. ``time_course`` adds daily states.
    """
    c = as_card(card)
    if not seed_cells > 0:
        msg = f"seed cells = {seed_cells} must be > 0"
        raise InputError(
            msg,
            field="seed_cells",
            fix="give a positive count",
        )
    ps = param_space(c)
    sets = {k: float(v) for k, v in (settings or {}).items()} if settings else {}
    for k in sets:
        ps.check_key(k)
    if days is not None:
        sets = _days_settings(c, sets, int(days))
    theta = apply_settings(ps, ps.theta(1), sets)
    validate_theta(ps, theta)
    res = run_batch(ps, theta, time_course=time_course)
    unit = cells_per_unit if cells_per_unit is not None else CELLS_PER_UNIT[c.product]
    if not unit > 0:
        msg = "cells per unit must be > 0"
        raise InputError(msg, field="cells_per_unit", fix="e.g. 2e12")

    amounts = cytokine_amounts(ps, theta, res)
    balance = _balance(ps, res)
    rows = []
    start = 0
    for j, ph in enumerate(c.protocol):
        d = int(res.days[0, j])
        row: dict[str, Any] = {
            "phase": ph.name,
            "start_day": start,
            "end_day": start + d,
            "days": d,
            "vessel_class": ph.vessel_class,
            "feeding": ph.feeding,
        }
        x = res.x_end[0, j] * seed_cells
        for i, s in enumerate(c.stage_names):
            row[f"cells_{s}"] = float(x[i])
        row["cells_total"] = float(x[stage_masks(c)["cell"]].sum())
        row["peak_volume_L"] = float(res.peak_volume_L[0, j] * seed_cells)
        row["medium_L"] = float(res.medium_L[0, j] * seed_cells)
        for f, spec in c.costed_factors.items():
            conc = theta[0, ps.col(f"{ph.name}.{f}")]
            row[f"{f}_{spec.amount_unit}"] = float(
                conc * row["medium_L"] * spec.amount_per_conc_litre()
            )
        for key, val in balance[j].items():
            row[key] = val * seed_cells
        rows.append(row)
        start += d
    phases = pd.DataFrame(rows).set_index("phase")

    out = state_outcomes(c, res.x_end[:, -1, :], res.x0)
    per_seed = {k: float(v[0]) for k, v in out.items()}
    per_seed["medium_L_per_seed_cell"] = float(res.medium_L.sum())
    per_seed["peak_volume_L_per_seed_cell"] = float(res.peak_volume_L.max())
    per_seed.update({k: float(v[0]) for k, v in amounts.items()})

    course = None
    if time_course and res.course_x is not None and res.course_volume_L is not None:
        cx = res.course_x[0] * seed_cells
        course = pd.DataFrame(cx, columns=[f"cells_{s}" for s in c.stage_names])
        course["cells_total"] = cx[:, stage_masks(c)["cell"]].sum(axis=1)
        course["volume_L"] = res.course_volume_L[0] * seed_cells
        course.index = pd.RangeIndex(len(course), name="day")

    reasons = extrapolation(ps, theta)[0]
    warnings = reasons.split("; ") if reasons else []
    for w in warnings:
        log.info("%s: %s", c.name, w)  # callers show Simulation.warnings (the CLI on stderr)
    return Simulation(c, float(seed_cells), sets, unit, phases, per_seed, course, warnings)

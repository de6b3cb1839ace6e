"""Pricing a batch option against the plan: the duals of the LP relaxation and reduced costs.

The media search (:mod:`bioplan.media_search`) generates recipes by column generation: the LP
relaxation of the planning model (integrality dropped) is solved, its row duals ``y`` say what
one more unit of every resource is worth, and a candidate recipe joins the model if one of its
columns has a negative **reduced cost**

    ``r = c·a − yᵀ A a``,

the column's cost minus what the duals say its product, reactor-days, litres and operations are
worth. A candidate option ``j`` seeded on day ``d`` enters the model as the direction
``x[s] = 1, n[s] = 1/u(s)`` (one product unit made by ``1/u`` batches, ``u(s)`` the most units a
batch of the slot makes, :mod:`bioplan.optimisation.inputs`), so per product unit [k$/unit]::

    r_j(d) = c_j + b_j / u(s)                                   cost of a unit and of 1/u batch
             + y_cohort[p, c] + y_stock[p, c]                   value of a unit released on c
             − ℓ_j · y_lots[q, ⌊d/7⌋]                           starting material (lots/unit)
             − Σ_k (μ_jk / D_k) · Y_media[D_k, d + o_k]         medium of each phase (L/unit)
             − (1/u) Σ_k Y_reactor[t_k, D_k + T_k, d + o_k]     reactor-days of each phase
             − (1/u) Σ_{τ ∈ operation days} y_labour[τ]         operations

- ``c = d + D_j + release`` the cohort day; ``c_j``, ``b_j`` the per-unit and per-batch terms of the
  cost-term registry (:data:`bioplan.contracts.COST_TERMS`) divided by ``USD_SCALE`` [k$];
- the equality rows carry the released unit with coefficient −1 (``y_cohort``, ``y_stock``: a
  released unit is worth ``−y``); the capacity rows are ``≤`` rows, whose duals are ≤ 0 in a
  minimisation (a binding resource makes ``r`` larger);
- ``Y_media[D, τ₀] = Σ_{τ=τ₀}^{τ₀+D−1} y_media_prep[τ]`` and ``Y_reactor[t, L, τ₀] =
  Σ_{τ=τ₀}^{τ₀+L−1} y_occupancy[t, τ]``: the model routes a phase's medium and reactor use
  through aggregate rate columns (``media_rate``, ``phase_starts``, zero cost); the direction moves
  them with the batch, so the capacity rows price the phase directly. (Reading the duals of the
  aggregation rows instead would be wrong for a new column: where an aggregate column sits at 0
  those duals are degenerate and may make litres look valuable.)

The batch-size rows do not appear: the direction keeps ``x = u·n``, and a new column's own
batch-size rows have zero duals. No Pyomo is imported at module level.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from bioplan.contracts import Driver
from bioplan.contracts.costs import batch_terms
from bioplan.optimisation.capacity_rows import DUAL_TOL, LOT_ROWS
from bioplan.optimisation.data import USD_SCALE, Option, PlanData

log = logging.getLogger(__name__)


_FAMILIES = ("cohort_balance", "stock_balance", LOT_ROWS, "media_prep",
             "reactor_occupancy", "labour", "demand_balance")
"""Row families whose duals price a column (``demand_balance`` only for the report)."""


@dataclass
class PlanDuals:
    """Row duals of the LP relaxation by family and index [k$ per row unit] (HiGHS's sign)."""

    ok: bool
    objective_k: float | None
    """The LP relaxation's objective [k$] (a lower bound on the MIP's)."""
    seconds: float
    rows: dict[str, dict[Any, float]] = field(default_factory=dict)
    message: str = ""

    def get(self, family: str, index: Any) -> float | None:
        """The dual of row ``family[index]``, or None if the model has no such row."""
        return self.rows.get(family, {}).get(index)


def relaxation_duals(data: PlanData, *, threads: int = 1, time_limit_s: float = 60.0) -> PlanDuals:
    """Build the model for ``data``, drop integrality, solve the LP with HiGHS and read its duals."""
    from bioplan.optimisation.compile import compile_model
    from bioplan.optimisation.model import build_model

    model = build_model(data)  # alive while its rows are read (their block is a weak reference)
    lp, _columns, rows, _facts = compile_model(model)
    return _solve_relaxation(lp, rows, threads=threads, time_limit_s=time_limit_s)


def _solve_relaxation(lp: Any, rows: list[Any], *, threads: int, time_limit_s: float) -> PlanDuals:
    from bioplan.optimisation.quiet_highs import quiet_highs, run_for_row_duals

    lp.integrality_ = []
    h = quiet_highs()  # the first HiGHS of a process prints its banner on stdout otherwise
    h.setOptionValue("time_limit", float(time_limit_s))
    h.setOptionValue("threads", int(threads))
    h.passModel(lp)
    row_dual, seconds, message = run_for_row_duals(h, "LP relaxation for pricing")
    if row_dual is None:
        return PlanDuals(False, None, seconds, message=message)
    out: dict[str, dict[Any, float]] = defaultdict(dict)
    for pos, con in enumerate(rows):
        family = con.parent_component().local_name
        if family in _FAMILIES:
            out[family][con.index()] = float(row_dual[pos])
    objective = float(h.getInfo().objective_function_value)
    return PlanDuals(True, objective, seconds, dict(out))


def unit_costs_k(opt: Option, data: PlanData) -> tuple[float, float]:
    """(per product unit, per batch) cost of ``opt`` from the cost-term registry [k$]."""
    per_unit = per_batch = 0.0
    for term in batch_terms():
        usd = term.usd(data.prices, opt.unit_use)
        if term.driver is Driver.PRODUCT_UNITS:
            per_unit += usd
        else:
            per_batch += usd
    return per_unit / USD_SCALE, per_batch / USD_SCALE


def seeding_days(opt: Option, data: PlanData) -> tuple[np.ndarray, np.ndarray]:
    """Seeding days the model would offer ``opt`` and the batch size cap ``u(s)`` of each
    [day, unit/batch] (the rule of :func:`bioplan.optimisation.inputs._slots`)."""
    prod = data.products[opt.product]
    horizon = data.horizon_days
    if prod.expiry_day(0) <= 0:
        return np.zeros(0, dtype=int), np.zeros(0)
    cum = np.concatenate([[0.0], np.cumsum(prod.demand)])
    days, caps = [], []
    for d in range(horizon):
        release = d + opt.days + prod.release_days
        if release >= horizon:
            break
        window = cum[min(prod.expiry_day(release), horizon)] - cum[release]
        if window <= 1e-9:
            continue
        days.append(d)
        caps.append(max(opt.units_min, min(opt.units_max, window)))
    return np.asarray(days, dtype=int), np.asarray(caps, dtype=float)


class PriceBook:
    """The duals of one LP relaxation as dense arrays over the horizon, so the reduced cost of an
    option on every seeding day is a few numpy gathers (module docstring) [k$ per row unit]."""

    def __init__(self, data: PlanData, duals: PlanDuals) -> None:
        self.data, self.duals = data, duals
        self.horizon = data.horizon_days
        self._cache: dict[tuple[Any, ...], np.ndarray] = {}
        self.labour = self._dense("labour", None)

    def _dense(self, family: str, key: Any) -> np.ndarray:
        """``y[family][key, τ]`` for τ = 0..H (one extra zero day) [k$ per row unit]."""
        out = np.zeros(self.horizon + 1)
        for index, y in self.duals.rows.get(family, {}).items():
            if key is None:
                out[int(index)] = y
            elif index[0] == key:
                out[int(index[-1])] = y
        return out

    def _windowed(self, summed: str, key: Any, length: int) -> np.ndarray:
        """``Σ_{τ=start}^{start+length−1} y[summed][key, τ]`` for every start [k$]."""
        per_day = self._dense(summed, key)
        cum = np.concatenate([[0.0], np.cumsum(per_day[: self.horizon])])
        starts = np.arange(self.horizon + 1)
        stop = np.minimum(starts + length, self.horizon)
        return cum[stop] - cum[np.minimum(starts, self.horizon)]

    def product(self, product: str) -> np.ndarray:
        """``y_cohort[p, c] + y_stock[p, c]`` by cohort day c (minus a released unit's worth)."""
        key = ("product", product)
        if key not in self._cache:
            self._cache[key] = (self._dense("cohort_balance", product)
                                + self._dense("stock_balance", product))
        return self._cache[key]

    def lots(self, source: str) -> np.ndarray:
        """``y_lots[q, ⌊d/7⌋]`` by seeding day d."""
        key = ("lots", source)
        if key not in self._cache:
            weeks = {int(w): y for (q, w), y in self.duals.rows.get(LOT_ROWS, {}).items()
                     if q == source}
            self._cache[key] = np.array([weeks.get(d // 7, 0.0) for d in range(self.horizon + 1)])
        return self._cache[key]

    def media(self, length: int) -> np.ndarray:
        """``Y_media[D, τ₀]`` by start day τ₀ for phases of ``length`` = D days (summed duals)."""
        key = ("media", length)
        if key not in self._cache:
            self._cache[key] = self._windowed("media_prep", None, length)
        return self._cache[key]

    def reactor(self, rtype: str, length: int) -> np.ndarray:
        """``Y_reactor[t, L, τ₀]`` by start day τ₀ for occupancies of ``length`` = L days."""
        key = ("reactor", rtype, length)
        if key not in self._cache:
            self._cache[key] = self._windowed("reactor_occupancy", rtype, length)
        return self._cache[key]

    def components(self, opt: Option) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """(seeding days, batch cap ``u(s)``, per-unit part, per-batch part) of ``opt``'s reduced
        cost on every day the model would offer it: ``r_j(d) = unit + batch / u`` [day, unit,
        k$/unit, k$/batch] (a robust pricing divides the batch part by its own cap)."""
        per_unit, per_batch = unit_costs_k(opt, self.data)
        days, caps = seeding_days(opt, self.data)
        h = self.horizon
        release = days + opt.days + self.data.products[opt.product].release_days
        unit = per_unit + self.product(opt.product)[release] - opt.lots_per_unit * self.lots(
            opt.source)[days]
        batch = np.full(days.shape, per_batch)
        for ph in opt.phases:  # medium is prepared per phase
            start = np.minimum(days + ph.offset_days, h)
            if ph.days > 0 and ph.medium_L_per_unit > 0:
                unit -= np.where(start < h,
                                 ph.medium_L_per_unit / ph.days * self.media(ph.days)[start], 0.0)
        for stay in opt.stays:  # a vessel is held, and an operation done, per stay
            start = np.minimum(days + stay.offset_days, h)
            inside = start < h
            batch -= np.where(inside, self.reactor(stay.reactor_type,
                                                   stay.days + stay.turnaround_days)[start], 0.0)
            batch -= np.where(inside, self.labour[start], 0.0)
        harvest = np.minimum(days + opt.days, h)
        batch -= self.labour[harvest]
        return days, caps, unit, batch

    def reduced_costs(self, opt: Option) -> pd.Series:
        """Reduced cost of one product unit of ``opt`` on each day the model would offer it
        [k$/unit], index ``day``."""
        days, caps, unit, batch = self.components(opt)
        values = unit + batch / np.where(caps > 0, caps, np.inf)
        return pd.Series(values, index=pd.Index(days, name="day"), name="reduced_cost_k",
                         dtype=float)

    def best(self, opt: Option) -> tuple[float, int | None]:
        """The most negative reduced cost of ``opt`` over its seeding days [k$/unit] and that
        day (``(inf, None)`` if the model would offer it on no day)."""
        rc = self.reduced_costs(opt)
        if rc.empty:
            return float("inf"), None
        pos = int(np.argmin(rc.to_numpy()))
        return float(rc.iloc[pos]), int(rc.index[pos])


def reduced_costs(opt: Option, data: PlanData, duals: PlanDuals) -> pd.Series:
    """Reduced cost of one product unit of ``opt`` seeded on each day the model would offer it
    [k$/unit] (module docstring), index ``day``."""
    return PriceBook(data, duals).reduced_costs(opt)


_RESOURCE = {"cohort_balance": "product", "stock_balance": "stock", "demand_balance": "demand",
             LOT_ROWS: "source", "media_prep": "media_prep", "labour": "labour",
             "reactor_occupancy": "reactor"}


def dual_records(duals: PlanDuals) -> pd.DataFrame:
    """The non-zero duals of the capacity and demand rows as a table [USD per row unit]:
    index (``resource``, ``day``); ``resource`` is ``reactor:<type>``, ``source:<q>`` (``day`` =
    the week's first day), ``media_prep``, ``labour``, ``demand:<product>``. Capacity values are
    shown as savings (≥ 0: USD saved per unit more of the resource)."""
    rows = []
    for family, label in _RESOURCE.items():
        if family in ("cohort_balance", "stock_balance"):
            continue
        for index, y in duals.rows.get(family, {}).items():
            if abs(y) <= DUAL_TOL:
                continue
            if family == "reactor_occupancy":
                resource, day = f"reactor:{index[0]}", int(index[1])
            elif family == LOT_ROWS:
                resource, day = f"source:{index[0]}", 7 * int(index[1])
            elif family == "demand_balance":
                resource, day = f"demand:{index[0]}", int(index[1])
            else:
                resource, day = label, int(index)
            value = y if family == "demand_balance" else -y
            rows.append((resource, day, value * USD_SCALE))
    frame = pd.DataFrame(rows, columns=["resource", "day", "usd_per_unit"])
    return frame.sort_values(["resource", "day"]).set_index(["resource", "day"])

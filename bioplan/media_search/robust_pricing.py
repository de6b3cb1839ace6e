"""Robust pricing: a candidate recipe priced by the robust plan's duals over its own yield samples.

A robust plan is the two-stage program of :mod:`bioplan.optimisation.stochastic` over K yield
samples. Its LP relaxation (the extensive form, integrality dropped) gives the duals of the
first-stage rows (starting material, media preparation, reactor occupancy, labour: one set) and of
every sample block's product rows. A candidate option ``j`` seeded on day ``d`` enters as one
planned unit ``x = 1`` with ``1/u`` batches; sample k releases ``t_k f_k`` of it (``f_k`` its yield
factor in the sample, ``0 ≤ t_k ≤ 1``; the rest is discarded at harvest at the waste price) and
the nominal block releases exactly 1. Its reduced cost per planned unit [k$/unit] is the
objective's derivative along the best such direction:

    ``r_j(d) = U_j(d) + B_j(d) / u_R(d)``                  first stage (:class:`PriceBook` parts)
    ``       + Σ_k f_k(d) · min(V_k(p, c), p_k e_p)``        every sample: release or discard
    ``       + V_nom(p, c)``                                  the plan as planned must be storable

- ``U``, ``B`` the per-unit and per-batch parts of :meth:`PriceBook.components` read on the EF's
  first-stage duals (the product rows live in the blocks, so ``U`` holds no product value);
- ``u_R(d) = max(u_min, min(u_max, W / min(1, min_k f_k)))`` the EF's batch cap
  (:func:`bioplan.optimisation.stochastic.relaxed_bounds`), ``W`` the demand the cohort can serve;
- ``V_b(p, c)`` the worth of a unit of product p released on cohort day c in block b: the sum of
  the duals of the rows such a release enters with coefficient −1 (cohort blocks:
  ``cohort_balance`` and ``stock_balance``; compact blocks: ``flow_released_sum`` on day c and
  ``flow_expired_sum`` on its expiry day). The duals already carry the sample's probability;
- ``p_k e_p`` the discard price of a unit in sample k [k$/unit].

``f_k(d)`` are the factors the robust plan itself would give the candidate once it joins (common
random numbers): the same lot draws as :func:`bioplan.robust.samples.factor_grid` (stream of the
card and the program's seed, draw ``k·H·L + d·L + l``), evaluated with the candidate's settings by
the exact yield model, relative to its nominal yield, the mean over the ``m`` lots a smallest batch
pools (:func:`bioplan.robust.samples.slot_keys`). A spread-out recipe is thus worth less in the
samples where units are short (``V_k`` most negative) — exactly where its draws fall low.

Evaluating K draws on every seeding day for every point of the search would dominate its time,
so each candidate is first priced with its nominal yield (``f_k = 1``: *mean pricing*) on every
day, and exactly, with its factors, on the ``EXACT_DAYS`` best days of each option.
"""

from __future__ import annotations

import logging
import time
from collections import defaultdict
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from bioplan.optimisation.data import USD_SCALE
from bioplan.optimisation.pricing import PlanDuals, PriceBook

if TYPE_CHECKING:
    from bioplan.optimisation.data import Option, PlanData
    from bioplan.optimisation.stochastic import StochasticData
    from bioplan.scenario import Scenario
    from bioplan.scenario.schema import Uncertainty

log = logging.getLogger(__name__)

EXACT_DAYS = 3
"""Seeding days per option priced with the candidate's own yield factors [-]."""
_FIRST = "first_stage"
_RELEASE_ROWS = ("cohort_balance", "stock_balance", "flow_released_sum")
"""Block rows a release on cohort day c enters with coefficient −1, indexed (product, c)."""


@dataclass
class ProgramDuals:
    """Duals of the robust program's LP relaxation [k$ per row unit] (HiGHS's sign)."""

    ok: bool
    objective_k: float | None
    seconds: float
    first: PlanDuals
    """The first-stage rows (the model's own families), as a deterministic :class:`PlanDuals`."""
    blocks: dict[str, dict[str, dict[Any, float]]] = field(default_factory=dict)
    """Block name (``sample_<k>``, ``nominal``) -> row family -> index -> dual."""
    message: str = ""


def program_duals(sd: StochasticData, *, threads: int = 1, time_limit_s: float = 120.0
                  ) -> ProgramDuals:
    """Build the extensive form of ``sd``, drop integrality, solve the LP and read its duals."""
    from bioplan.optimisation.compile import compile_model
    from bioplan.optimisation.quiet_highs import quiet_highs, run_for_row_duals
    from bioplan.optimisation.stochastic import build_extensive_form

    # keep the model alive while its rows are read: a row refers to its block only weakly, and
    # a model freed by the cyclic collector mid-way left `parent_component()` None (seen once)
    model = build_extensive_form(sd)
    lp, _columns, rows, _facts = compile_model(model)
    lp.integrality_ = []
    h = quiet_highs()
    h.setOptionValue("time_limit", float(time_limit_s))
    h.setOptionValue("threads", int(threads))
    h.passModel(lp)
    row_dual, seconds, message = run_for_row_duals(h, "robust LP relaxation for pricing")
    if row_dual is None:
        return ProgramDuals(False, None, seconds, PlanDuals(False, None, seconds), message=message)
    found: dict[str, dict[str, dict[Any, float]]] = defaultdict(lambda: defaultdict(dict))
    for pos, con in enumerate(rows):
        block, _dot, family = con.parent_component().name.rpartition(".")
        found[block or _FIRST][family][con.index()] = float(row_dual[pos])
    objective = float(h.getInfo().objective_function_value)
    first = PlanDuals(True, objective, seconds, dict(found.pop(_FIRST, {})))
    return ProgramDuals(True, objective, seconds, first,
                        {b: dict(rows_) for b, rows_ in found.items()})


FactorFn = Any
"""``(option, days (D,)) -> (K, D)`` yield factors of the option's recipe [-]."""


class RobustPriceBook:
    """Reduced costs of options against a robust program's duals (module docstring).

    ``factors(opt, days)`` gives the option's yield factors per sample and seeding day
    (:class:`~bioplan.media_search.lot_draws.FactorSource`; default: 1 everywhere); the search
    hands it each batch of candidate rows with :meth:`bind`.
    """

    def __init__(self, data: PlanData, sd: StochasticData, duals: ProgramDuals,
                 factors: FactorFn | None = None) -> None:
        self.data, self.sd, self.duals = data, sd, duals
        self.first = PriceBook(data, duals.first)
        self.samples = [f"sample_{k}" for k in range(sd.samples)]
        self.probabilities = np.asarray(sd.probabilities, dtype=float)
        self._worth: dict[tuple[str, str], np.ndarray] = {}
        self.factors: FactorFn = factors or (lambda _opt, days: np.ones((sd.samples, len(days))))
        self.exact_days = EXACT_DAYS

    def bind(self, table: pd.DataFrame) -> None:
        """Price the options of ``table``'s recipe rows next (their settings give the factors)."""
        if hasattr(self.factors, "table"):
            self.factors.table = table

    def worth(self, block: str, product: str) -> np.ndarray:
        """``V_b(p, c)`` by cohort day c = 0..H [k$/unit] (0 where the block has no such row)."""
        key = (block, product)
        if key not in self._worth:
            h = self.data.horizon_days
            rows = self.duals.blocks.get(block, {})
            out = np.zeros(h + 1)
            for family in _RELEASE_ROWS:
                for (p, c), y in rows.get(family, {}).items():
                    if p == product and 0 <= int(c) <= h:
                        out[int(c)] += y
            expiring = rows.get("flow_expired_sum", {})
            prod = self.data.products[product]
            for c in range(h + 1):
                out[c] += expiring.get((product, prod.expiry_day(c)), 0.0)
            self._worth[key] = out
        return self._worth[key]

    def windows(self, opt: Option, days: np.ndarray) -> np.ndarray:
        """Demand the cohort of a batch seeded on each of ``days`` can serve [unit]."""
        prod = self.data.products[opt.product]
        h = self.data.horizon_days
        cum = np.concatenate([[0.0], np.cumsum(prod.demand)])
        release = days + opt.days + prod.release_days
        last = np.array([min(prod.expiry_day(int(c)), h) for c in release], dtype=int)
        return cum[last] - cum[np.minimum(release, h)]

    def second_stage(self, opt: Option, days: np.ndarray, f: np.ndarray) -> np.ndarray:
        """``Σ_k f_k min(V_k, p_k e_p) + V_nom`` per seeding day [k$/unit]."""
        release = days + opt.days + self.data.products[opt.product].release_days
        discard = self.data.prices.expiry_usd_per_unit[opt.product] / USD_SCALE
        value = np.array([self.worth(b, opt.product)[release] for b in self.samples])
        value = np.minimum(value, self.probabilities[:, None] * discard)
        return (f * value).sum(axis=0) + self.worth("nominal", opt.product)[release]

    def reduced_costs(self, opt: Option, *, exact: bool = True) -> pd.Series:
        """Reduced cost per planned unit of ``opt`` by seeding day [k$/unit], index ``day``:
        priced with nominal yields on every day, with the option's own factors on the
        ``exact_days`` best of them (all days with ``exact_days`` ≥ the horizon)."""
        days, _caps, unit, batch = self.first.components(opt)
        if days.size == 0:
            return pd.Series([], index=pd.Index([], name="day"), name="reduced_cost_k", dtype=float)
        w = self.windows(opt, days)
        ones = np.ones((self.sd.samples, days.size))
        values = unit + batch / self._caps(opt, w, ones) + self.second_stage(opt, days, ones)
        if exact:
            pick = np.argsort(values, kind="stable")[:self.exact_days]
            f = np.asarray(self.factors(opt, days[pick]), dtype=float)
            values[pick] = (unit[pick] + batch[pick] / self._caps(opt, w[pick], f)
                            + self.second_stage(opt, days[pick], f))
        return pd.Series(values, index=pd.Index(days, name="day"), name="reduced_cost_k",
                         dtype=float)

    @staticmethod
    def _caps(opt: Option, window: np.ndarray, f: np.ndarray) -> np.ndarray:
        lowest = np.minimum(np.maximum(f.min(axis=0), 1e-6), 1.0)
        return np.maximum(opt.units_min, np.minimum(opt.units_max, window / lowest))

    def best(self, opt: Option) -> tuple[float, int | None]:
        """The most negative reduced cost of ``opt`` [k$/unit] and its day (``(inf, None)``)."""
        rc = self.reduced_costs(opt)
        if rc.empty:
            return float("inf"), None
        pos = int(np.argmin(rc.to_numpy()))
        return float(rc.iloc[pos]), int(rc.index[pos])


def robust_round(sc: Scenario, data: PlanData, unc: Uncertainty, *, threads: int = 1
                 ) -> tuple[ProgramDuals, RobustPriceBook | None, float]:
    """One round's pricing data: the robust program of ``sc`` (its recipes) under ``unc`` as
    the robust plan builds it, its LP relaxation's duals and the price book; seconds spent."""
    from bioplan.media_search.lot_draws import FactorSource
    from bioplan.robust.plan import stochastic_data

    t0 = time.perf_counter()
    sd = stochastic_data(sc, data, unc, unc.samples, unc.seed)
    duals = program_duals(sd, threads=threads)
    book = (RobustPriceBook(sd.base, sd, duals, FactorSource(sc, sc.recipe_table(), unc))
            if duals.ok else None)
    return duals, book, time.perf_counter() - t0


def robust_dual_records(duals: ProgramDuals) -> pd.DataFrame:
    """The non-zero first-stage duals and the demand duals summed over the samples (the
    expected worth of one more unit delivered) as :func:`~bioplan.optimisation.pricing.dual_records`
    gives them [USD per row unit]; empty if the LP failed."""
    from bioplan.optimisation.pricing import dual_records

    if not duals.ok:
        return pd.DataFrame()
    demand: dict[Any, float] = defaultdict(float)
    for block, rows in duals.blocks.items():
        if block != "nominal":
            for index, y in rows.get("demand_balance", {}).items():
                demand[index] += y
    merged = PlanDuals(True, duals.objective_k, duals.seconds,
                       {**duals.first.rows, "demand_balance": dict(demand)})
    return dual_records(merged)

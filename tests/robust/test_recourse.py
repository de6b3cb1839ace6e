"""The first-expiry-first recourse is optimal: checked against HiGHS (scipy's ``linprog``) on the
recourse LP written out independently here, on random small instances with storage limits."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.optimize import linprog

from bioplan.optimisation.recourse import fefo_dispatch
from bioplan.results.plan import COST_TERMS
from bioplan.robust.evaluate import FIRST_STAGE_TERMS, SHORTAGE_TERM, WASTE_TERM


def recourse_lp(days: np.ndarray, releases: np.ndarray, demand: np.ndarray, life: int,
                cap: float | None, penalty: float, waste: float) -> float:
    """Optimal recourse cost of one sample: deliveries y[c,d], discards w[c,d], shortages u[d].

    min π Σ u + e (Σ_{c expiring in the horizon} (R_c − Σ_d y[c,d]) + Σ_{c not} Σ_d w[c,d])
    s.t. Σ_d (y + w)[c,d] ≤ R_c;  Σ_c y[c,d] + u[d] = D[d];
         Σ_{c usable on d} (R_c − Σ_{d' ≤ d} (y + w)[c,d']) ≤ K.
    """
    horizon = len(demand)
    keep = (days + life > 0) & (days < horizon)  # the model's cohorts: usable inside the horizon
    days, releases = days[keep], releases[keep]
    pairs = [(j, d) for j, c in enumerate(days) for d in range(max(c, 0), min(c + life, horizon))]
    n_pairs = len(pairs)
    n = 2 * n_pairs + horizon
    cost = np.zeros(n)
    expiring = [c + life < horizon for c in days]
    for k, (j, _d) in enumerate(pairs):
        cost[k] = -waste if expiring[j] else 0.0
        cost[n_pairs + k] = 0.0 if expiring[j] else waste
    cost[2 * n_pairs:] = penalty
    constant = waste * sum(r for r, e in zip(releases, expiring, strict=True) if e)
    a_ub, b_ub = [], []
    for j in range(len(days)):
        row = np.zeros(n)
        for k, (jj, _d) in enumerate(pairs):
            if jj == j:
                row[k] = row[n_pairs + k] = 1.0
        a_ub.append(row)
        b_ub.append(releases[j])
    if cap is not None:
        for d in range(horizon):
            row = np.zeros(n)
            held = 0.0
            for j, c in enumerate(days):
                if max(c, 0) <= d <= c + life - 1:
                    held += releases[j]
                    for k, (jj, dd) in enumerate(pairs):
                        if jj == j and dd <= d:
                            row[k] = row[n_pairs + k] = -1.0
            a_ub.append(row)
            b_ub.append(cap - held)
    a_eq = np.zeros((horizon, n))
    for k, (_j, d) in enumerate(pairs):
        a_eq[d, k] = 1.0
    a_eq[np.arange(horizon), 2 * n_pairs + np.arange(horizon)] = 1.0
    ub = {"A_ub": np.array(a_ub), "b_ub": np.array(b_ub)} if a_ub else {}
    res = linprog(cost, **ub, A_eq=a_eq, b_eq=demand,
                  bounds=(0, None), method="highs")
    assert res.status == 0, res.message
    return float(res.fun + constant)


def fefo_cost(days: np.ndarray, releases: np.ndarray, demand: np.ndarray, life: int,
              cap: float | None, penalty: float, waste: float) -> float:
    d = fefo_dispatch(days, releases[None, :], demand, life, cap)
    return float(penalty * d.short.sum() + waste * (d.expired.sum() + d.discarded.sum()))


@pytest.mark.parametrize("instance", range(150))
def test_fefo_matches_the_recourse_lp(instance: int) -> None:
    rng = np.random.default_rng(instance)
    horizon = int(rng.integers(3, 12))
    life = int(rng.integers(1, 6))
    m = int(rng.integers(1, 6))
    days = np.sort(rng.integers(-3, horizon + 2, m))
    releases = rng.choice([0.0, 0.5, 1.0, 2.0, 3.7], m)
    demand = rng.choice([0.0, 0.4, 1.0, 1.5], horizon)
    cap = None if rng.random() < 0.4 else float(rng.choice([0.0, 0.5, 1.0, 2.5]))
    penalty, waste = float(rng.choice([1.0, 10.0, 100.0])), float(rng.choice([0.0, 0.5, 3.0]))
    # shortage priced below waste as well: delivering is still never worse
    lp = recourse_lp(days, releases, demand, life, cap, penalty, waste)
    rule = fefo_cost(days, releases, demand, life, cap, penalty, waste)
    assert rule == pytest.approx(lp, abs=1e-7, rel=1e-9)


def test_units_are_conserved_over_many_samples() -> None:
    """released = delivered + wasted + left (per sample), and stock never exceeds the limit."""
    rng = np.random.default_rng(7)
    days = np.arange(-2, 30, 3)
    releases = rng.gamma(2.0, 1.0, (400, len(days)))
    demand = rng.uniform(0, 1.5, 30)
    d = fefo_dispatch(days, releases, demand, 4, 3.0)
    usable = (days + 4 - 1 >= 0) & (days < 30)
    released = releases[:, usable].sum(axis=1)
    out = d.delivered.sum(1) + d.expired.sum(1) + d.discarded.sum(1) + d.left
    assert np.allclose(released, out)
    assert d.stock.max() <= 3.0 + 1e-9
    assert np.allclose(d.delivered + d.short, demand[None, :])


def test_the_second_stage_terms_are_waste_and_shortage() -> None:
    assert (WASTE_TERM, SHORTAGE_TERM) == ("expiry_waste", "shortage_penalty")
    assert set(FIRST_STAGE_TERMS) | {WASTE_TERM, SHORTAGE_TERM} == set(COST_TERMS)

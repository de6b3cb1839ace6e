"""A bounded, multi-start minimiser for vectorised objectives over mixed continuous / whole-number
settings (no Pyomo, no yield model: any ``evaluate(X) -> values`` will do).

Each start runs scipy's L-BFGS-B over the continuous settings with the whole-number ones held;
the gradient is a forward finite difference taken in ONE call of ``evaluate`` on the point and
its perturbed copies (the yield model is vectorised, so k+1 points cost about one). Then every
±1 step of every whole-number setting is evaluated in one call; the best improving step is taken
and the continuous settings re-optimised, until no step improves. Settings are searched in unit
coordinates ``u ∈ [0, 1]``: linear for whole numbers, logarithmic where ``log`` (concentrations
and densities spanning decades).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from scipy.optimize import minimize

log = logging.getLogger(__name__)

Evaluate = Callable[[np.ndarray], np.ndarray]
"""(n, k) settings -> (n,) objective values (finite; large for infeasible points)."""

FD_STEP = 1e-4
"""Finite-difference step in unit coordinates [-]."""


@dataclass(frozen=True)
class Minimum:
    """The best point found."""

    x: np.ndarray
    value: float
    evaluations: int
    """Points evaluated in total [-]."""
    calls: int
    """Calls of ``evaluate`` [-]."""


class _Problem:
    def __init__(self, evaluate: Evaluate, lower: np.ndarray, upper: np.ndarray,
                 integer: np.ndarray, logscale: np.ndarray) -> None:
        self.evaluate, self.lower, self.upper = evaluate, lower, upper
        self.integer, self.log = integer, logscale & (lower > 0)
        self.points = self.calls = 0

    def _log_frame(self) -> tuple[np.ndarray, np.ndarray]:
        """(low end, log of high/low) of the log-scaled settings (1 and 1 elsewhere)."""
        low = np.where(self.log, self.lower, 1.0)
        span = np.where(self.log & (self.upper > self.lower), np.log(self.upper / low), 1.0)
        return low, span

    def to_x(self, u: np.ndarray) -> np.ndarray:
        u = np.clip(u, 0.0, 1.0)
        low, span = self._log_frame()
        x = np.where(self.log, low * np.exp(u * span),
                     self.lower + u * (self.upper - self.lower))
        return np.where(self.integer, np.round(x), x)

    def to_u(self, x: np.ndarray) -> np.ndarray:
        low, span = self._log_frame()
        width = np.where(self.upper > self.lower, self.upper - self.lower, 1.0)
        logu = np.log(np.maximum(x, 1e-300) / low) / span
        return np.clip(np.where(self.log, logu, (x - self.lower) / width), 0.0, 1.0)

    def values(self, u_rows: np.ndarray) -> np.ndarray:
        self.points += u_rows.shape[0]
        self.calls += 1
        out = np.asarray(self.evaluate(self.to_x(u_rows)), dtype=float)
        return np.where(np.isfinite(out), out, 1e12)

    def continuous(self, u: np.ndarray, max_iter: int) -> tuple[np.ndarray, float]:
        free = np.flatnonzero(~self.integer & (self.upper > self.lower))
        if free.size == 0:
            return u, float(self.values(u[None, :])[0])

        def fun(z: np.ndarray) -> tuple[float, np.ndarray]:
            base = u.copy()
            base[free] = z
            rows = np.tile(base, (free.size + 1, 1))
            step = np.where(z + FD_STEP <= 1.0, FD_STEP, -FD_STEP)
            rows[np.arange(1, free.size + 1), free] += step
            vals = self.values(rows)
            return float(vals[0]), (vals[1:] - vals[0]) / step

        res = minimize(fun, u[free], jac=True, method="L-BFGS-B",
                       bounds=[(0.0, 1.0)] * free.size,
                       options={"maxiter": max_iter, "ftol": 1e-10, "gtol": 1e-8})
        out = u.copy()
        out[free] = np.clip(res.x, 0.0, 1.0)
        return out, float(self.values(out[None, :])[0])

    def steps(self, u: np.ndarray, value: float) -> tuple[np.ndarray, float] | None:
        """The best ±1 step of a whole-number setting, if it improves on ``value``."""
        x = self.to_x(u)
        rows = []
        for j in np.flatnonzero(self.integer):
            for delta in (-1.0, 1.0):
                y = x.copy()
                y[j] += delta
                if self.lower[j] <= y[j] <= self.upper[j]:
                    rows.append(y)
        if not rows:
            return None
        cand = np.array([self.to_u(r) for r in rows])
        # keep the exact whole numbers: to_u/to_x round-trip them
        vals = self.values(cand)
        best = int(np.argmin(vals))
        return (cand[best], float(vals[best])) if vals[best] < value - 1e-12 else None


def minimise(evaluate: Evaluate, lower: np.ndarray, upper: np.ndarray, *,
             integer: np.ndarray | None = None, logscale: np.ndarray | None = None,
             x0: np.ndarray | None = None, starts: int = 3, seed: int = 0,
             max_iter: int = 40, max_integer_moves: int = 8) -> Minimum:
    """Minimise ``evaluate`` over the box ``[lower, upper]`` (module docstring); the first start
    is ``x0`` (default: the box centre), the others uniform in unit coordinates.

    >>> import numpy as np
    >>> m = minimise(lambda X: ((X - 0.3) ** 2).sum(axis=1), np.zeros(2), np.ones(2))
    >>> np.round(m.x, 4).tolist()
    [0.3, 0.3]
    """
    lower, upper = np.asarray(lower, dtype=float), np.asarray(upper, dtype=float)
    k = lower.size
    prob = _Problem(evaluate, lower, upper,
                    np.zeros(k, dtype=bool) if integer is None else np.asarray(integer, dtype=bool),
                    np.zeros(k, dtype=bool) if logscale is None else np.asarray(logscale, dtype=bool))
    rng = np.random.default_rng(seed)
    first = np.full(k, 0.5) if x0 is None else prob.to_u(np.asarray(x0, dtype=float))
    best_u, best_v = first, np.inf
    for i in range(max(1, starts)):
        u = first if i == 0 else rng.uniform(0.0, 1.0, k)
        u = prob.to_u(prob.to_x(u))
        u, v = prob.continuous(u, max_iter)
        for _ in range(max_integer_moves):
            step = prob.steps(u, v)
            if step is None:
                break
            u, v = prob.continuous(step[0], max_iter)
        log.debug("start %d: %.6g after %d points", i, v, prob.points)
        if v < best_v:
            best_u, best_v = u, v
    return Minimum(prob.to_x(best_u), best_v, prob.points, prob.calls)

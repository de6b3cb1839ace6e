"""Emax/Hill dose-response functions, vectorised over recipes.

activity a(c) = c^n / (EC50^n + c^n) in [0, 1] (0 without the factor, 1/2 at EC50, -> 1 when
saturating). Rates are scaled by ``floor + (1 - floor) · a`` (proliferation, transit) or raised by
``extra · (1 - a)`` (death). Concentrations and EC50 share the factor's unit.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

FloatArray = NDArray[np.float64]


def hill_activity(conc: FloatArray, ec50: FloatArray, hill_n: FloatArray) -> FloatArray:
    """Fractional activity a(c) = c^n / (EC50^n + c^n); exactly 0 at c = 0.

    >>> float(hill_activity(np.array(2.0), np.array(2.0), np.array(1.5)))
    0.5
    """
    c = np.maximum(np.asarray(conc, dtype=float), 0.0)
    ratio = np.divide(c, ec50, out=np.zeros(np.broadcast(c, ec50).shape), where=c > 0)
    n = np.asarray(hill_n, dtype=float)
    if n.ndim and n.size and np.all(n == n.flat[0]):
        n = n.flat[0]  # one Hill coefficient for the whole batch: scalar power is much faster
    if n.ndim == 0 and float(n) == 2.0:
        rn = ratio * ratio
    elif n.ndim == 0 and float(n) == 1.0:
        rn = ratio
    else:
        rn = ratio**n
    return rn / (1.0 + rn)


def _effect(conc: FloatArray, ec50: FloatArray, hill_n: FloatArray, inhibits: bool) -> FloatArray:
    """a(c), or 1 - a(c) for a factor that inhibits the response."""
    a = hill_activity(conc, ec50, hill_n)
    return 1.0 - a if inhibits else a


def rate_multiplier(
    conc: FloatArray, ec50: FloatArray, hill_n: FloatArray, floor: FloatArray, inhibits: bool
) -> FloatArray:
    """Multiplier of a proliferation or transit rate: floor + (1 - floor) · a (or 1 - a)."""
    return floor + (1.0 - floor) * _effect(conc, ec50, hill_n, inhibits)


def extra_death(
    conc: FloatArray, ec50: FloatArray, hill_n: FloatArray, extra: FloatArray, inhibits: bool
) -> FloatArray:
    """Death added [1/day] when a survival factor is short: extra · (1 - a)."""
    return extra * (1.0 - _effect(conc, ec50, hill_n, inhibits))


def density_multiplier(setpoint: FloatArray, half: FloatArray, hill_n: FloatArray) -> FloatArray:
    """Proliferation multiplier at a held density s: 1 / (1 + (s / K)^n)."""
    return 1.0 / (1.0 + (np.asarray(setpoint, dtype=float) / half) ** hill_n)


_QUAD = (np.arange(8) + 0.5) / 8.0
"""Midpoints of 8 equal sub-intervals of a phase: where the density trajectory is sampled."""


def effective_density_multiplier(
    growth_per_day: FloatArray,
    seed_density: FloatArray,
    setpoint: FloatArray,
    days: FloatArray,
    perfusion: NDArray[np.bool_] | bool,
    half: FloatArray,
    hill_n: FloatArray,
) -> FloatArray:
    """Phase mean of the density inhibition 1 / (1 + (rho(t) / K)^n) along the actual density.

    Cells are seeded at ``seed_density`` s0 [cells/mL] and grow at ``growth_per_day`` r [1/day]
    (net births minus deaths of the fastest-growing compartment: the dominant mode of the
    phase's lower-triangular rate matrix). Feeding sets the volume: **dilution** keeps
    V(t) = max(V0, max_tau N / s), so rho(t) = e^{r t} / max(1/s0, max(1, e^{r t}) / s) — the
    density climbs from s0 to the set-point s and is then held there; **perfusion** fixes
    V = max(V0, N_max / s), so rho(t) = e^{r t} / max(1/s0, max(1, e^{r d}) / s) — it climbs to s
    at the end of the phase. The mean over the phase's d days is taken at 8 midpoints.
    """
    t = np.asarray(days, dtype=float)[..., None] * _QUAD
    r = np.asarray(growth_per_day, dtype=float)[..., None]
    grow = np.exp(np.clip(r * t, -50.0, 50.0))
    inv_s0 = 1.0 / np.asarray(seed_density, dtype=float)[..., None]
    s = np.asarray(setpoint, dtype=float)[..., None]
    top = np.exp(np.clip(r[..., 0] * np.asarray(days, dtype=float), -50.0, 50.0))[..., None]
    held = np.where(np.asarray(perfusion)[..., None], np.maximum(1.0, top), np.maximum(1.0, grow))
    rho = grow / np.maximum(inv_s0, held / s)
    ratio = rho / np.asarray(half, dtype=float)[..., None]
    return np.mean(1.0 / (1.0 + ratio ** np.asarray(hill_n, dtype=float)[..., None]), axis=-1)

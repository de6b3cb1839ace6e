"""Reference solution with ``scipy.integrate.solve_ivp`` (for tests and the benchmark).

Integrates the same phase-wise ODE x' = A_j x numerically, phase after phase, so the exact solver
can be checked against an independent method.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray
from scipy.integrate import solve_ivp

from bioplan.yields.kinetics import ParamSpace, phase_rates, seed_vector

FloatArray = NDArray[np.float64]


def reference_states(
    ps: ParamSpace, theta_row: FloatArray, *, rtol: float = 1e-10, atol: float = 1e-20
) -> FloatArray:
    """(J, S) stage states at the end of each phase for one recipe, by solve_ivp (DOP853), on
    the same generation-structured compartments (summed into stages)."""
    theta = np.asarray(theta_row, dtype=float).reshape(1, -1)
    x = seed_vector(ps, theta)[0]
    out = []
    for j, ph in enumerate(ps.card.protocol):
        A = phase_rates(ps, theta, j).A[0]
        days = float(np.rint(theta[0, ps.col(f"{ph.name}.days")]))
        if days > 0:
            sol = solve_ivp(
                lambda _t, y, A=A: A @ y, (0.0, days), x, method="DOP853", rtol=rtol, atol=atol
            )
            if not sol.success:
                msg = f"solve_ivp failed: {sol.message}"
                raise RuntimeError(msg)
            x = sol.y[:, -1]
        out.append(x.copy())
    return ps.comp.aggregate(np.array(out))

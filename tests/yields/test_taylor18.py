"""The degree-18 Taylor scheme of ``expm._expm_taylor`` (5 products, Bader, Blanes & Casas 2019):
its polynomial is the Taylor polynomial of exp, and on the cards' daily matrices (random and tied
variants, also 3x and 0.25x a day) it matches an 80-bit Taylor reference entry by entry."""

from __future__ import annotations

import math

import numpy as np
import pytest
from numpy.polynomial import polynomial as P

from bioplan.yields import expm, list_cards
from bioplan.yields.bench import random_theta
from bioplan.yields.kinetics import phase_rates
from tests.yields.test_structured_expm import _tied_theta


def _scalar_polynomial() -> np.ndarray:
    """Coefficients of y_18(x) for a scalar x, multiplied out from the scheme's combinations."""
    c = expm._T18
    q = [np.array([r[0], r[1], r[2], r[3], 0.0, 0.0, r[4]]) for r in c]
    y91 = P.polyadd(P.polymul(q[0], q[4]), q[3])
    return P.polyadd(q[1], P.polymul(P.polyadd(q[2], y91), y91))


def test_scheme_is_the_degree_18_taylor_polynomial() -> None:
    y = _scalar_polynomial()
    taylor = np.array([1.0 / math.factorial(j) for j in range(19)])
    assert len(y) == 19
    assert np.all(np.abs(y - taylor) <= 1e-15 * taylor)


def _reference(A: np.ndarray) -> np.ndarray:
    """exp of a stack in 80-bit extended precision: A / 2^10, 16 Taylor terms, 10 squarings."""
    X = A.astype(np.longdouble) / 2**10
    R = np.broadcast_to(np.eye(A.shape[-1], dtype=np.longdouble), A.shape).copy()
    T = R.copy()
    for j in range(1, 17):
        T = T @ X / j
        R = R + T
    for _ in range(10):
        R = R @ R
    return R.astype(float)


@pytest.mark.parametrize("name", list_cards())
def test_exponential_matches_an_extended_precision_reference(name: str) -> None:
    """Normwise 1e-13 of each matrix's largest entry. Entry by entry, for the daily matrices,
    1e-9 relative above 1e-10 of the largest (measured 1.6e-11; the previous degree-12
    polynomial: 1.3e-8); at 0.25 and 3 days 1e-7 above 1e-8 of the largest. Entries far below
    the largest are long paths (12+ transitions in a quarter day, no squaring) whose relative
    error is the truncation's: 2e-8 here, where the degree-12 polynomial had 4e-7."""
    for ps, theta in (random_theta(name, 24, seed=3)[:2], _tied_theta(name)):
        for j in range(len(ps.card.protocol)):
            for scale in (1.0, 3.0, 0.25):
                A = phase_rates(ps, theta[:24], j).A * scale
                ref = _reference(A)
                E = expm._expm_taylor(A)
                top = np.abs(ref).max(axis=(1, 2), keepdims=True)
                assert (np.abs(E - ref) / top).max() <= 1e-13, (name, j, scale)
                floor, tol = (1e-10, 1e-9) if scale == 1.0 else (1e-8, 1e-7)
                big = np.abs(ref) > floor * top
                rel = np.abs(E - ref)[big] / np.abs(ref)[big]
                assert rel.max() <= tol, (name, j, scale, rel.max())


def test_squarings_follow_the_norm() -> None:
    rng = np.random.default_rng(2)
    A = rng.normal(size=(3, 5, 5))
    A /= np.abs(A).sum(axis=-2).max(axis=-1)[:, None, None]  # 1-norm 1
    A *= np.array([1.0, 3.0, 100.0])[:, None, None]
    assert expm.scaling(A).tolist() == [0, 1, 6]  # 1.63 * 2^s >= norm
    ref = _reference(A)
    assert np.abs(expm._expm_taylor(A) - ref).max() <= 1e-13 * np.abs(ref).max()

"""The block-diagonal split of ``expm_batch`` (independent compartment groups exponentiated
separately, single compartments as exp of their rate) gives the dense exponential of the whole
matrix, on random variants of every shipped card, with exact and near ties of the rates."""

from __future__ import annotations

import numpy as np
import pytest

from bioplan.yields import exact_solver, expm, list_cards
from bioplan.yields.bench import random_theta
from bioplan.yields.exact_solver import run_batch
from bioplan.yields.kinetics import phase_rates

RTOL = 1e-9


def _dense(A: np.ndarray) -> np.ndarray:
    """The previous path: one degree-12 Taylor exponential of each whole matrix."""
    return np.concatenate([expm._expm_taylor(A[i : i + 31]) for i in range(0, len(A), 31)])


def _rel(ours: np.ndarray, ref: np.ndarray) -> float:
    """Largest difference relative to its matrix's largest entry (the degree-12 Taylor bound is
    normwise, 1.6e-10; a block's own scaling may take one squaring fewer than the whole matrix's,
    so entries far below the largest may differ by more, relatively, within that bound)."""
    scale = np.abs(ref).max(axis=(-2, -1), keepdims=True)
    return float((np.abs(ours - ref) / scale).max())


def _tied_theta(name: str) -> tuple[object, np.ndarray]:
    """Random variants, half of them with near-tied exhaustion (rates 1e-9 apart) and every
    stage's rates copied from the first stage's (exact ties across stages)."""
    ps, theta, _ = random_theta(name, 120, seed=11)
    for c, n in enumerate(ps.names):
        if n.endswith("exhaustion_per_division"):
            theta[::2, c] = 1e-9
    stages = ps.card.stages
    for tail in ("proliferation_per_day", "death_per_day", "transit_per_day"):
        src = ps.col(f"stages.{stages[0].name}.{tail}")
        for st in stages[1:]:
            theta[1::4, ps.col(f"stages.{st.name}.{tail}")] = theta[1::4, src]
    return ps, theta


@pytest.mark.parametrize("name", list_cards())
def test_split_exponential_equals_the_dense_one(name: str) -> None:
    ps, theta = _tied_theta(name)
    for j in range(len(ps.card.protocol)):
        A = phase_rates(ps, theta, j).A
        assert _rel(expm.expm_batch(A, distinct=True), _dense(A)) <= RTOL, (name, j)


def test_components_split_only_uncoupled_compartments() -> None:
    A = np.zeros((2, 6, 6))
    A[0, 2, 0], A[1, 4, 2], A[0, 5, 3] = 1.0, 1.0, 2.0
    groups = [g.tolist() for g in expm.components(A)]
    assert groups == [[0, 2, 4], [1], [3, 5]]
    rng = np.random.default_rng(1)
    A[:, range(6), range(6)] = rng.normal(size=(2, 6))
    assert _rel(expm.expm_batch(A), _dense(A)) <= 1e-13


@pytest.mark.parametrize("name", list_cards())
def test_batch_outcomes_equal_the_dense_path(name: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """Whole recipes (all-distinct, per-slice exponentials) against the dense path."""
    ps, theta = _tied_theta(name)
    monkeypatch.setattr(exact_solver, "_CACHE_MATRICES", 16)
    monkeypatch.setattr(exact_solver, "_BATCH_CHUNK", 48)
    new = run_batch(ps, theta)
    monkeypatch.setattr(expm, "components", lambda A: [np.arange(A.shape[-1])])
    monkeypatch.setattr(exact_solver, "components", lambda A: [np.arange(A.shape[-1])])
    old = run_batch(ps, theta)
    for field in ("x_end", "medium_L", "peak_volume_L"):
        a, b = getattr(new, field), getattr(old, field)
        big = np.abs(b) > 1e-12 * np.abs(b).max(axis=-1, keepdims=True)  # as test_exact
        assert np.all(np.abs(a - b)[big] <= RTOL * np.abs(b)[big]), (name, field)

"""The exact solver agrees with scipy's solve_ivp on the same ODE, and its pieces are exact."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.linalg

from bioplan.yields import list_cards, load_card
from bioplan.yields.bench import random_theta
from bioplan.yields.exact_solver import expm_batch, run_batch
from bioplan.yields.kinetics import param_space
from bioplan.yields.reference import reference_states


def _rel_err(ours: np.ndarray, ref: np.ndarray) -> float:
    """Largest relative difference over entries that are not ~0 relative to their state vector."""
    big = np.abs(ref) > 1e-12 * np.abs(ref).max(axis=-1, keepdims=True)
    return float((np.abs(ours - ref)[big] / np.abs(ref)[big]).max())


@pytest.mark.parametrize("name", list_cards())
def test_default_protocol_matches_solve_ivp(name: str) -> None:
    ps = param_space(load_card(name))
    theta = ps.theta(1)
    ours = run_batch(ps, theta).x_end[0]
    ref = reference_states(ps, theta[0])
    assert _rel_err(ours, ref) < 1e-6


@pytest.mark.parametrize("name", ["erythroid-cb-giarratana", "mk-imkcl-vermes"])
def test_random_variants_match_solve_ivp(name: str) -> None:
    """Continuous random settings (factors x0.25-4, days ±2, set-points x0.5-2)."""
    ps, theta, _ = random_theta(name, 12, seed=7)
    ours = run_batch(ps, theta).x_end
    for i in range(theta.shape[0]):
        assert _rel_err(ours[i], reference_states(ps, theta[i])) < 1e-6


def test_expm_batch_matches_scipy_including_repeated_matrices() -> None:
    rng = np.random.default_rng(0)
    k = 9
    A = np.tril(rng.normal(scale=1.5, size=(50, k, k)))
    A = np.concatenate([A, A[:10]])  # duplicates exercise the de-duplication path
    ours = expm_batch(A)
    ref = scipy.linalg.expm(A)
    assert np.max(np.abs(ours - ref) / np.abs(ref).clip(1e-12)) < 1e-9


def test_daily_grid_peak_volume_matches_a_fine_grid() -> None:
    """Peak volume from the daily running maximum vs a 48-per-day grid (see solver docstring)."""
    for name in list_cards():
        ps = param_space(load_card(name))
        theta = ps.theta(1)
        daily = run_batch(ps, theta).peak_volume_L
        fine = run_batch(ps, theta, grid_per_day=48).peak_volume_L
        assert np.allclose(daily, fine, rtol=1e-3), name
        assert np.all(daily <= fine * (1 + 1e-12))  # a coarser grid can only miss a peak


def test_bench_smoke_reports_the_issue_keys() -> None:
    """Not a timing test: the bench runs on a small size and reports the documented keys."""
    from bioplan.yields.bench import bench_yields

    result = bench_yields("mk-cb-tpo", n=3000, n_reference=5, repeat=1)
    for key in ("evaluations_per_s", "speedup_vs_solve_ivp", "max_rel_error", "peak_rss_mib"):
        assert key in result and result[key] > 0
    assert result["recipes"] >= 3000
    assert result["max_rel_error"] < 1e-6
    assert result["threads"] >= 1


def test_shared_work_matches_row_by_row_stepping() -> None:
    """A factorial batch (later phases share few matrices: solved by matrix powers, earlier ones by
    shared combinations) equals each recipe stepped alone, day by day."""
    from bioplan.yields.bench import factorial_variants
    from bioplan.yields.recipes import variant_theta

    ps = param_space(load_card("erythroid-cb-giarratana"))
    theta, _ = variant_theta(ps, factorial_variants("erythroid-cb-giarratana", 3000))
    batch = run_batch(ps, theta)
    for i in np.linspace(0, theta.shape[0] - 1, 15).astype(int):
        alone = run_batch(ps, theta[i : i + 1])
        assert _rel_err(batch.x_end[i], alone.x_end[0]) < 1e-12
        assert np.allclose(batch.medium_L[i], alone.medium_L[0], rtol=1e-12)
        assert np.allclose(batch.peak_volume_L[i], alone.peak_volume_L[0], rtol=1e-12)


def test_matrix_powers_match_repeated_products() -> None:
    from bioplan.yields.expm import matrix_powers

    rng = np.random.default_rng(1)
    E = np.tril(rng.uniform(0, 0.5, size=(6, 5, 5)))
    d = np.array([0, 1, 2, 5, 12, 13])
    ours = matrix_powers(E, d)
    for i in range(6):
        assert np.allclose(ours[i], np.linalg.matrix_power(E[i], int(d[i])), rtol=1e-13, atol=0)

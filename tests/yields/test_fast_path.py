"""The vectorised batch path (shared combinations, matrix powers, cached or chunked propagators,
column-major theta, vectorised post-processing) gives every recipe-table value of each recipe
evaluated alone (the reference per-variant path), to 1e-9 relative, on random variants of every
shipped card."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from bioplan.yields import exact_solver, list_cards
from bioplan.yields.bench import factorial_variants, random_theta
from bioplan.yields.exact_solver import run_batch
from bioplan.yields.kinetics import ParamSpace, param_space
from bioplan.yields.loader import as_card
from bioplan.yields.recipes import table_from_batch, variant_theta

RTOL = 1e-9


def _assert_rows_match_alone(ps: ParamSpace, theta: np.ndarray, keys: list[str],
                             rows: np.ndarray) -> None:
    """Rows of the batch table equal the same recipes' one-row tables (numbers to RTOL)."""
    batch = table_from_batch(ps, theta, run_batch(ps, theta), keys)
    for i in rows:
        one = theta[i : i + 1]
        alone = table_from_batch(ps, one, run_batch(ps, one), keys).iloc[0]
        got = batch.iloc[int(i)]
        for col in batch.columns:
            a, b = got[col], alone[col]
            if isinstance(b, float | np.floating) and not pd.isna(b):
                assert abs(a - b) <= RTOL * abs(b), (ps.card.name, int(i), col, a, b)
            else:
                assert a == b or (pd.isna(a) and pd.isna(b)), (ps.card.name, int(i), col, a, b)


@pytest.mark.parametrize("name", list_cards())
def test_random_distinct_variants_match_each_recipe_alone(name: str) -> None:
    ps, theta, keys = random_theta(name, 200, seed=3)
    _assert_rows_match_alone(ps, theta, keys, np.arange(0, 200, 9))


@pytest.mark.parametrize("name", list_cards())
def test_chunked_propagators_match_each_recipe_alone(name: str,
                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    """With fewer cached matrices than distinct ones the propagators are computed per chunk
    (the all-distinct path of big tables), here forced on a small batch."""
    monkeypatch.setattr(exact_solver, "_CACHE_MATRICES", 16)
    monkeypatch.setattr(exact_solver, "_BATCH_CHUNK", 48)
    ps, theta, keys = random_theta(name, 150, seed=5)
    _assert_rows_match_alone(ps, theta, keys, np.arange(1, 150, 11))


@pytest.mark.parametrize("name", list_cards())
def test_factorial_table_matches_each_recipe_alone(name: str) -> None:
    """A factorial table shares combinations and powers its later phases."""
    ps = param_space(as_card(name))
    theta, keys = variant_theta(ps, factorial_variants(name, 600))
    assert theta.shape[0] > 600
    _assert_rows_match_alone(ps, theta, keys, np.linspace(0, theta.shape[0] - 1, 12).astype(int))


def test_row_major_theta_gives_the_same_table() -> None:
    """``ps.theta`` is column-major for speed; callers passing a row-major theta get the same."""
    ps, theta, keys = random_theta("mk-cb-tpo", 120, seed=9)
    assert theta.flags.f_contiguous
    a = table_from_batch(ps, theta, run_batch(ps, theta), keys)
    c = np.ascontiguousarray(theta)
    b = table_from_batch(ps, c, run_batch(ps, c), keys)
    pd.testing.assert_frame_equal(a, b, rtol=1e-12)


def test_table_owns_its_columns() -> None:
    """The table is built without a consolidation copy, so it must not share memory with the
    caller's theta or batch result: changing them afterwards leaves the table as it was."""
    ps, theta, keys = random_theta("erythroid-bela", 80, seed=2)
    res = run_batch(ps, theta)
    table = table_from_batch(ps, theta, res, keys)
    before = table.copy()
    theta[:] = -1.0
    res.medium_L[:] = -1.0
    res.peak_volume_L[:] = -1.0
    res.days[:] = -1
    pd.testing.assert_frame_equal(table, before)

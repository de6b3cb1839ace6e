"""Compiled rows refer to their Pyomo block only weakly: a function that builds a model, compiles
it and then reads its rows' names must keep the model alive. Before, the model was a temporary:
a full collection between the compile and the reading (the model has reference cycles, so only
the cyclic collector frees it) left ``parent_component()`` None, once, under load.

Each check forces that collection right after the compile, where it used to break.
"""

from __future__ import annotations

import gc
from typing import Any

import numpy as np
import pytest

import bioplan.optimisation.duals as duals_module
import bioplan.optimisation.quiet_highs as quiet_highs_module
from bioplan.optimisation import prepare
from tests.optimisation.builders import base, build, demand


@pytest.fixture
def collect_after_compile(monkeypatch: pytest.MonkeyPatch) -> None:
    """A full collection at the first step after each compile: creating the HiGHS object (the
    relaxation LPs) or grouping the capacity rows (the shadow prices)."""
    def collecting(original: Any) -> Any:
        def wrapped(*args: Any, **kwargs: Any) -> Any:
            gc.collect()
            return original(*args, **kwargs)
        return wrapped

    monkeypatch.setattr(quiet_highs_module, "quiet_highs", collecting(quiet_highs_module.quiet_highs))
    monkeypatch.setattr(duals_module, "capacity_rows", collecting(duals_module.capacity_rows))


def _data() -> Any:
    sc = build(demand(base(8, penalty=200.0, units_owned=5), {7: 30}))
    return prepare(sc, sc.recipe_table())


def test_a_freed_model_breaks_its_rows() -> None:
    """The premise: once the cyclic collector frees a model, its rows have no parent."""
    import pyomo.core as pyo

    m = pyo.ConcreteModel()
    m.x = pyo.Var()
    m.c = pyo.Constraint(expr=m.x >= 1)
    row = m.c
    del m
    gc.collect()
    assert row.parent_block() is None


@pytest.mark.usefixtures("collect_after_compile")
def test_relaxation_and_shadow_prices_keep_their_model() -> None:
    from bioplan.optimisation.duals import shadow_prices
    from bioplan.optimisation.pricing import relaxation_duals

    data = _data()
    assert relaxation_duals(data).ok
    values = {"slot_units": {}, "slot_batches": {}}
    assert shadow_prices(data, values).ok  # reads every column's name after the compile


@pytest.mark.usefixtures("collect_after_compile")
def test_robust_program_duals_keep_their_model() -> None:
    from bioplan.media_search.robust_pricing import program_duals
    from bioplan.optimisation.stochastic import StochasticData, relaxed_bounds

    data = _data()
    factors = np.array([[0.5] * len(data.slot_day), [1.5] * len(data.slot_day)])
    sd = StochasticData(base=relaxed_bounds(data, factors), factors=factors,
                        probabilities=np.array([0.5, 0.5]), window_cuts=False, compact=False)
    duals = program_duals(sd)
    assert duals.ok and duals.blocks

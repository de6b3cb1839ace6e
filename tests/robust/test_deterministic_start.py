"""The extensive form's starting solution from the deterministic plan is a feasible point of the
EF itself, batches and reactors included.

The start is the EF with the deterministic plan's batches and reactors fixed. Pyomo compiles
fixed variables as constants, so that solve's values do not hold them; a start built from those
values alone set every batch to 0, violated the rows that tie units to batches, and HiGHS
dropped it (the default's robust plan then came out dearer than its deterministic plan).
"""

from __future__ import annotations

import numpy as np
import pytest
import scipy.sparse as sp

from bioplan.optimisation import SolveOptions, prepare
from bioplan.optimisation.stochastic import (
    StochasticData,
    build_extensive_form,
    compile_named,
    relaxed_bounds,
)
from bioplan.planning import plan
from bioplan.robust.plan import stochastic_data
from bioplan.robust.starts import deterministic_start, plan_integers
from bioplan.scenario.schema import Uncertainty
from tests.robust.test_recourse_checker import storage_scenario

TOL = 1e-6


@pytest.mark.parametrize("segments", [False, True])
def test_the_deterministic_start_is_a_feasible_point_of_the_ef(segments: bool) -> None:
    """Also with lot segments (each batch its own lots): the start opens the segments the
    deterministic plan's units reach, in order."""
    sc = storage_scenario()
    if segments:  # lots of 2 units: the day's batches draw from several lots
        sources = {"cord_blood": sc.sources["cord_blood"].model_copy(update={"cells_per_lot": 2e6})}
        sc = sc.model_copy(update={"sources": {**sc.sources, **sources}})
    det = plan(sc, marginal_values=False)
    assert det.has_solution
    data = prepare(sc, sc.recipe_table())
    if segments:
        sd = stochastic_data(sc, data, Uncertainty(yield_cv={"card-a": 0.3}), 2, 0)
        assert sd.segment_units is not None and (sd.segment_units > 0).sum(axis=1).max() > 1
    else:
        factors = np.array([[0.5] * len(data.slot_day), [1.5] * len(data.slot_day)])
        sd = StochasticData(base=relaxed_bounds(data, factors), factors=factors,
                            probabilities=np.array([0.5, 0.5]))
    start = deterministic_start(sd, det, SolveOptions(time_limit_s=20, mip_gap=1e-9), 60)
    assert start is not None
    integers = plan_integers(det, sd.base, sd.segment_units)
    assert ("slot_segment_open" in integers) == segments
    assert sum(integers["slot_batches"].values()) >= 1
    for name, values in integers.items():
        for index, v in values.items():
            assert start[name].get(index, 0.0) == pytest.approx(v)
    compiled = compile_named(build_extensive_form(sd))
    lp = compiled.lp
    x = np.array([start.get(name, {}).get(index, 0.0) for name, index in compiled.keys])
    assert np.all(x >= np.array(lp.col_lower_) - TOL) and np.all(x <= np.array(lp.col_upper_) + TOL)
    a = lp.a_matrix_
    rows = sp.csc_matrix((a.value_, a.index_, a.start_), shape=(lp.num_row_, lp.num_col_)) @ x
    assert np.all(rows >= np.array(lp.row_lower_) - TOL)
    assert np.all(rows <= np.array(lp.row_upper_) + TOL)

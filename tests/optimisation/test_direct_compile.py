"""The direct compiler (:mod:`bioplan.optimisation.compile_direct`) gives exactly what Pyomo's
``LinearStandardFormCompiler`` gives: the same rows and columns in the same order, the same
bounds, integrality, objective and coefficients, bit for bit.

Order matters beyond correctness: HiGHS's MIP times moved by up to ±35 % with row and column
order alone (``RECIPES.md``), so "the same model, permuted" would not do. Every comparison here
is exact (``np.array_equal``), not within a tolerance.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pyomo.environ as pyo
import pytest
from pyomo.common.errors import InfeasibleConstraintException

from bioplan.benchmarks.instances import generate
from bioplan.errors import InputError
from bioplan.optimisation.compile import COMPILER_ENV, compile_model, standard_form
from bioplan.optimisation.inputs import prepare
from bioplan.optimisation.lp_arrays import LpArrays
from bioplan.optimisation.model import build_model
from bioplan.scenario import load_scenario

ARRAYS = ("col_cost", "col_lower", "col_upper", "row_lower", "row_upper", "a_start", "a_index",
          "a_value", "integer")


def _compiled(m: pyo.ConcreteModel, compiler: str) -> tuple[LpArrays, list[tuple[str, int]]]:
    lp, columns, rows, facts = compile_model(m, compiler)
    assert facts["compiler"] == compiler
    keys = [(v.parent_component().local_name, v.index()) for v in columns]
    arrays = LpArrays.from_highs_lp(lp, keys, None)
    row_keys = [(con.name, id(con)) for con in rows]
    return arrays, row_keys


def assert_same_standard_form(m: pyo.ConcreteModel) -> LpArrays:
    """Both compilers on ``m``, compared entry by entry; returns the direct compile."""
    direct, direct_rows = _compiled(m, "direct")
    pyomo_, pyomo_rows = _compiled(m, "pyomo")
    assert direct.keys == pyomo_.keys, "column keys or their order differ"
    assert direct_rows == pyomo_rows, "rows or their order differ"
    for name in ARRAYS:
        a, b = getattr(direct, name), getattr(pyomo_, name)
        assert a.shape == b.shape, name
        assert np.array_equal(a, b), f"{name}: {np.flatnonzero(a != b)[:5]} differ"
    assert direct.offset == pyomo_.offset
    senses = [s for (_c, s) in standard_form(m, "direct").rows]
    assert senses == [s for (_c, s) in standard_form(m, "pyomo").rows]
    return direct


@pytest.fixture(scope="module")
def benchmark_s() -> Any:
    return prepare(generate("S"))


def test_benchmark_s_main_model(benchmark_s: Any) -> None:
    """Benchmark S (90 days, 4 reactor types): 3,996 columns, 4,061 rows, 25,572 nonzeros."""
    arrays = assert_same_standard_form(build_model(benchmark_s))
    assert (len(arrays.col_cost), len(arrays.row_lower), len(arrays.a_value)) == (3996, 4061, 25572)
    assert arrays.integer.sum() > 0


def test_benchmark_s_elastic_and_packaging(benchmark_s: Any) -> None:
    """The elastic re-solve (slack on the right-hand sides: ``cap + e``) and the whole-unit pass
    (integer packaged units, ``k ≤ Σ x``, a bound changed after the build) compile alike."""
    assert_same_standard_form(build_model(benchmark_s, elastic=True))
    m = build_model(benchmark_s, packaging=True)
    m.slot_batches[0].setub(0)
    assert_same_standard_form(m)


@pytest.mark.parametrize(("name", "combo"), [
    ("default", None), ("default", "growth"), ("intensified", None), ("platelets-only", None),
    ("rbc-scale-up", None)])
def test_bundled_scenarios(name: str, combo: str | None) -> None:
    assert_same_standard_form(build_model(prepare(load_scenario(name, scenario=combo))))


@pytest.mark.slow
def test_benchmark_m() -> None:
    """Benchmark M (180 days, 16 reactor types): 16,470 columns and 97,341 nonzeros, as in the
    README's benchmark table."""
    arrays = assert_same_standard_form(build_model(prepare(generate("M"))))
    assert (len(arrays.col_cost), len(arrays.a_value)) == (16470, 97341)


def _awkward_model() -> pyo.ConcreteModel:
    """Every expression form the direct reader must match or hand over to Pyomo's visitor."""
    m = pyo.ConcreteModel()
    m.I = pyo.Set(initialize=[1, 2, 3], ordered=True)
    m.p = pyo.Param(initialize=2.5, mutable=True)
    m.y = pyo.Var(m.I, domain=pyo.NonNegativeIntegers, bounds=(0, 9))
    m.x = pyo.Var(m.I, bounds=(-1, 4))
    m.unused = pyo.Var(m.I)  # never in a row: no column
    m.z = pyo.Var()
    m.z.fix(3.0)
    m.w = pyo.Var(m.I, bounds=(0, 5))
    m.w[2].fix(2.0)  # a column once w[1] records w; then moved to the right-hand side
    m.e = pyo.Expression(expr=2 * m.x[1] + m.y[2] + 1.5)
    m.obj = pyo.Objective(expr=m.e + 0.5 * m.x[3] - m.y[1] + 7)
    m.ranged = pyo.Constraint(expr=(-2, m.x[1] + m.x[2], 6))  # two rows: ≤ then ≥
    m.twice = pyo.Constraint(expr=m.x[2] + m.x[2] + m.y[3] <= 5)  # one entry of 2 for x[2]
    m.cancel = pyo.Constraint(expr=m.x[1] - m.x[1] + m.y[1] >= 1)  # x[1]'s entry cancels
    m.param = pyo.Constraint(expr=m.p * m.x[3] + m.y[1] <= 8)  # a Param: Pyomo's visitor
    m.fixed = pyo.Constraint(expr=m.z + m.x[1] + 2 <= 10)  # fixed var folded into the bound
    m.sides = pyo.Constraint(expr=m.x[1] + 1 == -(m.y[2] + 3) + m.x[3])  # both sides variable
    m.product = pyo.Constraint(expr=(m.x[2] + 1) * 3 >= m.y[2])  # product node: Pyomo's visitor
    m.column_fixed = pyo.Constraint(expr=m.w[1] + 4 * m.w[2] + m.x[1] <= 30)
    m.trivial = pyo.Constraint(expr=m.z <= 4)  # constant, satisfied: dropped
    m.pbound = pyo.Constraint(expr=m.x[2] <= m.p)  # a Param bound, evaluated
    return m


def test_awkward_expressions() -> None:
    arrays = assert_same_standard_form(_awkward_model())
    names = [name for name, _i in arrays.keys]
    assert "unused" not in names and "z" not in names
    assert ("w", 1) in arrays.keys and ("w", 2) not in arrays.keys
    form = standard_form(_awkward_model(), "direct")
    assert form.fallback_rows == 2  # the Param row and the product row
    assert [(con.local_name, s) for con, s in form.rows[:2]] == [("ranged", 1), ("ranged", -1)]


def test_trivially_infeasible_row_raises_like_pyomo() -> None:
    m = pyo.ConcreteModel()
    m.z = pyo.Var(initialize=5.0)
    m.z.fix()
    m.x = pyo.Var()
    m.c = pyo.Constraint(expr=m.z <= 4)
    m.o = pyo.Objective(expr=m.x)
    for compiler in ("direct", "pyomo"):
        with pytest.raises(InfeasibleConstraintException, match="'c'"):
            standard_form(m, compiler)


def test_two_objectives_go_to_pyomo_whole() -> None:
    m = pyo.ConcreteModel()
    m.x = pyo.Var(bounds=(0, 1))
    m.c = pyo.Constraint(expr=m.x <= 1)
    m.a = pyo.Objective(expr=m.x)
    m.b = pyo.Objective(expr=2 * m.x)
    assert standard_form(m, "direct").compiler == "pyomo"


def test_choice_by_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    m = _awkward_model()
    monkeypatch.delenv(COMPILER_ENV, raising=False)
    assert compile_model(m)[3]["compiler"] == "direct"
    monkeypatch.setenv(COMPILER_ENV, "pyomo")
    assert compile_model(m)[3]["compiler"] == "pyomo"
    monkeypatch.setenv(COMPILER_ENV, "fast")
    with pytest.raises(InputError, match="BIOPLAN_COMPILER"):
        compile_model(m)

"""The two routes to HiGHS give the same plans: ``highspy`` (standard-form compiler, the default)
and ``pyomo`` (Pyomo's own HiGHS interface, ``pyomo.contrib.solver``).

The scenarios and their hand-worked optima are those of ``test_hand_worked`` (see the docstrings
there for the arithmetic).
"""

from __future__ import annotations

from typing import Any

import pytest

from bioplan.contracts import PlanStatus, Termination
from bioplan.optimisation import SolveOptions, build_model, prepare, solve_guarded
from bioplan.planning import plan
from bioplan.results import check_plan
from bioplan.scenario.schema import SolverSettings
from tests.optimisation.builders import base, build, demand, recipe
from tests.optimisation.invariants import assert_valid


def _constant_demand() -> dict[str, Any]:
    return demand(base(28), {7: 10, 14: 10, 21: 10})


def _platelet_staggered() -> dict[str, Any]:
    raw = base(28, product="platelet", shelf=5)
    raw["recipes"][0]["rows"] = [recipe("r/0", days=4, product="platelet")]
    raw["reactors"]["tank"]["turnaround_days"] = 1
    return demand(raw, {d: 2 for d in range(4, 28)})


def _second_reactor(units: int) -> dict[str, Any]:
    raw = base(8, penalty=1000)
    raw["reactors"]["spare"] = {**raw["reactors"]["tank"], "units_owned": 0,
                                "capital_cost_usd_per_unit_day": 500, "max_additional_units": 1}
    raw["reactors"]["tank"]["max_additional_units"] = 0
    return demand(raw, {7: units})


def _scarce_reactors(owned: int) -> dict[str, Any]:
    raw = base(20, units_owned=owned)
    raw["recipes"][0]["rows"] = [recipe("slow/0", days=15),
                                 recipe("fast/0", days=5, epo_kU_per_unit=20, card="card-b")]
    return demand(raw, {19: 20})


def _release_delay(release: int) -> dict[str, Any]:
    raw = base(12, product="platelet", shelf=5, release=release, units_owned=2)
    raw["recipes"][0]["rows"] = [recipe("r/0", days=4, product="platelet")]
    return demand(raw, {d: 2 for d in range(6, 11)})


HAND_WORKED = [
    pytest.param(_constant_demand(), 7660, id="constant-demand"),
    pytest.param(_platelet_staggered(), 9900, id="platelet-shelf-life"),
    pytest.param(_second_reactor(10), 2420, id="second-reactor-D10"),
    pytest.param(_second_reactor(14), 6420, id="second-reactor-D14"),
    pytest.param(_second_reactor(16), 7540, id="second-reactor-D16"),
    pytest.param(_scarce_reactors(1), 6940, id="scarce-reactors-fast"),
    pytest.param(_scarce_reactors(2), 8040, id="ample-reactors-slow"),
    pytest.param(_release_delay(0), 3870, id="release-delay-0"),
    pytest.param(_release_delay(2), 4090, id="release-delay-2"),
]


@pytest.mark.parametrize(("raw", "cost"), HAND_WORKED)
def test_both_interfaces_give_the_hand_worked_optimum(raw, cost):
    plans = {i: plan(build(raw), solver_interface=i, marginal_values=False)
             for i in ("highspy", "pyomo")}
    for interface, p in plans.items():
        assert p.status is PlanStatus.OPTIMAL, interface
        assert p.solver["interface"] == interface
        assert p.objective_usd == pytest.approx(cost, rel=1e-6), interface
        assert_valid(p)
    assert plans["pyomo"].objective_usd == pytest.approx(plans["highspy"].objective_usd, rel=1e-9)
    pyomo_plan = plans["pyomo"]
    assert check_plan(pyomo_plan) == []
    assert set(pyomo_plan.timings) >= {"build", "transfer", "solve", "extract", "total"}
    assert pyomo_plan.solver["termination"] == "optimal"
    assert pyomo_plan.solver["solver_status"] == "convergenceCriteriaSatisfied"


def test_scenario_field_selects_the_pyomo_interface():
    raw = _constant_demand()
    raw["solver"]["interface"] = "pyomo"
    sc = build(raw)
    assert sc.solver.interface == "pyomo"
    assert SolverSettings().interface == "highspy"
    p = plan(sc, marginal_values=False)
    assert p.solver["interface"] == "pyomo"
    assert p.objective_usd == pytest.approx(7660, rel=1e-6)


def test_bad_interface_name_is_rejected():
    raw = _constant_demand()
    raw["solver"]["interface"] = "gurobi"
    with pytest.raises(Exception, match="interface"):
        build(raw)


def test_pyomo_route_in_process_returns_values_by_component_and_index():
    """``solve_model`` (no child process) gives the same value structure through both routes."""
    from bioplan.optimisation import solve_model

    data = prepare(build(_constant_demand()))
    results = {i: solve_model(build_model(data), SolveOptions(time_limit_s=20, mip_gap=1e-6,
                                                              interface=i))
               for i in ("highspy", "pyomo")}
    a, b = results["highspy"], results["pyomo"]
    assert a.status is b.status is PlanStatus.OPTIMAL
    assert b.objective == pytest.approx(a.objective, rel=1e-9)
    assert b.gap == pytest.approx(0.0, abs=1e-9)
    assert set(b.values) == set(a.values)
    for name in a.values:
        assert set(b.values[name]) == set(a.values[name]), name
    assert b.timings["solve"] > 0 and b.timings["transfer"] > 0


def test_infeasible_scenario_through_the_pyomo_interface():
    """The hard 100 % service level of ``test_hand_worked``: 30 units by day 7 from one tank."""
    raw = base(8)
    raw["products"]["rbc"]["min_service_level"] = 1.0
    sc = build(demand(raw, {7: 30}))
    result = solve_guarded(prepare(sc), SolveOptions(time_limit_s=20, interface="pyomo"), 60)
    assert result.status is PlanStatus.INFEASIBLE and result.termination is Termination.INFEASIBLE
    assert result.facts["solver_status"] in ("provenInfeasible", "infeasibleOrUnbounded")
    assert not result.values
    p = plan(sc, solver_interface="pyomo")
    assert p.status is PlanStatus.INFEASIBLE
    assert p.explanation is not None and not p.explanation.empty  # elastic re-solve, same route


@pytest.mark.parametrize("time_limit_s", [1e-6, 1.0])
def test_short_time_limit_through_the_pyomo_interface(time_limit_s):
    """S at a 1e-6 gap: no plan yet, or a plan with its bound and gap; never an exception."""
    from bioplan.benchmarks.instances import generate

    p = plan(generate("S"), time_limit_s=time_limit_s, mip_gap=1e-6, marginal_values=False,
             solver_interface="pyomo")
    assert p.status in (PlanStatus.FEASIBLE, PlanStatus.NO_SOLUTION)
    assert p.solver["termination"] == "limit" and p.solver["solver_status"] == "maxTimeLimit"
    if p.status is PlanStatus.FEASIBLE:
        assert p.gap is not None and p.gap > 1e-6
        assert p.bound_usd is not None and p.bound_usd <= p.objective_usd
        assert check_plan(p) == []
    else:
        assert p.batches.empty


def test_cli_solver_interface_option(tmp_path, capsys, monkeypatch):
    """``bioplan plan --solver-interface pyomo`` plans through the Pyomo interface; an unknown
    name is bad input (exit 2)."""
    import yaml

    import bioplan.planning
    from bioplan.cli import main
    from bioplan.errors import ExitCode

    seen = []
    real_plan = bioplan.planning.plan

    def recording_plan(*args, **kwargs):
        p = real_plan(*args, **kwargs)
        seen.append(p.solver["interface"])
        return p

    monkeypatch.setattr(bioplan.planning, "plan", recording_plan)

    raw = _constant_demand()
    path = tmp_path / "t.yaml"
    path.write_text(yaml.safe_dump(raw, sort_keys=False, default_flow_style=False))
    out = tmp_path / "out"
    code = main(["plan", str(path), "--solver-interface", "pyomo", "--out", str(out)])
    text = capsys.readouterr().out
    assert code == ExitCode.OK, text
    assert "status    optimal" in text
    assert seen == ["pyomo"]
    assert main(["plan", str(path), "--solver-interface", "gurobi"]) == ExitCode.BAD_INPUT

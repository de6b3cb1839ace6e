"""The cost-term and slack registries drive the model, the reports and the explanation."""

from __future__ import annotations

import dataclasses

import pyomo.environ as pyo
import pytest

from bioplan.contracts import COST_TERMS, TERM_NAMES, PlanStatus, Products, Shape, Slack
from bioplan.optimisation import build_model, prepare
from bioplan.optimisation.explain import finding_context
from bioplan.optimisation.expressions import elastic_slack
from bioplan.planning import CostMismatchError, check_costs, plan
from tests.optimisation.builders import base, build, demand


def _every_limit() -> dict:
    """The base scenario with every hard limit switched on: a source lot limit, media preparation,
    labour, storage and a minimum service level."""
    raw = demand(base(28), {14: 10, 21: 10})
    raw["sources"]["cord_blood"]["lots_per_week"] = 5
    raw["media"]["prep_capacity_L_per_day"] = 1000
    raw["labour"]["operations_per_day"] = 10
    raw["products"]["rbc"]["storage_capacity_units"] = 50
    raw["products"]["rbc"]["min_service_level"] = 0.5
    return raw


SLACK_NAMES = ["reactor_extra_units", "source_extra_lots", "media_extra_L",
               "labour_extra_operations", "storage_extra_units", "service_missing_units"]
"""The elastic slacks of a scenario with every limit, in build order (the explanation's)."""


def _elastic(raw: dict) -> pyo.ConcreteModel:
    return build_model(prepare(build(raw)), elastic=True)


def test_every_slack_of_the_elastic_model_is_registered_and_explained() -> None:
    """Every variable the elastic model adds to the plain one is a slack registered through
    ``elastic_slack`` (a slack made any other way fails here at once), the six limits give the
    six slacks in build order, and each slack says which mapping of PlanData its key indexes
    exactly when its shape is keyed (the explanation's context comes from its entry alone)."""
    plain = build_model(prepare(build(_every_limit())))
    m = _elastic(_every_limit())
    added = {v.name for v in m.component_objects(pyo.Var)} - {
        v.name for v in plain.component_objects(pyo.Var)}
    assert added == {s.name for s in m.elastic_slacks}
    assert [s.name for s in m.elastic_slacks] == SLACK_NAMES
    data = prepare(build(_every_limit()))
    for slack in m.elastic_slacks:
        assert isinstance(getattr(m, slack.name), pyo.Var)
        assert bool(slack.keyed_by) == (slack.shape is not Shape.DAY)
        if slack.keyed_by:
            assert isinstance(getattr(data, slack.keyed_by), dict)
    assert [s.weight for s in m.elastic_slacks][-1] == max(s.weight for s in m.elastic_slacks)


def test_a_slack_is_created_once_and_only_in_the_elastic_model() -> None:
    m = pyo.ConcreteModel()
    m.elastic = True
    m.elastic_slacks = []
    widget = Slack("extra_widgets", 1.0, "widgets", "units", Shape.DAY, "{amount}",
                   Products.ACTIVE, "1")
    assert elastic_slack(m, widget, [0, 1]) is m.extra_widgets
    assert m.elastic_slacks == [widget]
    with pytest.raises(RuntimeError, match="extra_widgets"):
        elastic_slack(m, widget, [0, 1])
    m.elastic = False
    assert elastic_slack(m, dataclasses.replace(widget, name="more_widgets"), [0]) is None
    assert m.elastic_slacks == [widget]


def test_the_objective_has_one_expression_per_registered_term() -> None:
    m = build_model(prepare(build(_every_limit())))
    for name in TERM_NAMES:
        assert isinstance(getattr(m, f"cost_{name}"), pyo.Expression)
    objective_terms = {str(e) for e in m.total_cost.expr.args}
    assert objective_terms == {f"cost_{name}" for name in TERM_NAMES}


def test_reported_costs_add_up_to_the_solver_objective() -> None:
    """Two batches of 10 units (days 7 and 14 harvests, shelf 42): material 125 USD/unit, one
    7-day batch 7 × 50 + 2 × 10 = 370 USD, one tank for 28 days 2800 USD; the plan's objective is
    the solver's and every registered term is a row of the breakdown."""
    p = plan(build(demand(base(28), {14: 10, 21: 10})), marginal_values=False)
    assert p.status is PlanStatus.OPTIMAL
    assert p.objective_usd == pytest.approx(2 * 10 * 125 + 2 * 370 + 2800, rel=1e-6)
    assert list(p.cost_breakdown.index[:len(COST_TERMS)]) == list(TERM_NAMES)
    assert float(p.cost_breakdown[list(TERM_NAMES)].sum()) == pytest.approx(p.objective_usd)


def test_a_cost_table_that_disagrees_with_the_solver_is_an_error() -> None:
    check_costs(1000.0, 1000.0 + 1e-4)
    with pytest.raises(CostMismatchError, match="solver's objective"):
        check_costs(1000.0, 1001.0)


def test_every_slack_explains_a_finding_from_its_registry_entry_alone() -> None:
    """Each registered slack's products rule and limit template format a message for a finding
    on its first key (the _every_limit scenario: 1 owned tank + 0 allowed, 5 lots a week,
    1000 L/day, 10 operations a day, 50 units of storage, service level 0.5)."""
    data = prepare(build(_every_limit()))
    keys = {"reactors": "tank", "sources": "cord_blood", "products": "rbc"}
    limits = {}
    for slack in _elastic(_every_limit()).elastic_slacks:
        name = slack.name
        finding = (keys.get(slack.keyed_by), 0, 6, 1.0)
        products, limit = finding_context(slack, data, {}, finding)
        assert all(p in data.products for p in products)
        limits[name] = limit
    assert limits == {"reactor_extra_units": "1 owned + 0 allowed", "source_extra_lots": "5",
                      "media_extra_L": "1000", "labour_extra_operations": "10",
                      "storage_extra_units": "50", "service_missing_units": "0.5"}


def test_plan_data_reads_scenario_limits_in_model_units() -> None:
    """``PlanData.limit``: quantities as the scenario states them, money in k$ (10 USD per
    operation = 0.01 k$), None for an unset limit; PlanData built by hand has no scenario."""
    data = prepare(build(_every_limit()))
    assert data.limit(lambda s: s.labour.operations_per_day) == 10.0
    assert data.limit(lambda s: s.labour.cost_usd_per_operation, usd=True) == pytest.approx(0.01)
    assert data.limit(lambda s: s.products["rbc"].storage_capacity_units) == 50.0
    plain = prepare(build(base(28)))
    assert plain.limit(lambda s: s.labour.operations_per_day) is None
    bare = dataclasses.replace(data, scenario=None)
    with pytest.raises(ValueError, match="prepare"):
        bare.limit(lambda s: s.labour.operations_per_day)

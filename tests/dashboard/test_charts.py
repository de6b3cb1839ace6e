"""Chart builders are pure functions of a Plan and draw what the plan says."""

from __future__ import annotations

import datetime as dt

from bioplan import charts
from bioplan.results import PlanStatus
from tests.dashboard import fakes


def test_gantt_has_one_bar_per_batch_phase_and_turnaround() -> None:
    plan = fakes.plan()
    fig = charts.gantt_figure(plan)
    by_name = {t.name: t for t in fig.data}
    assert set(by_name) == {"rbc", "platelet", "turnaround"}
    assert len(by_name["rbc"].y) == 2 and len(by_name["platelet"].y) == 1
    # turnaround only for the type that has one (rocking-50L: 2 days, both rbc rows)
    assert list(by_name["turnaround"].y) == ["rocking-50L #1", "rocking-50L #2"]
    assert by_name["turnaround"].x[0] == 2 * 86_400_000
    assert by_name["rbc"].base[0] == fakes.START
    assert by_name["rbc"].x[1] == 11 * 86_400_000
    assert "B1-1" in by_name["rbc"].customdata[0]
    # same plan, same figure
    assert charts.gantt_figure(plan).to_json() == fig.to_json()


def test_gantt_colour_by_recipe_and_empty_plan() -> None:
    plan = fakes.plan()
    fig = charts.gantt_figure(plan, color_by="recipe")
    assert {t.name for t in fig.data} == {"card-e/0", "card-m/0", "turnaround"}
    plan.batches = plan.batches.iloc[0:0]
    empty = charts.gantt_figure(plan)
    assert not empty.data and "No batches" in empty.layout.annotations[0].text


def test_inventory_figure_shows_stock_demand_shortage_expiry() -> None:
    fig = charts.inventory_figure(fakes.plan())
    names = [t.name for t in fig.data]
    assert "rbc demand" in names and "platelet delivered" in names
    assert "platelet shortage" in names and "platelet expired" in names
    assert any(n.startswith("rbc stock, age 0") for n in names)
    stock = next(t for t in fig.data if t.name.startswith("rbc stock, age 0"))
    # older cohorts are lighter, in the bars and in the legend (colour, not trace opacity)
    colours = [t.marker.color for t in fig.data if t.name.startswith("rbc stock")]
    assert len(set(colours)) == len(colours) > 1
    assert stock.x[18] == dt.date(2027, 1, 22) and stock.y[18] == 4.0
    short = next(t for t in fig.data if t.name == "platelet shortage")
    assert min(short.y) == -1.0


def test_cost_figure_waterfall_adds_up_with_a_colour_per_term() -> None:
    plan = fakes.plan()
    fig = charts.cost_figure(plan)
    steps = [t for t in fig.data if t.xaxis == "x"]
    terms, total = steps[:-1], steps[-1]
    assert total.name == "Total" and abs(total.y[0] - plan.objective_usd) < 1e-6
    assert abs(sum(t.y[0] for t in terms) - plan.objective_usd) < 1e-6
    # each step floats on the ones before it, in its own colour, named in the legend
    assert [t.base[0] for t in terms] == [sum(u.y[0] for u in terms[:i]) for i in range(len(terms))]
    assert len({t.marker.color for t in terms}) == len(terms)
    assert all(t.showlegend is not False for t in terms)
    # the per-unit bars reuse the term's colour and legend entry instead of a second legend
    right = [t for t in fig.data if t.xaxis == "x2"]
    colour = {t.name: t.marker.color for t in terms}
    assert all(t.marker.color == colour[t.name] and t.showlegend is False for t in right if t.name in colour)
    per_unit = {t.name: t for t in right}
    sm = per_unit["Starting material"]
    assert list(sm.x) == ["RBC units", "platelet doses"]  # scenario order
    assert abs(sm.y[0] - 2000.0 / 4.0) < 1e-9  # rbc: $2000 over 4 delivered units
    assert abs(sm.y[1] - 2000.0 / 2.0) < 1e-9  # platelets: $2000 over 2


def test_no_solution_gives_explanatory_figures() -> None:
    plan = fakes.plan(status=PlanStatus.INFEASIBLE)
    assert not charts.inventory_figure(plan).data
    assert not charts.cost_figure(plan).data


def test_fleet_figure_lists_every_usable_unit() -> None:
    fig = charts.fleet_figure(fakes.scenario())
    assert list(fig.data[0].y) == ["rocking-50L #1", "rocking-50L #2", "vrb-10L #1", "vrb-10L #2",
                                   "vrb-10L #3"]


def test_gantt_shows_idle_owned_units_added_units_and_maintenance() -> None:
    plan = fakes.plan()
    plan.scenario.reactors["rocking-50L"].units_owned = 3  # unit 3 stays idle
    plan.scenario.reactors["rocking-50L"].maintenance = [
        {"unit": 3, "start_date": "2027-01-10", "days": 4}]  # type: ignore[list-item]
    plan.batches.loc["B2-1", "reactor_unit"] = 3  # the platelet batch on a rented unit
    fig = charts.gantt_figure(plan)
    rows = list(fig.layout.yaxis.categoryarray)[::-1]
    # every owned unit has a row (idle rocking-50L #3 and vrb-10L #1 too); added units say so
    assert rows == ["rocking-50L #1", "rocking-50L #2", "rocking-50L #3", "vrb-10L #1",
                    "vrb-10L #3 · rented"]
    maint = next(t for t in fig.data if t.name == "maintenance")
    assert list(maint.y) == ["rocking-50L #3"] and maint.x[0] == 4 * 86_400_000
    assert maint.base[0] == dt.date(2027, 1, 10)

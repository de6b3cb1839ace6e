"""Data preparation: scaled units, Pareto-efficient options, slots."""

from __future__ import annotations

import pytest

from bioplan.contracts import COST_TERMS, Driver
from bioplan.optimisation import prepare
from tests.optimisation.builders import base, build, demand, recipe
from tests.optimisation.invariants import assert_valid


def test_scaled_units_of_the_reference_recipe():
    """builders' recipe: 1e6 seed cells and 1 L peak, 10 L medium, 1 kU EPO per unit; a 10 L tank
    holds 10 units; material 20 USD + 5 USD = 0.025 k$ per unit; lots of 1e7 cells: 0.1 lot/unit;
    one 7-day batch: 7 x 50 + 2 x 10 = 370 USD = 0.37 k$."""
    d = prepare(build(demand(base(28), {7: 10})))
    (opt,) = d.options
    assert opt.seed_cells_per_unit == pytest.approx(1e6)
    assert opt.units_max == pytest.approx(10)
    assert opt.units_min == 0
    assert opt.medium_L_per_unit == pytest.approx(10)
    assert opt.lots_per_unit == pytest.approx(0.1)
    prices = d.prices
    per_unit = {t.name: t.usd(prices, opt.unit_use) for t in COST_TERMS
                if t.driver is Driver.PRODUCT_UNITS}
    per_batch = {t.name: t.usd(prices, opt.unit_use) for t in COST_TERMS
                 if t.driver is Driver.BATCHES}
    assert per_unit["basal_medium"] + per_unit["cytokines"] == pytest.approx(25.0)
    assert sum(per_batch.values()) == pytest.approx(370.0)


def test_dominated_recipe_is_not_offered():
    """'dear' is the same 7-day recipe with 10x the EPO: dearer per unit and no better on days or
    reactor-days, so only 'cheap' is offered; 'fast' (5 days, dearer) is a real trade-off and stays.
    With ``pareto=False`` all three are offered."""
    raw = base(28)
    raw["recipes"][0]["rows"] = [recipe("cheap/0"), recipe("dear/0", epo_kU_per_unit=10, card="card-b"),
                                 recipe("fast/0", days=5, epo_kU_per_unit=10, card="card-b")]
    sc = build(demand(raw, {14: 10}))
    assert sorted(o.recipe for o in prepare(sc).options) == ["cheap/0", "fast/0"]
    assert len(prepare(sc, pareto=False).options) == 3


def test_plan_passes_pareto_through():
    """``plan(..., pareto=False)`` offers the dominated recipe too (a larger model) and finds the
    same optimum by hand: one 'cheap' batch, capital 100 x 28 = 2800 + batch 370 + 10 x 125 =
    **4420 USD**."""
    from bioplan.planning import plan

    raw = base(28)
    raw["recipes"][0]["rows"] = [recipe("cheap/0"), recipe("dear/0", epo_kU_per_unit=10, card="card-b"),
                                 recipe("fast/0", days=5, epo_kU_per_unit=10, card="card-b")]
    sc = build(demand(raw, {14: 10}))
    filtered = plan(sc, marginal_values=False)
    everything = plan(sc, marginal_values=False, pareto=False)
    assert filtered.objective_usd == pytest.approx(4420, rel=1e-6)
    assert everything.objective_usd == pytest.approx(4420, rel=1e-6)
    assert everything.solver["columns"] > filtered.solver["columns"]
    assert set(everything.batches["recipe"]) == {"cheap/0"}
    assert_valid(filtered)
    assert_valid(everything)


def test_slots_only_where_a_release_can_serve_demand():
    """Demand only on day 14, 7-day recipe, no release delay, 42-day shelf life: seeding days
    0..7 release by day 14 and can serve it; later seedings release too late."""
    d = prepare(build(demand(base(28), {14: 10})))
    assert sorted(d.slot_day.tolist()) == list(range(8))


@pytest.mark.parametrize(("column", "value"), [("phase1_days", None), ("phase1_days", "seven")])
def test_bad_phase_column_is_an_input_error_that_says_what_to_give(column, value):
    """A recipe row with a phase column missing (None: dropped) or not a whole number of days."""
    from bioplan.errors import InputError

    sc = build(demand(base(28), {7: 10}))
    recipes = sc.recipe_table()
    recipes = recipes.drop(columns=[column]) if value is None else recipes.assign(**{column: value})
    with pytest.raises(InputError, match="bad phase columns") as err:
        prepare(sc, recipes)
    assert err.value.field == "recipes"
    assert "phase<k>_name, _days" in (err.value.fix or "")

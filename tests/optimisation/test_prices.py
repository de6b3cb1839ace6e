"""Shadow prices (one fixed-integer LP) against exact re-solves, on hand-worked cases.

Economics of the builders' defaults (see ``tests/optimisation/builders.py``): a unit costs
125 USD of material and a short unit 1000 USD here, so each extra unit made saves 875 USD; a
batch costs 370 USD (7 days x 50 operation + 2 x 10 labour); one tank of 10 units per batch.
"""

from __future__ import annotations

import copy

import pytest

from bioplan.planning import plan
from bioplan.resource_prices import price_mode
from tests.optimisation.builders import base, build, demand
from tests.optimisation.invariants import assert_valid


def _media_limited(units_due: float, cap_L_per_day: float = 10):
    raw = base(8, penalty=1000)
    raw["media"]["prep_capacity_L_per_day"] = cap_L_per_day
    return build(demand(raw, {7: units_due}))


def test_dual_and_exact_agree_on_a_marginal_litre_of_media_preparation():
    """10 units due on day 7, media preparation 10 L/day: the one batch makes 7 units, 3 short
    (see test_outcomes). One more L/day allows 0.7 more units, each saving 875 USD: **612.5 USD**.
    The 0.7 units fit in the 3 short ones, so the change is marginal and the LP's dual (a slope)
    equals the exact re-solve's difference. A 7-day batch's medium is spread evenly, so the seven
    daily media rows are identical: HiGHS may put the whole price on any one of them; their sum
    over the horizon is what is unique, and is what ``marginal_values`` reports."""
    dual = plan(_media_limited(10), marginal_values="dual")
    exact = plan(_media_limited(10), marginal_values="exact")
    assert_valid(dual)
    priced = dual.bottlenecks.xs("media_prep", level="resource")
    assert priced["shadow_price"].sum() == pytest.approx(612.5, rel=1e-6)
    assert set(priced.index) <= set(range(7))  # only the days the batch runs
    assert (priced["unit"] == "USD per L of media preparation").all()
    assert dual.marginal_values.loc["media_prep", "usd_per_unit"] == pytest.approx(612.5, rel=1e-6)
    assert dual.marginal_values.loc["media_prep", "method"] == "dual"
    assert exact.marginal_values.loc["media_prep", "usd_per_unit"] == pytest.approx(612.5, rel=1e-6)
    assert exact.marginal_values.loc["media_prep", "method"] == "resolve"


def test_dual_is_a_slope_and_overstates_a_step_past_the_shortage():
    """8 units due (whole units: demand is rounded), media preparation 10.5 L/day: 7.35 units'
    worth of cells, 0.65 short in the main solve (prices are read there, before units are
    packaged whole). The dual is still 612.5 USD per L/day (the slope while media binds), but
    one whole L/day more would allow 0.7 units and only 0.65 are missing: the exact saving is
    0.65 x 875 = **568.75 USD**. Dual and exact differ once the step outruns the range in which
    the same rows bind."""
    dual = plan(_media_limited(8, 10.5), marginal_values="dual")
    exact = plan(_media_limited(8, 10.5), marginal_values="exact")
    assert dual.marginal_values.loc["media_prep", "usd_per_unit"] == pytest.approx(612.5, rel=1e-6)
    assert exact.marginal_values.loc["media_prep", "usd_per_unit"] == pytest.approx(568.75, rel=1e-6)


def test_a_dual_does_not_price_a_whole_extra_reactor():
    """14 units due on day 7, one tank (test_outcomes): a second tank saves **3130 USD** (a
    second batch of 4 units: 4 x 875 − 370), which the exact re-solve finds. The fixed-integer
    LP holds the batches as planned: with whole batches fixed, a sliver more of a reactor-day
    can change nothing, so its dual is **0**. A dual prices a marginal reactor-day, never a whole
    extra reactor: that needs ``--exact-prices``."""
    sc = build(demand(base(8, penalty=1000), {7: 14}))
    dual = plan(sc, marginal_values="dual")
    exact = plan(sc, marginal_values="exact")
    assert dual.marginal_values.loc["reactor:tank", "usd_per_unit"] == 0
    assert "reactor:tank" not in dual.bottlenecks.index.get_level_values("resource")
    assert exact.marginal_values.loc["reactor:tank", "usd_per_unit"] == pytest.approx(3130, rel=1e-6)
    assert bool(exact.marginal_values.loc["reactor:tank", "above_noise"])


def test_starting_material_is_priced_per_lot_and_week():
    """Lots of 1e6 cells (one unit each, 100 USD), 7 lots a week: the batch seeded on day 0 makes
    7 of the 10 units due on day 7. One more lot in week 0 makes one more unit: **875 USD per
    lot** (1000 shortage − 125 material). The price sits on week 0, reported as its first day."""
    raw = demand(base(8, penalty=1000), {7: 10})
    raw = copy.deepcopy(raw)
    raw["sources"]["cord_blood"] |= {"cells_per_lot": 1.0e6, "cost_usd_per_lot": 100,
                                     "lots_per_week": 7}
    p = plan(build(raw))
    assert_valid(p)
    row = p.bottlenecks.loc[("source:cord_blood", 0)]
    assert row["shadow_price"] == pytest.approx(875, rel=1e-6)
    assert row["unit"] == "USD per lot"
    assert p.marginal_values.loc["source:cord_blood", "usd_per_unit"] == pytest.approx(875, rel=1e-6)


def test_plan_writes_bottlenecks_and_the_method_of_each_value(tmp_path):
    p = plan(_media_limited(10))
    p.write(tmp_path)
    header = (tmp_path / "bottlenecks.csv").read_text().splitlines()[0]
    assert header == "resource,day,date,shadow_price,unit"
    values = (tmp_path / "marginal_values.csv").read_text().splitlines()
    assert values[0] == "resource,usd_per_unit,unit,gap,above_noise,method"
    assert any(line.startswith("media_prep,612.5") and line.endswith(",dual") for line in values)


def test_price_mode_names_the_choices():
    assert price_mode(True) == "dual" and price_mode(False) is None
    assert price_mode("exact") == "exact"
    with pytest.raises(ValueError, match="marginal_values must be one of"):
        price_mode("both")


def test_pyomo_interface_gets_the_same_shadow_prices():
    """Pyomo's HiGHS interface keeps no compiled model: the prices come from the stand-alone
    route (build, compile, fix, solve the LP) and match the highspy route's 612.5 USD."""
    p = plan(_media_limited(10), solver_interface="pyomo")
    assert p.solver["interface"] == "pyomo"
    assert p.marginal_values.loc["media_prep", "usd_per_unit"] == pytest.approx(612.5, rel=1e-6)

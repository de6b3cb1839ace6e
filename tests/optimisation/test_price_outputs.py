"""Where the shadow prices show: the heatmap, the HTML report and sweep rows."""

from __future__ import annotations

import pytest

from bioplan.bottleneck_charts import NO_PRICES, bottleneck_heatmap
from bioplan.planning import plan
from bioplan.runs.report import render_report
from bioplan.sweeps.point import plan_kpis
from tests.optimisation.builders import base, build, demand


@pytest.fixture(scope="module")
def media_limited():
    """The 612.5 USD per L/day case of test_prices (media preparation 10 L/day binds)."""
    raw = base(8, penalty=1000)
    raw["media"]["prep_capacity_L_per_day"] = 10
    return plan(build(demand(raw, {7: 10})))


def test_heatmap_has_a_row_per_priced_resource_and_the_price_on_its_day(media_limited):
    fig = bottleneck_heatmap(media_limited)
    heat = fig.data[0]
    assert list(heat.y) == ["reactor:tank", "media_prep"]
    assert len(heat.x) == 8  # one column per horizon day
    assert sum(heat.z[1]) == pytest.approx(612.5)
    assert sum(heat.z[0]) == 0  # the tank never binds with the batch fixed
    day = next(d for d, v in enumerate(heat.z[1]) if v > 0)
    assert "USD per L of media preparation" in heat.text[1][day]


def test_heatmap_says_so_when_nothing_binds():
    p = plan(build(demand(base(8, penalty=1000), {7: 14})))  # only the reactor binds: dual 0
    fig = bottleneck_heatmap(p)
    assert not fig.data
    assert fig.layout.annotations[0].text == NO_PRICES


def test_report_and_sweep_rows_carry_the_prices(media_limited):
    page = render_report(media_limited, {"run_id": "r1"})
    assert "Value of one more unit of each resource" in page
    assert "Bottlenecks (shadow prices)" in page
    row = plan_kpis(media_limited)
    assert row["price_usd:media_prep"] == pytest.approx(612.5)
    assert row["price_usd:reactor:tank"] == 0

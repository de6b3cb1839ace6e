"""The bottleneck heatmap: shadow prices by resource and day, for the dashboard and the report.

A pure function of the plan (no Streamlit, no files). Rows are every resource a dual can price
in the scenario (``bioplan.results.bottlenecks.priced_resources``), so a row of zeros says "never
binds"; a weekly price (starting material) colours the seven days of its week.
"""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING

import numpy as np
import plotly.graph_objects as go

from bioplan.charts import _empty_figure
from bioplan.results.bottlenecks import priced_resources

if TYPE_CHECKING:
    from bioplan.results import Plan

TITLE = "Shadow prices by resource and day (fixed-integer LP)"
NO_PRICES = ("No capacity binds with the batches as planned (reactor-days are taken by whole "
             "batches: price them with exact values)")
WEEK_DAYS = 7


def bottleneck_heatmap(plan: Plan) -> go.Figure:
    """Resource × day heatmap of ``plan.bottlenecks`` [USD per the row's unit, see the hover]."""
    resources = priced_resources(plan.scenario)
    table = plan.bottlenecks
    horizon = plan.scenario.horizon
    if not plan.has_solution or table.empty or not resources:
        return _empty_figure(TITLE, NO_PRICES if plan.has_solution else "No plan: nothing to price")
    z = np.zeros((len(resources), horizon.days))
    units = [""] * len(resources)
    row_of = {name: i for i, name in enumerate(resources)}
    flat = table.reset_index()
    for resource, day, price, unit in zip(flat["resource"].astype(str), flat["day"].astype(int),
                                          flat["shadow_price"].astype(float), flat["unit"],
                                          strict=True):
        i = row_of.get(resource)
        if i is None:
            continue
        span = WEEK_DAYS if resource.startswith("source:") else 1
        z[i, day:min(day + span, horizon.days)] = price
        units[i] = str(unit)
    dates = [horizon.start_date + dt.timedelta(days=d) for d in range(horizon.days)]
    hover = [[f"{resources[i]}<br>{dates[d]:%Y-%m-%d} (day {d})<br>"
              f"{z[i, d]:,.2f} {units[i] or 'USD per unit'}" for d in range(horizon.days)]
             for i in range(len(resources))]
    fig = go.Figure(go.Heatmap(
        z=z, x=dates, y=resources, text=hover, hoverinfo="text", colorscale="Reds", zmin=0,
        colorbar={"title": {"text": "USD per unit"}}))
    fig.update_layout(title=TITLE, template="plotly_white", height=120 + 28 * len(resources),
                      xaxis_title="date", yaxis={"autorange": "reversed"})
    return fig

"""Plotly figures of robust planning (shared by the dashboard and reports).

- :func:`stock_fan_figure` — end-of-day stock by day, P10–P90 band and median, per product;
- :func:`service_histogram_figure` — the per-sample service level of each product;
- :func:`front_figure` — a cost–service front (``bioplan pareto``).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import plotly.graph_objects as go

if TYPE_CHECKING:
    import pandas as pd

    from bioplan.results.evaluation import Evaluation


def stock_fan_figure(ev: Evaluation) -> go.Figure:
    """Usable stock at the end of each day [units]: the P10–P90 band and the median per product."""
    fig = go.Figure()
    for product in ev.product_names:
        s = ev.stock.xs(product, level="product")
        days = s.index.to_list()
        fig.add_trace(go.Scatter(x=days + days[::-1], y=[*s["p90"], *s["p10"][::-1]],
                                 fill="toself", line={"width": 0}, opacity=0.3,
                                 name=f"{product} P10–P90", hoverinfo="skip"))
        fig.add_trace(go.Scatter(x=days, y=s["p50"], mode="lines", name=f"{product} median"))
    fig.update_layout(title=f"Stock by day over {ev.samples} yield samples",
                      xaxis_title="plan day", yaxis_title="units in stock (end of day)")
    return fig


def service_histogram_figure(ev: Evaluation) -> go.Figure:
    """Histogram of the service level (delivered / demanded) over the samples, per product."""
    fig = go.Figure()
    for product in ev.product_names:
        values = ev.product_frame(product)["service_level"].dropna()
        fig.add_trace(go.Histogram(x=values, name=product, opacity=0.6, nbinsx=40))
    fig.update_layout(barmode="overlay", title=f"Service level over {ev.samples} samples",
                      xaxis_title="service level", yaxis_title="samples", xaxis_tickformat=".0%")
    return fig


def front_figure(front: pd.DataFrame) -> go.Figure:
    """Cost against the out-of-sample P10 service of each product, one point per target
    (``front``: index ``target``, columns ``cost_usd`` and ``service_p10:<product>``)."""
    fig = go.Figure()
    for col in [c for c in front.columns if str(c).startswith("service_p10:")]:
        product = str(col).split(":", 1)[1]
        fig.add_trace(go.Scatter(x=front[col], y=front["cost_usd"], mode="lines+markers",
                                 name=product, text=[f"target {t:.2f}" for t in front.index]))
    fig.update_layout(title="Cost–service front", xaxis_title="out-of-sample P10 service",
                      yaxis_title="cost as planned [USD]", xaxis_tickformat=".0%")
    return fig

"""Costs: breakdown by term (waterfall) and cost per delivered unit by product."""

from __future__ import annotations

import streamlit as st
import ui

from bioplan import bottleneck_charts, charts
from bioplan.app import overview

plan = ui.result_page("Costs")

if not plan.has_solution:
    st.warning(ui.no_solution_text(plan))
else:
    st.plotly_chart(charts.cost_figure(plan), key="cost_chart", width="stretch")
    left, right = st.columns(2)
    with left:
        st.subheader("By term")
        ui.table(overview.cost_table(plan), key="cost_terms")
    with right:
        st.subheader("By product")
        ui.table(overview.kpi_frame(plan)[["units_delivered", "cost_usd", "cost_usd_per_delivered_unit"]],
                 key="cost_products")
    st.subheader("Bottlenecks")
    st.plotly_chart(bottleneck_charts.bottleneck_heatmap(plan), key="bottleneck_heatmap",
                    width="stretch")
    if not plan.marginal_values.empty:
        st.subheader("Marginal values over the horizon")
        st.caption("Cost saved by one more unit of a resource. `method` — dual: shadow price from "
                   "the LP with the plan's batches fixed — prices a marginal reactor-day, not a "
                   "whole reactor; resolve: exact re-solve.")
        ui.table(plan.marginal_values, key="marginal_values")
ui.downloads(plan, "costs")

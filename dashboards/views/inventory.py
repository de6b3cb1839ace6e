"""Inventory: stock by product and cohort age, with demand, deliveries, shortages and expiries."""

from __future__ import annotations

import streamlit as st
import ui

from bioplan import charts
from bioplan.app import overview

plan = ui.result_page("Inventory")

if not plan.has_solution:
    st.warning(ui.no_solution_text(plan))
else:
    st.plotly_chart(charts.inventory_figure(plan), key="inventory_chart", width="stretch")
    st.caption("Bars: released stock at the end of each day, darker = fresher cohort. Lines: demand "
               "and deliveries. Dark hatched bars below zero: shortages. Crosses: expired units.")
    st.subheader("Per product")
    ui.table(overview.kpi_frame(plan), key="inventory_kpis")
    tabs = st.tabs(["Shortages", "Expiries", "Deliveries", "Stock by cohort"])
    for tab, table in zip(tabs, (plan.shortages, plan.expiries, plan.deliveries, plan.inventory),
                          strict=True):
        with tab:
            if table.empty:
                st.caption("none")
            else:
                ui.table(table)
ui.downloads(plan, "inventory")

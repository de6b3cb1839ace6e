"""Operations: per day, media to prepare against the preparation capacity, seedings, transfers
and harvests against the labour limit, releases and deliveries — the daily operations sheet."""

from __future__ import annotations

import streamlit as st
import ui

from bioplan.results.operations import daily_operations, operations_list, over_capacity

plan = ui.result_page("Operations")
if not plan.has_solution:
    st.warning(ui.no_solution_text(plan))
    st.stop()

sheet = daily_operations(plan)
busy = sheet[(sheet["operations"] > 0) | (sheet["medium_L"] > 0)]
over = over_capacity(sheet)
cols = st.columns(4)
cols[0].metric("Operations", f"{int(sheet['operations'].sum())}",
               f"peak {int(sheet['operations'].max())}/day", delta_color="off", border=True)
cols[1].metric("Medium to prepare", f"{sheet['medium_L'].sum():,.0f} L",
               f"peak {sheet['medium_L'].max():,.0f} L/day", delta_color="off", border=True)
cols[2].metric("Transfers", f"{int(sheet['transfers'].sum())}", border=True)
cols[3].metric("Days over a limit", f"{len(over)}", border=True)
if len(over):
    st.warning(f"{len(over)} day(s) exceed the media or labour limit: first on "
               f"{over['date'].iloc[0]:%Y-%m-%d}.", icon=":material/warning:")

only_busy = st.toggle("Only days with work", value=True, key="ops_only_busy")
st.subheader("Daily operations sheet")
ui.table(busy if only_busy else sheet, key="ops_sheet")
st.subheader("Operations list")
ui.table(operations_list(plan), key="ops_list")
st.download_button("Daily operations sheet (CSV)", sheet.to_csv(date_format="%Y-%m-%d"),
                   file_name="daily-operations.csv", mime="text/csv", key="dl_ops_csv",
                   icon=":material/download:", on_click="ignore")

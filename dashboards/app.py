"""bioplan dashboard: entry script (``bioplan dashboard`` or ``streamlit run dashboards/app.py``).

Pages live in ``views/`` (not ``pages/``, which Streamlit would treat as a legacy multipage folder);
they stay thin: every computation is in the ``bioplan`` package, Streamlit glue in ``ui.py``.
"""

from __future__ import annotations

import sys
from pathlib import Path

import streamlit as st

HERE = Path(__file__).resolve().parent
if str(HERE) not in sys.path:  # so pages can `import ui` (also under AppTest and from a wheel)
    sys.path.insert(0, str(HERE))

import ui  # noqa: E402

st.set_page_config(page_title="bioplan", page_icon=str(HERE / "favicon.png"), layout="wide")
ui.init_state()

VIEWS = HERE / "views"
pages = {
    "Inputs": [
        st.Page(VIEWS / "scenario.py", title="Scenario", icon=":material/edit_note:", url_path="scenario", default=True),
        st.Page(VIEWS / "biology.py", title="Biology", icon=":material/biotech:", url_path="biology"),
    ],
    "Plan": [
        st.Page(VIEWS / "plan.py", title="Plan", icon=":material/play_arrow:", url_path="plan"),
        st.Page(VIEWS / "schedule.py", title="Schedule", icon=":material/calendar_month:", url_path="schedule"),
        st.Page(VIEWS / "batches.py", title="Batches", icon=":material/science:", url_path="batches"),
        st.Page(VIEWS / "operations.py", title="Operations", icon=":material/checklist:", url_path="operations"),
        st.Page(VIEWS / "inventory.py", title="Inventory", icon=":material/inventory_2:", url_path="inventory"),
        st.Page(VIEWS / "costs.py", title="Costs", icon=":material/payments:", url_path="costs"),
        st.Page(VIEWS / "compare.py", title="Compare", icon=":material/compare_arrows:", url_path="compare"),
    ],
}
page = st.navigation(pages)
ui.sidebar_status()
page.run()

"""Biology: pick a yield card, adjust its protocol, see cells per stage over time and unit economics."""

from __future__ import annotations

from typing import Any

import streamlit as st

from bioplan import charts, formatting
from bioplan.app import biology
from bioplan.errors import BioplanError

st.title("Biology")


@st.cache_data(show_spinner=False)
def cards() -> list[str]:
    from bioplan.yields import list_cards

    return list_cards()


@st.cache_data(show_spinner=False)
def card_info(name: str) -> dict[str, Any]:
    from bioplan.yields import load_card

    card = load_card(name)
    return {"title": card.title, "lineage": card.lineage, "product": card.product,
            "cell_source": card.cell_source, "description": card.description,
            "settings": biology.card_settings_schema(card)}


@st.cache_data(show_spinner="Simulating …", max_entries=64)
def run(name: str, settings: tuple[tuple[str, float], ...], seed_cells: float) -> dict[str, Any]:
    from bioplan.yields import simulate

    sim = simulate(name, seed_cells=seed_cells, settings=dict(settings), time_course=True)
    return {"summary": sim.summary(), "phases": sim.phases, "course": sim.time_course,
            "warnings": sim.warnings}


names = cards()
if not names:
    st.warning("No yield cards are installed.")
    st.stop()
name = st.selectbox("Yield card", names, key="bio_card")
info = card_info(name)
st.caption(f"**{info['title']}** · {info['lineage']} → {info['product']} · source: "
           f"{info['cell_source']}")
if info["description"]:
    with st.expander("About this card"):
        st.markdown(info["description"])

schema = info["settings"]
phases = list(dict.fromkeys(row["phase"] for row in schema))
controls, results = st.columns([1, 2], gap="large")
with controls, st.form(f"bio_form_{name}"):
    seed = st.number_input("Seed cells", min_value=1.0, value=1e6, format="%.3g",
                           key=f"bio_seed_{name}",
                           help="Cells at the start of the first phase; amounts scale with it.")
    values: dict[str, float] = {}
    for i, phase in enumerate(phases):
        with st.expander(f"Phase {i + 1}: {phase}", expanded=i == 0):
            for row in (r for r in schema if r["phase"] == phase):
                step = 1.0 if row["label"] == "days" else None
                values[row["key"]] = st.number_input(
                    f"{row['label']} [{row['unit']}]", min_value=0.0, value=row["default"],
                    step=step, format="%.0f" if step else "%.4g", key=f"bio_{name}_{row['key']}")
    st.form_submit_button("Simulate", type="primary", icon=":material/science:",
                          key="bio_simulate", width="stretch")

changed = tuple(sorted((k, float(v)) for k, v in values.items()
                       if v != next(r["default"] for r in schema if r["key"] == k)))
try:
    result = run(name, changed, float(seed))
except BioplanError as err:
    results.error(err.describe(), icon=":material/error:")
    st.stop()
with results:
    for w in result["warnings"]:
        st.warning(w)

    summ = result["summary"]
    econ = biology.unit_economics(summ, st.session_state.get("scenario"))
    m = st.columns(3)
    m[0].metric("Product per seed cell", f"{summ['product_cells_per_seed_cell']:.3g}",
                help="Product cells (RBCs or platelets) per seed cell.")
    m[1].metric("Fold expansion", f"{summ['fold_expansion']:.3g}")
    m[2].metric("Seed cells per unit", f"{econ['seed_cells_per_unit']:.3g}")
    m = st.columns(3)
    m[0].metric("Medium per unit", f"{econ['medium_L_per_unit']:,.0f} L")
    m[1].metric("Medium cost per unit", formatting.money(econ["medium_usd_per_unit"]),
                help="Basal medium at the current scenario's price.")
    m[2].metric("Cytokines per unit", formatting.money(econ["cytokine_usd_per_unit"]),
                help="Cytokine cost per transfusion unit at the current scenario's prices.")
    if econ["unpriced"]:
        st.caption(f"No price in the scenario for: {', '.join(econ['unpriced'])} (counted as $0).")
    if result["course"] is not None:
        st.plotly_chart(charts.stage_time_course_figure(result["course"], result["phases"],
                                                        title=f"Cells per stage — {name}"),
                        key="bio_chart", width="stretch")
    phase_table = result["phases"]
    st.dataframe(phase_table, width="stretch", key="bio_phases", column_config={
        c: st.column_config.NumberColumn(format="scientific" if c.startswith("cells") else "%.3g")
        for c in phase_table.columns if phase_table[c].dtype.kind == "f"})
    st.caption(f"{summ['days']} culture days · purity {summ['purity']:.1%}"
               + (f" · enucleation {summ['enucleation']:.1%}" if summ["enucleation"] is not None else ""))

"""Plan: run the optimiser in a child process (page stays live; elapsed time; Cancel), read KPIs."""

from __future__ import annotations

import streamlit as st
import ui
from pydantic import ValidationError

from bioplan import charts, robust_charts
from bioplan.app import overview, robust, whatifs
from bioplan.errors import BioplanError
from bioplan.scenario.schema import YIELD_UNCERTAINTY

st.title("Plan")
scn = ui.scenario()
st.caption(f"Scenario **{st.session_state.scenario_label}** — {scn.description or scn.name}")

with st.form("solve_form", border=True):
    c1, c2, c3, c4 = st.columns([1, 1, 1.2, 1], vertical_alignment="bottom")
    time_limit = c1.number_input(
        "Time limit [s]", min_value=1.0, max_value=3600.0, value=float(scn.solver.time_limit_s),
        step=5.0, key="solve_time_limit", help="HiGHS time limit; the best plan found so far is kept.",
    )
    gap_pct = c2.number_input(
        "MIP gap [%]", min_value=0.0, max_value=100.0, value=float(scn.solver.mip_gap * 100),
        step=0.5, key="solve_gap_pct", help="Stop when the plan is proven within this % of optimal.",
    )
    marginal = c3.checkbox(
        "Price resources", value=True, key="solve_marginal",
        help="Also compute shadow prices of every capacity by day (one LP with the plan's batches "
             "fixed; shown on the Costs page).")
    search = c3.checkbox(
        "Search media", value=False, key="solve_search_media",
        help="Generate cheaper recipes first: search each card's cytokines, phase days and "
             "densities inside its validity domain by pricing against the plan (column "
             "generation; a few times the plain solve). The Biology page shows what it found.")
    run = c4.form_submit_button("Run optimiser", type="primary", icon=":material/play_arrow:",
                                key="run_solve", width="stretch")
    with st.expander("Robust (yield uncertainty)"):
        unc = scn.uncertainty
        r1, r2, r3, r4 = st.columns(4, vertical_alignment="bottom")
        robust_on = r1.toggle("Robust plan", value=False, key="solve_robust",
                              help="Plan against K yield samples (a two-stage stochastic program "
                                   "solved as one MIP); slower than a deterministic plan.")
        samples = r2.number_input("Samples K", min_value=1, max_value=500,
                                  value=unc.samples if unc else 20, step=1, key="solve_samples")
        service_pct = r3.number_input(
            "Service target P [%]", min_value=0.0, max_value=100.0, step=1.0, key="solve_service",
            value=100.0 * (unc.service_level or 0) if unc else 0.0,
            help="Each product reaches this service level in at least C % of the samples; "
                 "0: no chance constraint (minimise expected cost).")
        confidence_pct = r4.number_input(
            "Confidence C [%]", min_value=1.0, max_value=100.0, step=1.0, key="solve_confidence",
            value=100.0 * (unc.confidence or 0.9) if unc else 90.0)
        kinds = list(YIELD_UNCERTAINTY)
        kind = st.radio(
            "Yield uncertainty drawn", kinds, horizontal=True, key="solve_yield_uncertainty",
            index=kinds.index(unc.yield_uncertainty) if unc else 0,
            format_func=YIELD_UNCERTAINTY.get,
            help="What the samples draw from the yield cards. The calibration's error is one draw "
                 "per sample, shared by all its lots; the lot spread one draw per lot.")
if run:
    try:
        unc = (robust.uncertainty(scn, samples, service_pct, confidence_pct, kind)
               if robust_on else None)
    except ValidationError as err:
        st.error(f"Robust settings: {err.errors()[0]['msg']}")
    else:
        ui.start_solve(scn, time_limit_s=time_limit, mip_gap=gap_pct / 100,
                       marginal_values=marginal, robust=unc, search_media=search)

source = st.session_state.get("scenario_file")
named = dict(source.named()) if source is not None else {}
if named:
    with st.form("whatif_form", border=True):
        st.markdown(f"**What-ifs of `{source.label}`** — solve the file and its named scenarios "
                    "one after the other, then compare them.")
        w1, w2 = st.columns([4, 1], vertical_alignment="bottom")
        chosen = w1.multiselect(
            "Named scenarios", [whatifs.BASE, *named],
            default=[whatifs.BASE, *(source.raw.get("scenarios") or {})],
            key="whatif_pick", format_func=lambda n: n if n == whatifs.BASE else f"{n} ({named[n]})",
            help="`scenarios:` and `overrides:` entries of the loaded file (the `scenarios:` are "
                 "picked to start with); each is solved with the time limit and gap above.")
        go = w2.form_submit_button("Run & compare", icon=":material/compare_arrows:",
                                   key="run_whatifs", width="stretch")
    if go and chosen:
        try:
            ui.start_whatifs(chosen, time_limit_s=time_limit, mip_gap=gap_pct / 100)
        except BioplanError as err:
            st.error(err.describe())

ui.solve_monitor()

plan = st.session_state.get("plan")
if st.session_state.get("compare_pick") and st.session_state.get("job") is None:
    st.page_link("views/compare.py", label="Compare the what-ifs", icon=":material/compare_arrows:")
if plan is None:
    st.info("No plan yet. Press **Run optimiser**.")
    # the fleet's empty schedule (also loads the charting code before the first plan arrives)
    st.plotly_chart(charts.fleet_figure(scn), key="plan_gantt", width="stretch")
    st.stop()

summary = overview.plan_overview(plan)
st.subheader(f"{st.session_state.plan_label}")
for start in range(0, len(summary), 4):
    cols = st.columns(4)
    for col, (name, value, helptext) in zip(cols, summary[start:start + 4], strict=False):
        col.metric(name, value, help=helptext, border=True)

if plan.has_solution and plan.warnings():
    st.warning("**Shortfall:** " + "; ".join(plan.warnings()), icon=":material/warning:")
if not plan.has_solution:
    st.warning(f"**No plan: {plan.status}.** {plan.message}", icon=":material/warning:")
    if plan.explanation is not None and not plan.explanation.empty:
        st.markdown("**What falls short** (from an elastic re-solve):")
        ui.table(plan.explanation, key="plan_explanation")
st.plotly_chart(charts.gantt_figure(plan), key="plan_gantt", width="stretch")
if plan.has_solution and plan.robust is not None:
    st.subheader("Robust plan")
    tiles = robust.summary(plan.robust)
    for col, (name, value, helptext) in zip(st.columns(len(tiles)), tiles, strict=True):
        col.metric(name, value, help=helptext, border=True)
    ui.table(robust.service_frame(plan.robust), key="robust_service")
    cached = st.session_state.setdefault("robust_evaluation", {})  # id(plan) -> Evaluation
    ev = cached.get(id(plan)) or cached.setdefault(id(plan), robust.evaluation(plan))
    st.plotly_chart(robust_charts.stock_fan_figure(ev), key="robust_fan", width="stretch")
    st.plotly_chart(robust_charts.service_histogram_figure(ev), key="robust_service_hist",
                    width="stretch")
with st.expander("All KPIs"):
    ui.table(overview.kpi_frame(plan))
ui.downloads(plan, "plan")

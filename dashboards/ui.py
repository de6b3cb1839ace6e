"""Streamlit glue shared by the pages: session state, the background solve, downloads.

Session state (``st.session_state``):
- ``scenario``: the last *valid* Scenario (an invalid edit or upload never replaces it);
- ``scenario_label``: where it came from (``default``, an upload's file name, ``default (edited)``);
- ``scenario_problems``: field problems of the last rejected edit, shown beside the fields;
- ``scenario_draft``: the rejected edit itself (a raw mapping), kept until fixed or discarded;
- ``job``: the running :class:`bioplan.solve_job.SolveJob`, or None;
- ``plan`` / ``plan_label``: the latest finished plan; ``plans``: every plan of this session by label.
"""

from __future__ import annotations

import logging
import time
from typing import Any

import streamlit as st

from bioplan import dashboard_support as ds
from bioplan.errors import BioplanError
from bioplan.solve_job import JobState, SolveJob, StandbyPool

log = logging.getLogger("bioplan.dashboard")

POLL_S = 0.1
"""How often the solve monitor checks the child process [s]."""
REFILL_DELAY_S = 2.0
"""A new standby worker is started on the first rerun at least this long after a solve ended, so
its warm-up does not compete with drawing the results [s]."""


# ---- cached pure computations ----------------------------------------------------------------------


@st.cache_data(show_spinner=False)
def bundled_scenarios() -> list[str]:
    from bioplan.scenario import list_scenarios

    return list_scenarios()


@st.cache_data(show_spinner="Loading scenario …")
def load_bundled(name: str | None) -> Any:
    from bioplan.scenario import load_scenario

    return load_scenario(name)


@st.cache_resource(show_spinner=False)
def standby_pool() -> StandbyPool:
    """One warm solve worker shared by all sessions of this server (imports and the default
    scenario's recipe tables done before the user clicks Run)."""
    return StandbyPool(ds.warm_up)


# ---- state -----------------------------------------------------------------------------------------


def init_state() -> None:
    """Load the built-in default scenario once per session."""
    ss = st.session_state
    ss.setdefault("plans", {})
    ss.setdefault("job", None)
    ss.setdefault("plan", None)
    ss.setdefault("plan_label", None)
    ss.setdefault("scenario_problems", [])
    ss.setdefault("solve_message", None)
    ss.setdefault("edit_count", 0)
    if ss.job is None and time.monotonic() - ss.get("finished_at", 0.0) > REFILL_DELAY_S:
        standby_pool().refill()
    if "scenario" not in ss:
        try:
            ss.scenario = load_bundled(None)
            ss.scenario_label = "default"
        except BioplanError as err:
            ss.scenario = None
            ss.scenario_label = None
            ss.scenario_problems = ds.field_problems(err)


def scenario() -> Any:
    """The current valid scenario, or stop the page with an explanation."""
    scn = st.session_state.get("scenario")
    if scn is None:
        st.error("No valid scenario is loaded. Load or upload one on the **Scenario** page.")
        st.stop()
    return scn


def set_scenario(scn: Any, label: str) -> None:
    st.session_state.scenario = scn
    st.session_state.scenario_label = label
    st.session_state.scenario_problems = []
    st.session_state.scenario_draft = None


def sidebar_status() -> None:
    ss = st.session_state
    with st.sidebar:
        st.caption("Scenario")
        st.markdown(f"**{ss.get('scenario_label') or '— none —'}**")
        job = ss.get("job")
        if job is not None and job.running:
            st.caption(f"solving {job.label}")
        elif ss.get("plan") is not None:
            st.caption(f"Latest plan: {ss.plan_label}")


# ---- background solve ------------------------------------------------------------------------------


def start_solve(scn: Any, *, time_limit_s: float | None, mip_gap: float | None,
                marginal_values: bool = False) -> None:
    """Start a solve in a child process (cancelling any running one)."""
    ss = st.session_state
    if ss.job is not None:
        ss.job.cancel()
    n = len(ss.plans) + 1
    label = f"#{n} {ss.scenario_label}"
    solve = ss.get("solve_func") or ds.solve  # tests inject a stand-in (a module-level function)
    extra = {"marginal_values": True} if marginal_values else {}
    ss.job = SolveJob.start(solve, scn, time_limit_s, mip_gap, label=label,
                            standby=standby_pool().take(), **extra)
    ss.solve_message = None
    log.info("started solve %s (pid %s)", label, ss.job.process.pid)


def _finish(job: SolveJob) -> None:
    ss = st.session_state
    ss.job = None
    ss.finished_at = time.monotonic()  # the next worker is warmed later, not while results render
    if job.state is JobState.DONE:
        ss.plan = job.value
        ss.plan_label = job.label
        ss.plans[job.label] = job.value
        inner = job.value.timings.get("total")
        detail = f" (planner {inner:.1f} s)" if inner is not None else ""
        warnings = job.value.warnings() if job.value.has_solution else []
        kind = "success" if job.value.has_solution and not warnings else "warning"
        ss.solve_message = (kind, f"{job.label}: {job.value.status} in {job.elapsed_s:.1f} s{detail}"
                            + ("" if job.value.has_solution else f" — {job.value.message}")
                            + "".join(f" — ⚠ {w}" for w in warnings))
    elif job.state is JobState.CANCELLED:
        ss.solve_message = ("warning", f"{job.label}: cancelled after {job.elapsed_s:.1f} s")
    else:
        err = job.error
        text = err.describe() if isinstance(err, BioplanError) else str(err)
        ss.solve_message = ("error", f"{job.label}: {text}")


def _cancel_job() -> None:
    """Cancel button callback: runs before the script, even if a timer rerun is in flight."""
    job: SolveJob | None = st.session_state.get("job")
    if job is not None:
        job.cancel()
        _finish(job)


@st.fragment(run_every=POLL_S)
def _monitor() -> None:
    job: SolveJob | None = st.session_state.get("job")
    if job is None:  # cancelled (callback) or collected elsewhere: redraw the whole page
        st.rerun()
        return
    if job.poll() is JobState.RUNNING:
        cols = st.columns([4, 1])
        cols[0].info(f"Solving **{job.label}** … {job.elapsed_s:.1f} s elapsed",
                     icon=":material/hourglass_top:")
        cols[1].button("Cancel", key="cancel_solve", type="secondary", width="stretch",
                       on_click=_cancel_job, help="Stop the solver (kills its process).")
    else:
        _finish(job)
        st.rerun()


def solve_monitor() -> None:
    """Show the running solve (elapsed time, Cancel) and the outcome of the last one."""
    ss = st.session_state
    if ss.job is not None:
        _monitor()
    msg = ss.get("solve_message")
    if msg:
        kind, text = msg
        getattr(st, kind)(text)


def poll_until_done(timeout_s: float) -> None:
    """Block until the running job ends (for tests and scripts, never in a page)."""
    job = st.session_state.get("job")
    if job is not None:
        job.wait(timeout_s)


# ---- results ---------------------------------------------------------------------------------------


def result_page(title: str) -> Any:
    """The head of a result page (title, then the latest plan's label and status); returns that
    plan, or explains and stops the page when there is none yet."""
    st.title(title)
    plan = st.session_state.get("plan")
    if plan is None:
        job = st.session_state.get("job")
        if job is not None and job.running:
            st.info("A solve is running: see the **Plan** page.")
        else:
            st.info("No plan yet: run the optimiser on the **Plan** page.")
        st.page_link("views/plan.py", label="Go to Plan", icon=":material/play_arrow:")
        st.stop()
    st.caption(f"Plan **{st.session_state.plan_label}** · {plan.status}")
    return plan


def no_solution_text(plan: Any) -> str:
    """Why a result page shows nothing: the plan's status and the solver's message."""
    return f"The plan has no solution ({plan.status}): {plan.message}"


def _files_getter(plan: Any, key: str) -> Any:
    """A function returning the plan's download files, built on the first click and kept for this
    session (the session's dict is captured now: the click may be served outside the script run)."""
    cache: dict[str, ds.PlanFiles] = st.session_state.setdefault("_plan_files", {})

    def get() -> ds.PlanFiles:
        if key not in cache:
            cache[key] = ds.plan_files(plan)
        return cache[key]

    return get


def downloads(plan: Any, where: str, label: str | None = None) -> None:
    """Excel workbook, CSVs (zip) and summary.json of ``plan`` as three download buttons."""
    label = label or st.session_state.get("plan_label") or "plan"
    key = f"{label}:{id(plan)}"
    stem = "bioplan-" + "".join(c if c.isalnum() else "-" for c in label).strip("-")
    files = _files_getter(plan, key)
    with st.container(horizontal=True):
        st.download_button("Excel workbook", lambda: files().xlsx,
                           file_name=f"{stem}.xlsx", key=f"dl_xlsx_{where}", icon=":material/download:",
                           mime="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
        st.download_button("CSV tables (zip)", lambda: files().csv_zip,
                           file_name=f"{stem}-csv.zip", key=f"dl_csv_{where}", icon=":material/download:",
                           mime="application/zip")
        st.download_button("summary.json", lambda: files().summary_json,
                           file_name=f"{stem}-summary.json", key=f"dl_json_{where}", icon=":material/download:",
                           mime="application/json")


def _column_format(name: str) -> str | None:
    lowered = name.lower()
    if "usd" in lowered:
        return "dollar"
    if any(k in lowered for k in ("service_level", "share", "utilisation", "gap", "purity")):
        return "percent"
    return None


_LABELS = {
    "units_demanded": "demanded [units]",
    "units_delivered": "delivered [units]",
    "units_short": "short [units]",
    "units_expired": "expired [units]",
    "service_level": "service level",
    "cost_usd": "cost [USD]",
    "cost_usd_per_delivered_unit": "cost per delivered unit [USD/unit]",
    "shelf_life_days": "shelf life [days]",
    "usd": "cost [USD]",
    "share": "share of total",
    "units": "units",
}
"""Display labels (with units) for the result columns people read most; the data keeps its names."""


def column_label(name: str) -> str:
    """A readable header: a known label, else the column name with spaces."""
    return _LABELS.get(name, name.replace("_", " "))


def table(frame: Any, key: str | None = None, **kwargs: Any) -> None:
    """``st.dataframe`` with readable headers and number formats: USD columns as dollars,
    fractions as percentages, other floats with two decimals."""
    config: dict[str, Any] = {}
    for col in getattr(frame, "columns", []):
        label = column_label(str(col))
        dtype = frame[col].dtype
        fmt = _column_format(str(col)) if dtype.kind in "fi" else None
        if fmt is None and dtype.kind == "f":
            fmt = "%.2f"
        if fmt:
            config[str(col)] = st.column_config.NumberColumn(label=label, format=fmt)
        else:
            config[str(col)] = st.column_config.Column(label=label)
    st.dataframe(frame, width="stretch", key=key, column_config=config, **kwargs)

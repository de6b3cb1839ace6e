"""Streamlit glue shared by the pages: session state, the background solve, downloads.

Session state (``st.session_state``):
- ``scenario``: the last *valid* Scenario (an invalid edit or upload never replaces it);
- ``scenario_label``: where it came from (``default``, an upload's file name, ``default (edited)``);
- ``scenario_problems``: field problems of the last rejected edit, shown beside the fields;
- ``scenario_draft``: the rejected edit itself (a raw mapping), kept until fixed or discarded;
- ``job``: the running :class:`bioplan.app.job.SolveJob`, or None;
- ``plan`` / ``plan_label``: the latest finished plan; ``plans``: every plan of this session by label;
- ``scenario_file``: the loaded file (:class:`bioplan.app.whatifs.ScenarioFile`: its text, named
  what-ifs) for the named-scenario picker and the round-trip download;
- ``session_id``: in the URL (``?session=``); the keys in ``PERSISTED`` are saved under it after
  every change and restored on a browser reload.
"""

from __future__ import annotations

import logging
import time
from typing import Any

import streamlit as st

from bioplan import formatting
from bioplan.app import files, problems, solving, whatifs
from bioplan.app.fields import FieldSpec
from bioplan.app.job import JobState, SolveJob, StandbyPool
from bioplan.app.sessions import SESSION_ID, SessionFolder, new_session_id
from bioplan.errors import BioplanError

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
    """A shipped scenario file and its base scenario: ``(ScenarioFile, Scenario)``."""
    return whatifs.shipped_file(name)


def session_folder() -> SessionFolder:
    """Where sessions are saved (``$BIOPLAN_SESSION_DIR`` is read on every call)."""
    return SessionFolder()


PERSISTED = ("scenario", "scenario_label", "scenario_file", "plans", "plan", "plan_label")
"""Session keys saved to the session folder and restored on a reload."""


def persist() -> None:
    """Save this session's scenarios and plans (called after every change)."""
    ss = st.session_state
    try:
        session_folder().save(ss.session_id, {k: ss.get(k) for k in PERSISTED})
    except OSError as err:  # a read-only home: the session still works, a reload loses it
        log.warning("cannot save the dashboard session: %s", err)


def _session_id() -> str:
    """This session's id: from the URL on a reload, else a new one; written into the URL."""
    ss = st.session_state
    if "session_id" not in ss:
        given = st.query_params.get("session", "")
        ss.session_id = given if SESSION_ID.match(given) else new_session_id()
        saved = session_folder().load(ss.session_id)
        if saved and saved.get("scenario") is not None:
            for key in PERSISTED:
                ss[key] = saved.get(key)
            ss.plans = ss.plans or {}
            ss.restored = True
    if st.query_params.get("session") != ss.session_id:
        st.query_params["session"] = ss.session_id
    return str(ss.session_id)


@st.cache_resource(show_spinner=False)
def standby_pool() -> StandbyPool:
    """One warm solve worker shared by all sessions of this server (imports and the default
    scenario's recipe tables done before the user clicks Run)."""
    return StandbyPool(solving.warm_up)


# ---- state -----------------------------------------------------------------------------------------


def init_state() -> None:
    """Restore the session from the URL's id, or load the built-in default scenario."""
    ss = st.session_state
    _session_id()
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
            ss.scenario_file, ss.scenario = load_bundled(None)
            ss.scenario_label = "default"
        except BioplanError as err:
            ss.scenario = None
            ss.scenario_label = None
            ss.scenario_problems = problems.field_problems(err)


def scenario() -> Any:
    """The current valid scenario, or stop the page with an explanation."""
    scn = st.session_state.get("scenario")
    if scn is None:
        st.error("No valid scenario is loaded. Load or upload one on the **Scenario** page.")
        st.stop()
    return scn


def set_scenario(scn: Any, label: str, source: Any = None) -> None:
    """Make ``scn`` the current scenario (``source``: the ScenarioFile it was loaded from, when it
    comes from a new file) and save the session."""
    st.session_state.scenario = scn
    st.session_state.scenario_label = label
    st.session_state.scenario_problems = []
    st.session_state.scenario_draft = None
    if source is not None:
        st.session_state.scenario_file = source
    persist()


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
                marginal_values: bool = True, robust: Any = None, search_media: bool = False) -> None:
    """Start a solve in a child process (cancelling any running one); ``robust``: an
    Uncertainty for a robust plan, None for a deterministic one; ``search_media``: search the
    cards' protocols for cheaper recipes first (the Biology page shows what it found)."""
    ss = st.session_state
    if ss.job is not None:
        ss.job.cancel()
    n = len(ss.plans) + 1
    label = f"#{n} {ss.scenario_label}"
    solve = ss.get("solve_func") or solving.solve  # tests inject a stand-in (a module-level function)
    extra: dict[str, Any] = {} if marginal_values else {"marginal_values": False}
    if robust is not None:
        extra["robust"] = robust
    if search_media:
        extra["search_media"] = True
    ss.job = SolveJob.start(solve, scn, time_limit_s, mip_gap, label=label,
                            standby=standby_pool().take(), **extra)
    ss.solve_message = None
    log.info("started solve %s (pid %s)", label, ss.job.process.pid)


def start_whatifs(names: list[str], *, time_limit_s: float | None, mip_gap: float | None) -> None:
    """Solve the loaded file's named what-ifs (``names``, the file as it is among them) one after
    the other in one background job; the Compare page then shows them together."""
    ss = st.session_state
    if ss.job is not None:
        ss.job.cancel()
    source: whatifs.ScenarioFile = ss.scenario_file
    n = len(ss.plans)
    items = []
    for i, name in enumerate(names, start=1):
        scn = source.load(name)  # InputError: the caller shows it
        items.append((f"#{n + i} {source.label}" if name == whatifs.BASE else f"#{n + i} {name}", scn))
    label = f"{len(items)} what-ifs of {source.label}"
    ss.job = SolveJob.start(ss.get("solve_many_func") or solving.solve_many, items, time_limit_s,
                            mip_gap, label=label, standby=standby_pool().take())
    ss.solve_message = None


def _finish(job: SolveJob) -> None:
    ss = st.session_state
    ss.job = None
    ss.finished_at = time.monotonic()  # the next worker is warmed later, not while results render
    standby_pool().refill_later(REFILL_DELAY_S)
    try:
        _record(job)
    finally:
        persist()


def _record(job: SolveJob) -> None:
    ss = st.session_state
    if job.state is JobState.DONE and isinstance(job.value, dict):
        _finish_many(job)
    elif job.state is JobState.DONE:
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


def _finish_many(job: SolveJob) -> None:
    """A what-if batch came back: every plan joins the session, the Compare page picks them."""
    ss = st.session_state
    ss.plans.update(job.value)
    ss.plan_label, ss.plan = list(job.value.items())[-1]
    ss.compare_pick = list(job.value)
    ss.pop("cmp_session", None)  # the Compare picker restarts from compare_pick
    states = ", ".join(f"{label}: {plan.status}" for label, plan in job.value.items())
    ss.solve_message = ("success", f"{job.label} in {job.elapsed_s:.1f} s — {states}. "
                                   "See them side by side on the **Compare** page.")


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
    cache: dict[str, files.PlanFiles] = st.session_state.setdefault("_plan_files", {})

    def get() -> files.PlanFiles:
        if key not in cache:
            cache[key] = files.plan_files(plan)
        return cache[key]

    return get


def downloads(plan: Any, where: str, label: str | None = None) -> None:
    """Excel workbook, CSVs (zip) and summary.json of ``plan`` as three download buttons."""
    label = label or st.session_state.get("plan_label") or "plan"
    key = f"{label}:{id(plan)}"
    stem = "bioplan-" + "".join(c if c.isalnum() else "-" for c in label).strip("-")
    get_files = _files_getter(plan, key)
    # on_click="ignore": a download needs no rerun, and a rerun would rebuild the buttons under
    # the user's next click
    icon = ":material/download:"
    with st.container(horizontal=True):
        st.download_button("Excel workbook", lambda: get_files().xlsx, file_name=f"{stem}.xlsx",
                           key=f"dl_xlsx_{where}", icon=icon, on_click="ignore",
                           mime="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
        st.download_button("CSV tables (zip)", lambda: get_files().csv_zip, file_name=f"{stem}-csv.zip",
                           key=f"dl_csv_{where}", icon=icon, on_click="ignore", mime="application/zip")
        st.download_button("summary.json", lambda: get_files().summary_json,
                           file_name=f"{stem}-summary.json", key=f"dl_json_{where}", icon=icon,
                           on_click="ignore", mime="application/json")


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
    fractions as percentages, cell counts in engineering notation (``2.00e12``), other floats with
    two decimals."""
    config: dict[str, Any] = {}
    shown = frame
    for col in getattr(frame, "columns", []):
        label = column_label(str(col))
        dtype = frame[col].dtype
        if dtype.kind == "f" and "cells" in str(col).lower():
            if shown is frame:
                shown = frame.copy()
            shown[col] = [formatting.eng(v) for v in frame[col]]
            config[str(col)] = st.column_config.TextColumn(label=f"{label} [cells]")
            continue
        fmt = _column_format(str(col)) if dtype.kind in "fi" else None
        if fmt is None and dtype.kind == "f":
            fmt = "%.2f"
        if fmt:
            config[str(col)] = st.column_config.NumberColumn(label=label, format=fmt)
        else:
            config[str(col)] = st.column_config.Column(label=label)
    st.dataframe(shown, width="stretch", key=key, column_config=config, **kwargs)


# ---- editors generated from the scenario schema ------------------------------------------------


def column_for(spec: FieldSpec) -> Any:
    """A data-editor column for one schema field: its label and unit, the docstring and bounds as
    help. Numbers are edited as text and checked per cell (:mod:`bioplan.app.cells`), so a typed
    ``-5`` or ``twelve`` stays visible with its error instead of being clamped or blanked."""
    cc = st.column_config
    if spec.choices is not None:
        return cc.SelectboxColumn(spec.header, options=list(spec.choices), help=spec.help,
                                  required=spec.required)
    if spec.numeric:
        empty = " Empty: none / unlimited." if spec.optional else ""
        return cc.TextColumn(spec.header, help=f"{spec.help} A {spec.bounds_text()}.{empty}",
                             required=spec.required)
    return cc.TextColumn(spec.header, help=f"{spec.help} (comma-separated)", required=spec.required)


def columns_for(specs: list[FieldSpec]) -> dict[str, Any]:
    """Column configuration of a table whose columns are these schema fields."""
    return {spec.name: column_for(spec) for spec in specs}


def number_for(spec: FieldSpec, value: float, key: str, prefix: str = "", note: str = "") -> Any:
    """``st.number_input`` for one numeric schema field (label, unit, help and bounds from it;
    ``prefix`` and ``note`` frame the label: ``Labour cost [USD/operation]``)."""
    label = " ".join(part for part in (prefix, spec.header, note) if part)
    label = label[:1].upper() + label[1:]
    integer = spec.integer
    low = spec.minimum if spec.minimum is None or not spec.exclusive_minimum else \
        spec.minimum + (1 if integer else 0)
    return st.number_input(
        label, min_value=int(low) if integer and low is not None else low,
        max_value=int(spec.maximum) if integer and spec.maximum is not None else spec.maximum,
        value=int(value) if integer else float(value), step=1 if integer else None,
        help=spec.help, key=key)

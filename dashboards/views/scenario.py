"""Scenario: load a shipped scenario, one of its named what-ifs, or upload one; edit it in data
editors whose cells are checked as they are typed; validate, apply, download.

A rejected edit shows its problems beside the fields and a marker on their tab; the edits are kept
as a draft (shown in the editors, also after visiting other pages) until they are fixed or
discarded, and every other page keeps using the last valid scenario.
"""

from __future__ import annotations

import scenario_editors as editors
import streamlit as st
import ui

from bioplan.app import editing, tables, whatifs
from bioplan.app.problems import FieldProblem, field_problems
from bioplan.errors import BioplanError

ss = st.session_state
st.title("Scenario")


def _load_uploads(uploads: list) -> None:  # type: ignore[type-arg]
    ids = tuple(u.file_id for u in uploads)
    if not uploads or ss.get("last_upload") == ids:
        return
    ss.last_upload = ids
    try:
        scn, source = whatifs.upload_files([(u.name, u.getvalue()) for u in uploads])
    except BioplanError as err:
        ss.upload_error = err.describe()
        return
    ui.set_scenario(scn, source.label, source)
    ss.edit_count += 1
    ss.upload_error = None


# ---- load / upload ---------------------------------------------------------------------------------
with st.container(border=True):
    left, middle, right = st.columns(3)
    with left, st.form("load_bundled", border=False):
        names = ui.bundled_scenarios()
        choice = st.selectbox("Shipped scenario file", names, key="bundled_choice",
                              index=names.index("default") if "default" in names else 0)
        if st.form_submit_button("Load", icon=":material/folder_open:", key="load_bundled_btn") and choice:
            try:
                source, scn = ui.load_bundled(choice)
                ui.set_scenario(scn, choice, source)
                ss.edit_count += 1
            except BioplanError as err:
                ss.scenario_problems = field_problems(err)
    source: whatifs.ScenarioFile | None = ss.get("scenario_file")
    with middle, st.form("load_named", border=False):
        named = dict(source.named()) if source is not None else {}
        pick = st.selectbox(
            f"Named what-if of {source.label if source else 'the file'}", [whatifs.BASE, *named],
            key="named_choice", format_func=lambda n: n if n == whatifs.BASE else f"{n} — {named[n]}",
            help="The file's `scenarios:` (combinations of overrides) and `overrides:` entries. "
                 "Solve them all together on the **Plan** page.")
        if st.form_submit_button("Load what-if", icon=":material/alt_route:", key="load_named_btn") \
                and source is not None:
            try:
                label = source.label if pick == whatifs.BASE else f"{source.label} · {pick}"
                ui.set_scenario(source.load(pick), label)
                ss.edit_count += 1
            except BioplanError as err:
                ss.scenario_problems = field_problems(err)
    with right:
        uploads = st.file_uploader(
            "…or upload a scenario", type=["yaml", "yml", "csv", "zip"], key="scenario_upload",
            accept_multiple_files=True,
            help="Select the scenario YAML together with the CSV files it references (demand, "
                 "recipe tables), or upload one zip of the scenario folder.")
        st.caption("A YAML **together with its CSV files** (select them all), or one **zip**.")
        _load_uploads(uploads or [])
        if ss.get("upload_error"):
            st.error(f"Upload rejected, the previous scenario is kept.\n\n{ss.upload_error}",
                     icon=":material/block:")

scn = ui.scenario()
# the editors show the rejected draft when there is one (kept across page changes), else the
# last valid scenario
draft = ss.get("scenario_draft")
raw = draft if draft is not None else tables.scenario_raw(scn)
problems: list[FieldProblem] = ss.scenario_problems


def num_at(path: str, fallback: float) -> float:
    """A number from the (draft) mapping at a dotted path; ``fallback`` when absent or invalid."""
    value = tables.raw_value(raw, path)
    try:
        return float(value) if value is not None else fallback
    except (TypeError, ValueError):
        return fallback


head, dl = st.columns([3, 1], vertical_alignment="bottom")
head.subheader(f"{ss.scenario_label}")
head.caption(scn.description or scn.name)
source = ss.get("scenario_file")
document = whatifs.scenario_document(source, scn) if source is not None else b""
dl.download_button("Download scenario (YAML)", document, key="dl_scenario",
                   file_name=whatifs.download_name(ss.scenario_label), mime="application/x-yaml",
                   icon=":material/download:", on_click="ignore", disabled=source is None,
                   help="The loaded file with your changes written in: comments, overrides, named "
                        "scenarios and maintenance windows kept; CSV tables inline.")
if ss.get("flash"):
    st.success(ss.pop("flash"), icon=":material/check_circle:")
if problems:
    st.error(f"**{len(problems)} problem(s) in the last edit — not applied.** Plans still use the last "
             "valid scenario. Fix the fields marked below and apply again, or discard the edits.",
             icon=":material/warning:")

v = ss.edit_count  # editor keys change after an applied edit so editors restart from the new scenario
for p in problems:
    if editors.tab_of(p) is None:
        st.error(f"**{p.field or 'scenario'}**: {p.message}", icon=":material/error:")

# ---- editors: tab titles carry the number of problems found in their cells on the last run --------
marks: dict[str, int] = ss.get("tab_marks", {})
titles = {t: f"{t} ⚠ {marks[t]}" if marks.get(t) else t for t in editors.TABS}
# switching tabs stays in the browser; when a title changes (a marker appears or goes), the tab
# whose problems changed is opened, which is where the user is typing
tabs = dict(zip(editors.TABS, st.tabs(list(titles.values()),
                                      default=titles.get(ss.get("scenario_tab", ""))), strict=True))

edits = editors.Edits()
with tabs["Demand"]:
    editors.demand_tab(raw, scn, v, num_at, edits)
with tabs["Bioreactor fleet"]:
    editors.fleet_tab(raw, v, edits)
with tabs["Prices & labour"]:
    editors.prices_tab(raw, scn, v, num_at, edits)
with tabs["Starting material"]:
    editors.sources_tab(raw, v, edits)
with tabs["Recipe options"]:
    editors.recipes_tab(raw, v, edits)
with tabs["Products & horizon"]:
    editors.products_tab(raw, scn, v, num_at, edits)
for tab, container in tabs.items():
    with container:  # problems of the last apply, on their tab
        editors.show([p for p in problems if editors.tab_of(p) == tab and p not in edits.problems])

b1, b2 = st.columns([1, 3], vertical_alignment="center")
apply = b1.button("Validate & apply", type="primary", icon=":material/check_circle:", key="apply_edits")
b2.caption(f"{len(edits.problems)} cell(s) to fix first (marked ⚠ on their tab)." if edits.problems
           else "Edits in all tabs take effect together when applied.")

if apply:
    edited = editing.apply_tables(raw, **edits.frames, scalars=edits.scalars)
    try:
        if edits.problems:
            msg = "cells with errors"
            raise BioplanError(msg)  # reported per cell below their editors
        new = editing.validate_raw(edited)
    except BioplanError as err:
        ss.scenario_problems = edits.problems or field_problems(err)
        ss.scenario_draft = edited  # kept (also across pages) until fixed or discarded
        ss.edit_count += 1  # editors restart from the draft, which already holds the edits
    else:
        ss.edit_count += 1
        if new.model_dump_json() == scn.model_dump_json():
            ss.scenario_draft = None
            ss.scenario_problems = []
            ss.flash = "No changes to apply."
        else:
            label = ss.scenario_label if ss.scenario_label.endswith("(edited)") else \
                f"{ss.scenario_label} (edited)"
            ui.set_scenario(new, label)
            ss.flash = "Scenario updated. Run the optimiser on the **Plan** page."
    st.rerun()

found = {t: sum(1 for p in {*edits.problems, *problems} if editors.tab_of(p) == t) for t in editors.TABS}
found = {t: n for t, n in found.items() if n}
if found != marks:
    ss.scenario_tab = next(t for t in editors.TABS if found.get(t, 0) != marks.get(t, 0))
    ss.tab_marks = found
    st.rerun()  # redraw the tab titles with their markers (the editors keep their edits)

if problems and st.button("Discard edits (back to the last valid scenario)", key="discard_edits"):
    ss.scenario_problems = []
    ss.scenario_draft = None
    ss.edit_count += 1
    st.rerun()

"""Plotly figures of a :class:`~bioplan.results.Plan`, shared by the dashboard and the HTML report.

Every function is a pure function of the plan (no Streamlit, no files): same plan, same figure.
Days are drawn as calendar dates (day 0 = ``scenario.horizon.start_date``) with the plan day in
the hover text.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any, Literal

import pandas as pd
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from bioplan.contracts import COST_LABELS, TERM_NAMES, last_usable_day
from bioplan.formatting import money

if TYPE_CHECKING:
    from bioplan.results import Plan

PRODUCT_COLOURS = {"rbc": "#b2182b", "platelet": "#e08214"}
"""One colour per product, used by every chart (RBC red, platelet amber)."""
PRODUCT_LABELS = {"rbc": "RBC units", "platelet": "platelet doses"}
TURNAROUND_COLOUR = "rgba(120,120,120,0.35)"
PALETTE = ["#1b9e77", "#d95f02", "#7570b3", "#e7298a", "#66a61e", "#e6ab02", "#a6761d",
           "#1f78b4", "#b15928", "#6a3d9a", "#33a02c", "#fb9a99"]
_MS_PER_DAY = 86_400_000


def _date(plan: Plan, day: float) -> dt.date:
    return plan.scenario.horizon.start_date + dt.timedelta(days=float(day))


def _empty_figure(title: str, note: str) -> go.Figure:
    fig = go.Figure()
    fig.add_annotation(text=note, showarrow=False, x=0.5, y=0.5, xref="paper", yref="paper",
                       font={"size": 15, "color": "#666"})
    fig.update_layout(title=title, xaxis={"visible": False}, yaxis={"visible": False},
                      height=260, template="plotly_white")
    return fig


def _faded(colour: str, alpha: float) -> str:
    """``#rrggbb`` as ``rgba(r,g,b,alpha)``: a lighter shade that legends show too (a trace's
    ``marker.opacity`` is not drawn in its legend swatch)."""
    if not (colour.startswith("#") and len(colour) == 7):
        return colour
    r, g, b = (int(colour[i:i + 2], 16) for i in (1, 3, 5))
    return f"rgba({r},{g},{b},{alpha:.2f})"


def _colour_map(keys: Iterable[str], fixed: dict[str, str] | None = None) -> dict[str, str]:
    out: dict[str, str] = {}
    for i, key in enumerate(sorted(set(keys))):
        out[key] = (fixed or {}).get(key, PALETTE[i % len(PALETTE)])
    return out


def _unit_label(scenario: Any, reactor_type: Any, unit: Any) -> str:
    """``rocking-bag-500L #3`` for an owned unit, ``… #9 · rented`` / ``· bought`` for an added one
    (units 1..owned are the owned ones)."""
    if pd.isna(unit):
        return f"{reactor_type}"
    spec = scenario.reactors.get(str(reactor_type))
    if spec is None or int(unit) <= spec.units_owned:
        return f"{reactor_type} #{int(unit)}"
    return f"{reactor_type} #{int(unit)} · {'rented' if spec.acquisition == 'rent' else 'bought'}"


def _unit_rows(plan: Plan, used: pd.DataFrame) -> list[str]:
    """Rows of the schedule, top to bottom: every owned unit (idle ones too), then the added units
    the plan uses, per reactor type in scenario order."""
    rows: list[str] = []
    for name, spec in plan.scenario.reactors.items():
        units = used.loc[used["reactor_type"] == name, "reactor_unit"].dropna().astype(int)
        top = max([spec.units_owned, *units.tolist()])
        rows += [_unit_label(plan.scenario, name, u) for u in range(1, top + 1)
                 if u <= spec.units_owned or u in set(units)]
    return rows


def _maintenance_trace(plan: Plan, rows: list[str]) -> go.Bar | None:
    """Hatched bars for the maintenance windows of units shown in ``rows``."""
    y, base, x, text = [], [], [], []
    for name, spec in plan.scenario.reactors.items():
        for window in spec.maintenance:
            label = _unit_label(plan.scenario, name, window.unit)
            if label in rows:
                y.append(label)
                base.append(window.start_date)
                x.append(window.days * _MS_PER_DAY)
                text.append(f"{window.start_date.isoformat()}, {window.days} d")
    if not y:
        return None
    return go.Bar(name="maintenance", orientation="h", y=y, base=base, x=x, customdata=text,
                  marker={"color": "rgba(215,48,39,0.15)",
                          "pattern": {"shape": "x", "fgcolor": "#d73027", "size": 6}},
                  hovertemplate="maintenance: %{customdata}<extra>%{y}</extra>")


# ---- schedule --------------------------------------------------------------------------------------


def gantt_figure(plan: Plan, color_by: Literal["product", "recipe"] = "product") -> go.Figure:
    """Reactor units (rows) over days: one bar per batch phase coloured by ``color_by``, labelled with
    the phase, then a grey bar for the turnaround (cleaning and set-up) that follows it; hatched red
    bars for maintenance windows. Every owned unit has a row (idle ones too); added units are
    labelled ``· rented`` or ``· bought``.

    Hover shows the batch, product, recipe, phase, dates (and plan days), seed cells, product units
    and medium. Batches that started before the horizon (negative ``start_day``) are drawn too.
    """
    title = "Schedule: reactor units by day"
    batches = plan.batches
    if batches is None or batches.empty:
        return _empty_figure(title, "No batches in this plan")
    b = batches.reset_index()
    b["unit_label"] = [_unit_label(plan.scenario, t, u)
                       for t, u in zip(b["reactor_type"], b["reactor_unit"], strict=True)]
    order = _unit_rows(plan, b)
    order += [u for u in dict.fromkeys(b["unit_label"]) if u not in order]
    colours = _colour_map(b[color_by].astype(str), PRODUCT_COLOURS if color_by == "product" else None)
    turnaround = {name: spec.turnaround_days for name, spec in plan.scenario.reactors.items()}

    fig = go.Figure()
    for key, group in b.groupby(b[color_by].astype(str), sort=True):
        start = [_date(plan, d) for d in group["start_day"]]
        days = (group["end_day"] - group["start_day"]).astype(float)
        custom = list(zip(
            group["batch_id"].astype(str), group["product"].astype(str), group["recipe"].astype(str),
            group["phase"].astype(str), group["start_day"].astype(int), group["end_day"].astype(int),
            [_date(plan, d).isoformat() for d in group["start_day"]],
            [_date(plan, d).isoformat() for d in group["end_day"]],
            group["seed_cells"].astype(float), group["product_units"].astype(float),
            group["medium_L"].astype(float), strict=True,
        ))
        fig.add_trace(go.Bar(
            name=str(key), orientation="h", y=group["unit_label"], base=start,
            x=days * _MS_PER_DAY, marker={"color": colours[str(key)], "line": {"color": "white", "width": 1}},
            text=group["phase"].astype(str), textposition="inside", insidetextanchor="middle",
            textfont={"color": "white", "size": 11}, customdata=custom, legendgroup=str(key),
            hovertemplate=(
                "<b>%{customdata[0]}</b> · %{customdata[3]}<br>"
                "%{customdata[1]} · recipe %{customdata[2]}<br>"
                "%{customdata[6]} → %{customdata[7]} (day %{customdata[4]}–%{customdata[5]})<br>"
                "seed cells %{customdata[8]:.3g} · product %{customdata[9]:.1f} units<br>"
                "medium %{customdata[10]:,.0f} L<extra>%{y}</extra>"
            ),
        ))
    ta = b[[turnaround.get(t, 0) > 0 for t in b["reactor_type"]]]
    if not ta.empty:
        ta_days = ta["reactor_type"].map(turnaround).astype(float)
        fig.add_trace(go.Bar(
            name="turnaround", orientation="h", y=ta["unit_label"],
            base=[_date(plan, d) for d in ta["end_day"]], x=ta_days * _MS_PER_DAY,
            marker={"color": TURNAROUND_COLOUR, "pattern": {"shape": "/", "fgcolor": "#888"}},
            customdata=list(zip(ta["batch_id"].astype(str), ta_days, strict=True)),
            hovertemplate="turnaround after %{customdata[0]}: %{customdata[1]:.0f} d<extra>%{y}</extra>",
        ))
    maintenance = _maintenance_trace(plan, order)
    if maintenance is not None:
        fig.add_trace(maintenance)
    horizon_end = _date(plan, plan.scenario.horizon.days)
    fig.add_vrect(x0=plan.scenario.horizon.start_date, x1=horizon_end, fillcolor="rgba(0,0,0,0)",
                  line={"color": "#999", "dash": "dot", "width": 1}, layer="below")
    fig.update_layout(
        title=title, barmode="overlay", template="plotly_white",
        height=max(300, 130 + 30 * len(order)),
        legend={"orientation": "v", "y": 1, "yanchor": "top", "x": 1.01, "xanchor": "left"},
        margin={"l": 10, "r": 10, "t": 50, "b": 10},
        xaxis={"type": "date", "title": None, "showgrid": True},
        yaxis={"categoryorder": "array", "categoryarray": order[::-1], "title": None},
        bargap=0.25,
    )
    return fig


# ---- inventory -------------------------------------------------------------------------------------


def _age_buckets(shelf_life: int) -> list[tuple[int, int]]:
    """Up to four age bands covering 0..shelf_life-1 days."""
    n = min(4, max(1, shelf_life))
    edges = [round(i * shelf_life / n) for i in range(n + 1)]
    return [(edges[i], edges[i + 1] - 1) for i in range(n) if edges[i + 1] > edges[i]]


def _daily(frame: pd.DataFrame, product: str, days: pd.Index) -> pd.Series:
    if frame is None or frame.empty:
        return pd.Series(0.0, index=days)
    sub = frame.xs(product, level="product") if product in frame.index.get_level_values("product") else None
    if sub is None or sub.empty:
        return pd.Series(0.0, index=days)
    return sub["units"].groupby(level="day").sum().reindex(days, fill_value=0.0).astype(float)


def inventory_figure(plan: Plan) -> go.Figure:
    """Per product (one panel each): stock at the end of each day stacked by cohort age band,
    with demand and deliveries as lines, shortages as red bars below zero and expiries as crosses."""
    title = "Inventory by product and cohort age"
    products = list(plan.scenario.products)
    if not products or not plan.has_solution:
        return _empty_figure(title, "No inventory: the plan has no solution")
    days = pd.RangeIndex(plan.scenario.horizon.days, name="day")
    dates = [_date(plan, d) for d in days]
    demand = plan.scenario.demand_table()["units"]
    fig = make_subplots(rows=len(products), cols=1, shared_xaxes=True, vertical_spacing=0.09,
                        subplot_titles=[PRODUCT_LABELS.get(p, p) for p in products])
    inv = plan.inventory
    for row, product in enumerate(products, start=1):
        prod = plan.scenario.products[product]  # type: ignore[index]
        # days a cohort is usable after its release (bioplan.contracts.last_usable_day)
        shelf = last_usable_day(0, prod.shelf_life_days, prod.release_delay_days) + 1
        base = PRODUCT_COLOURS.get(product, "#444")
        if inv is not None and not inv.empty and product in inv.index.get_level_values("product"):
            sub = inv.xs(product, level="product").reset_index()
            sub["age"] = sub["day"] - sub["cohort_day"]
            bands = _age_buckets(shelf)
            for i, (lo, hi) in enumerate(bands):
                sel = sub[(sub["age"] >= lo) & (sub["age"] <= hi)] if i < len(bands) - 1 else sub[sub["age"] >= lo]
                series = sel.groupby("day")["units"].sum().reindex(days, fill_value=0.0)
                opacity = 1.0 - 0.7 * i / max(1, len(bands) - 1)
                ages = f"{lo} d" if lo == hi else f"{lo}–{hi} d"
                fig.add_trace(go.Bar(
                    x=dates, y=series.values, name=f"{product} stock, age {ages}",
                    marker={"color": _faded(base, opacity)}, legendgroup=product,
                    hovertemplate=f"age {ages}: %{{y:.1f}} units<extra>{product}</extra>",
                ), row=row, col=1)
        dem = (demand.xs(product, level="product").reindex(days, fill_value=0.0)
               if product in demand.index.get_level_values("product") else pd.Series(0.0, index=days))
        fig.add_trace(go.Scatter(
            x=dates, y=dem.values, name=f"{product} demand", mode="lines",
            line={"color": "#222", "width": 1.5, "shape": "hv"}, legendgroup=product,
            hovertemplate="demand %{y:.1f}<extra>" + product + "</extra>"), row=row, col=1)
        fig.add_trace(go.Scatter(
            x=dates, y=_daily(plan.deliveries, product, days).values, name=f"{product} delivered",
            mode="lines", line={"color": "#2166ac", "width": 1.5, "dash": "dot", "shape": "hv"},
            legendgroup=product, hovertemplate="delivered %{y:.1f}<extra>" + product + "</extra>"),
            row=row, col=1)
        short = _daily(plan.shortages, product, days)
        if short.sum() > 0:
            fig.add_trace(go.Bar(
                x=dates, y=(-short).to_numpy(), name=f"{product} shortage",
                marker={"color": "#333333", "pattern": {"shape": "x", "fgcolor": "#d73027"}},
                legendgroup=product, hovertemplate="short %{customdata:.1f}<extra>" + product + "</extra>",
                customdata=short.values), row=row, col=1)
        exp = _daily(plan.expiries, product, days)
        if exp.sum() > 0:
            mask = exp > 0
            fig.add_trace(go.Scatter(
                x=[d for d, m in zip(dates, mask, strict=True) if m], y=exp[mask].values,
                name=f"{product} expired", mode="markers",
                marker={"symbol": "x", "size": 9, "color": "#4d4d4d"}, legendgroup=product,
                hovertemplate="expired %{y:.1f}<extra>" + product + "</extra>"), row=row, col=1)
        fig.update_yaxes(title_text="units", row=row, col=1)
    fig.update_layout(title=title, barmode="relative", template="plotly_white",
                      height=260 + 240 * len(products), bargap=0.05,
                      margin={"l": 10, "r": 10, "t": 70, "b": 40},
                      legend={"orientation": "h", "y": -0.08, "yanchor": "top"})
    return fig


# ---- costs -----------------------------------------------------------------------------------------


def cost_figure(plan: Plan) -> go.Figure:
    """Left: waterfall of the cost terms up to the total [USD], one colour per term. Right: cost per
    delivered unit by product, stacked by term [USD/unit] in the same colours; one legend (the
    terms) serves both panels."""
    title = "Costs"
    breakdown = plan.cost_breakdown
    if breakdown is None or breakdown.empty or not plan.has_solution:
        return _empty_figure(title, "No costs: the plan has no solution")
    main = breakdown[[t for t in breakdown.index if t in TERM_NAMES]]
    main = main[main.abs() > 1e-9]
    fig = make_subplots(rows=1, cols=2, column_widths=[0.55, 0.45], horizontal_spacing=0.1,
                        subplot_titles=["Cost by term [USD]", "Cost per delivered unit [USD/unit]"])
    colours = _colour_map(TERM_NAMES)
    before = 0.0
    for term, value in main.items():  # a waterfall with one colour per term, named in the legend
        label = COST_LABELS.get(str(term), str(term))
        fig.add_trace(go.Bar(
            x=[label.replace(" ", "<br>", 1)], y=[float(value)], base=[before], name=label,
            marker={"color": colours[str(term)]}, legendgroup=str(term), text=[money(value)],
            textposition="outside", hovertemplate=f"{label}: %{{y:$,.0f}}<extra></extra>",
        ), row=1, col=1)
        before += float(value)
    fig.add_trace(go.Bar(
        x=["Total"], y=[before], name="Total", marker={"color": "#2d004b"}, text=[money(before)],
        textposition="outside", hovertemplate="Total: %{y:$,.0f}<extra></extra>", showlegend=False,
    ), row=1, col=1)
    cbp = plan.cost_by_product
    if cbp is not None and not cbp.empty:
        delivered = plan.kpis()["units_delivered"]
        table = cbp["usd"].unstack("term").fillna(0.0)
        table = table[[c for c in TERM_NAMES if c in table.columns]]
        table = table.reindex([p for p in plan.scenario.products if p in table.index])
        per_unit = table.div(delivered.reindex(table.index).where(lambda s: s > 0), axis=0)
        for term in per_unit.columns:
            fig.add_trace(go.Bar(
                x=[PRODUCT_LABELS.get(str(p), str(p)) for p in per_unit.index],
                y=per_unit[term].values, name=COST_LABELS.get(str(term), str(term)),
                marker={"color": colours[str(term)]}, legendgroup=str(term),
                showlegend=str(term) not in main.index,
                hovertemplate="%{x}: $%{y:,.0f} per unit<extra>" + COST_LABELS.get(str(term), str(term)) + "</extra>",
            ), row=1, col=2)
    fig.update_layout(title=title, barmode="stack", template="plotly_white", height=480,
                      margin={"l": 10, "r": 10, "t": 80, "b": 40},
                      legend={"orientation": "h", "y": -0.15, "yanchor": "top"})
    fig.update_yaxes(tickprefix="$", row=1, col=1)
    fig.update_yaxes(tickprefix="$", row=1, col=2)
    return fig


def compare_gantt_figures(plans: dict[str, Plan]) -> dict[str, go.Figure]:
    """Gantt charts of several plans on a common date range, without legends (for side-by-side
    comparison; colours as in :func:`gantt_figure`)."""
    figs = {name: gantt_figure(p) for name, p in plans.items()}
    starts = [p.scenario.horizon.start_date for p in plans.values()]
    ends = [_date(p, p.scenario.horizon.days) for p in plans.values()]
    if starts:
        for name, fig in figs.items():
            fig.update_layout(title=f"Schedule: {name}", xaxis={"range": [min(starts), max(ends)]},
                              showlegend=False)
    return figs


# ---- biology ---------------------------------------------------------------------------------------


def stage_time_course_figure(time_course: pd.DataFrame, phases: pd.DataFrame,
                             title: str = "Cells per stage") -> go.Figure:
    """Cells per differentiation stage over culture days (log scale), phases shaded.

    ``time_course``: index ``day``, columns ``cells_<stage>`` (and ``cells_total``, ``volume_L``) as
    from ``bioplan.yields.simulate(..., time_course=True)``; ``phases``: index ``phase`` with
    ``start_day`` and ``end_day``.
    """
    fig = go.Figure()
    stages = [c for c in time_course.columns if c.startswith("cells_") and c != "cells_total"]
    for i, col in enumerate(stages):
        fig.add_trace(go.Scatter(x=time_course.index, y=time_course[col], name=col.removeprefix("cells_"),
                                 mode="lines", line={"color": PALETTE[i % len(PALETTE)], "width": 2},
                                 hovertemplate="day %{x}: %{y:.3g} cells<extra>%{fullData.name}</extra>"))
    if "cells_total" in time_course:
        fig.add_trace(go.Scatter(x=time_course.index, y=time_course["cells_total"], name="all cells",
                                 mode="lines", line={"color": "#222", "width": 2, "dash": "dash"}))
    for j, (name, row) in enumerate(phases.iterrows()):
        fig.add_vrect(x0=row["start_day"], x1=row["end_day"], layer="below", line_width=0,
                      fillcolor="rgba(0,0,0,0.04)" if j % 2 == 0 else "rgba(0,0,0,0)",
                      annotation_text=str(name), annotation_position="bottom left",
                      annotation_font={"color": "#777"})
    fig.update_layout(title=title, template="plotly_white", height=440,
                      xaxis={"title": "culture day"},
                      yaxis={"title": "cells", "type": "log", "exponentformat": "power"},
                      legend={"orientation": "h", "y": -0.18, "yanchor": "top"},
                      margin={"l": 10, "r": 10, "t": 60, "b": 40})
    return fig


def fleet_figure(scenario: Any, note: str = "Run the optimiser to fill the schedule") -> go.Figure:
    """The empty schedule of a scenario: one row per reactor unit that may be used (owned plus
    those that may be added) over the planning horizon, no batches yet."""
    rows = [f"{name} #{unit}" for name, spec in scenario.reactors.items()
            for unit in range(1, spec.units_owned + spec.max_additional_units + 1)]
    start = scenario.horizon.start_date
    end = start + dt.timedelta(days=scenario.horizon.days)
    fig = go.Figure(go.Scatter(x=[start] * len(rows), y=rows, mode="markers", marker={"opacity": 0},
                               hoverinfo="skip", showlegend=False))
    fig.add_annotation(text=note, showarrow=False, x=0.5, y=1.0, xref="paper", yref="paper",
                       yanchor="bottom", font={"size": 13, "color": "#666"})
    fig.update_layout(title="Schedule: reactor units by day", template="plotly_white",
                      height=max(300, 130 + 30 * len(rows)),
                      margin={"l": 10, "r": 10, "t": 50, "b": 10},
                      xaxis={"type": "date", "range": [start, end]},
                      yaxis={"categoryorder": "array", "categoryarray": rows[::-1], "title": None})
    return fig

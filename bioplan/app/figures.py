"""Compare figures: small multiples of KPIs (one panel per KPI, one bar per plan), readable for
four plans or more, instead of every plan stacked on one axis."""

from __future__ import annotations

import pandas as pd
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from bioplan.app.compare import kpi_label, kpi_unit
from bioplan.charts import PALETTE

PANELS = ("objective_usd", "cost_per_delivered_unit:", "service_level:", "units_short:",
          "units_expired:", "reactors_added:")
"""KPI keys (or key prefixes, one panel per product / type) drawn, in this order."""


def _panels(table: pd.DataFrame) -> list[str]:
    keys = []
    for pattern in PANELS:
        keys += [k for k in table.index if k == pattern or (pattern.endswith(":") and k.startswith(pattern))]
    return keys


def compare_kpi_figure(table: pd.DataFrame, columns: int = 3) -> go.Figure:
    """Small multiples of :func:`bioplan.app.compare.compare_kpis` (its plan columns, not the
    deltas): one panel per KPI with its own axis and unit, one bar per plan in a fixed colour.
    KPIs that are zero in every plan get no panel."""
    plans = [c for c in table.columns if not str(c).startswith("Δ ")]
    keys = [k for k in _panels(table) if (table.loc[k, plans].fillna(0.0) != 0).any()]  # no empty panels
    if not keys:
        return go.Figure()
    rows = -(-len(keys) // columns)
    fig = make_subplots(rows=rows, cols=columns, subplot_titles=[kpi_label(k) for k in keys],
                        vertical_spacing=0.5 / rows if rows > 1 else 0.1, horizontal_spacing=0.07)
    colours = {name: PALETTE[i % len(PALETTE)] for i, name in enumerate(plans)}
    for i, key in enumerate(keys):
        row, col = divmod(i, columns)
        unit = kpi_unit(key)
        for name in plans:
            fig.add_trace(go.Bar(
                x=[str(name)], y=[table.loc[key, name]], name=str(name), legendgroup=str(name),
                marker={"color": colours[name]}, showlegend=i == 0,
                hovertemplate=f"{name}: %{{y:,.4g}} {unit}<extra>{kpi_label(key)}</extra>",
            ), row=row + 1, col=col + 1)
        axis = {"tickprefix": "$"} if unit.startswith("USD") else \
            {"tickformat": ".0%"} if unit == "fraction" else {}
        fig.update_yaxes(row=row + 1, col=col + 1, **axis)
        fig.update_xaxes(row=row + 1, col=col + 1, showticklabels=False)
    fig.update_layout(template="plotly_white", height=240 * rows + 80, barmode="group",
                      margin={"l": 10, "r": 10, "t": 40 + 160 // rows, "b": 10},
                      legend={"orientation": "h", "y": 1.0 + 0.25 / rows, "yanchor": "bottom", "x": 0})
    return fig


def input_changes(first: dict, other: dict) -> list[tuple[str, object, object]]:  # type: ignore[type-arg]
    """Scenario fields (dotted) whose values differ between two validated scenario mappings."""
    from bioplan.app.whatifs import changed_values

    out = []
    for path, value in changed_values(first, other):
        old: object = first
        for key in path:
            old = old.get(key) if isinstance(old, dict) else None
        out.append((".".join(path), old, value))
    return out

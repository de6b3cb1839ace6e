"""The self-contained HTML report of a run: KPIs, cost breakdown, Gantt, inventory and cost charts.

The figures come from :mod:`bioplan.charts` (shared with the dashboard). plotly.js is embedded
once (``include_plotlyjs=True``), so the report opens offline (~5 MB).
"""

from __future__ import annotations

import html
import json
import logging
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pandas as pd

from bioplan.runs.robust import robust_figures, robust_tables

if TYPE_CHECKING:
    import plotly.graph_objects as go

    from bioplan.results import Plan

log = logging.getLogger(__name__)

_STYLE = """
body { font-family: system-ui, sans-serif; margin: 2rem; color: #222; }
table { border-collapse: collapse; margin: 0.5rem 0 1.5rem; }
th, td { border: 1px solid #ccc; padding: 0.25rem 0.6rem; text-align: right; }
th { background: #f3f3f3; }
td:first-child, th:first-child { text-align: left; }
.meta td { text-align: left; }
.status { font-weight: bold; }
.warning { font-weight: bold; color: #9c0006; }
"""


def _figures(plan: Plan) -> list[tuple[str, go.Figure]]:
    from bioplan import charts
    from bioplan.bottleneck_charts import bottleneck_heatmap

    figures = []
    for title, make in (
        ("Schedule (Gantt)", charts.gantt_figure),
        ("Inventory", charts.inventory_figure),
        ("Cost breakdown", charts.cost_figure),
        ("Bottlenecks (shadow prices)", bottleneck_heatmap),
    ):
        try:
            figures.append((title, make(plan)))
        except Exception as err:  # a chart must never cost the run its report
            log.warning("chart %s failed: %s", title, err)
    try:
        figures += robust_figures(plan)
    except Exception as err:  # the robust charts evaluate the plan again; never fatal
        log.warning("robust charts failed: %s", err)
    return figures


def _number(value: float) -> str:
    """Thousands separators for big numbers, four significant digits for small ones."""
    return f"{value:,.0f}" if abs(value) >= 1000 else f"{value:.4g}"


def _table(frame: pd.DataFrame | pd.Series) -> str:
    if isinstance(frame, pd.Series):
        frame = frame.to_frame()
    return frame.to_html(float_format=_number, na_rep="–", border=0, escape=True)


def render_report(plan: Plan, meta: dict[str, Any]) -> str:
    """The report as one HTML document. ``meta``: run facts shown at the top (run id, inputs
    hash, versions, previous run ...)."""
    parts = [
        "<!DOCTYPE html><html><head><meta charset='utf-8'>",
        f"<title>bioplan run {html.escape(str(meta.get('run_id', '')))}</title>",
        f"<style>{_STYLE}</style></head><body>",
        f"<h1>bioplan run {html.escape(str(meta.get('run_id', '')))}</h1>",
        f"<p class='status'>Status: {html.escape(plan.message or str(plan.status))}</p>",
        *(f"<p class='warning'>Warning: {html.escape(w)}</p>" for w in plan.warnings()),
        "<table class='meta'>",
    ]
    forecasts = meta.get("batch_forecasts")
    for key, value in meta.items():
        if key == "batch_forecasts":
            continue
        text = value if isinstance(value, str) else json.dumps(value, default=str)
        parts.append(f"<tr><th>{html.escape(str(key))}</th><td>{html.escape(text)}</td></tr>")
    parts.append("</table>")
    if forecasts:  # batch records (bioplan.records): which kept batches moved the plan
        parts += ["<h2>Batch forecasts from records [units]</h2>",
                  _table(pd.DataFrame(forecasts).set_index("batch_id"))]
    if plan.objective_usd is not None:
        gap = f"{plan.gap:.2%}" if plan.gap is not None else "–"
        parts.append(f"<p>Total cost: <b>{plan.objective_usd:,.0f} USD</b> (gap {gap})</p>")
    if plan.has_solution:
        parts += ["<h2>Products</h2>", _table(plan.kpis()), *robust_tables(plan)]
        if not plan.cost_breakdown.empty:
            parts += ["<h2>Costs [USD]</h2>", _table(plan.cost_breakdown)]
        if not plan.capacity.empty:
            parts += ["<h2>Reactor fleet</h2>", _table(plan.capacity)]
        if not plan.marginal_values.empty:
            parts += ["<h2>Value of one more unit of each resource [USD over the horizon]</h2>",
                      _table(plan.marginal_values)]
    if plan.explanation is not None and not plan.explanation.empty:
        parts += ["<h2>Why no plan</h2>", _table(plan.explanation)]
    first = True
    for title, figure in _figures(plan) if plan.has_solution else []:
        parts.append(f"<h2>{html.escape(title)}</h2>")
        parts.append(figure.to_html(full_html=False, include_plotlyjs=first))
        first = False
    parts.append("</body></html>")
    return "\n".join(parts)


def write_report(plan: Plan, path: str | Path, meta: dict[str, Any]) -> Path:
    """Write :func:`render_report` to ``path``."""
    out = Path(path)
    out.write_text(render_report(plan, meta), encoding="utf-8")
    return out

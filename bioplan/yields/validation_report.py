"""What ``bioplan validate`` shows: the validation table as text rows and predicted-vs-published
time courses as plotly figures (one per card)."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from bioplan.yields.card import YieldCard
from bioplan.yields.datasets import dataset_theta, load_datasets
from bioplan.yields.exact_solver import run_batch
from bioplan.yields.kinetics import param_space
from bioplan.yields.outcomes import stage_masks

COLUMNS = ["lineage", "card", "dataset", "use", "quantity", "day", "published", "predicted",
           "fit_error", "loo_log10_error", "within_tolerance", "provenance"]
"""Columns of the validation table that ``bioplan validate`` prints and writes as JSON."""


def records(table: pd.DataFrame) -> list[dict[str, Any]]:
    """The table as JSON-ready records (NaN -> None)."""
    cols = [c for c in COLUMNS if c in table.columns]
    out = []
    for row in table[cols].to_dict(orient="records"):
        out.append({str(k): (None if isinstance(v, float) and not np.isfinite(v) else v)
                    for k, v in row.items()})
    return out


def time_course_figure(card: YieldCard) -> Any:
    """Predicted fold expansion and product per seed cell over time for each dataset's protocol,
    with the published observations as markers (log scale)."""
    import plotly.graph_objects as go

    data = load_datasets(card)
    fig = go.Figure()
    if data is None:
        return fig
    ps = param_space(card)
    theta = dataset_theta(ps, ps.theta(1), data.datasets)
    res = run_batch(ps, theta, time_course=True)
    assert res.course_x is not None
    m = stage_masks(card)
    for i, ds in enumerate(data.datasets):
        x = res.course_x[i]
        days = np.arange(x.shape[0])
        fold = x[:, m["cell"]].sum(axis=1) / res.x0[i, m["cell"]].sum()
        fig.add_trace(go.Scatter(x=days, y=fold, mode="lines", name=f"{ds.id}: fold (model)"))
        fig.add_trace(go.Scatter(x=days, y=x[:, m["product"]].sum(axis=1), mode="lines",
                                 line={"dash": "dot"}, name=f"{ds.id}: product/seed (model)"))
        pts = [ob for ob in ds.observations if ob.kind == "log10"]
        if pts:
            fig.add_trace(go.Scatter(
                x=[ob.day for ob in pts], y=[ob.value for ob in pts], mode="markers",
                marker={"size": 11, "symbol": "x"},
                name=f"{ds.id}: published ({', '.join(sorted({ob.quantity for ob in pts}))})"))
    fig.update_layout(title=f"{card.name}: model vs published datasets", xaxis_title="day",
                      yaxis_title="per seed cell", yaxis_type="log")
    return fig

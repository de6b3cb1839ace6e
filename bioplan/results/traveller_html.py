"""A printable HTML batch traveller (one self-contained page, no scripts): the batch's facts,
its phases and where its units went, with sign-off boxes for the operator."""

from __future__ import annotations

import html
from typing import TYPE_CHECKING, Any

import pandas as pd

from bioplan.results.traveller import destinations, header, phases

if TYPE_CHECKING:
    from bioplan.results.plan import Plan

_STYLE = """
body { font-family: sans-serif; margin: 1.5cm; color: #111; }
h1 { font-size: 1.4em; margin-bottom: 0.2em; }
table { border-collapse: collapse; margin: 0.6em 0 1.2em 0; }
th, td { border: 1px solid #999; padding: 3px 8px; text-align: left; font-size: 0.9em; }
td.num { text-align: right; }
.sign { width: 9em; }
@media print { body { margin: 1cm; } h2 { page-break-after: avoid; } }
"""


def _fmt(value: Any) -> str:
    if isinstance(value, pd.Timestamp):
        return value.date().isoformat()
    if isinstance(value, float):
        if value != value:
            return "–"
        return f"{value:.3g}" if abs(value) >= 1e6 else f"{value:,.2f}"
    if hasattr(value, "isoformat"):
        return str(value.isoformat())
    return str(value)


def _table(frame: pd.DataFrame, sign: bool = False) -> str:
    cols = [str(c) for c in frame.columns]
    head = "".join(f"<th>{html.escape(c)}</th>" for c in cols)
    head += "<th class='sign'>done (initials)</th>" if sign else ""
    body = []
    for _i, row in frame.iterrows():
        cells = "".join(
            f"<td class='{'num' if isinstance(v, int | float) else ''}'>{html.escape(_fmt(v))}</td>"
            for v in row.tolist())
        body.append(f"<tr>{cells}{'<td></td>' if sign else ''}</tr>")
    return f"<table><tr>{head}</tr>{''.join(body)}</table>"


def traveller_html(plan: Plan, batch_id: str) -> str:
    """The traveller of ``batch_id`` as one printable HTML document."""
    info = header(plan, batch_id)
    facts = "".join(f"<tr><th>{html.escape(k.replace('_', ' '))}</th>"
                    f"<td>{html.escape(_fmt(v))}</td></tr>" for k, v in info.items())
    steps = phases(plan, batch_id).reset_index()
    steps = steps.drop(columns=["start_day", "end_day"])
    parts = [
        "<!DOCTYPE html><html><head><meta charset='utf-8'>",
        f"<title>Batch traveller {html.escape(batch_id)}</title><style>{_STYLE}</style></head><body>",
        f"<h1>Batch traveller {html.escape(batch_id)}</h1>",
        f"<p>Scenario {html.escape(plan.scenario.name)} · plan status {html.escape(str(plan.status))}</p>",
        f"<h2>Batch</h2><table>{facts}</table>",
        "<h2>Phases</h2>", _table(steps, sign=True),
        "<h2>Where its units went</h2>", _table(destinations(plan, batch_id)),
        "</body></html>",
    ]
    return "\n".join(parts)

"""Read a plan folder written by :meth:`Plan.write` back into a :class:`Plan`.

The folder holds one CSV per table, ``summary.json`` and the self-contained ``scenario.yaml``;
every table comes back with its named index, so a stored plan can be evaluated, checked and
compared like a fresh one (``bioplan evaluate PLAN_DIR``).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pandas as pd

from bioplan.errors import InputError
from bioplan.results.export import SCENARIO, SUMMARY
from bioplan.results.plan import Plan, PlanStatus

TABLES = ("batches", "deliveries", "shortages", "expiries", "inventory", "occupancy",
          "media_use", "capacity", "cost_by_product", "marginal_values")
"""The ``Plan`` tables read back (``cost_breakdown`` and ``explanation`` are read apart)."""
_TEXT_INDEX = {"batch_id", "product", "reactor_type", "term", "resource"}


def _read_table(path: Path, index: list[str]) -> pd.DataFrame:
    dtypes = {name: str for name in index if name in _TEXT_INDEX}
    frame = pd.read_csv(path, dtype=dtypes)  # type: ignore[arg-type]
    missing = [c for c in index if c not in frame.columns]
    if missing:
        msg = f"{path.name} lacks index column(s) {missing}"
        raise InputError(msg, file=str(path),
                         field=missing[0], fix="write the plan again with `bioplan plan --out`")
    return frame.set_index(index if len(index) > 1 else index[0])


def read_plan(plan_dir: str | Path) -> Plan:
    """The plan stored in ``plan_dir`` (raises :class:`InputError` naming a missing file)."""
    from bioplan.scenario import load_scenario

    folder = Path(plan_dir)
    for name in (SCENARIO, SUMMARY, "batches.csv"):
        if not (folder / name).is_file():
            msg = f"{folder}/{name} does not exist"
            raise InputError(msg, file=str(folder), field=name,
                             fix="give a folder written by `bioplan plan --out DIR` (a plan "
                                 "written before scenario.yaml was added must be planned again)")
    scenario = load_scenario(folder / SCENARIO)
    summary: dict[str, Any] = json.loads((folder / SUMMARY).read_text(encoding="utf-8"))
    try:
        status = PlanStatus(str(summary.get("status")))
    except ValueError:
        msg = f"unknown status {summary.get('status')!r}"
        raise InputError(msg, file=str(folder / SUMMARY),
                         field="status", fix="give a summary.json written by bioplan") from None
    plan = Plan(scenario=scenario, status=status, objective_usd=summary.get("objective"),
                bound_usd=summary.get("bound"), gap=summary.get("gap"),
                message=str(summary.get("message", "")),
                timings=dict(summary.get("timings") or {}))
    for name in TABLES:
        path = folder / f"{name}.csv"
        if path.is_file():
            default = getattr(plan, name)
            setattr(plan, name, _read_table(path, [str(n) for n in default.index.names]))
    breakdown = folder / "cost_breakdown.csv"
    if breakdown.is_file():
        plan.cost_breakdown = _read_table(breakdown, ["term"])["usd"].astype(float)
    explanation = folder / "explanation.csv"
    if explanation.is_file():
        plan.explanation = pd.read_csv(explanation)
    return plan

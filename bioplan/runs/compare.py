"""Compare two stored runs: KPI deltas, what changed in the plan, and what changed in the inputs."""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass
from typing import Any

import pandas as pd

from bioplan.runs.rolling import records_to_batches
from bioplan.runs.store import RunInfo, RunStore


@dataclass
class RunComparison:
    """The differences between run ``a`` and run ``b`` (``b`` minus ``a``)."""

    a: RunInfo
    b: RunInfo
    kpis: pd.DataFrame
    """Index ``metric``; columns ``a``, ``b``, ``delta``, ``delta_pct``."""
    batches: pd.DataFrame
    """Batches in only one of the plans: index ``change`` (``added`` in b / ``removed`` from a);
    columns ``product, recipe, reactor_type, start_date, end_date, seed_cells, product_units``."""
    recipe_mix: pd.DataFrame
    """Index ``recipe``; batches per recipe in ``a`` and ``b`` and the delta."""
    inputs: list[tuple[str, Any, Any]]
    """Scenario fields (dotted paths) whose values differ: (path, value in a, value in b)."""

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form (``bioplan compare --json``)."""
        def frame(df: pd.DataFrame) -> list[dict[str, Any]]:
            out = df.reset_index()
            return json.loads(out.to_json(orient="records", date_format="iso"))

        return {
            "a": self.a.run_id,
            "b": self.b.run_id,
            "kpis": frame(self.kpis),
            "batches": frame(self.batches),
            "recipe_mix": frame(self.recipe_mix),
            "inputs": [{"field": f, "a": va, "b": vb} for f, va, vb in self.inputs],
        }

    def render(self) -> str:
        """Plain-text report for the terminal."""
        lines = [f"A: {self.a.run_id} ({self.a.status}, start {self.a.plan_start_date})",
                 f"B: {self.b.run_id} ({self.b.status}, start {self.b.plan_start_date})", ""]
        lines += ["KPIs (B - A):", self.kpis.to_string(float_format=lambda v: f"{v:,.4g}")
                  if not self.kpis.empty else "  (none)", ""]
        added = int((self.batches.index == "added").sum())
        removed = int((self.batches.index == "removed").sum())
        lines.append(f"Plan: {added} batches added, {removed} removed (same product, recipe, "
                     "reactor type, start date and seed count count as unchanged)")
        if not self.batches.empty:
            lines.append(self.batches.to_string())
        if not self.recipe_mix.empty:
            lines += ["", "Batches per recipe:", self.recipe_mix.to_string()]
        lines += ["", f"Inputs: {len(self.inputs)} scenario fields differ"]
        for path, va, vb in self.inputs[:40]:
            lines.append(f"  {path}: {_short(va)} -> {_short(vb)}")
        if len(self.inputs) > 40:
            lines.append(f"  ... and {len(self.inputs) - 40} more")
        return "\n".join(lines)


def _short(value: Any, width: int = 60) -> str:
    text = json.dumps(value, default=str)
    return text if len(text) <= width else text[: width - 3] + "..."


def _flat_kpis(info: RunInfo) -> dict[str, float]:
    """Numeric KPIs of a run as ``metric`` -> value (per product as ``metric:product``)."""
    out: dict[str, float] = {}
    if info.objective_usd is not None:
        out["objective_usd"] = info.objective_usd
    if info.gap is not None:
        out["gap"] = info.gap
    for key, value in (info.kpis or {}).items():
        if key in ("objective", "bound", "gap", "timings", "solve_seconds", "shelf_life_days"):
            continue
        if isinstance(value, int | float) and not isinstance(value, bool):
            out[key] = float(value)
        elif isinstance(value, dict):
            for sub, v in value.items():
                if isinstance(v, int | float) and not isinstance(v, bool):
                    out[f"{key}:{sub}"] = float(v)
    return out


def _kpi_table(a: RunInfo, b: RunInfo) -> pd.DataFrame:
    ka, kb = _flat_kpis(a), _flat_kpis(b)
    metrics = list(dict.fromkeys([*ka, *kb]))
    table = pd.DataFrame(
        {"a": [ka.get(m) for m in metrics], "b": [kb.get(m) for m in metrics]},
        index=pd.Index(metrics, name="metric"), dtype=float,
    )
    delta = table["b"] - table["a"]
    scale = table[["a", "b"]].abs().max(axis=1).clip(lower=1.0)
    table["delta"] = delta.where(delta.abs() > 1e-9 * scale, 0.0)  # solver round-off is no change
    table["delta_pct"] = (100 * table["delta"] / table["a"].abs()).where(table["a"].abs() > 0)
    return table


BATCH_CHANGE_COLUMNS = ["product", "recipe", "reactor_type", "start_date", "end_date",
                        "seed_cells", "product_units"]
"""Columns of :attr:`RunComparison.batches` (one row per whole batch, dates on the calendar)."""


def _batch_keys(info: RunInfo, records: list[dict[str, Any]]) -> pd.DataFrame:
    if not records or not info.plan_start_date:
        return pd.DataFrame(columns=BATCH_CHANGE_COLUMNS)
    batches = records_to_batches(records)
    start = dt.date.fromisoformat(info.plan_start_date)
    grouped = batches.groupby(level=0).agg(
        product=("product", "first"), recipe=("recipe", "first"),
        reactor_type=("reactor_type", "first"), start_day=("start_day", "min"),
        end_day=("end_day", "max"), seed_cells=("seed_cells", "first"),
        product_units=("product_units", "first"),
    )
    grouped["start_date"] = [start + dt.timedelta(days=int(d)) for d in grouped["start_day"]]
    grouped["end_date"] = [start + dt.timedelta(days=int(d)) for d in grouped["end_day"]]
    grouped["seed_cells"] = grouped["seed_cells"].astype(float).map(lambda v: float(f"{v:.6g}"))
    return grouped[BATCH_CHANGE_COLUMNS].reset_index(drop=True)


def _batch_changes(a: pd.DataFrame, b: pd.DataFrame) -> pd.DataFrame:
    key = ["product", "recipe", "reactor_type", "start_date", "seed_cells"]
    a = a.assign(_n=a.groupby(key).cumcount()) if len(a) else a.assign(_n=[])
    b = b.assign(_n=b.groupby(key).cumcount()) if len(b) else b.assign(_n=[])
    merged = a.merge(b, on=[*key, "_n"], how="outer", suffixes=("_a", "_b"), indicator=True)
    removed = merged[merged["_merge"] == "left_only"]
    added = merged[merged["_merge"] == "right_only"]
    rows = []
    for change, frame, side in (("removed", removed, "_a"), ("added", added, "_b")):
        for rec in frame.to_dict("records"):
            rows.append({
                "change": change, **{k: rec[k] for k in key},
                "end_date": rec[f"end_date{side}"], "product_units": rec[f"product_units{side}"],
            })
    if not rows:
        return pd.DataFrame(columns=BATCH_CHANGE_COLUMNS, index=pd.Index([], name="change"))
    out = pd.DataFrame(rows).set_index("change")
    return out[BATCH_CHANGE_COLUMNS].sort_values(["start_date", "product"], kind="stable")


def _recipe_mix(a: pd.DataFrame, b: pd.DataFrame) -> pd.DataFrame:
    ca = a["recipe"].value_counts() if len(a) else pd.Series(dtype=int)
    cb = b["recipe"].value_counts() if len(b) else pd.Series(dtype=int)
    mix = pd.DataFrame({"a": ca, "b": cb}).fillna(0).astype(int)
    mix.index.name = "recipe"
    mix["delta"] = mix["b"] - mix["a"]
    return mix.sort_index()


def _diff(a: Any, b: Any, path: str = "") -> list[tuple[str, Any, Any]]:
    if isinstance(a, dict) and isinstance(b, dict):
        out = []
        for key in dict.fromkeys([*a, *b]):
            sub = f"{path}.{key}" if path else str(key)
            out += _diff(a.get(key), b.get(key), sub)
        return out
    if (
        isinstance(a, list) and isinstance(b, list) and len(a) == len(b)
        and not path.endswith(("records", "rows"))
    ):
        out = []
        for i, (va, vb) in enumerate(zip(a, b, strict=True)):
            out += _diff(va, vb, f"{path}.{i}")
        return out
    if a == b:
        return []
    if path.endswith(("records", "rows")) and isinstance(a, list) and isinstance(b, list):
        return [(path, f"{len(a)} rows", f"{len(b)} rows (contents differ)")]
    return [(path, a, b)]


def compare_runs(store: RunStore, run_a: str, run_b: str) -> RunComparison:
    """Compare two runs of ``store`` (ids or unique id prefixes)."""
    a, b = store.get(run_a), store.get(run_b)
    ba = _batch_keys(a, store.batches(a.run_id))
    bb = _batch_keys(b, store.batches(b.run_id))
    return RunComparison(
        a=a, b=b, kpis=_kpi_table(a, b), batches=_batch_changes(ba, bb),
        recipe_mix=_recipe_mix(ba, bb),
        inputs=_diff(store.scenario(a.run_id) or {}, store.scenario(b.run_id) or {}),
    )

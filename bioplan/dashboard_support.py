"""UI-agnostic logic behind the dashboard: scenario tables for editing, uploads, downloads, comparisons.

Nothing here imports Streamlit, so it is tested directly and reusable from notebooks. A scenario is
edited as a raw mapping (``Scenario.model_dump(mode="json")``) split into small tables; edits go back
through :func:`bioplan.scenario.scenario_from_dict`, the same validation the CLI uses, and a failed
validation never replaces the last valid scenario (that is the caller's rule; these functions never
mutate their inputs).
"""

from __future__ import annotations

import copy
import datetime as dt
import io
import json
import math
import re
import tempfile
import zipfile
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pandas as pd

from bioplan.errors import BioplanError, InputError

if TYPE_CHECKING:
    from bioplan.results import Plan
    from bioplan.scenario import Scenario

# ---- errors beside the field ---------------------------------------------------------------------


@dataclass(frozen=True)
class FieldProblem:
    """One validation problem: ``field`` is a dotted path (``reactors.rocking-50L.turnaround_days``)."""

    field: str
    message: str

    @property
    def section(self) -> str:
        """The top-level scenario section the field belongs to (``reactors``, ``demand`` ...)."""
        return self.field.split(".", 1)[0] if self.field else ""


_BULLET = re.compile(r"^\s*-\s+(?P<field>[^:]+):\s+(?P<msg>.*)$")


def field_problems(err: BioplanError) -> list[FieldProblem]:
    """Split an :class:`InputError` (possibly a bulleted multi-problem one) into field problems."""
    fix = f" Fix: {err.fix}" if err.fix else ""
    bullets = [m for line in err.message.splitlines() if (m := _BULLET.match(line))]
    if bullets:
        return [FieldProblem(m["field"].strip(), m["msg"].strip()) for m in bullets]
    return [FieldProblem(err.field or "", f"{err.message.rstrip('.')}.{fix}" if fix else err.message)]


# ---- the scenario as editable tables ---------------------------------------------------------------


def scenario_raw(scenario: Scenario) -> dict[str, Any]:
    """The scenario as a plain JSON-able mapping (what :func:`scenario_from_dict` accepts)."""
    return json.loads(scenario.model_dump_json())


def _join(values: Any) -> str:
    return ", ".join(str(v) for v in values or [])


def _split(text: Any) -> list[str]:
    if text is None or (isinstance(text, float) and math.isnan(text)):
        return []
    return [part.strip() for part in str(text).split(",") if part.strip()]


def _num(value: Any) -> Any:
    """Cell value to a plain Python value; empty cells become None."""
    if value is None:
        return None
    if isinstance(value, float) and math.isnan(value):
        return None
    if value is pd.NaT:
        return None
    if hasattr(value, "item"):
        return value.item()
    return value


def raw_value(raw: Mapping[str, Any], path: str) -> Any:
    """The value at a dotted path of a raw scenario mapping (None when absent)."""
    node: Any = raw
    for key in path.split("."):
        if not isinstance(node, Mapping) or key not in node:
            return None
        node = node[key]
    return node


def as_date(value: Any, fallback: dt.date) -> dt.date:
    """An ISO date string (or date) as a date; ``fallback`` when missing or invalid."""
    if isinstance(value, dt.date):
        return value
    try:
        return dt.date.fromisoformat(str(value))
    except ValueError:
        return fallback


def demand_frame(raw: Mapping[str, Any]) -> pd.DataFrame:
    """Demand records: columns ``date`` (datetime.date), ``product``, ``units``."""
    records = raw.get("demand", {}).get("records", [])
    frame = pd.DataFrame(records, columns=["date", "product", "units"])
    frame["date"] = pd.to_datetime(frame["date"]).dt.date
    frame["units"] = frame["units"].astype(float)
    return frame


REACTOR_COLUMNS = [
    "working_volume_min_L",
    "working_volume_max_L",
    "units_owned",
    "max_additional_units",
    "acquisition",
    "capital_cost_usd_per_unit_day",
    "operating_cost_usd_per_day",
    "turnaround_days",
    "vessel_classes",
]


def reactors_frame(raw: Mapping[str, Any]) -> pd.DataFrame:
    """One row per reactor type (index ``reactor_type``); ``vessel_classes`` comma-separated."""
    rows = []
    for name, spec in raw.get("reactors", {}).items():
        row = {"reactor_type": name, **{c: spec.get(c) for c in REACTOR_COLUMNS}}
        row["vessel_classes"] = _join(spec.get("vessel_classes"))
        rows.append(row)
    return pd.DataFrame(rows, columns=["reactor_type", *REACTOR_COLUMNS]).set_index("reactor_type")


PRODUCT_COLUMNS = [
    "cells_per_unit",
    "shelf_life_days",
    "release_delay_days",
    "shortage_penalty_usd_per_unit",
    "expiry_cost_usd_per_unit",
    "min_service_level",
    "storage_capacity_units",
    "initial_inventory_units",
]


def products_frame(raw: Mapping[str, Any]) -> pd.DataFrame:
    """One row per product (index ``product``)."""
    rows = [{"product": name, **{c: spec.get(c) for c in PRODUCT_COLUMNS}}
            for name, spec in raw.get("products", {}).items()]
    return pd.DataFrame(rows, columns=["product", *PRODUCT_COLUMNS]).set_index("product")


SOURCE_COLUMNS = ["cells_per_lot", "lots_per_week", "cost_usd_per_lot", "cards"]


def sources_frame(raw: Mapping[str, Any]) -> pd.DataFrame:
    """Starting material, one row per source (index ``source``); ``cards`` comma-separated."""
    rows = []
    for name, spec in raw.get("sources", {}).items():
        rows.append({"source": name, "cells_per_lot": spec.get("cells_per_lot"),
                     "lots_per_week": spec.get("lots_per_week"),
                     "cost_usd_per_lot": spec.get("cost_usd_per_lot"),
                     "cards": _join(spec.get("cards"))})
    frame = pd.DataFrame(rows, columns=["source", *SOURCE_COLUMNS]).set_index("source")
    frame["lots_per_week"] = frame["lots_per_week"].astype(float)
    return frame


def cytokines_frame(raw: Mapping[str, Any]) -> pd.DataFrame:
    """Cytokine prices: columns ``cytokine``, ``unit`` (``mg`` or ``kU``), ``price_usd``."""
    media = raw.get("media", {})
    rows = [{"cytokine": k, "unit": "mg", "price_usd": v}
            for k, v in media.get("cytokine_price_usd_per_mg", {}).items()]
    rows += [{"cytokine": k, "unit": "kU", "price_usd": v}
             for k, v in media.get("cytokine_price_usd_per_kU", {}).items()]
    return pd.DataFrame(rows, columns=["cytokine", "unit", "price_usd"])


def recipe_options_frame(raw: Mapping[str, Any]) -> pd.DataFrame:
    """Recipe options: one row per (card, setting) with candidate ``values`` comma-separated.

    Cards without variants get one row with an empty ``setting`` (the default protocol only).
    Hand-made recipe tables are not editable here (they are kept as they are).
    """
    rows = []
    for src in raw.get("recipes", []):
        if src.get("card") is None:
            continue
        variants = src.get("variants") or {}
        if not variants:
            rows.append({"card": src["card"], "setting": "", "values": ""})
        for key, values in variants.items():
            rows.append({"card": src["card"], "setting": key, "values": _join(values)})
    return pd.DataFrame(rows, columns=["card", "setting", "values"])


def _float_or_text(text: str) -> Any:
    try:
        return float(text)
    except ValueError:
        return text  # validation reports it against the field


def apply_tables(
    raw: Mapping[str, Any],
    *,
    demand: pd.DataFrame | None = None,
    reactors: pd.DataFrame | None = None,
    products: pd.DataFrame | None = None,
    sources: pd.DataFrame | None = None,
    cytokines: pd.DataFrame | None = None,
    recipe_options: pd.DataFrame | None = None,
    scalars: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """A new raw mapping with the edited tables (and dotted ``scalars``) written in; ``raw`` is
    untouched. Validate the result with :func:`bioplan.scenario.scenario_from_dict`."""
    out = copy.deepcopy(dict(raw))
    if demand is not None:
        recs = []
        for row in demand.to_dict("records"):
            if all(_num(row.get(c)) in (None, "") for c in ("date", "product", "units")):
                continue  # an empty row added in the editor
            date = _num(row.get("date"))
            recs.append({"date": str(date) if date is not None else None,
                         "product": _num(row.get("product")), "units": _num(row.get("units"))})
        section = out.setdefault("demand", {})
        if recs != section.get("records"):
            section["file"] = None  # the records no longer come from that CSV
        section["records"] = recs
    if reactors is not None:
        old = out.get("reactors", {})
        new: dict[str, Any] = {}
        for name, r in reactors.iterrows():
            if not str(name).strip() or str(name) == "nan":
                continue
            spec = dict(old.get(str(name), {}))
            for col in REACTOR_COLUMNS:
                spec[col] = _split(r[col]) if col == "vessel_classes" else _num(r[col])
            new[str(name)] = {k: v for k, v in spec.items() if v is not None or k in old.get(str(name), {})}
        out["reactors"] = new
    if products is not None:
        old = out.get("products", {})
        newp: dict[str, Any] = {}
        for name, r in products.iterrows():
            spec = dict(old.get(str(name), {}))
            for col in PRODUCT_COLUMNS:
                spec[col] = _num(r[col])
            newp[str(name)] = spec
        out["products"] = newp
    if sources is not None:
        news: dict[str, Any] = {}
        for name, r in sources.iterrows():
            if not str(name).strip() or str(name) == "nan":
                continue
            news[str(name)] = {"cells_per_lot": _num(r["cells_per_lot"]),
                               "lots_per_week": _num(r["lots_per_week"]),
                               "cost_usd_per_lot": _num(r["cost_usd_per_lot"]),
                               "cards": _split(r["cards"])}
        out["sources"] = news
    if cytokines is not None:
        media = out.setdefault("media", {})
        per_mg: dict[str, Any] = {}
        per_ku: dict[str, Any] = {}
        for row in cytokines.to_dict("records"):
            name = _num(row.get("cytokine"))
            if not name:
                continue
            target = per_ku if str(row.get("unit")).strip() == "kU" else per_mg
            target[str(name)] = _num(row.get("price_usd"))
        media["cytokine_price_usd_per_mg"] = per_mg
        media["cytokine_price_usd_per_kU"] = per_ku
    if recipe_options is not None:
        by_card: dict[str, dict[str, list[Any]]] = {}
        for row in recipe_options.to_dict("records"):
            card = _num(row.get("card"))
            if not card:
                continue
            variants = by_card.setdefault(str(card), {})
            setting = str(_num(row.get("setting")) or "").strip()
            if setting:
                variants[setting] = [_float_or_text(v) for v in _split(row.get("values"))]
        tables = [src for src in out.get("recipes", []) if src.get("card") is None]
        out["recipes"] = [{"card": c, "variants": v} for c, v in by_card.items()] + tables
    for path, value in (scalars or {}).items():
        node: Any = out
        keys = path.split(".")
        for key in keys[:-1]:
            node = node.setdefault(key, {})
        node[keys[-1]] = value
    return out


# ---- uploads and downloads -------------------------------------------------------------------------


def load_upload(filename: str, data: bytes) -> Scenario:
    """Validate an uploaded scenario: a YAML file, or a zip of one YAML plus its CSV tables.

    Raises :class:`InputError` naming the uploaded file (and the member inside a zip).
    """
    from bioplan.scenario import load_scenario

    with tempfile.TemporaryDirectory(prefix="bioplan-upload-") as tmp:
        root = Path(tmp)
        if filename.lower().endswith(".zip"):
            try:
                with zipfile.ZipFile(io.BytesIO(data)) as zf:
                    for member in zf.namelist():
                        target = (root / member).resolve()
                        if not target.is_relative_to(root.resolve()):
                            raise InputError("zip member escapes the archive", file=filename,
                                             field=member, fix="zip the scenario folder itself")
                    zf.extractall(root)
            except zipfile.BadZipFile:
                raise InputError("not a valid zip archive", file=filename,
                                 fix="upload a .yaml file or a .zip of the scenario folder") from None
            yamls = sorted(p for p in root.rglob("*.y*ml") if "__MACOSX" not in p.parts)
            if len(yamls) != 1:
                raise InputError(
                    f"the zip holds {len(yamls)} YAML files, expected exactly one",
                    file=filename,
                    fix="zip one scenario YAML together with the CSV tables it references",
                )
            path = yamls[0]
        elif filename.lower().endswith((".yaml", ".yml")):
            path = root / Path(filename).name
            path.write_bytes(data)
        else:
            raise InputError("unsupported file type", file=filename,
                             fix="upload a scenario .yaml or a .zip of YAML + CSV files")
        try:
            scenario = load_scenario(path)
        except InputError as err:
            err.file = _upload_name(err.file, root, filename)
            raise InputError(err.message, file=err.file, field=err.field, fix=err.fix) from None
    return scenario


def _upload_name(file: str | None, root: Path, filename: str) -> str:
    """Report paths inside the temporary upload folder by the name the user knows."""
    if not file:
        return filename
    try:
        rel = Path(file).resolve().relative_to(root.resolve())
    except ValueError:
        return file
    return f"{filename}:{rel}" if filename.lower().endswith(".zip") else filename


def scenario_yaml(scenario: Scenario) -> bytes:
    """A self-contained YAML document of the scenario (re-uploadable)."""
    from bioplan.scenario import scenario_to_yaml

    return scenario_to_yaml(scenario).encode("utf-8")


@dataclass(frozen=True)
class PlanFiles:
    """The downloadable outputs of a plan, in memory."""

    xlsx: bytes
    summary_json: bytes
    csv_zip: bytes


def plan_files(plan: Plan) -> PlanFiles:
    """Excel workbook, ``summary.json`` and a zip of every CSV table, via ``Plan.write``."""
    from bioplan.results.export import SUMMARY, WORKBOOK

    with tempfile.TemporaryDirectory(prefix="bioplan-plan-") as tmp:
        out = Path(tmp)
        plan.write(out)
        buf = io.BytesIO()
        with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
            for csv in sorted(out.rglob("*.csv")):
                zf.write(csv, csv.relative_to(out).as_posix())
        return PlanFiles(xlsx=(out / WORKBOOK).read_bytes(),
                         summary_json=(out / SUMMARY).read_bytes(), csv_zip=buf.getvalue())


# ---- solving and comparing -------------------------------------------------------------------------


def solve(scenario: Scenario, time_limit_s: float | None = None, mip_gap: float | None = None,
          marginal_values: bool = False) -> Plan:
    """Plan ``scenario`` (runs in the dashboard's child process; see :mod:`bioplan.solve_job`).

    Marginal values (one re-solve per resource) are off by default: the dashboard is interactive.
    """
    from bioplan.planning import plan

    return plan(scenario, time_limit_s=time_limit_s, mip_gap=mip_gap,
                marginal_values=marginal_values)


def warm_up(scenario: str | None = None) -> None:
    """Import the planner and compute (cache) the recipe tables of ``scenario`` (the built-in
    default when None): what a standby solve worker does before its first job."""
    import bioplan.planning  # noqa: F401  (Pyomo, HiGHS, pandas)
    from bioplan.scenario import load_scenario

    load_scenario(scenario).recipe_table()


_SKIP_SUMMARY = {"message", "currency", "shelf_life_days", "timings", "scenario"}


def flat_kpis(plan_or_summary: Plan | Mapping[str, Any]) -> dict[str, Any]:
    """A plan's ``summary()`` (or a stored ``summary.json`` mapping) flattened to
    ``name -> scalar`` with dotted names (``cost_per_delivered_unit.rbc``), for comparisons."""
    summary = plan_or_summary if isinstance(plan_or_summary, Mapping) else plan_or_summary.summary()
    out: dict[str, Any] = {}
    for key, value in summary.items():
        if key in _SKIP_SUMMARY:
            continue
        if isinstance(value, Mapping):
            for sub, v in value.items():
                out[f"{key}.{sub}"] = _num(v)
        else:
            out[key] = _num(value)
    return out


def compare_kpis(plans: Mapping[str, Plan | Mapping[str, Any]]) -> pd.DataFrame:
    """Numeric KPIs of several plans side by side, each later plan with its delta to the first.

    Values may be :class:`Plan` objects or ``summary.json`` mappings (e.g. from the run store).
    Index ``kpi``; columns: one per plan, then ``Δ <name>`` for every plan after the first.
    Text KPIs (the status) are left out: see :func:`compare_status`.
    """
    flat = {name: flat_kpis(p) for name, p in plans.items()}
    frame = pd.DataFrame(flat).apply(pd.to_numeric, errors="coerce").astype(float)
    frame = frame.dropna(how="all")
    frame.index.name = "kpi"
    names = list(flat)
    for name in names[1:]:
        frame[f"Δ {name}"] = frame[name] - frame[names[0]]
    return frame


def kpi_unit(kpi: str) -> str:
    """The unit of a flattened KPI name from :func:`compare_kpis` (``""`` when it has none)."""
    head = kpi.split(".", 1)[0]
    if head in ("objective", "bound", "cost_breakdown"):
        return "USD"
    if head == "cost_per_delivered_unit":
        return "USD/unit"
    if head in ("gap", "service_level"):
        return "fraction"
    if head.startswith("units_"):
        return "units"
    if head == "reactors_added":
        return "reactors"
    if head.endswith("_seconds"):
        return "s"
    return ""


def compare_status(plans: Mapping[str, Plan | Mapping[str, Any]]) -> dict[str, str]:
    """Status of each plan (``optimal``, ``feasible`` ...)."""
    return {name: str(flat_kpis(p).get("status", "?")) for name, p in plans.items()}


UNIT_NAMES = {"rbc": "RBC unit", "platelet": "platelet dose"}
"""What one transfusion unit of each product is called."""


def plan_overview(plan: Plan) -> list[tuple[str, str, str]]:
    """Headline figures as ``(label, formatted value, help)``: status and gap, total cost, cost per
    delivered unit by product, service level, expired units, reactors added."""
    rows: list[tuple[str, str, str]] = []
    rows.append(("Status", str(plan.status), plan.message or "Solver outcome."))
    gap = "—" if plan.gap is None or not math.isfinite(plan.gap) else f"{plan.gap:.2%}"
    rows.append(("Gap", gap, "Relative MIP gap: how far the plan's cost may be above the optimum."))
    if not plan.has_solution:
        return rows
    rows.append(("Total cost", money(plan.objective_usd), "Objective: every cost term summed [USD]."))
    kpis = plan.kpis()
    demanded = float(kpis["units_demanded"].sum())
    delivered = float(kpis["units_delivered"].sum())
    level = delivered / demanded if demanded > 0 else float("nan")
    detail = ", ".join(f"{p} {v:.1%}" for p, v in kpis["service_level"].dropna().items())
    rows.append(("Service level", "—" if math.isnan(level) else f"{level:.1%}",
                 f"Delivered / demanded units over the horizon ({detail})."))
    for product, row in kpis.iterrows():
        unit = UNIT_NAMES.get(str(product), f"{product} unit")
        rows.append((f"Cost / {unit}", money(row["cost_usd_per_delivered_unit"]),
                     f"Allocated cost per delivered {unit} [USD/unit]."))
    rows.append(("Expired units", f"{float(kpis['units_expired'].sum()):,.1f}",
                 "Units that reached the end of their shelf life undelivered."))
    added = int(plan.capacity["units_added"].sum()) if not plan.capacity.empty else 0
    rows.append(("Reactors added", f"{added}", "Units bought or rented on top of those owned."))
    return rows


def money(value: Any) -> str:
    """USD for display: ``$1.23M``, ``$45.6k``, ``$789``; ``—`` when missing."""
    if value is None or (isinstance(value, float) and not math.isfinite(value)):
        return "—"
    value = float(value)
    if abs(value) >= 1e6:
        return f"${value / 1e6:,.2f}M"
    if abs(value) >= 1e4:
        return f"${value / 1e3:,.1f}k"
    return f"${value:,.0f}"


def kpi_frame(plan: Plan) -> pd.DataFrame:
    """Per-product KPI table for display (empty when the plan has no solution)."""
    if not plan.has_solution:
        return pd.DataFrame()
    return plan.kpis()


def cost_table(plan: Plan) -> pd.DataFrame:
    """Cost terms [USD] with their share of the total, then the ``total`` row, then the cytokine
    sub-rows (``cytokine:<F>``, part of ``cytokines``: their shares do not add to the terms')."""
    from bioplan.results import COST_TERMS

    costs = plan.cost_breakdown.astype(float)
    main = costs[[t for t in costs.index if t in COST_TERMS]]
    subs = costs[[t for t in costs.index if t not in COST_TERMS]]
    total = float(main.sum())
    frame = pd.concat([main, pd.Series({"total": total}), subs]).to_frame("usd")
    frame["share"] = frame["usd"] / total if total else float("nan")
    frame.index.name = "term"
    return frame


def validate_raw(raw: Mapping[str, Any]) -> Scenario:
    """Validate an edited scenario mapping with the CLI's checks (schema, cross-references,
    recipe tables); raises :class:`InputError` (possibly listing several field problems)."""
    from bioplan.scenario import scenario_from_dict

    return scenario_from_dict(raw)


# ---- biology ---------------------------------------------------------------------------------------


def card_settings_schema(card: Any) -> list[dict[str, Any]]:
    """Editable settings of a yield card's default protocol, one row per (phase, setting):
    ``key`` (dotted, as ``simulate`` takes it), ``phase``, ``label``, ``unit``, ``default``."""
    rows: list[dict[str, Any]] = []
    for ph in card.protocol:
        rows.append({"key": f"{ph.name}.days", "phase": ph.name, "label": "days", "unit": "d",
                     "default": float(ph.days)})
        rows.append({"key": f"{ph.name}.density_setpoint", "phase": ph.name,
                     "label": "density set-point", "unit": "cells/mL",
                     "default": float(ph.density_setpoint_cells_per_mL.value)})
        for factor, conc in ph.medium.items():
            rows.append({"key": f"{ph.name}.{factor}", "phase": ph.name, "label": factor,
                         "unit": card.factors[factor].unit, "default": float(conc.value)})
    return rows


def unit_economics(summary: Mapping[str, Any], scenario: Scenario | None) -> dict[str, Any]:
    """Per transfusion unit: seed cells, medium [L], medium cost, cytokine cost [USD] at the
    scenario's prices (cytokines without a price count as 0 and are listed in ``unpriced``)."""
    media = scenario.media if scenario is not None else None
    basal = float(media.basal_price_usd_per_L) if media else float("nan")
    cyto = 0.0
    unpriced: list[str] = []
    for amounts, prices in (
        (summary.get("cytokine_mg_per_unit", {}), media.cytokine_price_usd_per_mg if media else {}),
        (summary.get("cytokine_kU_per_unit", {}), media.cytokine_price_usd_per_kU if media else {}),
    ):
        for factor, amount in amounts.items():  # [mg] or [kU] per unit, priced per mg or per kU
            price = prices.get(factor)
            if price is None:
                unpriced.append(factor)
            else:
                cyto += amount * price
    medium_l = float(summary["medium_L_per_unit"])
    return {
        "seed_cells_per_unit": float(summary["seed_cells_per_unit"]),
        "product_cells_per_seed_cell": float(summary["product_cells_per_seed_cell"]),
        "medium_L_per_unit": medium_l,
        "medium_usd_per_unit": medium_l * basal,
        "cytokine_usd_per_unit": cyto,
        "unpriced": unpriced,
    }


# ---- stored runs (Compare page) --------------------------------------------------------------------


@dataclass(frozen=True)
class StoredRun:
    """A finished run from the run store, ready to compare: its KPIs (``summary.json``-like mapping)
    and, when it has a plan, a schedule-only :class:`Plan` (batches + scenario) for the Gantt chart."""

    run_id: str
    label: str
    kpis: dict[str, Any]
    plan: Plan | None


def list_stored_runs(url: str | None, limit: int = 50) -> list[tuple[str, str]]:
    """``(run_id, label)`` of the newest runs with a plan in the store at ``url`` (default store when
    None). Raises :class:`InputError` when the store cannot be opened."""
    from bioplan.runs import RunStore, resolve_store_url
    from bioplan.runs.schema import PLAN_STATUSES

    store = RunStore(resolve_store_url(url), create=False)
    try:
        runs = [r for r in store.list_runs(limit=limit) if r.status in PLAN_STATUSES]
    finally:
        store.dispose()
    # the full run id (what `bioplan show` takes): a prefix repeats for runs of the same day
    return [(r.run_id, f"{r.run_id} · {r.started_at:%Y-%m-%d %H:%M:%S} UTC · {r.status}")
            for r in runs]


def load_stored_run(url: str | None, run_id: str) -> StoredRun:
    """KPIs and schedule of one stored run."""
    from bioplan.results import Plan, PlanStatus
    from bioplan.runs import RunStore, resolve_store_url
    from bioplan.runs.rolling import records_to_batches
    from bioplan.scenario import Scenario

    store = RunStore(resolve_store_url(url), create=False)
    try:
        info = store.get(run_id)
        kpis = dict(info.kpis)  # a copy: the defaults below must not touch the RunInfo
        kpis.setdefault("objective", info.objective_usd)
        kpis.setdefault("gap", info.gap)
        kpis.setdefault("status", info.status)
        plan = None
        raw = store.scenario(info.run_id)
        records = store.batches(info.run_id)
        if raw:
            scenario = Scenario.model_validate(raw)  # a JSON column: already parsed
            plan = Plan(scenario=scenario, status=PlanStatus(info.status),
                        objective_usd=info.objective_usd, gap=info.gap,
                        batches=records_to_batches(records))
    finally:
        store.dispose()
    label = f"run {info.run_id}"  # unique: the Compare table and charts are keyed by label
    return StoredRun(info.run_id, label, kpis, plan)

"""Robust plans in unattended runs: the config's ``robust:`` field and the report's robust section.

A run config with ``robust:`` (see :mod:`bioplan.robust.settings`) plans with
``plan(..., robust=...)``: the deterministic plan first, then the two-stage stochastic plan beside
it. The merged settings are part of the run's options, so they are hashed into the inputs (a run
with other samples or targets is not "identical") and stored with the run. The HTML report of a
robust plan gains what robustness costs and buys (``plan.robust``), both plans' out-of-sample
service, and the stock fan and service histogram of a fresh out-of-sample evaluation.
"""

from __future__ import annotations

import html
import logging
from typing import TYPE_CHECKING, Any

import pandas as pd

from bioplan.robust.kept import RECORD_KEY
from bioplan.robust.settings import merged_uncertainty, uncertainty_record

if TYPE_CHECKING:
    import plotly.graph_objects as go

    from bioplan.results import Plan
    from bioplan.runs.config import RunConfig
    from bioplan.scenario import Scenario
    from bioplan.scenario.schema import Uncertainty

log = logging.getLogger(__name__)

OPTION_KEY = "robust"
"""Key of the merged settings in a run's options (absent for deterministic runs)."""
REPORT_SAMPLES = 200
"""Fresh samples behind the report's stock fan and service histogram."""

_FACTS = (
    ("samples", "yield samples K"), ("engine", "engine"),
    ("yield_uncertainty", "yield uncertainty drawn (both, lot or fit)"),
    ("start", "start of the program"),
    ("service_level", "service level P"), ("confidence", "in a share C of the samples"),
    ("risk", "risk measure"), ("expected_cost_usd", "expected cost in sample [USD]"),
    ("bound_usd", "proven bound [USD]"), ("gap", "gap"),
    ("deterministic_objective_usd", "deterministic plan as planned [USD]"),
    ("price_of_robustness_usd", "price of robustness [USD]"),
    ("vss_usd", "value of the stochastic solution (VSS) [USD]"), ("vss_se_usd", "VSS standard error [USD]"),
    ("evpi_usd", "expected value of perfect information (EVPI) [USD]"),
    ("evpi_se_usd", "EVPI standard error [USD]"),
    ("expected_cost_out_of_sample_usd", "robust plan, expected cost out of sample [USD]"),
    ("deterministic_expected_cost_out_of_sample_usd",
     "deterministic plan, expected cost out of sample [USD]"),
)
"""``plan.robust`` entries shown in the report, with their labels."""


def robust_options(config: RunConfig, scenario: Scenario) -> dict[str, Any]:
    """``{"robust": settings}`` when the config asks for robust plans, else ``{}`` (so the inputs
    hash of a deterministic run is what it was before robust runs existed)."""
    file = str(config.path) if config.path is not None else None
    unc = merged_uncertainty(scenario.uncertainty, config.robust, file=file)
    return {} if unc is None else {OPTION_KEY: uncertainty_record(unc)}


def requested_uncertainty(options: dict[str, Any]) -> Uncertainty | None:
    """The robust settings stored in a run's options (None: a deterministic run)."""
    from bioplan.scenario.schema import Uncertainty

    record = options.get(OPTION_KEY)
    return None if record is None else Uncertainty.model_validate(record)


def _shown(value: Any) -> str:
    if value is None:
        return "–"
    if isinstance(value, float):
        return f"{value:,.0f}" if abs(value) >= 1000 else f"{value:.4g}"
    return str(value)


def robust_tables(plan: Plan) -> list[str]:
    """HTML of the report's robust section (empty for a deterministic plan)."""
    robust = plan.robust
    if not robust:
        return []
    facts = pd.DataFrame({"value": [_shown(robust.get(k)) for k, _ in _FACTS]},
                         index=pd.Index([label for _, label in _FACTS], name="robust plan"))
    parts = [f"<h2>Robust plan ({html.escape(str(robust.get('samples')))} yield samples)</h2>",
             facts.to_html(border=0, escape=True)]
    service = robust.get("service") or {}
    if service:
        table = pd.DataFrame(service).T.rename_axis("product")
        table = table.rename(columns={
            "robust_p10": "robust P10", "deterministic_p10": "deterministic P10",
            "robust_mean": "robust mean", "deterministic_mean": "deterministic mean"})
        shown = table.map(lambda x: "–" if x is None or pd.isna(x) else f"{float(x):.1%}")
        samples = robust.get("evaluation_samples")
        parts += [f"<h3>Service out of sample ({html.escape(str(samples))} fresh samples)</h3>",
                  shown.to_html(border=0, escape=True)]
    return parts + _kept_table(robust)


SAMPLES_COLUMN = "robust_samples"
"""Column of a robust run's forecasts.csv: how each kept batch entered the yield samples."""


def robust_samples_column(forecasts: pd.DataFrame, plan: Plan) -> pd.DataFrame:
    """``forecasts`` with :data:`SAMPLES_COLUMN` for a robust plan: ``forecast spread`` for the
    kept batches drawn from their own forecast in every sample (:mod:`bioplan.robust.kept`),
    ``as planned`` for the others (no spread: harvested, lost, no card); unchanged otherwise."""
    if not plan.robust:
        return forecasts
    drawn = set(plan.robust.get(RECORD_KEY) or {})
    labels = ["forecast spread" if str(b) in drawn else "as planned" for b in forecasts.index]
    return forecasts.assign(**{SAMPLES_COLUMN: labels})


def _kept_table(robust: dict[str, Any]) -> list[str]:
    """HTML of the kept batches a robust plan drew from their forecasts."""
    kept = robust.get(RECORD_KEY) or {}
    if not kept:
        return []
    table = pd.DataFrame.from_dict(kept, orient="index").rename_axis("batch_id")
    shown = table[["product", "units", "forecast_p10", "forecast_p50", "forecast_p90", "log_sd"]]
    return ["<h3>Kept batches drawn from their forecasts in every sample [units]</h3>",
            shown.to_html(border=0, escape=True, float_format=lambda x: f"{x:.3g}")]


def robust_figures(plan: Plan) -> list[tuple[str, go.Figure]]:
    """The stock fan (P10–P90) and the service histogram of the plan over fresh samples (none
    for a deterministic plan)."""
    if not plan.robust or not plan.has_solution:
        return []
    from bioplan.robust.evaluate import evaluate
    from bioplan.robust.metrics import FRESH_SEED_OFFSET
    from bioplan.robust_charts import service_histogram_figure, stock_fan_figure

    seed = int(plan.robust.get("seed") or 0) + FRESH_SEED_OFFSET
    ev = evaluate(plan, samples=REPORT_SAMPLES, seed=seed)  # the program's own yield uncertainty
    return [("Stock by day over fresh yield samples (P10–P90)", stock_fan_figure(ev)),
            ("Service level over fresh yield samples", service_histogram_figure(ev))]

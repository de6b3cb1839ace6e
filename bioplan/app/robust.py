"""Robust planning in the dashboard: the ``Uncertainty`` of the Plan page's Robust expander, the
robust summary as metric tiles and service rows, and the out-of-sample evaluation behind the
stock fan chart and the service histogram (``bioplan.robust_charts``)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import pandas as pd

from bioplan.scenario.schema import YIELD_UNCERTAINTY, Uncertainty

if TYPE_CHECKING:
    from bioplan.results import Plan
    from bioplan.results.evaluation import Evaluation

EVALUATION_SAMPLES = 500
"""Yield samples drawn for the robust result charts [-] (the dispatch is vectorised: < 1 s)."""


def uncertainty(scenario: Any, samples: int, service_pct: float, confidence_pct: float,
                kind: str | None = None) -> Uncertainty:
    """The scenario's ``uncertainty:`` block (its defaults if none) with ``samples`` K, when
    ``service_pct`` > 0 the chance constraint "service >= P in >= C of the samples" [%], and
    ``kind`` (``both``, ``lot``, ``fit``) the yield uncertainty drawn, if given.
    Raises pydantic's ValidationError on an inconsistent block."""
    base = getattr(scenario, "uncertainty", None) or Uncertainty()
    raw = base.model_dump()
    raw["samples"] = int(samples)
    if kind is not None:
        raw["yield_uncertainty"] = kind
    if service_pct > 0:
        raw.update(service_level=service_pct / 100, confidence=confidence_pct / 100, risk=None)
    return Uncertainty.model_validate(raw)


def _usd(value: Any, se: Any = None) -> str:
    if value is None:
        return "—"
    return f"${value:,.0f}" + (f" ± ${se:,.0f}" if se is not None else "")


def summary(robust: dict[str, Any]) -> list[tuple[str, str, str]]:
    """(name, value, help) tiles of ``plan.robust`` (see :mod:`bioplan.robust.metrics`)."""
    gap = robust.get("gap")
    return [
        ("Samples", f"{robust.get('samples')} ({robust.get('engine')})",
         "Yield samples K of the stochastic program and the engine that solved it; they draw "
         f"the {YIELD_UNCERTAINTY.get(str(robust.get('yield_uncertainty', 'both')), '')}."),
        ("Expected cost", _usd(robust.get("expected_cost_usd")),
         f"Over the program's samples; MIP gap {gap:.2%}." if gap is not None else
         "Over the program's samples."),
        ("Price of robustness", _usd(robust.get("price_of_robustness_usd")),
         "Robust plan's cost as planned − the deterministic plan's (what the extra batches cost "
         "if yields come in nominal)."),
        ("VSS", _usd(robust.get("vss_usd"), robust.get("vss_se_usd")),
         "Value of the stochastic solution: E[cost of the deterministic plan] − E[cost of the "
         "robust plan] on fresh samples, ± its standard error."),
        ("EVPI", _usd(robust.get("evpi_usd"), robust.get("evpi_se_usd")),
         "Expected value of perfect information: E[robust cost] − E[wait-and-see cost], ± its "
         "standard error."),
    ]


def service_frame(robust: dict[str, Any]) -> pd.DataFrame:
    """Out-of-sample service (mean, P10) of the robust and the deterministic plan, by product."""
    frame = pd.DataFrame.from_dict(robust.get("service") or {}, orient="index")
    frame.index.name = "product"
    return frame


def evaluation(plan: Plan, samples: int = EVALUATION_SAMPLES) -> Evaluation:
    """``plan`` judged on ``samples`` fresh yield draws (the scenario's ``yield_cv``; a robust
    plan's own yield uncertainty, see :func:`~bioplan.robust.evaluate.evaluate`)."""
    from bioplan.robust.evaluate import evaluate

    return evaluate(plan, samples=samples, seed=1)

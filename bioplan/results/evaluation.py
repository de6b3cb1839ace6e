"""The out-of-sample evaluation of a plan: service, waste and cost over sampled yields.

``Evaluation`` holds one row per (sample, product) and one per sample, plus the stock fan by day;
the summaries (``products()``, ``cost_summary()``, ``to_json()``) are what the CLI, the report and
the dashboard show. Percentiles are of the sample distribution (``P10`` service = the level that
nine samples in ten reach or beat: what a blood bank feels in a bad week).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from bioplan.results.kpis import finite_or_none

SERVICE_QUANTILES = (5, 10, 50)
"""Percentiles reported for the service level [%]: the low tail matters."""
UNIT_QUANTILES = (5, 10, 50, 90, 95)
"""Percentiles reported for short and expired units [%]."""
COST_QUANTILES = (5, 50, 95)
"""Percentiles reported for the total cost [%]."""
PER_SAMPLE_COLUMNS = ["demanded_units", "delivered_units", "short_units", "expired_units",
                      "discarded_units", "service_level"]
"""Columns of ``Evaluation.per_sample`` (index ``sample``, ``product``): units [unit] and the
service level delivered / demanded [-]; ``expired_units`` counts every wasted unit (expired inside
the horizon, or discarded for lack of storage), ``discarded_units`` the latter alone."""


def _stats(values: np.ndarray, quantiles: tuple[int, ...]) -> dict[str, float | None]:
    """Mean, the percentiles ``p<q>`` and the standard error of the mean of ``values``."""
    finite = values[np.isfinite(values)]
    if finite.size == 0:
        return {"mean": None, **{f"p{q}": None for q in quantiles}}
    out: dict[str, float | None] = {"mean": float(finite.mean())}
    for q in quantiles:
        out[f"p{q}"] = float(np.percentile(finite, q))
    return out


def standard_error(values: np.ndarray) -> float | None:
    """Standard error of the sample mean [same unit as ``values``] (None below two samples)."""
    finite = values[np.isfinite(values)]
    if finite.size < 2:
        return None
    return float(finite.std(ddof=1) / math.sqrt(finite.size))


@dataclass
class Evaluation:
    """A plan judged out of sample: its decisions fixed, each sample's product re-dispatched."""

    samples: int
    """Number of yield realisations N."""
    seed: int
    """Seed of the draws (same seed, same plan -> the same numbers)."""
    variability: bool
    """False: every batch yields its nominal output (the plan as planned)."""
    per_sample: pd.DataFrame
    """Index (``sample``, ``product``), columns ``PER_SAMPLE_COLUMNS``."""
    costs: pd.DataFrame
    """Index ``sample``: ``first_stage_usd`` (what the batches and reactors cost, fixed),
    ``recourse_usd`` (shortage penalty + waste of that sample) and ``cost_usd`` (their sum) [USD]."""
    stock: pd.DataFrame
    """Index (``day``, ``product``): end-of-day usable stock ``mean``, ``p10``, ``p50``, ``p90`` [unit]."""
    factors: pd.DataFrame = field(default_factory=pd.DataFrame)
    """Index ``sample``, one column per ``batch_id``: realised / nominal yield [-]."""
    timings: dict[str, float] = field(default_factory=dict)
    """Seconds spent drawing yields (``sample``) and re-dispatching (``dispatch``)."""
    uncertainty: str = "both"
    """What the draws took from the cards: ``both`` (lot-to-lot spread and calibration
    uncertainty), ``lot`` or ``fit``."""

    @property
    def product_names(self) -> list[str]:
        return [str(p) for p in self.per_sample.index.get_level_values("product").unique()]

    def product_frame(self, product: str) -> pd.DataFrame:
        """The per-sample rows of one product (index ``sample``)."""
        frame: pd.DataFrame = self.per_sample.xs(product, level="product")  # type: ignore[assignment]
        return frame

    def product_stats(self, product: str) -> dict[str, dict[str, float | None]]:
        """Service level, short and expired units of one product: mean and percentiles."""
        rows = self.product_frame(product)
        return {
            "service_level": _stats(rows["service_level"].to_numpy(float), SERVICE_QUANTILES),
            "short_units": _stats(rows["short_units"].to_numpy(float), UNIT_QUANTILES),
            "expired_units": _stats(rows["expired_units"].to_numpy(float), UNIT_QUANTILES),
        }

    def products(self) -> pd.DataFrame:
        """Per product (index ``product``): ``<kpi>_<stat>`` columns for the service level
        [-], short units and expired units [unit], and the service's standard error."""
        rows = {}
        for p in self.product_names:
            flat = {f"{kpi}_{k}": v for kpi, stats in self.product_stats(p).items()
                    for k, v in stats.items()}
            flat["service_level_se"] = standard_error(
                self.product_frame(p)["service_level"].to_numpy(float))
            rows[p] = flat
        frame = pd.DataFrame.from_dict(rows, orient="index").astype(float)
        frame.index.name = "product"
        return frame

    def cost_summary(self) -> dict[str, float | None]:
        """Total cost [USD]: mean, P5, P50, P95 and the standard error of the mean (``se``)."""
        values = self.costs["cost_usd"].to_numpy(float)
        return {**_stats(values, COST_QUANTILES), "se": standard_error(values)}

    def to_json(self) -> dict[str, Any]:
        """``{"samples", "seed", "products": {p: {"service_level", "short_units",
        "expired_units"}}, "cost_usd": {"mean", "p5", "p50", "p95"}}`` (JSON-safe)."""
        cost = self.cost_summary()
        return {
            "samples": self.samples,
            "seed": self.seed,
            "products": {p: {k: {s: finite_or_none(v) for s, v in stats.items()}
                             for k, stats in self.product_stats(p).items()}
                         for p in self.product_names},
            "cost_usd": {k: finite_or_none(cost[k]) for k in ("mean", "p5", "p50", "p95")},
        }


def json_safe(value: Any) -> Any:
    """``value`` with floats JSON-safe (NaN, inf -> None) and numpy scalars as Python numbers,
    through nested dicts and lists."""
    if isinstance(value, dict):
        return {str(k): json_safe(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [json_safe(v) for v in value]
    if isinstance(value, np.integer):
        return int(value)
    if isinstance(value, float | np.floating):
        return finite_or_none(float(value))
    return value

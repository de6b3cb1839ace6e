"""Sweep files: points of grids and Monte-Carlo samples, validation messages, summaries."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from bioplan.errors import InputError
from bioplan.sweeps import load_sweep, spec_from_dict, summarise
from bioplan.sweeps.spec import Distribution


def test_grid_crossed_with_samples_is_deterministic() -> None:
    data = {
        "grid": {"demand.scale": [0.8, 1.2], "reactors.r.units_owned": [1, 2, 3]},
        "samples": {"n": 4, "seed": 3, "parameters": {
            "media.basal_price_usd_per_L": {"dist": "uniform", "low": 10, "high": 20}}},
    }
    points = spec_from_dict(data).points()
    assert len(points) == 2 * 3 * 4
    assert [p.point_id for p in points] == list(range(24))
    assert {p.grid_id for p in points} == set(range(6))
    assert points[0].values["demand.scale"] == 0.8 and points[0].values["reactors.r.units_owned"] == 1
    prices = [p.values["media.basal_price_usd_per_L"] for p in points]
    assert all(10 <= v <= 20 for v in prices)
    assert prices[:4] == prices[4:8]  # the same draws under every grid point
    again = [p.values for p in spec_from_dict(data).points()]
    assert again == [p.values for p in points]


def test_grid_only_and_samples_only() -> None:
    assert len(spec_from_dict({"grid": {"demand.scale": [1, 2]}}).points()) == 2
    only = spec_from_dict({"samples": {"n": 5, "parameters": {"demand.scale": {"dist": "normal", "mean": 1, "sd": 0.1, "min": 0.9}}}})
    points = only.points()
    assert len(points) == 5 and all(p.sample_id is not None for p in points)
    assert min(p.values["demand.scale"] for p in points) >= 0.9
    assert len(spec_from_dict({}).points()) == 1  # the base scenario alone


@pytest.mark.parametrize(
    ("dist", "check"),
    [
        ({"dist": "lognormal", "median": 2.0, "cv": 0.3}, lambda v: abs(np.median(v) - 2.0) < 0.1),
        ({"dist": "triangular", "low": 0, "mode": 1, "high": 4}, lambda v: min(v) >= 0 and max(v) <= 4),
        ({"dist": "choice", "values": ["a", "b"]}, lambda v: set(v) == {"a", "b"}),
        ({"dist": "uniform", "low": 1, "high": 1}, lambda v: set(v) == {1.0}),
    ],
)
def test_distributions(dist: dict[str, object], check: object) -> None:
    rng = np.random.default_rng(0)
    values = [Distribution.model_validate(dist).draw(rng) for _ in range(2000)]
    assert check(values)  # type: ignore[operator]


@pytest.mark.parametrize(
    ("data", "match"),
    [
        ({"grid": {"demand.scale": []}}, "at least one value"),
        ({"samples": {"n": 2, "parameters": {"x": {"dist": "normal", "mean": 1}}}}, "needs sd"),
        ({"samples": {"n": 2, "parameters": {"x": {"dist": "card"}}}}, "for yield: parameters"),
        ({"grid": {"yield:card-only": [1]}}, "yield:<card>:<parameter>"),
        ({"grid": {"a": [1]}, "samples": {"n": 1, "parameters": {"a": {"dist": "choice", "values": [1]}}}},
         "both in grid and samples"),
        ({"gird": {}}, "unknown field"),
    ],
)
def test_spec_errors(data: dict[str, object], match: str) -> None:
    with pytest.raises(InputError, match=match):
        spec_from_dict(data, file="s.yaml")


def test_load_sweep_errors(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="no such sweep file"):
        load_sweep(tmp_path / "nope.yaml")
    bad = tmp_path / "bad.yaml"
    bad.write_text("grid: [")
    with pytest.raises(InputError, match="not valid YAML"):
        load_sweep(bad)


def test_summary_quantiles_per_grid_point() -> None:
    spec = spec_from_dict({"grid": {"demand.scale": [1, 2]},
                           "samples": {"n": 3, "parameters": {"x": {"dist": "uniform", "low": 0, "high": 1}}}})
    table = pd.DataFrame({
        "demand.scale": [1, 1, 1, 2, 2, 2],
        "status": ["optimal", "optimal", "error", "optimal", "optimal", "optimal"],
        "cost_per_unit_usd": [10.0, 20.0, None, 30.0, 40.0, 50.0],
        "service_level": [1.0, 0.5, None, 1.0, 1.0, 1.0],
        "service_level:rbc": [1.0, 0.5, None, 1.0, 1.0, 1.0],
    }, index=pd.Index(range(6), name="point_id"))
    summary = summarise(table, spec)
    row = summary.loc[(1, "cost_per_unit_usd")]
    assert row["n_ok"] == 2 and row["n_failed"] == 1 and row["q50"] == 15.0
    assert summary.loc[(2, "cost_per_unit_usd"), "q50"] == 40.0
    assert (2, "service_level:rbc") in summary.index

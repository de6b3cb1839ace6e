"""Sweep files: a grid and/or a Monte-Carlo sample over scenario parameters.

Example (like ``models/scenarios/sweep-example.yaml``)::

    scenario: default                    # scenario file (relative to this file) or shipped name
    overrides: {horizon.days: 28}        # applied to every point
    grid:                                # full factorial over these dotted paths
      demand.scale: [0.8, 1.0, 1.2]
    samples:                             # n random draws, each crossed with every grid point
      n: 4
      seed: 7
      parameters:
        media.cytokine_price_usd_per_kU.EPO: {dist: uniform, low: 8, high: 15}
        yield:erythroid-cb-giarratana:stages.EP.proliferation_per_day: {dist: card}
    solver: {time_limit_s: 20, mip_gap: 0.01, threads: 1}

A parameter is a dotted scenario path (any field, see ``bioplan.scenario``), or a yield-card
parameter written ``yield:<card>:<dotted parameter>`` (paths of ``bioplan.yields.kinetics``): the
card's recipes are re-evaluated with that value for the point (``bioplan.sweeps.yields_bridge``). Distributions: ``uniform`` (low, high), ``normal`` (mean, sd),
``lognormal`` (median, cv), ``triangular`` (low, mode, high), ``choice`` (values), each with
optional ``min``/``max`` clipping, and ``card`` (yield parameters only: the card's own
``variability`` entry for that parameter).
"""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import numpy as np
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from bioplan.errors import InputError
from bioplan.input_errors import check_numbers, validation_error
from bioplan.yaml_files import read_yaml_mapping

YIELD_PREFIX = "yield:"


class Distribution(BaseModel):
    """A random parameter's distribution."""

    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)

    dist: Literal["uniform", "normal", "lognormal", "triangular", "choice", "card"]
    """Shape (see the module docstring)."""
    low: float | None = None
    """Lower end (uniform, triangular)."""
    high: float | None = None
    """Upper end (uniform, triangular)."""
    mode: float | None = None
    """Most likely value (triangular)."""
    mean: float | None = None
    """Mean (normal)."""
    sd: float | None = Field(default=None, ge=0)
    """Standard deviation (normal)."""
    median: float | None = Field(default=None, gt=0)
    """Median (lognormal)."""
    cv: float | None = Field(default=None, ge=0)
    """Coefficient of variation (lognormal) [-]."""
    values: list[Any] | None = None
    """Equally likely values (choice)."""
    min: float | None = None
    """Clip draws below this."""
    max: float | None = None
    """Clip draws above this."""

    @model_validator(mode="after")
    def _needs(self) -> Distribution:
        need = {
            "uniform": ("low", "high"),
            "normal": ("mean", "sd"),
            "lognormal": ("median", "cv"),
            "triangular": ("low", "mode", "high"),
            "choice": ("values",),
            "card": (),
        }[self.dist]
        missing = [n for n in need if getattr(self, n) is None]
        if missing:
            msg = f"a {self.dist} distribution needs {', '.join(missing)}. Fix: add them"
            raise ValueError(msg)
        if self.dist in ("uniform", "triangular") and self.low is not None and self.high is not None:
            if self.low > self.high:
                msg = "low exceeds high. Fix: give low <= high"
                raise ValueError(msg)
            if self.mode is not None and not self.low <= self.mode <= self.high:
                msg = "mode lies outside low..high. Fix: give low <= mode <= high"
                raise ValueError(msg)
        if self.dist == "choice" and not self.values:
            msg = "choice has no values. Fix: give values: [a, b, ...]"
            raise ValueError(msg)
        return self

    def draw(self, rng: np.random.Generator) -> Any:
        """One draw (not for ``dist: card``, which the worker draws from the loaded card)."""
        def num(value: float | None) -> float:
            assert value is not None  # guaranteed by the validator for this distribution
            return float(value)

        if self.dist == "card":
            msg = "dist 'card' is drawn from the yield card's variability entry"
            raise ValueError(msg)
        if self.dist == "choice":
            assert self.values is not None
            return self.values[int(rng.integers(len(self.values)))]
        if self.dist == "uniform":
            value = float(rng.uniform(num(self.low), num(self.high)))
        elif self.dist == "normal":
            value = float(rng.normal(num(self.mean), num(self.sd)))
        elif self.dist == "lognormal":
            sigma = math.sqrt(math.log1p(num(self.cv) ** 2))
            value = float(num(self.median) * math.exp(rng.normal(0.0, sigma)))
        else:
            value = float(rng.triangular(num(self.low), num(self.mode), num(self.high)))
        if self.min is not None:
            value = max(value, self.min)
        if self.max is not None:
            value = min(value, self.max)
        return value


class Samples(BaseModel):
    """Monte-Carlo part of a sweep."""

    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)

    n: int = Field(ge=1, le=100_000)
    """Number of draws (each crossed with every grid point)."""
    seed: int = 0
    """Random seed: the same seed gives the same points."""
    parameters: dict[str, Distribution] = Field(min_length=1)
    """Parameter path -> distribution."""


class SweepSolver(BaseModel):
    """Solver options of every point (None: the scenario's)."""

    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)

    time_limit_s: float | None = Field(default=None, gt=0)
    """HiGHS time limit per point [s]."""
    mip_gap: float | None = Field(default=None, ge=0, le=1)
    """Relative MIP gap [-]."""
    threads: int = Field(default=1, ge=1)
    """HiGHS threads per point (1: parallelism comes from running points side by side)."""


class SweepSpec(BaseModel):
    """A validated sweep (see the module docstring)."""

    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)

    scenario: str | None = None
    """Scenario YAML (relative to the sweep file) or shipped name; None: the built-in default."""
    scenario_name: str | None = None
    """Entry of the scenario file's ``scenarios:`` applied to every point."""
    overrides: dict[str, Any] = Field(default_factory=dict)
    """Dotted-path overrides applied to every point."""
    grid: dict[str, list[Any]] = Field(default_factory=dict)
    """Parameter path -> values; the full factorial is swept."""
    samples: Samples | None = None
    """Monte-Carlo draws."""
    solver: SweepSolver = Field(default_factory=SweepSolver)

    base_dir: Path | None = Field(default=None, exclude=True)
    """Folder that a relative ``scenario`` path resolves against (the sweep file's)."""
    file: str | None = Field(default=None, exclude=True)
    """The sweep file this spec was read from (for messages; not part of the file)."""

    @model_validator(mode="after")
    def _check(self) -> SweepSpec:
        for name, values in self.grid.items():
            if not values:
                msg = f"grid.{name}: lists no values. Fix: give at least one value"
                raise ValueError(msg)
        if self.samples is not None:
            clash = sorted(set(self.grid) & set(self.samples.parameters))
            if clash:
                msg = (
                    f"parameter(s) {clash} are both in grid and samples. Fix: sweep each "
                                 "parameter in one of them"
                )
                raise ValueError(msg)
            for name, spec in self.samples.parameters.items():
                if spec.dist == "card" and not name.startswith(YIELD_PREFIX):
                    msg = (
                        f"samples.parameters.{name}: dist 'card' is for yield: parameters. "
                                     "Fix: give an explicit distribution (uniform, normal ...)"
                    )
                    raise ValueError(msg)
        for name in [*self.grid, *(self.samples.parameters if self.samples else {})]:
            if name.startswith(YIELD_PREFIX) and len(name.split(":")) != 3:
                msg = (
                    f"{name!r} is not yield:<card>:<parameter>. Fix: write yield "
                                 "parameters as yield:<card>:<parameter>"
                )
                raise ValueError(msg)
        return self

    def scenario_ref(self) -> str | None:
        """The scenario as an absolute path when it exists next to the sweep file."""
        if self.scenario is None:
            return None
        if self.base_dir is not None and (self.base_dir / self.scenario).exists():
            return str((self.base_dir / self.scenario).resolve())
        return self.scenario

    def parameters(self) -> list[str]:
        """Swept parameter names, grid first."""
        return [*self.grid, *(self.samples.parameters if self.samples else {})]

    def points(self) -> list[SweepPoint]:
        """Every point: the grid's factorial crossed with the samples (deterministic)."""
        grid_names = list(self.grid)
        combos = list(itertools.product(*(self.grid[n] for n in grid_names))) or [()]
        draws: list[dict[str, Any]] = [{}]
        if self.samples is not None:
            rng = np.random.default_rng(self.samples.seed)
            draws = []
            for _ in range(self.samples.n):
                draw: dict[str, Any] = {}
                for name, spec in self.samples.parameters.items():
                    draw[name] = _CardDraw(spec, int(rng.integers(2**31))) if spec.dist == "card" \
                        else spec.draw(rng)
                draws.append(draw)
        points: list[SweepPoint] = []
        for g, combo in enumerate(combos):
            for s, draw in enumerate(draws):
                values = dict(zip(grid_names, combo, strict=True)) | draw
                points.append(SweepPoint(
                    point_id=len(points), grid_id=g,
                    sample_id=s if self.samples is not None else None, values=values,
                ))
        return points


@dataclass(frozen=True)
class _CardDraw:
    """A draw from a yield card's own variability, resolved in the worker (which loads the card):
    the distribution and a per-point seed."""

    spec: Distribution
    seed: int


@dataclass
class SweepPoint:
    """One point of a sweep."""

    point_id: int
    grid_id: int
    sample_id: int | None
    values: dict[str, Any] = field(default_factory=dict)
    """Parameter path -> value (a ``_CardDraw`` for card-distributed yield parameters)."""


def load_sweep(path: str | Path) -> SweepSpec:
    """Read and validate a sweep YAML file."""
    file = Path(path)
    data = read_yaml_mapping(file, kind="sweep", example="models/scenarios/sweep-example.yaml")
    return spec_from_dict(data, base_dir=file.resolve().parent, file=str(file))


def spec_from_dict(
    data: dict[str, Any], *, base_dir: Path | None = None, file: str | None = None
) -> SweepSpec:
    """Validate a sweep given as a mapping."""
    check_numbers(data, file)
    if "file" in data or "base_dir" in data:
        bad = "file" if "file" in data else "base_dir"
        msg = f"unknown field {bad!r}"
        raise InputError(msg, file=file, field=bad, fix="remove it (see the sweep docs)")
    try:
        spec = SweepSpec.model_validate(data)
    except ValidationError as err:
        raise validation_error(err, file, SweepSpec) from None
    spec.base_dir = base_dir
    spec.file = file
    return spec

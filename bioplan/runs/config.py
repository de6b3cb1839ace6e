"""Run configuration files: what an unattended ``bioplan run CONFIG`` plans.

Example (``models/scenarios/nightly-run.yaml``)::

    name: nightly                     # plan line; runs of one name roll their horizon over each other
    scenario: default                 # scenario file (relative to this file) or shipped scenario name
    demand: nightly-demand.csv        # the demand CSV that upstream systems refresh
    start_date: today                 # day 0: today (UTC), a YYYY-MM-DD date, or "scenario"
    rolling: {frozen_days: 7}
    solver: {time_limit_s: 60, mip_gap: 0.01}
    out_root: runs                    # relative to the working directory
    store: sqlite:///runs/bioplan-runs.sqlite

Paths of the scenario and the demand file are relative to the config file; ``out_root`` and a
relative SQLite store path are relative to the working directory (so a config shipped inside the
package never writes into it).
"""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from bioplan.errors import InputError
from bioplan.input_errors import check_numbers, validation_error
from bioplan.yaml_files import read_yaml_mapping

DEFAULT_OUT_ROOT = "runs"
"""Output root when neither ``--out-root`` nor the config gives one (relative to the cwd)."""


class RollingSettings(BaseModel):
    """How a run builds on the previous stored plan of the same plan line."""

    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)

    enabled: bool = True
    """Keep the previous plan's started batches (False: plan from scratch every time)."""
    frozen_days: int = Field(default=7, ge=0, le=365)
    """Batches of the previous plan that start before ``start_date + frozen_days`` are kept exactly
    as planned (they have started or are committed); the rest is re-planned [days]."""


class RunSolverOptions(BaseModel):
    """Solver options of the run; None keeps the scenario's ``solver:`` settings."""

    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)

    time_limit_s: float | None = Field(default=None, gt=0, le=1e6)
    """HiGHS time limit [s]."""
    mip_gap: float | None = Field(default=None, ge=0, le=1)
    """Relative MIP gap at which HiGHS stops; a plan above it at the time limit exits with 5 [-]."""
    threads: int | None = Field(default=None, ge=1, le=256)
    """HiGHS threads."""


class OutputSettings(BaseModel):
    """Which files each run folder gets besides the CSVs and ``summary.json``."""

    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)

    html_report: bool = True
    """A self-contained HTML report (Gantt, inventory and cost charts; works offline, ~5 MB)."""


class RunConfig(BaseModel):
    """A validated run configuration (see the module docstring)."""

    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)

    name: str = Field(default="", pattern=r"^[A-Za-z0-9_\-.]*$")
    """Plan line. Runs with the same name roll their horizon over each other; default: the config
    file's stem."""
    scenario: str | None = None
    """Scenario YAML (relative to the config file) or a shipped scenario name; None: the default."""
    scenario_name: str | None = None
    """Entry under the scenario file's ``scenarios:`` to apply."""
    demand: str | None = None
    """Demand CSV (``date`` or ``week``, ``product``, ``units``) replacing the scenario's demand."""
    start_date: str = "scenario"
    """Day 0 of the plan: ``today`` (UTC date at run time), ``YYYY-MM-DD``, or ``scenario`` (keep
    the scenario's ``horizon.start_date``)."""
    overrides: dict[str, Any] = Field(default_factory=dict)
    """Extra dotted-path scenario overrides, e.g. ``{"demand.scale": 1.1}``."""
    rolling: RollingSettings = Field(default_factory=RollingSettings)
    solver: RunSolverOptions = Field(default_factory=RunSolverOptions)
    outputs: OutputSettings = Field(default_factory=OutputSettings)
    out_root: str | None = None
    """Folder under which each run gets its own folder; default ``runs`` (working directory)."""
    store: str | None = None
    """Run store URL; ``--store`` and ``$BIOPLAN_STORE_URL`` take precedence."""
    log_json: bool = False
    """Log JSON lines (one object per event) to stderr, for log collectors."""

    path: Path | None = Field(default=None, exclude=True)
    """The file this config was read from (not part of the file)."""

    @field_validator("start_date", mode="before")
    @classmethod
    def _check_start(cls, value: Any) -> str:
        value = value.isoformat() if isinstance(value, dt.date) else str(value).strip()
        if value in ("today", "scenario"):
            return value
        try:
            dt.date.fromisoformat(value)
        except ValueError:
            msg = f"{value!r} is not a date. Fix: use 'today', 'scenario' or a date YYYY-MM-DD"
            raise ValueError(msg) from None
        return value

    @property
    def base_dir(self) -> Path:
        """Folder that relative scenario and demand paths resolve against."""
        return self.path.parent if self.path is not None else Path.cwd()

    def plan_line(self) -> str:
        """The plan line name (``name`` or the config file's stem)."""
        if self.name:
            return self.name
        return self.path.stem if self.path is not None else "run"

    def scenario_path(self) -> str | Path | None:
        """The scenario to load: a path when it exists next to the config, else as written."""
        if self.scenario is None:
            return None
        candidate = self.base_dir / self.scenario
        return candidate if candidate.exists() else self.scenario

    def demand_path(self) -> Path | None:
        """Absolute path of the demand file, or None to keep the scenario's demand."""
        if self.demand is None:
            return None
        path = Path(self.demand)
        return path if path.is_absolute() else (self.base_dir / path).resolve()

    def resolved_start_date(self, today: dt.date | None = None) -> dt.date | None:
        """The plan's day 0, or None to keep the scenario's."""
        if self.start_date == "scenario":
            return None
        if self.start_date == "today":
            return today or dt.datetime.now(dt.UTC).date()
        return dt.date.fromisoformat(self.start_date)


def load_run_config(path: str | Path) -> RunConfig:
    """Read and validate a run configuration file."""
    file = Path(path)
    data = read_yaml_mapping(file, kind="run config", example="models/scenarios/nightly-run.yaml")
    if "horizon" in data and "products" in data:
        msg = "this is a scenario file, not a run config"
        raise InputError(
            msg,
            file=str(file),
            fix="write a run config with `scenario: <this file>` (see models/scenarios/nightly-run.yaml)",
        )
    check_numbers(data, str(file))
    try:
        config = RunConfig.model_validate(data)
    except ValidationError as err:
        raise validation_error(err, str(file), RunConfig) from None
    config.path = file.resolve()
    return config


def slug(text: str) -> str:
    """File-name-safe version of a name."""
    return re.sub(r"[^A-Za-z0-9_.-]+", "-", text).strip("-") or "run"

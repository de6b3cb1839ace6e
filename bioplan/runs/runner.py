"""One unattended planning run: load, hash, (maybe) reuse, plan on a rolling horizon, write
outputs atomically, record in the store.

Order of events, chosen so that a process killed at any point leaves a consistent state:

1. load and validate the config and the scenario (a bad input exits 2 and records nothing);
2. hash the inputs; an identical finished run is reported instead of re-solving (unless ``force``);
3. insert the ``running`` row (from here on a crash is visible: the row is reaped as ``failed``);
4. solve; write every output into a hidden temporary folder, fsync, rename it into place;
5. complete the row in one ``UPDATE`` (status, exit code, KPIs, timings, outputs, batches).
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import os
import secrets
import shutil
import signal
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from types import FrameType
from typing import TYPE_CHECKING, Any

import yaml

from bioplan.errors import BioplanError, ExitCode, InfeasibleError, InputError, SolverError
from bioplan.paths import ensure_writable_dir
from bioplan.results.checker import check_plan
from bioplan.runs.config import DEFAULT_OUT_ROOT, RunConfig, load_run_config, slug
from bioplan.runs.folders import atomic_folder, quarantine_orphans, remove_abandoned
from bioplan.runs.hashing import file_sha256, inputs_hash, software_versions
from bioplan.runs.heartbeat import Heartbeat
from bioplan.runs.robust import robust_samples_column
from bioplan.runs.rolling import batches_to_records, fixed_batches, records_to_batches
from bioplan.runs.store import HEARTBEAT_INTERVAL_S, RunInfo, RunStore, resolve_store_url

if TYPE_CHECKING:
    import pandas as pd

    from bioplan.results import Plan
    from bioplan.scenario import Scenario

log = logging.getLogger(__name__)

class Terminated(SystemExit):
    """A termination signal (SIGTERM) during a run: the run is recorded as failed and the
    process exits with 128 + the signal number."""

    def __init__(self, signum: int) -> None:
        super().__init__(128 + signum)
        self.signame = signal.Signals(signum).name

    def __str__(self) -> str:
        return f"terminated by {self.signame}"


_pending_signal: int | None = None


def terminate_on_signal(signum: int, _frame: FrameType | None) -> None:
    """Signal handler for ``bioplan run``: raise :class:`Terminated` at once and remember the
    signal, so that a run whose interpreter swallowed the exception (it can land inside an
    at-fork hook or a finaliser) still stops at the next checkpoint."""
    global _pending_signal
    _pending_signal = signum
    raise Terminated(signum)


def _checkpoint() -> None:
    if _pending_signal is not None:
        raise Terminated(_pending_signal)


@dataclass(frozen=True)
class RunOutcome:
    """What ``bioplan run`` did."""

    run: RunInfo
    """The run record (new, or the existing one that was reused)."""
    reused: bool
    """True when an identical run was found and nothing was solved."""
    exit_code: int
    """The process exit code to report (see :class:`bioplan.errors.ExitCode`)."""
    message: str
    """One line for the user."""


def new_run_id(name: str) -> str:
    """Sortable, unique run id: ``<UTC timestamp>-<plan line>-<random>``."""
    stamp = dt.datetime.now(dt.UTC).strftime("%Y%m%dT%H%M%SZ")
    return f"{stamp}-{slug(name)[:40]}-{secrets.token_hex(3)}"


def _load_scenario(config: RunConfig, today: dt.date | None) -> Scenario:
    from bioplan.scenario import load_scenario

    overrides: dict[str, Any] = {}
    demand = config.demand_path()
    if demand is not None:
        if not demand.is_file():
            msg = f"demand file not found: {demand}"
            raise InputError(msg,
                             file=str(config.path) if config.path else None, field="demand",
                             fix="give the CSV path relative to the run config")
        overrides["demand.file"] = str(demand)
        overrides["demand.records"] = []
    start = config.resolved_start_date(today)
    if start is not None:
        overrides["horizon.start_date"] = start.isoformat()
    overrides.update(config.overrides)
    if config.cards:  # pinned card versions (bioplan.records.pinning)
        from bioplan.records.pinning import pin_overrides

        base = load_scenario(config.scenario_path(), config.scenario_name, overrides)
        overrides.update(pin_overrides(base, config.card_paths(),
                                       file=str(config.path) if config.path else None))
    return load_scenario(config.scenario_path(), config.scenario_name, overrides)


def _options(config: RunConfig, scenario: Scenario) -> dict[str, Any]:
    from bioplan.runs.robust import robust_options

    solver = scenario.solver
    options: dict[str, Any] = {
        "time_limit_s": config.solver.time_limit_s or solver.time_limit_s,
        "mip_gap": config.solver.mip_gap if config.solver.mip_gap is not None else solver.mip_gap,
        "threads": config.solver.threads or solver.threads,
        "rolling": config.rolling.enabled,
        "frozen_days": config.rolling.frozen_days,
        **robust_options(config, scenario),
    }
    records = config.records_path()
    if records is not None:  # batch records (bioplan.records): a new file is a new input
        options["records_sha256"] = file_sha256(records) if records.is_file() else None
    if config.cards:  # a pinned card's content decides the plan too
        options["cards_sha256"] = {k: file_sha256(p) for k, p in config.card_paths().items()}
    return options


def _kept_batches(config: RunConfig, store: RunStore, scenario: Scenario, records: Path | None,
                  ) -> tuple[RunInfo | None, pd.DataFrame | None, pd.DataFrame | None]:
    """(previous run, the batches this run keeps from it, their forecasts from ``records``)."""
    name, start_date = config.plan_line(), scenario.horizon.start_date
    fixed: pd.DataFrame | None = None
    previous: RunInfo | None = None
    forecasts: pd.DataFrame | None = None
    if config.rolling.enabled:
        previous = store.previous_plan(name, start_date.isoformat())
        if previous is not None and previous.plan_start_date:
            previous_table = records_to_batches(store.batches(previous.run_id))
            previous_start = dt.date.fromisoformat(previous.plan_start_date)
            fixed = fixed_batches(previous_table, previous_start, start_date,
                                  config.rolling.frozen_days)
            if records is not None:  # batch records (bioplan.records): forecast the kept batches
                from bioplan.records.replan import forecast_kept_batches

                fixed, forecasts = forecast_kept_batches(fixed, previous_table, previous_start,
                                                         records, scenario)
    if records is not None and forecasts is None:
        log.warning("records %s not used: no previous plan of %s to keep batches from", records,
                    name, extra={"event": "run.records_unused"})
    return previous, fixed, forecasts


def _hashed_scenario(data: dict[str, Any]) -> dict[str, Any]:
    """The scenario data without where the demand file happened to live (its content is in the
    records and in the file hash); ``data`` is not modified."""
    if "demand" not in data:
        return data
    return {**data, "demand": {k: v for k, v in data["demand"].items() if k != "file"}}


def execute_run(
    config: RunConfig | str | Path,
    *,
    store_url: str | None = None,
    out_root: str | Path | None = None,
    force: bool = False,
    today: dt.date | None = None,
) -> RunOutcome:
    """Run one planning run as described by ``config`` (see :mod:`bioplan.runs.runner`).

    Raises :class:`~bioplan.errors.InputError` for a bad config or scenario (nothing recorded);
    solver failures are recorded as ``failed`` and re-raised.
    """
    global _pending_signal
    _pending_signal = None
    if not isinstance(config, RunConfig):
        config = load_run_config(config)
    started = time.perf_counter()
    field = "--out-root" if out_root else "out_root"
    root = ensure_writable_dir(Path(out_root or config.out_root or DEFAULT_OUT_ROOT), field=field)
    root = root.resolve()
    store = RunStore(resolve_store_url(store_url, config.store))
    try:
        return _execute(config, store, root, force, today, started)
    finally:
        store.dispose()


def _execute(
    config: RunConfig, store: RunStore, root: Path, force: bool, today: dt.date | None,
    started: float,
) -> RunOutcome:
    name = config.plan_line()
    for run_id in store.reap_stale():
        log.warning("earlier run %s died without finishing; marked failed", run_id,
                    extra={"event": "run.reaped", "run_id": run_id})
    remove_abandoned(root)
    quarantine_orphans(root, store.incomplete_run_ids())

    scenario = _load_scenario(config, today)
    options = _options(config, scenario)
    records = config.records_path()
    versions = software_versions()
    demand = config.demand_path()
    demand_sha = file_sha256(demand) if demand is not None else None
    scenario_data = json.loads(scenario.model_dump_json())
    digest = inputs_hash(
        scenario=_hashed_scenario(scenario_data), demand_sha256=demand_sha,
        options=options, versions=versions, name=name,
    )
    if not force:
        done = store.find_finished(digest)
        if done is not None:
            code = done.exit_code if done.exit_code is not None else int(ExitCode.OK)
            msg = f"identical inputs already planned by run {done.run_id} ({done.status}); use --force to re-plan"
            log.info(msg, extra={"event": "run.reused", "run_id": done.run_id, "inputs_hash": digest})
            return RunOutcome(done, reused=True, exit_code=code, message=msg)
        active = store.find_active(digest)
        if active is not None:
            msg = f"an identical run is in progress: {active.run_id} (pid {active.pid} on {active.hostname})"
            log.info(msg, extra={"event": "run.in_progress", "run_id": active.run_id})
            return RunOutcome(active, reused=True, exit_code=int(ExitCode.OK), message=msg)

    start_date = scenario.horizon.start_date
    previous, fixed, forecasts = _kept_batches(config, store, scenario, records)
    n_fixed = 0 if fixed is None else int(fixed.index.nunique())

    run_id = new_run_id(name)
    store.start_run(
        run_id=run_id, name=name, inputs_hash=digest,
        scenario=scenario_data, options=options, versions=versions,
        config_path=str(config.path) if config.path else None,
        scenario_name=config.scenario_name or scenario.name,
        demand_file=str(demand) if demand else None, demand_sha256=demand_sha,
        plan_start_date=start_date.isoformat(),
        previous_run_id=previous.run_id if previous else None, n_fixed_batches=n_fixed,
    )
    log.info("run %s started (%s, %d fixed batches from %s)", run_id, scenario.name, n_fixed,
             previous.run_id if previous else "no previous plan",
             extra={"event": "run.start", "run_id": run_id, "inputs_hash": digest})
    heartbeat = Heartbeat(store.url, run_id, HEARTBEAT_INTERVAL_S)
    try:
        fault_point("row")
        log_file = _new_solver_log(run_id) if config.outputs.solver_log else None
        extra: dict[str, Any] = {"solver_log": log_file} if log_file is not None else {}
        if forecasts is not None:  # records: robust plans draw the kept batches' spread
            extra["forecasts"] = forecasts
        plan = _solve(scenario, options, fixed if n_fixed else None, **extra)
        _checkpoint()
        status = str(plan.status)
        code = int(plan.status.exit_code)
        problems = check_plan(plan) if plan.has_solution else []
        if problems:  # a plan that breaks an invariant is a bug: never report it as a success
            log.error("plan fails %d independent check(s): %s", len(problems),
                      "; ".join(problems[:5]), extra={"event": "run.check", "run_id": run_id})
            code = int(ExitCode.INTERNAL)
        meta = {
            "run_id": run_id, "plan_line": name, "status": status, "exit_code": code,
            "inputs_hash": digest, "scenario": scenario.name,
            "plan_start_date": start_date.isoformat(), "previous_run_id": previous.run_id if previous else None,
            "fixed_batches": n_fixed, "options": options, "versions": versions,
            "config": str(config.path) if config.path else None,
            "check_problems": problems,
        }
        if forecasts is not None:
            forecasts = robust_samples_column(forecasts, plan)
            meta["records"] = str(records)
            meta["batch_forecasts"] = forecasts.reset_index().to_dict("records")
        run_dir = root / run_id
        with atomic_folder(run_dir) as tmp:
            if forecasts is not None:
                forecasts.to_csv(tmp / "forecasts.csv")
            files = _write_outputs(plan, tmp, meta, config, scenario, demand, log_file)
            fault_point("writing")
            _checkpoint()
        fault_point("renamed")
        summary = plan.summary()
        timings = dict(plan.timings)
        timings["run_total"] = round(time.perf_counter() - started, 4)
        store.finish_run(
            run_id, status=status, exit_code=code,
            objective_usd=plan.objective_usd, gap=plan.gap, kpis=summary, timings=timings,
            run_dir=str(run_dir), outputs=files,
            batches=batches_to_records(plan.batches) if plan.has_solution else None,
            error=(("plan checker: " + "; ".join(problems)) if problems
                   else None if plan.has_solution else (plan.message or status)),
        )
    except BioplanError as err:
        status = "infeasible" if isinstance(err, InfeasibleError) else (
            "no_solution" if isinstance(err, SolverError) else "failed")
        store.finish_run(run_id, status=status, exit_code=int(err.exit_code), error=err.describe())
        log.error("run %s: %s", run_id, err.describe(), extra={"event": "run.error", "run_id": run_id})
        raise
    except BaseException as err:  # bugs, Ctrl-C, SIGTERM: recorded, then passed on
        store.finish_run(run_id, status="failed", exit_code=int(ExitCode.INTERNAL),
                         error=f"{type(err).__name__}: {err}")
        log.error("run %s failed: %s: %s", run_id, type(err).__name__, err,
                  extra={"event": "run.error", "run_id": run_id})
        raise
    finally:
        heartbeat.stop()
    info = store.get(run_id)
    msg = f"run {run_id}: {status}" + (
        f", cost {plan.objective_usd:,.0f} USD" if plan.objective_usd is not None else "")
    log.info(msg, extra={"event": "run.finish", "run_id": run_id, "status": status,
                         "exit_code": code, "run_dir": str(run_dir)})
    return RunOutcome(info, reused=False, exit_code=code, message=f"{msg}; outputs in {run_dir}")


FAULT_ENV = "BIOPLAN_FAULT_STALL_AT"
"""Fault injection for the kill tests: ``<stage>:<marker file>`` makes a run touch the marker and
stall at that stage (``row``: row inserted; ``writing``: outputs written, folder not yet renamed;
``renamed``: folder in place, row not yet completed) until it is killed."""


def fault_point(stage: str) -> None:
    """Stall here when :data:`FAULT_ENV` names ``stage`` (tests only; a no-op otherwise)."""
    wanted, _, marker = os.environ.get(FAULT_ENV, "").partition(":")
    if wanted != stage:
        return
    Path(marker).write_text(str(os.getpid()), encoding="utf-8")
    while True:  # pragma: no cover - ends with the kill
        time.sleep(0.5)


def _new_solver_log(run_id: str) -> Path:
    """An empty temporary file for HiGHS's log (moved into the run folder with the outputs)."""
    fd, name = tempfile.mkstemp(prefix=f"bioplan-{run_id}-", suffix=".log")
    os.close(fd)
    return Path(name)


def _solve(scenario: Scenario, options: dict[str, Any], fixed: pd.DataFrame | None,
           solver_log: Path | None = None, forecasts: pd.DataFrame | None = None) -> Plan:
    from bioplan.planning import plan
    from bioplan.runs.robust import requested_uncertainty

    return plan(
        scenario,
        time_limit_s=options["time_limit_s"],
        mip_gap=options["mip_gap"],
        threads=options["threads"],
        fixed_batches=fixed,
        solver_log=solver_log,
        robust=requested_uncertainty(options),
        kept_forecasts=forecasts,
    )


def _write_outputs(
    plan: Plan, out: Path, meta: dict[str, Any], config: RunConfig, scenario: Scenario,
    demand: Path | None, solver_log: Path | None = None,
) -> list[str]:
    from bioplan.runs.report import write_report
    from bioplan.scenario import scenario_to_yaml

    plan.write(out)
    if config.outputs.html_report:
        write_report(plan, out / "report.html", meta)
    inputs = out / "inputs"
    inputs.mkdir()
    (inputs / "scenario.yaml").write_text(scenario_to_yaml(scenario), encoding="utf-8")
    (inputs / "run-config.yaml").write_text(
        yaml.safe_dump(config.model_dump(mode="json"), sort_keys=False), encoding="utf-8")
    if demand is not None:
        shutil.copyfile(demand, inputs / demand.name)
    (out / "run.json").write_text(json.dumps(meta, indent=2, default=str) + "\n", encoding="utf-8")
    if solver_log is not None:
        shutil.move(str(solver_log), out / "solver.log")
    return sorted(str(p.relative_to(out)) for p in out.rglob("*") if p.is_file())

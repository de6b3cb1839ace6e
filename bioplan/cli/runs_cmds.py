"""``bioplan run | history | show | compare | sweep``: unattended runs, the run store, sweeps."""

from __future__ import annotations

import json
import logging
import signal
import sys
from pathlib import Path
from typing import Annotated, Any

import typer

from bioplan.errors import ExitCode

log = logging.getLogger(__name__)

STORE_HELP = "Run store URL (sqlite:///FILE or postgresql://...); default $BIOPLAN_STORE_URL, " \
    "else the run config's store, else sqlite:///runs/bioplan-runs.sqlite."


def _open_store(store: str | None) -> Any:
    from bioplan.runs.store import RunStore, resolve_store_url

    return RunStore(resolve_store_url(store), create=False)


def run_cmd(
    config: Annotated[Path, typer.Argument(help="Run config YAML (see models/scenarios/nightly-run.yaml).")],
    store: Annotated[str | None, typer.Option("--store", help=STORE_HELP)] = None,
    out_root: Annotated[Path | None, typer.Option("--out-root", help="Folder for run folders (overrides the config).")] = None,
    force: Annotated[bool, typer.Option("--force", help="Plan even if identical inputs were planned before.")] = False,
    log_json: Annotated[bool, typer.Option("--log-json", help="Log JSON lines to stderr (also: log_json: true in the config).")] = False,
    as_json: Annotated[bool, typer.Option("--json", help="Print the run record as JSON on stdout.")] = False,
) -> None:
    """Plan once, unattended, and record the run in the run store.

    Keeps the previous plan's started batches (rolling horizon), writes the outputs into a new run folder atomically, and reports an earlier run with identical inputs instead of solving again.

    Exit codes: 0 ok (or identical run already done), 1 internal error, 2 bad input, 3 infeasible, 4 no plan in time, 5 time limit with a plan above the requested gap, 143 terminated (SIGTERM).
    """
    from bioplan.runs.config import load_run_config
    from bioplan.runs.logjson import configure_json_logging
    from bioplan.runs.runner import execute_run, terminate_on_signal

    cfg = load_run_config(config)
    if log_json or cfg.log_json:
        configure_json_logging()
    previous = signal.signal(signal.SIGTERM, terminate_on_signal)
    try:
        outcome = execute_run(cfg, store_url=store, out_root=out_root, force=force)
    finally:
        signal.signal(signal.SIGTERM, previous)
    if as_json:
        typer.echo(json.dumps({**outcome.run.to_dict(), "reused": outcome.reused,
                               "message": outcome.message}, indent=2, default=str))
    else:
        typer.echo(outcome.message)
    raise typer.Exit(outcome.exit_code)


def history_cmd(
    store: Annotated[str | None, typer.Option("--store", help=STORE_HELP)] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print a JSON list of run objects.")] = False,
    limit: Annotated[int, typer.Option("--limit", "-n", min=1, help="Newest N runs.")] = 50,
    name: Annotated[str | None, typer.Option("--name", help="Only runs of this plan line.")] = None,
    status: Annotated[str | None, typer.Option("--status", help="Only runs with this status.")] = None,
) -> None:
    """List runs, newest first.

    Runs whose process died while marked running are marked failed first.
    """
    from sqlalchemy.exc import SQLAlchemyError

    st = _open_store(store)
    try:
        st.reap_stale()
    except SQLAlchemyError as err:  # a read-only account: show stale rows as they are
        log.info("could not mark stale runs: %s", err)
    runs = st.list_runs(name=name, status=status, limit=limit)
    if as_json:
        typer.echo(json.dumps([r.to_dict() for r in runs], indent=2, default=str))
        return
    if not runs:
        typer.echo(f"no runs in {st.display_url}")
        return
    header = f"{'run_id':<44} {'status':<11} {'started (UTC)':<19} {'secs':>7} {'plan start':<10} " \
             f"{'cost USD':>14} {'inputs':<12}"
    typer.echo(header)
    for r in runs:
        status_text = "stale" if r.stale else r.status
        duration = f"{r.duration_s:7.1f}" if r.duration_s is not None else f"{'–':>7}"
        cost = f"{r.objective_usd:14,.0f}" if r.objective_usd is not None else f"{'–':>14}"
        typer.echo(f"{r.run_id:<44} {status_text:<11} {r.started_at:%Y-%m-%d %H:%M:%S} "
                   f"{duration} {r.plan_start_date or '–':<10} {cost} {r.inputs_hash[:12]:<12}")


def show_cmd(
    run: Annotated[str, typer.Argument(help="Run id (or a unique prefix).")],
    store: Annotated[str | None, typer.Option("--store", help=STORE_HELP)] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the run as JSON.")] = False,
) -> None:
    """Print one run: status, inputs, versions, KPIs, timings and output files."""
    info = _open_store(store).get(run)
    data = info.to_dict()
    if as_json:
        typer.echo(json.dumps(data, indent=2, default=str))
        return
    simple = ["run_id", "name", "status", "exit_code", "started_at", "finished_at", "duration_s",
              "inputs_hash", "scenario_name", "plan_start_date", "previous_run_id",
              "n_fixed_batches", "objective_usd", "gap", "config_path", "demand_file", "run_dir",
              "hostname", "pid", "error"]
    for key in simple:
        value = data.get(key)
        if value is not None:
            typer.echo(f"{key:<16} {value}")
    if info.stale:
        typer.echo(f"{'':<16} (stale: the run's process is gone)")
    for key in ("versions", "options", "timings"):
        if data.get(key):
            typer.echo(f"{key:<16} {json.dumps(data[key], default=str)}")
    kpis = data.get("kpis") or {}
    for key in ("service_level", "cost_per_delivered_unit", "units_delivered", "units_short",
                "units_expired", "cost_breakdown", "reactors_added"):
        if kpis.get(key):
            typer.echo(f"{key:<16} {json.dumps(kpis[key], default=str)}")
    if info.outputs:
        typer.echo(f"{'outputs':<16} {', '.join(info.outputs)}")


def compare_cmd(
    run_a: Annotated[str, typer.Argument(help="First run (id or unique prefix).")],
    run_b: Annotated[str, typer.Argument(help="Second run.")],
    store: Annotated[str | None, typer.Option("--store", help=STORE_HELP)] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the comparison as JSON.")] = False,
) -> None:
    """Compare two runs: KPI deltas (B − A), batches added or removed, changed inputs."""
    from bioplan.runs.compare import compare_runs

    comparison = compare_runs(_open_store(store), run_a, run_b)
    if as_json:
        typer.echo(json.dumps(comparison.to_dict(), indent=2, default=str))
    else:
        typer.echo(comparison.render())


def sweep_cmd(
    spec: Annotated[Path, typer.Argument(help="Sweep YAML (see models/scenarios/sweep-example.yaml).")],
    out: Annotated[Path, typer.Option("--out", help="Folder for sweep.parquet, sweep.csv, summary.csv.")] = Path("out/sweep"),
    dask: Annotated[str | None, typer.Option("--dask", help="'local' (a Dask LocalCluster) or tcp://HOST:PORT; default: a local process pool.")] = None,
    workers: Annotated[int | None, typer.Option("--workers", min=1, help="Local workers (default: CPUs).")] = None,
    no_progress: Annotated[bool, typer.Option("--no-progress", help="No progress bar.")] = False,
    strict: Annotated[bool, typer.Option("--strict", help="Exit 1 when any point failed.")] = False,
) -> None:
    """Plan every point of a grid / Monte-Carlo sweep in parallel.

    A failing point is recorded with its error (status "error") while the others go on. Exit codes: 0 the sweep completed (1 with --strict if any point failed), 2 bad sweep file or base scenario.
    """
    from bioplan.paths import ensure_writable_dir
    from bioplan.sweeps import load_sweep, summarise, sweep

    ensure_writable_dir(out, field="--out")
    parsed = load_sweep(spec)
    table = sweep(parsed, out_dir=out, dask=dask, max_workers=workers,
                  progress=not no_progress and sys.stderr.isatty())
    failed = table[table["status"] == "error"]
    typer.echo(f"{len(table)} points, {len(failed)} failed; tables in {out}/ "
               "(sweep.parquet, sweep.csv, summary.csv)")
    summary = summarise(table, parsed)
    if not summary.empty:
        cols = [c for c in ("n_ok", "n_failed", "q05", "q50", "q95") if c in summary.columns]
        typer.echo(summary[cols].to_string(float_format=lambda v: f"{v:,.4g}"))
    for point_id, row in failed.head(10).iterrows():
        typer.echo(f"point {point_id} failed: {row['error']}", err=True)
    if strict and len(failed):
        raise typer.Exit(int(ExitCode.INTERNAL))


def register(app: typer.Typer, bench_app: typer.Typer) -> None:
    """Add this area's commands to ``app`` and its benchmarks to ``bench_app``."""
    app.command("run")(run_cmd)
    app.command("history")(history_cmd)
    app.command("show")(show_cmd)
    app.command("compare")(compare_cmd)
    app.command("sweep")(sweep_cmd)

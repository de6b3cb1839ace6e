"""Run a sweep on a local process pool, any ``concurrent.futures.Executor``, or Dask.

>>> import bioplan
>>> table = bioplan.sweep("models/scenarios/sweep-example.yaml", out_dir="out/sweep")  # doctest: +SKIP
>>> table.groupby("demand.scale")["cost_per_unit_usd"].median()                          # doctest: +SKIP

Scripts that sweep must guard their entry point (``if __name__ == "__main__":``): worker
processes re-import the main module.
"""

from __future__ import annotations

import json
import logging
import multiprocessing
import os
from collections.abc import Iterator, Mapping
from concurrent.futures import Executor, Future, ProcessPoolExecutor, as_completed
from contextlib import ExitStack, contextmanager
from pathlib import Path
from typing import Any

import pandas as pd
import yaml
from tqdm.auto import tqdm

from bioplan.errors import InputError
from bioplan.sweeps.checks import check_sweep
from bioplan.sweeps.point import ERROR_STATUS, PointTask, evaluate_point, param_columns
from bioplan.sweeps.spec import SweepSpec, load_sweep, spec_from_dict

log = logging.getLogger(__name__)

QUANTILES = (0.05, 0.25, 0.5, 0.75, 0.95)
"""Quantiles in the sweep summary."""

SUMMARY_METRICS = ("cost_per_unit_usd", "service_level")
"""KPIs summarised by quantiles (plus their per-product variants ``<metric>:<product>``)."""

ID_COLUMNS = ["point_id", "grid_id", "sample_id"]


def _as_spec(spec: SweepSpec | Mapping[str, Any] | str | Path) -> SweepSpec:
    if isinstance(spec, SweepSpec):
        return spec
    if isinstance(spec, Mapping):
        return spec_from_dict(dict(spec), base_dir=Path.cwd())
    return load_sweep(spec)


def tasks_of(spec: SweepSpec) -> list[PointTask]:
    """One picklable task per sweep point.

    The base scenario (file, named scenario, common overrides) is loaded and validated here, once:
    a broken base is a bad input (:class:`InputError`), not a failure of every point.
    """
    from bioplan.scenario import load_scenario

    base = load_scenario(spec.scenario_ref(), spec.scenario_name, spec.overrides or None)
    base_data = json.loads(base.model_dump_json())
    check_sweep(spec, base, base_data, spec.file)
    solver = spec.solver.model_dump()
    return [
        PointTask(
            point_id=p.point_id, grid_id=p.grid_id, sample_id=p.sample_id,
            base=base_data, values=p.values, solver=solver,
        )
        for p in spec.points()
    ]


@contextmanager
def _dask_executor(address: str, n_workers: int | None) -> Iterator[Executor]:
    try:
        import dask
        from distributed import Client, LocalCluster
    except ImportError as err:  # pragma: no cover - dask[distributed] is a dependency
        msg = "Dask distributed is not installed"
        raise InputError(msg, field="--dask",
                         fix="pip install 'dask[distributed]'") from err
    # Worker processes must be allowed to start a child process per solve (wall-clock guard).
    with dask.config.set({"distributed.worker.daemon": False}), ExitStack() as stack:
        if address == "local":
            cluster = stack.enter_context(LocalCluster(
                n_workers=n_workers or min(2, os.cpu_count() or 1), threads_per_worker=1,
                processes=True, dashboard_address=None,
            ))
            client = stack.enter_context(Client(cluster))
        elif address.startswith(("tcp://", "tls://", "ws://", "wss://")):
            try:
                client = stack.enter_context(Client(address, timeout=30))
            except OSError as err:
                msg = f"cannot reach the Dask scheduler at {address}: {err}"
                raise InputError(msg,
                                 field="--dask", fix="check the address and that the scheduler runs") from err
        else:
            msg = f"not a Dask address: {address!r}"
            raise InputError(msg, field="--dask",
                             fix="use 'local' or tcp://HOST:PORT")
        yield client.get_executor(pure=False)


def _wrap_executor(executor: Any) -> Executor:
    """A Dask ``Client`` is accepted as well: its ``get_executor()`` is a real Executor."""
    if isinstance(executor, Executor):
        return executor
    get_executor = getattr(executor, "get_executor", None)
    if callable(get_executor):
        return get_executor(pure=False)  # type: ignore[no-any-return]
    msg = f"not a concurrent.futures.Executor or Dask Client: {type(executor).__name__}"
    raise TypeError(msg)


def sweep(
    spec: SweepSpec | Mapping[str, Any] | str | Path,
    *,
    out_dir: str | Path | None = None,
    executor: Any = None,
    dask: str | None = None,
    max_workers: int | None = None,
    progress: bool = True,
) -> pd.DataFrame:
    """Plan every point of a sweep and return one row per point.

    Parameters
    ----------
    spec : a sweep file path, a mapping with its content, or a :class:`SweepSpec`.
    out_dir : if given, write ``sweep.parquet``, ``sweep.csv``, ``summary.csv`` and the spec there.
    executor : any ``concurrent.futures.Executor`` or a Dask ``Client``; default: a local process
        pool (``max_workers``, default the number of CPUs).
    dask : ``"local"`` (a Dask LocalCluster) or ``"tcp://HOST:PORT"`` (a running scheduler).
    progress : show a progress bar on stderr.

    Returns
    -------
    DataFrame indexed by ``point_id``: ``grid_id``, ``sample_id``, one column per swept parameter
    (its dotted path), ``status`` (plan status, or ``error``), ``error``, and KPIs
    (``objective_usd``, ``cost_per_unit_usd``, ``service_level``, per product as ``<kpi>:<product>``,
    ``cost_usd:<term>``, ...). A failing point is a row with ``status == "error"``.
    """
    spec = _as_spec(spec)
    tasks = tasks_of(spec)
    if executor is not None and dask is not None:
        msg = "both an executor and a Dask address were given"
        raise InputError(msg, field="dask", fix="give either an executor or a Dask address")
    with ExitStack() as stack:
        if executor is not None:
            pool = _wrap_executor(executor)
        elif dask is not None:
            pool = stack.enter_context(_dask_executor(dask, max_workers))
        else:
            workers = max(1, min(max_workers or os.cpu_count() or 1, len(tasks)))
            pool = stack.enter_context(ProcessPoolExecutor(
                max_workers=workers, mp_context=multiprocessing.get_context("forkserver"),
            ))
        rows = _run_tasks(pool, tasks, progress)
    table = to_table(rows, spec)
    if out_dir is not None:
        write_outputs(table, spec, Path(out_dir))
    failed = int((table["status"] == ERROR_STATUS).sum())
    log.info("sweep: %d points, %d failed", len(table), failed)
    return table


def _run_tasks(pool: Executor, tasks: list[PointTask], progress: bool) -> list[dict[str, Any]]:
    futures: dict[Future[dict[str, Any]], PointTask] = {
        pool.submit(evaluate_point, task): task for task in tasks
    }
    rows = []
    with tqdm(total=len(futures), desc="sweep", unit="point", disable=not progress) as bar:
        for future in as_completed(futures):
            task = futures[future]
            try:
                row = future.result()
            except BaseException as err:  # the worker itself died: record, carry on
                row = {
                    "point_id": task.point_id, "grid_id": task.grid_id,
                    "sample_id": task.sample_id, **param_columns(task.values),
                    "status": ERROR_STATUS, "error": f"{type(err).__name__}: {err}",
                }
            rows.append(row)
            bar.update(1)
            if row.get("status") == ERROR_STATUS:
                bar.set_postfix_str(f"failed: {sum(r.get('status') == ERROR_STATUS for r in rows)}")
    return rows


def to_table(rows: list[dict[str, Any]], spec: SweepSpec) -> pd.DataFrame:
    """Rows to the tidy table: ids, parameters, status, error, KPIs, timing last."""
    frame = pd.DataFrame(rows)
    params = [p for p in spec.parameters() if p in frame.columns]
    for column in ("status", "error"):
        if column not in frame:
            frame[column] = None
    first = [*ID_COLUMNS, *params, "status", "error"]
    timing = [c for c in ("solve_time_s", "wall_time_s") if c in frame.columns]
    rest = sorted(c for c in frame.columns if c not in first and c not in timing)
    # KPI order: headline figures first, then the per-product and per-term breakdowns
    head = [c for c in ("objective_usd", "gap", "cost_per_unit_usd", "service_level",
                        "units_demanded", "units_delivered") if c in rest]
    rest = head + [c for c in rest if c not in head]
    frame = frame[[*first, *rest, *timing]].sort_values("point_id", kind="stable")
    frame["sample_id"] = frame["sample_id"].astype("Int64")
    frame["error"] = frame["error"].astype("string")
    frame["status"] = frame["status"].astype("string")
    for column in rest:
        if frame[column].dtype == object:
            converted = pd.to_numeric(frame[column], errors="coerce")
            if converted.notna().sum() == frame[column].notna().sum():
                frame[column] = converted
    return frame.set_index("point_id")


def summarise(table: pd.DataFrame, spec: SweepSpec) -> pd.DataFrame:
    """Quantiles of cost per unit and service level (overall and per product), per grid point
    when the sweep has a grid: index (grid parameters..., ``metric``), columns ``n_ok``,
    ``n_failed``, ``mean``, ``q05`` ... ``q95``."""
    metrics = [c for c in table.columns
               if c in SUMMARY_METRICS or c.split(":", 1)[0] in SUMMARY_METRICS]
    grid = [p for p in spec.grid if p in table.columns]
    groups = table.groupby(grid, dropna=False, sort=True) if grid else [((), table)]
    rows = []
    for key, part in groups:
        key = key if isinstance(key, tuple) else (key,)
        ok = part[part["status"] != ERROR_STATUS]
        for metric in metrics:
            values = pd.to_numeric(ok[metric], errors="coerce").dropna()
            row: dict[str, Any] = dict(zip(grid, key, strict=False))
            row.update(metric=metric, n_ok=len(ok), n_failed=len(part) - len(ok),
                       mean=values.mean() if len(values) else None)
            for q in QUANTILES:
                row[f"q{round(q * 100):02d}"] = values.quantile(q) if len(values) else None
            rows.append(row)
    if not rows:
        return pd.DataFrame(columns=[*grid, "metric", "n_ok", "n_failed", "mean"])
    return pd.DataFrame(rows).set_index([*grid, "metric"])


def write_outputs(table: pd.DataFrame, spec: SweepSpec, out: Path) -> list[Path]:
    """``sweep.parquet``, ``sweep.csv``, ``summary.csv`` and ``sweep.yaml`` (the spec) in ``out``."""
    out.mkdir(parents=True, exist_ok=True)
    paths = [out / "sweep.parquet", out / "sweep.csv", out / "summary.csv", out / "sweep.yaml"]
    parquet = table.copy()
    for column in parquet.columns:  # parameters may mix numbers and strings
        if parquet[column].dtype == object:
            parquet[column] = parquet[column].map(
                lambda v: None if v is None else (v if isinstance(v, str) else json.dumps(v)))
    parquet.to_parquet(paths[0])
    table.to_csv(paths[1])
    summarise(table, spec).to_csv(paths[2])
    paths[3].write_text(
        yaml.safe_dump(spec.model_dump(mode="json"), sort_keys=False), encoding="utf-8")
    return paths

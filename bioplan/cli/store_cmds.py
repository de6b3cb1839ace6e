"""``bioplan store check``: check a run store and, optionally, its run folders."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer

from bioplan.errors import InputError

STORE_HELP = "Run store URL (sqlite:///FILE or postgresql://...); default $BIOPLAN_STORE_URL, " \
    "else sqlite:///runs/bioplan-runs.sqlite."


def check_cmd(
    store: Annotated[str | None, typer.Option("--store", help=STORE_HELP)] = None,
    out_root: Annotated[Path | None, typer.Option(
        "--out-root", help="Also check that the run folders under this folder agree with the store.",
    )] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the report as JSON.")] = False,
) -> None:
    """Check a run store: integrity (SQLite quick_check), schema version, stale runs and, with
    --out-root, that every run folder belongs to a completed run.

    Never writes. Exit codes: 0 sound, 2 a problem (damaged, unreachable, or inconsistent).
    """
    from bioplan.runs.store import RunStore, resolve_store_url
    from bioplan.runs.store_check import check_store

    st = RunStore(resolve_store_url(store), create=False)
    try:
        report = check_store(st, out_root)
    finally:
        st.dispose()
    if as_json:
        typer.echo(json.dumps(report.to_dict(), indent=2))
    else:
        counts = ", ".join(f"{n} {s}" for s, n in report.runs_by_status.items()) or "no runs"
        typer.echo(f"store     {report.store} ({report.backend}, schema v{report.schema_version})")
        typer.echo(f"runs      {counts}")
        for line in report.problems:
            typer.echo(f"problem   {line}")
    if report.problems:
        msg = f"{len(report.problems)} inconsistency(ies) in {report.store}"
        raise InputError(msg, field="store",
                         fix="run `bioplan run` (it repairs stale rows and orphaned folders), "
                             "or see the problems listed")
    if not as_json:
        typer.echo("ok")


def register(app: typer.Typer, bench_app: typer.Typer) -> None:
    """Add ``bioplan store check``."""
    store_app = typer.Typer(help="Check the run store.", no_args_is_help=True)
    store_app.command("check")(check_cmd)
    app.add_typer(store_app, name="store")

"""``bioplan bench plan``: planner benchmark on generated S/M/L instances."""

from __future__ import annotations

import json
import math
from typing import Any

import typer


def register(app: typer.Typer, bench_app: typer.Typer) -> None:
    """Add ``bench plan`` to ``bench_app``."""

    @bench_app.command("plan")
    def bench_plan(
        as_json: bool = typer.Option(False, "--json", help="Print a JSON list of objects."),
        size: list[str] = typer.Option(  # noqa: B008
            [], "--size", help="Instance(s) to run: S, M, L (default all three)."),
        time_limit: float = typer.Option(60.0, "--time-limit", help="HiGHS time limit per instance, in seconds."),
        gap: float = typer.Option(0.01, "--gap", help="Relative MIP gap [-]."),
        threads: int = typer.Option(1, "--threads", help="HiGHS threads."),
    ) -> None:
        """Plan generated instances S (90 d, 4 reactors), M (180 d, 16), L (365 d, 48) and print
        build / transfer / HiGHS solve / extract / total seconds, final gap, the share of wall
        time outside HiGHS and peak memory."""
        from bioplan.benchmarks.instances import SIZES
        from bioplan.benchmarks.plan_bench import format_table, run_bench
        from bioplan.cli.plan_cmds import MAX_TIME_LIMIT_S, check_number
        from bioplan.errors import InputError

        check_number("--time-limit", time_limit, low=0.0, low_open=True, high=MAX_TIME_LIMIT_S)
        check_number("--gap", gap, low=0.0, high=1.0)
        check_number("--threads", threads, low=1, high=256)
        sizes = [s.upper() for s in size] or list(SIZES)
        unknown = [s for s in sizes if s not in SIZES]
        if unknown:
            msg = f"unknown instance(s) {unknown}"
            raise InputError(msg, field="--size",
                             fix=f"choose from {', '.join(SIZES)}")
        rows = run_bench(sizes, time_limit_s=time_limit, mip_gap=gap, threads=threads)
        if as_json:
            keys = ["name", "build_s", "transfer_s", "solve_s", "extract_s", "total_s", "gap",
                    "peak_rss_mib", "outside_highs_share", "status", "objective_usd", "columns",
                    "rows", "nonzeros", "integer_columns"]
            typer.echo(json.dumps([{k: _finite(r[k]) for k in keys} for r in rows], indent=2,
                                  allow_nan=False))
        else:
            typer.echo(format_table(rows))


def _finite(value: Any) -> Any:
    """NaN and infinities (a gap without a bound) as null: JSON has no such numbers."""
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value

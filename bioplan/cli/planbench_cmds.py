"""``bioplan bench plan``: planner benchmark on generated S/M/L instances."""

from __future__ import annotations

import typer


def register(app: typer.Typer, bench_app: typer.Typer) -> None:
    """Add ``bench plan`` to ``bench_app``."""

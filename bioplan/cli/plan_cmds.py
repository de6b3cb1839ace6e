"""``bioplan`` commands of this area; ``register`` adds them to the root app."""

from __future__ import annotations

import typer


def register(app: typer.Typer, bench_app: typer.Typer) -> None:
    """Add this area's commands to ``app`` and its benchmarks to ``bench_app``."""

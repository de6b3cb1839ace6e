"""Module-level functions for SolveJob tests (a spawn child must be able to import them)."""

from __future__ import annotations

import time

from bioplan.errors import InputError


def slow_square(x: int, delay_s: float = 0.0) -> int:
    time.sleep(delay_s)
    return x * x


def bad_input() -> None:
    raise InputError("demand is negative", file="s.yaml", field="demand.units", fix="use >= 0")


def boom() -> None:
    raise ValueError("kaput")

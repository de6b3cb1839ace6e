"""Numbers for people: money and engineering notation with units (a leaf: imports nothing of bioplan).

Used by the charts, the HTML report and the dashboard, so a figure reads the same everywhere.

>>> money(2_177_000), money(45_600), money(789)
('$2.18M', '$45.6k', '$789')
>>> eng(2e12, "cells"), eng(306178.0, "cells"), eng(12.5, "L"), eng(0.00042, "mg")
('2.00e12 cells', '306e3 cells', '12.5 L', '420e-6 mg')
"""

from __future__ import annotations

import math
from typing import Any

MISSING = "—"
"""What a missing or non-finite number shows."""


def _finite(value: Any) -> float | None:
    if value is None or isinstance(value, bool):
        return None
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return number if math.isfinite(number) else None


def money(value: Any) -> str:
    """USD for display: ``$1.23M``, ``$45.6k``, ``$789``; ``—`` when missing."""
    number = _finite(value)
    if number is None:
        return MISSING
    if abs(number) >= 1e6:
        return f"${number / 1e6:,.2f}M"
    if abs(number) >= 1e4:
        return f"${number / 1e3:,.1f}k"
    return f"${number:,.0f}"


def eng(value: Any, unit: str = "", sig: int = 3) -> str:
    """``value`` with ``sig`` significant digits, in engineering notation (exponent a multiple of
    3) outside 0.01 ≤ |value| < 10,000, plain (with thousands separators) inside; then ``unit``."""
    number = _finite(value)
    if number is None:
        return MISSING
    suffix = f" {unit}" if unit else ""
    if number == 0 or 1e-2 <= abs(number) < 1e4:
        digits = max(0, sig - 1 - math.floor(math.log10(abs(number)))) if number else 0
        return f"{number:,.{digits}f}{suffix}"
    exponent = 3 * math.floor(math.log10(abs(number)) / 3)
    mantissa = number / 10**exponent
    if round(abs(mantissa), sig - 1 - math.floor(math.log10(abs(mantissa)))) >= 1000:
        exponent, mantissa = exponent + 3, mantissa / 1000
    digits = max(0, sig - 1 - math.floor(math.log10(abs(mantissa))))
    return f"{mantissa:.{digits}f}e{exponent}{suffix}"


def percent(value: Any, digits: int = 1) -> str:
    """A fraction as a percentage (``0.745`` -> ``74.5%``); ``—`` when missing."""
    number = _finite(value)
    return MISSING if number is None else f"{number:.{digits}%}"


def quantity(value: Any, unit: str) -> str:
    """A value in ``unit`` the way the dashboard shows it: money for USD, percent for fractions,
    else :func:`eng` with the unit."""
    if unit == "USD":
        return money(value)
    if unit.startswith("USD/"):
        return f"{money(value)}/{unit.removeprefix('USD/')}"
    if unit == "fraction":
        return percent(value)
    return eng(value, unit)

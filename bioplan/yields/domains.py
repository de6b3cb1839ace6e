"""Physical domains of yield-card parameters: one definition for the card's validation
(:mod:`bioplan.yields.card_parts`, :mod:`bioplan.yields.card`) and for the truncation of drawn
parameters (:func:`bioplan.yields.variability.draw_domain`)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Domain:
    """Physical domain of a card parameter: ``low <= v <= high`` (``v < high`` if ``open_high``)."""

    low: float
    high: float
    open_high: bool = False

    def holds(self, value: Any) -> Any:
        """Whether ``value`` (a number, or elementwise an array) lies in the domain."""
        upper = value < self.high if self.open_high else value <= self.high
        return (self.low <= value) & upper

    def __str__(self) -> str:
        return f"[{self.low:g}, {self.high:g}{')' if self.open_high else ']'}"


FRACTION = Domain(0.0, 1.0)
"""Transit splits and seed fractions [-]."""
EXHAUSTION = Domain(0.0, 1.0, open_high=True)
"""``exhaustion_per_division`` e [-]: for e >= 1 the proliferation p · (1 - e)^g of generation g
is zero or alternates in sign, and the budget's generations stop capping growth."""
NON_NEGATIVE = Domain(0.0, float("inf"))
"""Rates, concentrations and counts."""

"""The pricing problem's minimiser on hand-checkable cases.

Hill response, linear cost (one card, one factor). A recipe with factor concentration ``x``
[ng/mL] yields ``Y(x) = Y_max · x / (K + x)`` product units per batch (a Hill response with
coefficient 1, half-effect ``K``) and costs ``a + b·x`` per batch (a fixed part ``a`` [USD] and
the factor, linear in its concentration, ``b`` [USD per ng/mL]). The cost per unit is

    f(x) = (a + b x)(K + x) / (Y_max x) = (aK/x + a + bK + b x) / Y_max,

    f'(x) = (−aK/x² + b) / Y_max = 0   ⇒   x* = √(aK/b),   f(x*) = (a + bK + 2√(abK)) / Y_max.

With a = 2, b = 0.5, K = 4, Y_max = 10: x* = 4 ng/mL and f(x*) = (2 + 2 + 4)/10 = 0.8 USD/unit.
"""

from __future__ import annotations

import numpy as np

from bioplan.media_search import minimise

A, B, K, YMAX = 2.0, 0.5, 4.0, 10.0


def cost_per_unit(x: np.ndarray) -> np.ndarray:
    conc = x[:, 0]
    return (A + B * conc) / (YMAX * conc / (K + conc))


def test_hill_linear_cost_optimum_is_found() -> None:
    found = minimise(cost_per_unit, np.array([0.1]), np.array([100.0]),
                     logscale=np.array([True]), starts=2)
    assert abs(found.x[0] - np.sqrt(A * K / B)) < 1e-2 * 4.0
    assert abs(found.value - 0.8) < 1e-6


def test_hill_optimum_on_the_bound_when_the_domain_stops_short() -> None:
    """The validity domain ends at 2 ng/mL < x*: f is decreasing there, so the bound is optimal."""
    found = minimise(cost_per_unit, np.array([0.1]), np.array([2.0]), logscale=np.array([True]))
    assert abs(found.x[0] - 2.0) < 1e-6
    assert abs(found.value - (A + B * 2.0) / (YMAX * 2.0 / (K + 2.0))) < 1e-9


def test_whole_number_setting_moves_to_the_best_day() -> None:
    """f(d, x) = (d − 3.4)² + (x − 2)²: best whole d is 3 (0.16 away), x = 2."""
    found = minimise(lambda X: (X[:, 0] - 3.4) ** 2 + (X[:, 1] - 2.0) ** 2,
                     np.array([0.0, 1.0]), np.array([10.0, 10.0]),
                     integer=np.array([True, False]), x0=np.array([8.0, 5.0]))
    assert found.x[0] == 3.0
    assert abs(found.x[1] - 2.0) < 1e-3
    assert abs(found.value - 0.16) < 1e-6


def test_every_point_stays_inside_the_box() -> None:
    lower, upper = np.array([1.0, 5.0]), np.array([2.0, 12.0])
    seen: list[np.ndarray] = []

    def record(x: np.ndarray) -> np.ndarray:
        seen.append(x.copy())
        return -(x ** 2).sum(axis=1)  # pushes to the upper corner

    found = minimise(record, lower, upper, integer=np.array([False, True]),
                     logscale=np.array([True, False]), starts=2)
    points = np.vstack(seen)
    assert (points >= lower - 1e-12).all() and (points <= upper + 1e-12).all()
    assert np.allclose(found.x, upper)

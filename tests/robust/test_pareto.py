"""``bioplan pareto``: the epsilon-constraint front on the hand-worked scenario.

With π = 100 USD/unit (below the 125 USD material cost) nothing is made unless a service level
is required; a hard minimum service P needs 3 P units on day 7 (no variability: hand-made
recipes): cost 800 + (P > 0: 370 + 125 × ⌈3P⌉) + 100 × (3 − ⌈3P⌉) in whole units (issue 12).
P = 0.5: 2 units, 800 + 370 + 250 + 100 = **1520 USD** (1507.5 with fractional units); P = 1:
800 + 370 + 375 = **1545 USD**.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from bioplan.errors import InputError
from bioplan.robust.pareto import front, parse_grid
from tests.robust.test_hand_worked import scenario


def test_grid() -> None:
    assert parse_grid("0.8:0.99:5") == pytest.approx([0.8, 0.8475, 0.895, 0.9425, 0.99])
    for bad in ("0.8:0.99", "0:1:3", "0.9:0.8:2", "a:b:c", "0.5:1.2:2"):
        with pytest.raises(InputError, match="--service"):
            parse_grid(bad)


def test_front_by_hand(tmp_path: Path) -> None:
    table = front(scenario(100), [0.5, 1.0], samples=20)
    assert table["cost_usd"].tolist() == pytest.approx([1520, 1545], rel=1e-6)
    assert table["service_p10:rbc"].tolist() == pytest.approx([2 / 3, 1.0], abs=1e-9)

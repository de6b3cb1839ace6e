"""Cost–service fronts by the ε-constraint method (``bioplan pareto``).

For each target service level P on the grid, plan with the target as a hard constraint and judge
the plan out of sample: deterministic plans get ``products.<p>.min_service_level = P`` for every
product with demand; robust plans (``robust=True``) the chance constraint "service ≥ P in ≥ C of
the samples". Each point reports the plan's cost as planned and its out-of-sample service.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from bioplan.errors import InputError
from bioplan.robust.evaluate import evaluate

if TYPE_CHECKING:
    from bioplan.scenario import Scenario
    from bioplan.scenario.schema import Uncertainty

log = logging.getLogger(__name__)


def parse_grid(text: str, flag: str = "--service") -> list[float]:
    """``"0.80:0.99:5"`` -> 5 evenly spaced targets from 0.80 to 0.99 (each in (0, 1])."""
    parts = text.split(":")
    try:
        lo, hi, n = float(parts[0]), float(parts[1]), int(parts[2])
        if len(parts) != 3:
            raise ValueError
    except (ValueError, IndexError):
        msg = f"{text!r} is not LOW:HIGH:N"
        raise InputError(msg, field=flag,
                         fix="e.g. --service 0.80:0.99:5") from None
    if not (0 < lo <= hi <= 1) or n < 1:
        msg = f"{text!r}: need 0 < LOW <= HIGH <= 1 and N >= 1"
        raise InputError(msg, field=flag,
                         fix="e.g. --service 0.80:0.99:5")
    return [float(x) for x in np.linspace(lo, hi, n)]


def front(scenario: Scenario, targets: list[float], *, robust: Uncertainty | None = None,
          samples: int = 500, seed: int = 7, time_limit_s: float | None = None) -> pd.DataFrame:
    """One row per target (index ``target``): ``status``, ``cost_usd`` (as planned) and per
    product ``service_p10:<p>`` and ``service_mean:<p>`` out of sample."""
    from bioplan.planning import plan

    rows = []
    products = [p for p in scenario.products]
    for target in targets:
        if robust is not None:
            unc = robust.model_copy(update={"service_level": target,
                                            "confidence": robust.confidence or 0.9, "risk": None})
            p = plan(scenario, robust=unc, time_limit_s=time_limit_s)
        else:
            sc = scenario.model_copy(deep=True)
            for name in products:
                sc.products[name].min_service_level = target
            p = plan(sc, marginal_values=False, time_limit_s=time_limit_s)
        row: dict[str, object] = {"target": target, "status": str(p.status),
                                  "cost_usd": p.objective_usd}
        if p.has_solution:
            table = evaluate(p, samples=samples, seed=seed).products()
            for name in table.index:
                row[f"service_p10:{name}"] = table.loc[name, "service_level_p10"]
                row[f"service_mean:{name}"] = table.loc[name, "service_level_mean"]
        rows.append(row)
        log.info("front point %.3f: %s", target, row)
    return pd.DataFrame(rows).set_index("target")

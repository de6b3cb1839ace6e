"""Cost bridge: medium and cytokine cost per transfusion unit of a card's protocol, against the
final phase's density set-point, its feeding policy, the basal medium price and cytokine prices
(docs/planning.md, "Cost bridge"). Reactors, labour, seed lots and release testing are not in it:
it shows what the yield model alone puts into a unit.

cost per unit [USD] = medium litres per unit × basal price [USD/L]
                      + sum_f amount of f per unit [mg or kU] × price of f [USD/mg or USD/kU]
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Literal

import pandas as pd

from bioplan.yields.card import YieldCard
from bioplan.yields.loader import as_card
from bioplan.yields.simulate import simulate


def cost_per_unit(
    card: YieldCard | str,
    *,
    basal_price_usd_per_L: float,
    cytokine_price_usd: Mapping[str, float],
    setpoints_cells_per_mL: Sequence[float],
    feedings: Sequence[Literal["dilution", "perfusion"]] = ("dilution", "perfusion"),
    exchange_per_day: float = 0.5,
) -> pd.DataFrame:
    """One row per (feeding, final set-point): medium L per unit, medium and cytokine cost per
    unit [USD], the largest cytokine term, and the total (index ``feeding``, ``setpoint``).

    ``cytokine_price_usd`` maps each factor to USD per mg (USD per kU for factors in U/mL);
    unpriced factors cost 0. The last phase's set-point is varied; in perfusion its medium is the
    vessel volume × (1 + exchange × days)."""
    base = as_card(card)
    rows = []
    last = base.protocol[-1].name
    for feeding in feedings:
        perf = {f"{last}.perfusion": 1.0, f"{last}.perfusion_exchange_per_day": exchange_per_day}
        for sp in setpoints_cells_per_mL:
            sets = {f"{last}.density_setpoint": float(sp)} | (perf if feeding == "perfusion"
                                                               else {f"{last}.perfusion": 0.0})
            s = simulate(base, settings=sets).summary()
            cyto = {f: v["amount"] * cytokine_price_usd.get(f, 0.0)
                    for f, v in s["cytokine_per_unit"].items()}
            top = max(cyto, key=lambda f: cyto[f]) if cyto else ""
            medium = s["medium_L_per_unit"] * basal_price_usd_per_L
            rows.append({
                "feeding": feeding, "setpoint": float(sp),
                "medium_L_per_unit": s["medium_L_per_unit"],
                "medium_usd_per_unit": medium,
                "cytokine_usd_per_unit": sum(cyto.values()),
                "largest_cytokine": top,
                "total_usd_per_unit": medium + sum(cyto.values()),
                "extrapolates": bool(s["warnings"]),
            })
    return pd.DataFrame(rows).set_index(["feeding", "setpoint"])

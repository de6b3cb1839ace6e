"""Biology page helpers: a yield card's editable settings, and what one unit takes."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from bioplan.scenario import Scenario


def card_settings_schema(card: Any) -> list[dict[str, Any]]:
    """Editable settings of a yield card's default protocol, one row per (phase, setting):
    ``key`` (dotted, as ``simulate`` takes it), ``phase``, ``label``, ``unit``, ``default``."""
    rows: list[dict[str, Any]] = []
    for ph in card.protocol:
        rows.append({"key": f"{ph.name}.days", "phase": ph.name, "label": "days", "unit": "d",
                     "default": float(ph.days)})
        rows.append({"key": f"{ph.name}.density_setpoint", "phase": ph.name,
                     "label": "density set-point", "unit": "cells/mL",
                     "default": float(ph.density_setpoint_cells_per_mL.value)})
        for factor, conc in ph.medium.items():
            rows.append({"key": f"{ph.name}.{factor}", "phase": ph.name, "label": factor,
                         "unit": card.factors[factor].unit, "default": float(conc.value)})
    return rows


def unit_economics(summary: Mapping[str, Any], scenario: Scenario | None) -> dict[str, Any]:
    """Per transfusion unit: seed cells, medium [L], medium cost, cytokine cost [USD] at the
    scenario's prices (cytokines without a price count as 0 and are listed in ``unpriced``)."""
    media = scenario.media if scenario is not None else None
    basal = float(media.basal_price_usd_per_L) if media else float("nan")
    cyto = 0.0
    unpriced: list[str] = []
    for amounts, prices in (
        (summary.get("cytokine_mg_per_unit", {}), media.cytokine_price_usd_per_mg if media else {}),
        (summary.get("cytokine_kU_per_unit", {}), media.cytokine_price_usd_per_kU if media else {}),
    ):
        for factor, amount in amounts.items():  # [mg] or [kU] per unit, priced per mg or per kU
            price = prices.get(factor)
            if price is None:
                unpriced.append(factor)
            else:
                cyto += amount * price
    medium_l = float(summary["medium_L_per_unit"])
    return {
        "seed_cells_per_unit": float(summary["seed_cells_per_unit"]),
        "product_cells_per_seed_cell": float(summary["product_cells_per_seed_cell"]),
        "medium_L_per_unit": medium_l,
        "medium_usd_per_unit": medium_l * basal,
        "cytokine_usd_per_unit": cyto,
        "unpriced": unpriced,
    }

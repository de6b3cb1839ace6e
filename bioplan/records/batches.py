"""What the plan says about the batches that records describe, and the records' checks against it:
unknown batch ids, measurements dated outside their batch."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import pandas as pd

from bioplan.errors import InputError

if TYPE_CHECKING:
    from bioplan.scenario import Scenario


@dataclass(frozen=True)
class PlannedBatch:
    """One batch as planned: its recipe, card and settings, days and planned units."""

    batch_id: str
    product: str
    recipe: str
    card: str
    """Reference ``load_card`` reads (shipped name or path)."""
    settings: dict[str, float] = field(hash=False)
    """The recipe's dotted settings (its ``set:`` columns)."""
    start_date: dt.date = dt.date(1970, 1, 1)
    """Seeding date (day 0 of the culture)."""
    days: int = 0
    """Culture days of the recipe (seeding to harvest)."""
    seed_cells: float = 0.0
    """Planned seed cells [cells]."""
    planned_units: float = 0.0
    """Units the plan expects its cells to make (before whole bags pooled per harvest day)
    [units]."""
    cells_per_unit: float = 1.0
    """Product cells per transfusion unit [cells/unit]."""

    @property
    def end_date(self) -> dt.date:
        """Harvest date."""
        return self.start_date + dt.timedelta(days=self.days)


def card_references(scenario: Scenario) -> dict[str, str]:
    """Card name (the recipe table's ``card`` column) -> the reference ``load_card`` reads."""
    from bioplan.yields import load_card

    return {load_card(src.card).name: src.card for src in scenario.recipes if src.card is not None}


def planned_batches(batches: pd.DataFrame, scenario: Scenario, plan_start: dt.date
                    ) -> dict[str, PlannedBatch]:
    """Batch id -> :class:`PlannedBatch` for a ``Plan.batches`` table planned from ``plan_start``
    (a batch of a hand-made recipe, without a card, has ``card`` ``""``: it is known, but there
    is no model to forecast it with)."""
    if batches.empty:
        return {}
    recipes = scenario.recipe_table()
    refs = card_references(scenario)
    out: dict[str, PlannedBatch] = {}
    for batch_id, rows in batches.groupby(level=0, sort=True):
        first = rows.iloc[0]
        recipe = str(first["recipe"])
        if recipe not in recipes.index:
            continue
        rec = recipes.loc[recipe]
        settings = {str(c)[4:]: float(v) for c, v in rec.items()
                    if str(c).startswith("set:") and pd.notna(v)}
        product = str(first["product"])
        start = int(rows["start_day"].min())
        cells_per_unit = float(scenario.products[product].cells_per_unit)  # type: ignore[index]
        per_seed = rec.get("product_cells_per_seed_cell")
        # the units its cells make (the plan packages them in whole bags pooled per harvest day)
        made = (float(first["seed_cells"]) * float(per_seed) / cells_per_unit
                if per_seed is not None and pd.notna(per_seed) else float(first["product_units"]))
        out[str(batch_id)] = PlannedBatch(
            batch_id=str(batch_id), product=product, recipe=recipe,
            card=refs.get(str(rec["card"]), ""), settings=settings,
            start_date=plan_start + dt.timedelta(days=start),
            days=int(rows["end_day"].max()) - start,
            seed_cells=float(first["seed_cells"]), planned_units=made,
            cells_per_unit=cells_per_unit,
        )
    return out


def check_records(records: pd.DataFrame, batches: dict[str, PlannedBatch]) -> None:
    """Every record names a planned batch and is dated within it (seeding to harvest); a seed
    row is dated on the seeding day."""
    file = str(records.attrs.get("file", "records"))
    for line, rec in records.iterrows():
        where = f"line {line}"
        batch = batches.get(str(rec["batch_id"]))
        if batch is None:
            known = ", ".join(sorted(batches)[:8]) + (" ..." if len(batches) > 8 else "")
            msg = f"unknown batch {rec['batch_id']!r}: the plan has no such batch"
            raise InputError(msg, file=file, field=f"{where}: batch_id",
                             fix=f"use a batch id of the plan ({known or 'it has none'})")
        day = (rec["date"] - batch.start_date).days
        if day < 0 or day > batch.days:
            msg = (f"date {rec['date']} is outside batch {batch.batch_id} "
                   f"({batch.start_date} to {batch.end_date})")
            raise InputError(msg, file=file, field=f"{where}: date",
                             fix="correct the date or the batch id")
        if rec["kind"] == "seed" and day != 0:
            msg = f"a seed row of batch {batch.batch_id} is dated {rec['date']}, day {day}"
            raise InputError(msg, file=file, field=f"{where}: date",
                             fix=f"date the seed row on the seeding day {batch.start_date}")


def culture_days(records: pd.DataFrame, batches: dict[str, PlannedBatch]) -> pd.Series:
    """Culture day of every record (its date minus its batch's seeding date) [days]."""
    days = [(rec["date"] - batches[str(rec["batch_id"])].start_date).days
            for _, rec in records.iterrows()]
    return pd.Series(days, index=records.index, name="day", dtype=int)

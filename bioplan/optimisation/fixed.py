"""Fixed batches (rolling horizon): they hold their reactors, use resources, cost what they cost
(constants of the objective, by the cost-term registry) and release their product."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from bioplan.contracts import BatchUse, batch_usd
from bioplan.errors import InputError
from bioplan.optimisation.data import USD_SCALE, PlanData, records, row_stays
from bioplan.optimisation.options import per_seed_cytokines

if TYPE_CHECKING:
    from bioplan.scenario import Scenario


Columns = pd.DataFrame | Mapping[str, Sequence[Any]]
"""One batch's phase rows, in phase order: a frame, or its columns as sequences."""


def fixed_batch_use(frame: Columns, source: str, cytokines_per_seed: dict[Any, float]
                    ) -> BatchUse:
    """What a batch of the batches table used (``frame``: its phase rows, as a frame or as
    columns, see :data:`Columns`; ``cytokines_per_seed``: the recipe's total use per seed cell),
    as the cost terms read it."""
    seed = float(next(iter(frame["seed_cells"])))
    days: dict[str, float] = defaultdict(float)
    for t, start, end in zip(frame["reactor_type"], frame["start_day"], frame["end_day"],
                             strict=True):
        days[str(t)] += int(end) - int(start)
    stays = _stays(frame)
    return BatchUse(source=source, seed_cells=seed, medium_L=float(sum(frame["medium_L"])),
                    cytokines={k: v * seed for k, v in cytokines_per_seed.items()},
                    reactor_days=dict(days), operations=(max(stays) + 2) if stays else 1)


def _stays(frame: Columns) -> list[int]:
    """Stay number of each phase row of one batch (rows in phase order)."""
    units = [int(u) for u in frame["reactor_unit"]] if "reactor_unit" in frame else None
    return row_stays([str(t) for t in frame["reactor_type"]], units)


def add_fixed_batches(data: PlanData, fixed: pd.DataFrame, recipes: pd.DataFrame,
                      scenario: Scenario) -> None:
    """Add the batches of ``fixed`` (a ``Plan.batches`` table) to ``data`` as constants."""
    horizon = data.horizon_days
    rows = fixed.reset_index()
    if "batch_id" not in rows.columns:
        rows = rows.rename(columns={rows.columns[0]: "batch_id"})
    data.fixed_medium = np.zeros(horizon)
    data.fixed_operations = np.zeros(horizon)
    cost: dict[str, float] = defaultdict(float)
    for batch_id, frame in rows.groupby("batch_id", sort=True):
        frame = frame.sort_values("start_day")
        first = frame.iloc[0]
        recipe, product = str(first["recipe"]), str(first["product"])
        if recipe not in recipes.index or product not in data.products:
            msg = (
                f"fixed batch {batch_id}: recipe {recipe!r} / product {product!r} is "
                             "not in the scenario"
            )
            raise InputError(msg, field="fixed_batches",
                             fix="give fixed batches from a plan of the same scenario")
        rec: Any = recipes.loc[recipe]
        source = str(rec["source"])
        use = fixed_batch_use(frame, source, per_seed_cytokines(rec, data.cytokines))
        for row_name, usd in batch_usd(data.prices, use).items():
            cost[row_name] += usd / USD_SCALE
        harvest = int(frame["end_day"].max())
        _release(data, product, harvest + data.products[product].release_days,
                 float(first["product_units"]))
        seed_day = int(frame["start_day"].min())
        if seed_day >= 0:
            week = (source, seed_day // 7)
            data.fixed_lots[week] = (data.fixed_lots.get(week, 0.0)
                                     + use.seed_cells / scenario.sources[source].cells_per_lot)
        starts = frame.groupby(_stays(frame), sort=True)["start_day"].min().astype(int)
        for day in [*starts, harvest]:
            if 0 <= day < horizon:
                data.fixed_operations[day] += 1
        _hold(data, frame)
        _check_fleet(data, str(batch_id))
    data.fixed_cost = dict(cost)


def _check_fleet(data: PlanData, batch_id: str) -> None:
    """A fixed batch's vessels must exist in the fleet the scenario allows (owned + addable)."""
    for rd in data.reactors.values():
        if rd.fixed_unit_max > rd.owned + rd.max_added:
            msg = (f"fixed batch {batch_id} holds unit {rd.fixed_unit_max} of {rd.name}, but the "
                   f"scenario allows {rd.owned} owned + {rd.max_added} added units")
            raise InputError(msg, field=f"reactors.{rd.name}.max_additional_units",
                             fix=f"allow at least {rd.fixed_unit_max - rd.owned} added units, or "
                                 "re-plan without that batch")


def _release(data: PlanData, product: str, release: int, units: float) -> None:
    """A fixed batch's units become available on its cohort day (if usable in the horizon)."""
    prod = data.products[product]
    if release < data.horizon_days and prod.expiry_day(release) > 0:
        prod.fixed_release[release] = prod.fixed_release.get(release, 0.0) + units


def _hold(data: PlanData, frame: pd.DataFrame) -> None:
    """A fixed batch's stays hold their vessel (plus one turnaround after each stay) and its
    phases prepare their medium."""
    assert data.fixed_medium is not None
    horizon = data.horizon_days
    frame = frame if "reactor_unit" in frame else frame.assign(reactor_unit=0)
    stay = frame.assign(stay=_stays(frame)).groupby("stay", sort=True).agg(
        reactor_type=("reactor_type", "first"), start_day=("start_day", "min"),
        end_day=("end_day", "max"), reactor_unit=("reactor_unit", "max"))
    for st in records(stay):
        rd = data.reactors[str(st.reactor_type)]
        if pd.notna(st.reactor_unit):
            rd.fixed_unit_max = max(rd.fixed_unit_max, int(st.reactor_unit))
        lo, hi = max(int(st.start_day), 0), min(int(st.end_day) + rd.turnaround_days, horizon)
        if lo < hi:
            rd.fixed_busy[lo:hi] += 1
    for row in records(frame):
        start, end = int(row.start_day), int(row.end_day)
        if end > start:
            for day in range(max(start, 0), min(end, horizon)):
                data.fixed_medium[day] += float(row.medium_L) / (end - start)

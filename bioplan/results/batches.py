"""The ``Plan.batches`` table: one row per batch phase, with reactor units assigned (fixed
batches keep theirs where the fleet allows; see :mod:`bioplan.results.assign`)."""

from __future__ import annotations

import logging
import math
from collections import defaultdict
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

import pandas as pd

from bioplan.contracts import BATCH_COLUMNS, CytokineKey, maintenance_days
from bioplan.optimisation.data import PlanData
from bioplan.optimisation.options import phase_cytokines_per_seed
from bioplan.results.assign import AssignmentFailed, Interval, assign_units
from bioplan.results.packaging import pool_bags, stay_spans

if TYPE_CHECKING:
    from bioplan.scenario import Scenario

log = logging.getLogger(__name__)

Values = dict[str, dict[Any, float]]
PhaseUse = dict[str, list[dict[CytokineKey, float]]]
"""Per recipe, each phase's cytokine use per seed cell [mg or kU per cell]."""


def fixed_ids(fixed: pd.DataFrame | None) -> set[str]:
    if fixed is None or not len(fixed):
        return set()
    rows = fixed.reset_index()
    col = "batch_id" if "batch_id" in rows.columns else rows.columns[0]
    return {str(x) for x in rows[col]}


def phase_cytokines(recipes: pd.DataFrame, keys: list[CytokineKey],
                    names: Iterable[Any]) -> dict[str, list[dict[CytokineKey, float]]]:
    """For the recipes ``names``, each phase's cytokine use per seed cell [mg or kU per cell]
    (see :func:`~bioplan.optimisation.options.phase_cytokines_per_seed`)."""
    wanted = sorted({str(n) for n in names} & {str(r) for r in recipes.index})
    # a plain dict per row: its many `.get`s cost ~5 us each on a Series
    return {name: phase_cytokines_per_seed(recipes.loc[name].to_dict(), keys) for name in wanted}


def _mass_and_activity(use: dict[CytokineKey, float], seed: float) -> tuple[float, float]:
    """(mass-dosed factors [mg], activity-dosed factors [kU]) of one phase of a batch."""
    mg = sum(v for k, v in use.items() if k.unit == "mg") * seed
    ku = sum(v for k, v in use.items() if k.unit == "kU") * seed
    return mg, ku


def _fixed_rows(fixed: pd.DataFrame | None, phase_use: PhaseUse) -> list[dict[str, Any]]:
    """The fixed batches' rows as given (cytokine columns recomputed for an old table)."""
    if fixed is None or not len(fixed):
        return []
    frame = fixed.reset_index()
    if "batch_id" not in frame.columns:
        frame = frame.rename(columns={frame.columns[0]: "batch_id"})
    if "epo_kU" not in frame.columns:
        frame = frame.sort_values(["batch_id", "start_day"], kind="stable")
        frame["epo_kU"] = 0.0
        for _batch_id, group in frame.groupby("batch_id", sort=False):
            uses = phase_use.get(str(group["recipe"].iloc[0]), [])
            seeds = group["seed_cells"].to_numpy(dtype=float)
            for k, idx in enumerate(group.index):
                use = uses[k] if k < len(uses) else {}
                mg, ku = _mass_and_activity(use, float(seeds[k]))
                frame.at[idx, "cytokine_mg"] = mg
                frame.at[idx, "epo_kU"] = ku
    return [{"batch_id": str(rec["batch_id"]), **{c: rec[c] for c in BATCH_COLUMNS},
             "is_fixed": True} for rec in frame.to_dict("records")]


def _new_rows(data: PlanData, values: Values, phase_use: PhaseUse, pinned: set[str]
              ) -> list[dict[str, Any]]:
    """One row per phase of every batch the solution starts (ids ``B00001`` …, never a fixed
    batch's id). The batches of a slot grow equal shares of its units; each release day's pool of
    whole units is shared over its batches (:func:`~bioplan.results.packaging.pool_bags`)."""
    counts = values.get("slot_batches", {})
    made: list[tuple[int, float]] = []  # (slot, units grown) per batch
    for s in sorted(counts):
        n = round(counts[s])
        if n <= 0:  # a slot without batches (solutions may list zeros)
            continue
        x = max(values.get("slot_units", {}).get(s, 0.0), 0.0)
        made += [(s, x / n)] * n
    bags = _bags(data, values, made)
    rows: list[dict[str, Any]] = []
    for seq, ((s, grown), packed) in enumerate(zip(made, bags, strict=True), start=1):
        opt = data.options[data.slot_option[s]]
        d = int(data.slot_day[s])
        batch_id = f"B{seq:05d}"
        while batch_id in pinned:
            batch_id = f"{batch_id}n"
        seed = grown * opt.seed_cells_per_unit
        for ph, use in zip(opt.phases, phase_use[opt.recipe], strict=True):
            mg, ku = _mass_and_activity(use, seed)
            rows.append({
                "batch_id": batch_id, "product": opt.product, "recipe": opt.recipe,
                "phase": ph.name, "reactor_type": ph.reactor_type, "reactor_unit": 0,
                "start_day": d + ph.offset_days, "end_day": d + ph.offset_days + ph.days,
                "seed_cells": seed, "product_units": float(packed),
                "medium_L": grown * ph.medium_L_per_unit,
                "cytokine_mg": mg, "epo_kU": ku, "is_fixed": False,
            })
    return rows


def _bags(data: PlanData, values: Values, made: list[tuple[int, float]]) -> list[float]:
    """Whole units packaged by each batch of ``made``. Without packaged units in ``values`` (a
    robust plan's first stage, or a whole-unit pass that found no plan) each release day's pool
    packages the whole units its cells make, ``⌊Σ x⌋``; the rest is waste."""
    packaged = values.get("cohort_packaged")
    pools: dict[tuple[str, int], list[int]] = defaultdict(list)
    for i, (s, _grown) in enumerate(made):
        pools[(data.options[data.slot_option[s]].product, data.slot_release_day(s))].append(i)
    out = [0.0] * len(made)
    for key, members in pools.items():
        grown = [made[i][1] for i in members]
        whole = (packaged.get(key, 0.0) if packaged is not None
                 else math.floor(sum(grown) + 1e-6))
        shares = pool_bags(grown, whole)
        for i, b in zip(members, shares, strict=True):
            out[i] = b
    return out


def _assign(frame: pd.DataFrame, data: PlanData, values: Values, scenario: Scenario
            ) -> dict[int, int]:
    """Reactor unit of each row of ``frame``, one per vessel stay. Fixed batches keep their reactor units where the
    fleet allows. The model counts busy units per type only, so if those pins cannot all hold next
    to the new batches, only phases already running on day 0 stay where they are and phases yet
    to start may move to another unit."""
    fleet = {t: r.owned + round(values.get("reactor_added", {}).get(t, 0.0))
             for t, r in data.reactors.items()}
    maintenance: dict[tuple[str, int], set[int]] = defaultdict(set)
    for name, rt in scenario.reactors.items():
        for w in rt.maintenance:
            maintenance[(name, w.unit)].update(maintenance_days(
                scenario.horizon.day_of(w.start_date), w.days, scenario.horizon.days))
    stays = stay_spans(frame)  # one unit per vessel stay (phases continuing on one type)

    def intervals(pin_upcoming: bool) -> list[Interval]:
        return [
            Interval(key=i, reactor_type=st.reactor_type, start=st.start, end=st.end,
                     busy_end=st.end + data.reactors[st.reactor_type].turnaround_days,
                     unit=(st.unit if st.is_fixed and (pin_upcoming or st.start < 0) else None))
            for i, st in enumerate(stays)
        ]

    try:
        by_stay = assign_units(intervals(True), fleet, maintenance, allow_clash=False)
    except AssignmentFailed:
        log.info("fixed batches cannot all keep their reactor units: re-assigning phases that "
                 "have not started yet")
        by_stay = assign_units(intervals(False), fleet, maintenance)
    return {row: by_stay[i] for i, st in enumerate(stays) for row in st.rows}


def batch_table(data: PlanData, values: Values, scenario: Scenario, recipes: pd.DataFrame,
                fixed: pd.DataFrame | None) -> pd.DataFrame:
    """One row per batch phase; ``cytokine_mg`` [mg] and ``epo_kU`` [kU] are the phase's own use
    (seed cells × the recipe's use per seed cell in that phase). Fixed batches keep their values;
    a fixed table without ``epo_kU`` (written before the column existed, when ``cytokine_mg``
    mixed mg and kU) gets both columns recomputed from its recipe."""
    used = {o.recipe for o in data.options}
    if fixed is not None and len(fixed):
        used |= {str(r) for r in fixed["recipe"]}
    phase_use = phase_cytokines(recipes, data.cytokines, used)
    rows = _fixed_rows(fixed, phase_use) + _new_rows(data, values, phase_use, fixed_ids(fixed))
    if not rows:
        frame = pd.DataFrame(columns=["batch_id", *BATCH_COLUMNS])
        return frame.set_index("batch_id")
    frame = pd.DataFrame(rows)
    assigned = _assign(frame, data, values, scenario)
    frame["reactor_unit"] = [assigned[i] for i in range(len(frame))]
    frame = frame.drop(columns="is_fixed")
    for col in ("reactor_unit", "start_day", "end_day"):
        frame[col] = frame[col].astype(int)
    for col in ("seed_cells", "product_units", "medium_L", "cytokine_mg", "epo_kU"):
        frame[col] = frame[col].astype(float)
    return frame.set_index("batch_id")[BATCH_COLUMNS]

"""Checks of the batches: recipes, vessels, reactor units, capacity and occupancy."""

from __future__ import annotations

import itertools
import math
from collections import defaultdict

from bioplan.results.checks import view
from bioplan.results.checks.view import Batch, PlanView


def check_batch_recipes(v: PlanView) -> list[str]:
    """Each batch follows a scenario recipe: product, phases in order and back to back with the
    recipe's phase days, and product units = seed cells × product cells per seed cell / cells per
    unit; phase medium = seed cells × the phase's medium per seed cell."""
    found: list[str] = []
    for b in v.batches:
        rec = v.recipes.get(b.recipe)
        if rec is None:
            found.append(f"batch {b.batch_id}: recipe {b.recipe!r} is not in the scenario")
            continue
        if b.product != rec["product"] or b.product not in v.products:
            found.append(f"batch {b.batch_id}: product {b.product!r} but recipe {b.recipe} makes "
                         f"{rec['product']!r}")
            continue
        if not b.consistent:
            found.append(f"batch {b.batch_id}: phase rows disagree on product, recipe, seed_cells "
                         f"or product_units")
        if b.seed_cells < 0:
            found.append(f"batch {b.batch_id}: negative seed_cells {b.seed_cells:g}")
        names = [str(rec[f"phase{k}_name"]) for k in range(1, int(rec["n_phases"]) + 1)]
        if [p.name for p in b.phases] != names:
            found.append(f"batch {b.batch_id}: phases {[p.name for p in b.phases]} but recipe "
                         f"{b.recipe} has {names}")
            continue
        for k, phase in enumerate(b.phases, start=1):
            where = f"batch {b.batch_id} phase {phase.name}"
            days = int(rec[f"phase{k}_days"])
            if phase.end_day - phase.start_day != days:
                found.append(f"{where}: days {phase.start_day}-{phase.end_day} but the recipe "
                             f"phase lasts {days} days")
            if k > 1 and phase.start_day != b.phases[k - 2].end_day:
                found.append(f"{where}: starts on day {phase.start_day}, not when the previous "
                             f"phase ends (day {b.phases[k - 2].end_day})")
            medium = b.seed_cells * float(rec[f"phase{k}_medium_L_per_seed_cell"])
            if not view.close(phase.medium_L, medium):
                found.append(f"{where}: medium_L {phase.medium_L:g} but seed cells × recipe give "
                             f"{medium:g} L")
        # product_units are the whole units packaged, at most what the cells make: checked by
        # check_whole_units (bioplan.results.checks.units)
        found.extend(_batch_cytokine_findings(v, b))
    return view.listed("batches", found)


def _batch_cytokine_findings(v: PlanView, b: Batch) -> list[str]:
    """``cytokine_mg`` (mass-dosed factors) and ``epo_kU`` (activity-dosed factors) of a batch's
    phase rows add up to seed cells × the recipe's totals; where the recipe gives per-phase
    columns for every factor of the unit, each phase row carries exactly its own phase's use."""
    found: list[str] = []
    use = v.cytokine_use(b)
    per_phase = v.phase_cytokine_use(b)
    for unit, column in (("mg", "cytokine_mg"), ("kU", "epo_kU")):
        expect = sum(x for (_f, u), x in use.items() if u == unit)
        got = sum(getattr(p, column) for p in b.phases)
        if not view.close(got, expect):
            found.append(f"batch {b.batch_id}: {column} sums to {got:g} but the recipe gives "
                         f"{expect:g} {unit}")
            continue
        phased = [x for (_f, u), x in per_phase.items() if u == unit]
        if not phased or any(x is None for x in phased):
            continue
        for k, phase in enumerate(b.phases):
            want = sum(x[k] for x in phased if x is not None and k < len(x))
            have = getattr(phase, column)
            if not view.close(have, want):
                found.append(f"batch {b.batch_id} phase {phase.name}: {column} {have:g} but the "
                             f"recipe's phase {k + 1} uses {want:g} {unit}")
    return found


def check_vessels(v: PlanView) -> list[str]:
    """Each phase runs on a reactor type of the scenario that hosts its vessel class, with its peak
    volume (seed cells × peak litres per seed cell) within the type's working volumes (a batch
    seeded before the horizon may be below the minimum: records forecast it short)."""
    found: list[str] = []
    for b in v.batches:
        rec = v.recipes.get(b.recipe)
        if rec is None:
            continue
        for k, phase in enumerate(b.phases, start=1):
            where = f"batch {b.batch_id} phase {phase.name}"
            reactor = v.scenario.reactors.get(phase.reactor_type)
            if reactor is None:
                found.append(f"{where}: reactor type {phase.reactor_type!r} is not in the scenario")
                continue
            if f"phase{k}_vessel_class" not in rec:
                continue
            vessel = str(rec[f"phase{k}_vessel_class"])
            if vessel not in reactor.vessel_classes:
                found.append(f"{where}: needs a {vessel!r} vessel but {phase.reactor_type} hosts "
                             f"{reactor.vessel_classes}")
            peak = b.seed_cells * float(rec[f"phase{k}_peak_volume_L_per_seed_cell"])
            if view.exceeds(peak, reactor.working_volume_max_L, 1e-6):
                found.append(f"{where}: peak volume {peak:.6g} L above {phase.reactor_type}'s "
                             f"working_volume_max_L {reactor.working_volume_max_L:g}")
            running = b.phases[0].start_day < 0  # a kept culture's volume is a fact, not a plan
            if view.exceeds(reactor.working_volume_min_L, peak, 1e-6) and not running:
                found.append(f"{where}: peak volume {peak:.6g} L below {phase.reactor_type}'s "
                             f"working_volume_min_L {reactor.working_volume_min_L:g}")
    return view.listed("batches", found)


def check_reactor_units(v: PlanView) -> list[str]:
    """No unit holds two batch phases at once (turnaround included), no phase runs during its
    unit's maintenance window, and unit numbers stay within the fleet (owned + added)."""
    found: list[str] = []
    fleet = v.fleet()
    busy: dict[tuple[str, int], list[tuple[int, int, str]]] = defaultdict(list)
    for b in v.batches:
        for phase in b.phases:
            rtype, unit = phase.reactor_type, phase.reactor_unit
            if rtype not in v.scenario.reactors:
                continue
            where = f"batch {b.batch_id} phase {phase.name}"
            if not 1 <= unit <= fleet.get(rtype, 0):
                found.append(f"{where}: unit {rtype}#{unit} but the fleet has "
                             f"{fleet.get(rtype, 0)} units of {rtype}")
            down = v.maintenance_days(rtype, unit) & set(range(phase.start_day, phase.end_day))
            if down:
                found.append(f"{where}: runs on {rtype}#{unit} on maintenance day(s) "
                             f"{sorted(down)[:3]}")
        for rtype, unit, start, end, names in b.stays():  # turnaround once, after each stay
            if rtype in v.scenario.reactors:
                turnaround = v.scenario.reactors[rtype].turnaround_days
                busy[(rtype, unit)].append((start, end + turnaround, f"{b.batch_id}/{names}"))
    for (rtype, unit), spans in sorted(busy.items()):
        spans.sort()
        for (s1, e1, first), (s2, _e2, second) in itertools.pairwise(spans):
            if s2 < e1:
                found.append(f"{rtype}#{unit} holds {first} (days {s1}-{e1 - 1} incl. turnaround) "
                             f"and {second} from day {s2}")
    return view.listed("batches", found)


def check_capacity(v: PlanView) -> list[str]:
    """The capacity table lists every reactor type with its owned units and 0..max additional
    whole units."""
    found: list[str] = []
    cap = {str(k): r for k, r in zip(v.plan.capacity.index,
                                     v.plan.capacity.to_dict("records"), strict=True)}
    for name, reactor in v.scenario.reactors.items():
        if name not in cap:
            found.append(f"reactor type {name} missing")
            continue
        owned, added = float(cap[name]["units_owned"]), float(cap[name]["units_added"])
        if not view.close(owned, reactor.units_owned):
            found.append(f"{name}: units_owned {owned:g} but the scenario owns {reactor.units_owned}")
        whole = view.close(added, round(added))
        if not whole or added < -view.ABS_TOL_UNITS or view.exceeds(added, reactor.max_additional_units):
            found.append(f"{name}: units_added {added:g} is not a whole number in "
                         f"0..{reactor.max_additional_units}")
    return view.listed("capacity", found)


def check_occupancy(v: PlanView) -> list[str]:
    """The occupancy table equals the units busy (phase or turnaround) recomputed from the batches,
    and units available = fleet − units in maintenance, on every day of the horizon. (Phases in
    maintenance and double bookings are :func:`check_reactor_units`' findings.)"""
    found: list[str] = []
    fleet = v.fleet()
    busy: dict[tuple[int, str], set[int]] = defaultdict(set)
    for b in v.batches:
        for rtype, unit, start, end, _names in b.stays():
            if rtype not in v.scenario.reactors:
                continue
            turnaround = v.scenario.reactors[rtype].turnaround_days
            for day in range(start, end + turnaround):
                busy[(day, rtype)].add(unit)
    down: dict[tuple[int, str], int] = defaultdict(int)
    for rtype in v.scenario.reactors:
        for unit in range(1, fleet[rtype] + 1):
            for day in v.maintenance_days(rtype, unit):
                down[(day, rtype)] += 1
    occ = v.plan.occupancy
    table_busy = view.series(occ, "units_busy", ["day", "reactor_type"])
    table_avail = view.series(occ, "units_available", ["day", "reactor_type"])
    for day in range(v.horizon):
        for rtype in v.scenario.reactors:
            expect_busy = len(busy.get((day, rtype), ()))
            expect_avail = fleet[rtype] - down[(day, rtype)]
            got_busy = table_busy.get((day, rtype), 0.0)
            got_avail = table_avail.get((day, rtype), 0.0 if occ.empty else math.nan)
            if not view.close(got_busy, expect_busy):
                found.append(f"day {day} {rtype}: units_busy {got_busy:g} but the batches keep "
                             f"{expect_busy} units busy")
            if not occ.empty and not view.close(got_avail, expect_avail):
                found.append(f"day {day} {rtype}: units_available {got_avail:g}, expected "
                             f"{expect_avail} (fleet {fleet[rtype]}, {down[(day, rtype)]} in "
                             f"maintenance)")
    return view.listed("occupancy", found)


# ---- checks: flows of units ---------------------------------------------------------------------

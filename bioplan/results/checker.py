"""Independent plan checker: verify a :class:`~bioplan.results.Plan` against its scenario.

Written from the scenario and the Plan tables only (never from the optimisation model), so a bug
in the model and the same bug in the checker are unlikely to coincide. ``check_plan(plan)`` returns
one message per violated invariant (empty list = every invariant holds); each message names the
table, the offending rows and the numbers.

Conventions checked (the Plan contract in ``docs/architecture.md``):

- A batch is the set of ``batches`` rows sharing a ``batch_id``; its phases follow the recipe's
  phases in order, back to back, each lasting the recipe's phase days. It is seeded on the first
  phase's ``start_day`` and harvested on the last phase's ``end_day`` (ends are exclusive), its
  *production day*. Consecutive phases on the same reactor type continue in the same vessel
  (one *stay*); a stay ``[start, end)`` keeps its unit busy on ``[start, end + turnaround)``:
  no turnaround between phases inside a stay.
- Cytokines: a phase row's ``cytokine_mg`` [mg] sums the mass-dosed factors and ``epo_kU`` [kU]
  the activity-dosed ones (EPO) that the phase uses: seed cells × the recipe's
  ``phase<k>_cytokine_<F>_<unit>_per_seed_cell``. A hand-made recipe table may give only the
  totals ``cytokine_<F>_<unit>_per_seed_cell``; then only the batch totals are checked, and the
  factor may appear in ``media_use`` on any day of the batch.
- Operations (labour): one at the start of every stay (seeding or transfer to another vessel)
  and one harvest; a phase continuing in the same vessel is not an operation.
- Units of a batch become available (its *cohort day*) on production day + release delay; shelf
  life counts from production, so the release delay eats into it: a cohort is usable on days
  ``cohort_day .. production_day + shelf_life_days - 1``. Initial inventory is cohort 0.
- Expired units leave the inventory on the last usable day or the day after; nothing is held
  later than that.
- Starting material: lots = seed cells / cells per lot (continuous), counted in the week
  (``seed day // 7``) the batch is seeded.
- Costs: starting material = lots × cost per lot; basal medium = litres × price; each cytokine =
  seed cells × use per seed cell × price; reactor capital = (owned + added) × cost per unit-day ×
  horizon days; reactor operation = phase days (without turnaround) × cost per day; labour =
  operations × cost per operation; expiry waste = expired units × expiry cost; shortage penalty =
  short units × penalty.
"""

from __future__ import annotations

import itertools
import math
from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import pandas as pd

from bioplan.contracts import CYTOKINE_COLUMN as _CYTOKINE_COLUMN
from bioplan.contracts import TERM_NAMES as COST_TERMS
from bioplan.results.checker_units import UNIT_CHECKS

if TYPE_CHECKING:
    from bioplan.results.plan import Plan
    from bioplan.scenario import Scenario
    from bioplan.scenario.schema import Product

REL_TOL = 1e-6
"""Relative tolerance of every comparison [-] (costs must add up within 1e-6 relative)."""
ABS_TOL_UNITS = 1e-5
"""Absolute tolerance on units, litres and lots (solver feasibility tolerance after scaling)."""
MAX_LISTED = 5
"""At most this many offending rows are named per check; the rest are counted."""


def check_plan(plan: Plan) -> list[str]:
    """Every violated invariant of ``plan`` as one message (empty list: all hold).

    A plan without a solution (infeasible, no solution) has nothing to check and gives ``[]``.

    >>> check_plan(plan)                                            # doctest: +SKIP
    ['deliveries: platelet on day 9 from cohort 3 is after its last usable day 7']
    """
    if not plan.has_solution:
        return []
    view = _PlanView.of(plan)
    problems: list[str] = []
    for check in CHECKS:
        try:
            problems.extend(check(view))
        except (KeyError, ValueError, TypeError) as err:  # a malformed table is a finding too
            problems.append(f"{check.__name__.removeprefix('check_')}: could not check ({err!r})")
    return problems


# ---- a read-only view of the plan as plain records ----------------------------------------------


@dataclass(frozen=True)
class _Phase:
    name: str
    reactor_type: str
    reactor_unit: int
    start_day: int
    end_day: int
    medium_L: float
    cytokine_mg: float
    """Mass-dosed factors used in the phase [mg]."""
    epo_kU: float
    """Activity-dosed factors (EPO) used in the phase [kU]."""


@dataclass
class _Batch:
    batch_id: str
    product: str
    recipe: str
    seed_cells: float
    product_units: float
    phases: list[_Phase]
    """Ordered by start day."""
    consistent: bool
    """All phase rows agree on product, recipe, seed cells and product units."""

    @property
    def seed_day(self) -> int:
        return min(p.start_day for p in self.phases)

    @property
    def production_day(self) -> int:
        return max(p.end_day for p in self.phases)

    def stays(self) -> list[tuple[str, int, int, int, str]]:
        """(reactor type, unit, start, end, phase names) of each time on one vessel: phases back
        to back on the same reactor type and unit merge into one stay."""
        out: list[tuple[str, int, int, int, str]] = []
        for p in self.phases:
            if out and out[-1][:2] == (p.reactor_type, p.reactor_unit) and out[-1][3] == p.start_day:
                t, u, s, _e, names = out[-1]
                out[-1] = (t, u, s, p.end_day, f"{names}+{p.name}")
            else:
                out.append((p.reactor_type, p.reactor_unit, p.start_day, p.end_day, p.name))
        return out


def _float_or_zero(value: Any) -> float:
    return 0.0 if value is None or pd.isna(value) else float(value)


def _batches(table: pd.DataFrame) -> list[_Batch]:
    rows = table.reset_index()
    if "batch_id" not in rows.columns:
        rows = rows.rename(columns={rows.columns[0]: "batch_id"})
    grouped: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for rec in rows.to_dict("records"):
        grouped[str(rec["batch_id"])].append({str(k): x for k, x in rec.items()})
    batches = []
    for batch_id, recs in sorted(grouped.items()):
        recs.sort(key=lambda r: int(r["start_day"]))
        first = recs[0]
        shared = ("product", "recipe", "seed_cells", "product_units")
        batches.append(_Batch(
            batch_id=batch_id,
            product=str(first["product"]),
            recipe=str(first["recipe"]),
            seed_cells=float(first["seed_cells"]),
            product_units=float(first["product_units"]),
            phases=[_Phase(str(r["phase"]), str(r["reactor_type"]), int(r["reactor_unit"]),
                           int(r["start_day"]), int(r["end_day"]), float(r["medium_L"]),
                           float(r["cytokine_mg"]), _float_or_zero(r.get("epo_kU")))
                    for r in recs],
            consistent=all(r[k] == first[k] for r in recs for k in shared),
        ))
    return batches


@dataclass
class _PlanView:
    plan: Plan
    scenario: Scenario
    recipes: dict[str, dict[str, Any]]
    """Recipe table rows by recipe id."""
    cytokine_columns: list[str]
    batches: list[_Batch]
    horizon: int
    products: dict[str, Product]

    @classmethod
    def of(cls, plan: Plan) -> _PlanView:
        table = plan.scenario.recipe_table()
        recipes = {str(k): dict(r) for k, r in zip(table.index, table.to_dict("records"),
                                                     strict=True)}
        columns = [str(c) for c in table.columns if _CYTOKINE_COLUMN.match(str(c))]
        return cls(plan, plan.scenario, recipes, columns, _batches(plan.batches),
                   plan.scenario.horizon.days,
                   {str(k): p for k, p in plan.scenario.products.items()})

    # -- scenario-derived facts --
    def cohort_day(self, product: str, production_day: int) -> int:
        return production_day + self.products[product].release_delay_days

    def last_usable_day(self, product: str, cohort_day: int) -> int:
        """Last day units of ``cohort_day`` may be delivered (shelf life counts from production)."""
        prod = self.products[product]
        return cohort_day - prod.release_delay_days + prod.shelf_life_days - 1

    def fleet(self) -> dict[str, int]:
        """Units of each reactor type in the plan (owned + added, from the capacity table)."""
        sizes = {name: r.units_owned for name, r in self.scenario.reactors.items()}
        cap = self.plan.capacity
        for name, rec in zip(cap.index, cap.to_dict("records"), strict=True):
            if name in sizes:
                sizes[str(name)] = round(float(rec["units_owned"]) + float(rec["units_added"]))
        return sizes

    def maintenance_days(self, reactor_type: str, unit: int) -> set[int]:
        days: set[int] = set()
        for window in self.scenario.reactors[reactor_type].maintenance:
            if window.unit == unit:
                first = self.scenario.horizon.day_of(window.start_date)
                days.update(range(first, first + window.days))
        return days

    def operations(self) -> dict[int, int]:
        """Seedings, transfers and harvests per day (all days, also outside the horizon)."""
        ops: dict[int, int] = defaultdict(int)
        for batch in self.batches:
            for stay in batch.stays():
                ops[stay[2]] += 1
            ops[batch.production_day] += 1
        return ops

    def released(self) -> dict[tuple[str, int], float]:
        """Units becoming available per (product, cohort day), initial inventory as cohort 0."""
        inflow: dict[tuple[str, int], float] = defaultdict(float)
        for name, prod in self.products.items():
            if prod.initial_inventory_units > 0:
                inflow[(name, 0)] += prod.initial_inventory_units
        for batch in self.batches:
            if batch.product in self.products:
                key = (batch.product, self.cohort_day(batch.product, batch.production_day))
                inflow[key] += batch.product_units
        return inflow

    def cytokine_use(self, batch: _Batch) -> dict[tuple[str, str], float]:
        """(factor, unit) -> amount [mg or kU] a batch uses: seed cells × use per seed cell."""
        rec = self.recipes.get(batch.recipe, {})
        use = {}
        for col in self.cytokine_columns:
            match = _CYTOKINE_COLUMN.match(col)
            value = rec.get(col)
            if match is not None and value is not None and not pd.isna(value):
                use[(match["factor"], match["unit"])] = batch.seed_cells * float(value)
        return use

    def phase_cytokine_use(self, batch: _Batch) -> dict[tuple[str, str], list[float] | None]:
        """(factor, unit) -> amount [mg or kU] the batch uses in each of its recipe's phases:
        seed cells × ``phase<k>_cytokine_<F>_<unit>_per_seed_cell``; None for a factor whose
        per-phase columns the recipe lacks (a hand-made table: only the total is checked)."""
        rec = self.recipes.get(batch.recipe, {})
        n = int(rec.get("n_phases", 0) or 0)
        out: dict[tuple[str, str], list[float] | None] = {}
        for col in self.cytokine_columns:
            match = _CYTOKINE_COLUMN.match(col)
            if match is None:
                continue
            values = [rec.get(f"phase{k}_{col}") for k in range(1, n + 1)]
            if n and all(x is not None and not pd.isna(x) for x in values):
                out[(match["factor"], match["unit"])] = [batch.seed_cells * _float_or_zero(x)
                                                        for x in values]
            else:
                out[(match["factor"], match["unit"])] = None
        return out


def _close(a: float, b: float, abs_tol: float = ABS_TOL_UNITS) -> bool:
    return math.isclose(a, b, rel_tol=REL_TOL, abs_tol=abs_tol)


def _exceeds(value: float, limit: float, abs_tol: float = ABS_TOL_UNITS) -> bool:
    return value > limit + abs_tol + REL_TOL * abs(limit)


def _listed(table: str, found: list[str]) -> list[str]:
    """One message per offending row, at most ``MAX_LISTED`` of them plus a count of the rest."""
    out = [f"{table}: {text}" for text in found[:MAX_LISTED]]
    if len(found) > MAX_LISTED:
        out.append(f"{table}: ... and {len(found) - MAX_LISTED} more like these")
    return out


def _series(frame: pd.DataFrame, column: str, levels: list[str]) -> dict[Any, float]:
    """``frame[column]`` summed by index ``levels`` as a plain dict (empty frame: empty dict)."""
    if frame is None or frame.empty:
        return {}
    grouped = frame[column].astype(float).groupby(level=levels).sum()
    return {k: float(v) for k, v in grouped.items()}


# ---- checks: batches and reactors ------------------------------------------------------------


def check_batch_recipes(v: _PlanView) -> list[str]:
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
            if not _close(phase.medium_L, medium):
                found.append(f"{where}: medium_L {phase.medium_L:g} but seed cells × recipe give "
                             f"{medium:g} L")
        # product_units are the whole units packaged, at most what the cells make: checked by
        # check_whole_units (bioplan.results.checker_units)
        found.extend(_batch_cytokine_findings(v, b))
    return _listed("batches", found)


def _batch_cytokine_findings(v: _PlanView, b: _Batch) -> list[str]:
    """``cytokine_mg`` (mass-dosed factors) and ``epo_kU`` (activity-dosed factors) of a batch's
    phase rows add up to seed cells × the recipe's totals; where the recipe gives per-phase
    columns for every factor of the unit, each phase row carries exactly its own phase's use."""
    found: list[str] = []
    use = v.cytokine_use(b)
    per_phase = v.phase_cytokine_use(b)
    for unit, column in (("mg", "cytokine_mg"), ("kU", "epo_kU")):
        expect = sum(x for (_f, u), x in use.items() if u == unit)
        got = sum(getattr(p, column) for p in b.phases)
        if not _close(got, expect):
            found.append(f"batch {b.batch_id}: {column} sums to {got:g} but the recipe gives "
                         f"{expect:g} {unit}")
            continue
        phased = [x for (_f, u), x in per_phase.items() if u == unit]
        if not phased or any(x is None for x in phased):
            continue
        for k, phase in enumerate(b.phases):
            want = sum(x[k] for x in phased if x is not None and k < len(x))
            have = getattr(phase, column)
            if not _close(have, want):
                found.append(f"batch {b.batch_id} phase {phase.name}: {column} {have:g} but the "
                             f"recipe's phase {k + 1} uses {want:g} {unit}")
    return found


def check_vessels(v: _PlanView) -> list[str]:
    """Each phase runs on a reactor type of the scenario that hosts its vessel class, with its peak
    volume (seed cells × peak litres per seed cell) within the type's working volumes."""
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
            if _exceeds(peak, reactor.working_volume_max_L, 1e-6):
                found.append(f"{where}: peak volume {peak:.6g} L above {phase.reactor_type}'s "
                             f"working_volume_max_L {reactor.working_volume_max_L:g}")
            if _exceeds(reactor.working_volume_min_L, peak, 1e-6):
                found.append(f"{where}: peak volume {peak:.6g} L below {phase.reactor_type}'s "
                             f"working_volume_min_L {reactor.working_volume_min_L:g}")
    return _listed("batches", found)


def check_reactor_units(v: _PlanView) -> list[str]:
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
        for rtype, unit, start, end, names in b.stays():
            if rtype in v.scenario.reactors:
                turnaround = v.scenario.reactors[rtype].turnaround_days
                busy[(rtype, unit)].append((start, end + turnaround, f"{b.batch_id}/{names}"))
    for (rtype, unit), spans in sorted(busy.items()):
        spans.sort()
        for (s1, e1, first), (s2, _e2, second) in itertools.pairwise(spans):
            if s2 < e1:
                found.append(f"{rtype}#{unit} holds {first} (days {s1}-{e1 - 1} incl. turnaround) "
                             f"and {second} from day {s2}")
    return _listed("batches", found)


def check_capacity(v: _PlanView) -> list[str]:
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
        if not _close(owned, reactor.units_owned):
            found.append(f"{name}: units_owned {owned:g} but the scenario owns {reactor.units_owned}")
        whole = _close(added, round(added))
        if not whole or added < -ABS_TOL_UNITS or _exceeds(added, reactor.max_additional_units):
            found.append(f"{name}: units_added {added:g} is not a whole number in "
                         f"0..{reactor.max_additional_units}")
    return _listed("capacity", found)


def check_occupancy(v: _PlanView) -> list[str]:
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
    table_busy = _series(occ, "units_busy", ["day", "reactor_type"])
    table_avail = _series(occ, "units_available", ["day", "reactor_type"])
    for day in range(v.horizon):
        for rtype in v.scenario.reactors:
            expect_busy = len(busy.get((day, rtype), ()))
            expect_avail = fleet[rtype] - down[(day, rtype)]
            got_busy = table_busy.get((day, rtype), 0.0)
            got_avail = table_avail.get((day, rtype), 0.0 if occ.empty else math.nan)
            if not _close(got_busy, expect_busy):
                found.append(f"day {day} {rtype}: units_busy {got_busy:g} but the batches keep "
                             f"{expect_busy} units busy")
            if not occ.empty and not _close(got_avail, expect_avail):
                found.append(f"day {day} {rtype}: units_available {got_avail:g}, expected "
                             f"{expect_avail} (fleet {fleet[rtype]}, {down[(day, rtype)]} in "
                             f"maintenance)")
    return _listed("occupancy", found)


# ---- checks: flows of units ---------------------------------------------------------------------


def check_deliveries_meet_demand(v: _PlanView) -> list[str]:
    """Deliveries + shortages = demand for every day and product; no negative amounts; any hard
    minimum service level holds."""
    found: list[str] = []
    demand = _series(v.scenario.demand_table(), "units", ["day", "product"])
    delivered = _series(v.plan.deliveries, "units", ["day", "product"])
    short = _series(v.plan.shortages, "units", ["day", "product"])
    for (day, product), need in sorted(demand.items()):
        got = delivered.get((day, product), 0.0) + short.get((day, product), 0.0)
        if not _close(got, need):
            found.append(f"day {day} {product}: delivered {delivered.get((day, product), 0.0):g} + "
                         f"short {short.get((day, product), 0.0):g} != demand {need:g}")
    for name, table in (("deliveries", v.plan.deliveries), ("shortages", v.plan.shortages),
                        ("expiries", v.plan.expiries), ("inventory", v.plan.inventory)):
        if not table.empty and (table["units"].astype(float) < -ABS_TOL_UNITS).any():
            found.append(f"{name} has negative units")
    extra = sorted(set(delivered) - set(demand))
    if extra:
        found.append(f"deliveries on days/products without demand rows: {extra[:3]}")
    for product, prod in v.products.items():
        if prod.min_service_level is None:
            continue
        need = sum(u for (_d, p), u in demand.items() if p == product)
        got = sum(u for (_d, p), u in delivered.items() if p == product)
        if need > 0 and got < prod.min_service_level * need - ABS_TOL_UNITS:
            found.append(f"{product}: service level {got / need:.4f} below the hard minimum "
                         f"{prod.min_service_level}")
    return _listed("deliveries", found)


def check_shelf_life(v: _PlanView) -> list[str]:
    """Nothing is delivered before its cohort is released or after its last usable day."""
    found: list[str] = []
    for (day, product, cohort), units in sorted(
            _series(v.plan.deliveries, "units", ["day", "product", "cohort_day"]).items()):
        if units <= ABS_TOL_UNITS or product not in v.products:
            continue
        if day < cohort:
            found.append(f"{units:g} {product} delivered on day {day} from cohort {cohort}, "
                         f"before it is released")
        last = v.last_usable_day(product, cohort)
        if day > last:
            found.append(f"{units:g} {product} delivered on day {day} from cohort {cohort}, after "
                         f"its last usable day {last}")
    return _listed("deliveries", found)


def check_inventory_balance(v: _PlanView) -> list[str]:
    """Cohort by cohort and day by day: stock(end of d) = stock(d − 1) + released on d − delivered
    on d − expired on d. Units may only leave unexplained (expire) on a cohort's last usable day or
    the day after, none are held later, and the implied expiries add up to the ``expiries`` table.
    Production is counted from the batches (units released on their cohort day)."""
    found: list[str] = []
    released = v.released()
    stock = _series(v.plan.inventory, "units", ["day", "product", "cohort_day"])
    delivered = _series(v.plan.deliveries, "units", ["day", "product", "cohort_day"])
    expired_table = _series(v.plan.expiries, "units", ["day", "product"])
    cohorts = {(p, c) for (p, c) in released} | {(p, c) for (_d, p, c) in stock} | {
        (p, c) for (_d, p, c) in delivered}
    implied: dict[tuple[int, str], float] = defaultdict(float)
    for product, cohort in sorted(cohorts):
        if product not in v.products:
            found.append(f"cohort {cohort} of unknown product {product!r}")
            continue
        inflow_units = released.get((product, cohort), 0.0)
        if inflow_units <= ABS_TOL_UNITS:
            used = [d for (d, p, c), u in delivered.items()
                    if p == product and c == cohort and u > ABS_TOL_UNITS]
            held = [d for (d, p, c), u in stock.items()
                    if p == product and c == cohort and u > ABS_TOL_UNITS]
            if used or held:
                found.append(f"{product} cohort {cohort}: delivered or held on day "
                             f"{min(used + held)} but no batch is released on day {cohort}")
            continue
        last = v.last_usable_day(product, cohort)
        previous = 0.0
        first_day = max(cohort, 0)
        for day in range(first_day, v.horizon):
            inflow = inflow_units if day == first_day else 0.0
            end = stock.get((day, product, cohort), 0.0)
            out = delivered.get((day, product, cohort), 0.0)
            loss = previous + inflow - out - end
            if loss < -ABS_TOL_UNITS - REL_TOL * (previous + inflow):
                found.append(f"{product} cohort {cohort} day {day}: stock {end:g} exceeds "
                             f"{previous:g} held + {inflow:g} released − {out:g} delivered")
            elif loss > ABS_TOL_UNITS + REL_TOL * (previous + inflow):
                if day in (last, last + 1):
                    implied[(day, product)] += loss
                else:
                    found.append(f"{product} cohort {cohort} day {day}: {loss:g} units vanish "
                                 f"(held {previous:g} + released {inflow:g} − delivered {out:g} − "
                                 f"stock {end:g}) before the cohort expires on day {last + 1}")
            if day > last and end > ABS_TOL_UNITS:
                found.append(f"{product} cohort {cohort}: {end:g} units held on day {day}, after "
                             f"its last usable day {last}")
            previous = end
    for key in sorted(set(implied) | set(expired_table)):
        got, expect = expired_table.get(key, 0.0), implied.get(key, 0.0)
        if not _close(got, expect):
            found.append(f"expiries day {key[0]} {key[1]}: table says {got:g} but the cohorts lose "
                         f"{expect:g} units")
    return _listed("inventory", found)


def check_storage(v: _PlanView) -> list[str]:
    """Stock held at the end of each day stays within each product's storage capacity."""
    found: list[str] = []
    stock = _series(v.plan.inventory, "units", ["day", "product"])
    for (day, product), units in sorted(stock.items()):
        prod = v.products.get(product)
        if prod is not None and prod.storage_capacity_units is not None and _exceeds(
                units, prod.storage_capacity_units):
            found.append(f"day {day} {product}: {units:g} units stored, capacity "
                         f"{prod.storage_capacity_units:g}")
    return _listed("inventory", found)


# ---- checks: resources ----------------------------------------------------------------------


def _lots(v: _PlanView, b: _Batch) -> tuple[str | None, float]:
    """Source feeding a batch and the lots it uses (seed cells / cells per lot)."""
    source = v.recipes.get(b.recipe, {}).get("source")
    if not isinstance(source, str) or source not in v.scenario.sources:
        return None, 0.0
    return source, b.seed_cells / v.scenario.sources[source].cells_per_lot


def check_starting_material(v: _PlanView) -> list[str]:
    """Lots used per source and week (by seeding day) stay within the lots available per week."""
    found: list[str] = []
    per_week: dict[tuple[str, int], float] = defaultdict(float)
    for b in v.batches:
        source, lots = _lots(v, b)
        if source is not None and b.seed_day >= 0:
            per_week[(source, b.seed_day // 7)] += lots
    for (source, week), lots in sorted(per_week.items()):
        limit = v.scenario.sources[source].lots_per_week
        if limit is not None and _exceeds(lots, limit):
            found.append(f"{source} week {week} (days {7 * week}-{7 * week + 6}): {lots:.4g} lots "
                         f"used, {limit:g} available")
    return _listed("batches", found)


def check_media(v: _PlanView) -> list[str]:
    """Medium prepared per horizon day stays within the preparation capacity; the ``media_use``
    table holds all the medium and cytokines of the batches, and medium only on days a phase runs
    (days before the horizon, of fixed batches, are history and not held to the capacity)."""
    found: list[str] = []
    media = v.plan.media_use
    cap = v.scenario.media.prep_capacity_L_per_day
    daily = _series(media, "medium_L", ["day"]) if "medium_L" in media.columns else {}
    active: set[int] = set()
    for b in v.batches:
        for phase in b.phases:
            active.update(range(phase.start_day, phase.end_day))
    for day, litres in sorted(daily.items()):
        if cap is not None and 0 <= day < v.horizon and _exceeds(litres, cap):
            found.append(f"day {day}: {litres:.6g} L of medium prepared, capacity {cap:g} L/day")
        if litres > ABS_TOL_UNITS and day not in active:
            found.append(f"day {day}: {litres:.6g} L of medium but no batch phase runs")
    in_horizon = [d for d in active if 0 <= d < v.horizon]
    if v.batches and (in_horizon or daily):
        total = sum(p.medium_L for b in v.batches for p in b.phases)
        if not _close(sum(daily.values()), total, 1e-3):
            found.append(f"medium_L sums to {sum(daily.values()):.6g} L but the batches use "
                         f"{total:.6g} L")
        for (factor, unit), amount in _cytokine_use(v).items():
            col = f"{factor}_{unit}"
            got = float(media[col].sum()) if col in media.columns else 0.0
            if not _close(got, amount, 1e-6):
                found.append(f"{col} sums to {got:.6g} but the batches use {amount:.6g}")
        using = _factor_days(v)
        for (factor, unit), days in sorted(using.items()):
            col = f"{factor}_{unit}"
            if col not in media.columns:
                continue
            for day, amount in sorted(_series(media, col, ["day"]).items()):
                if amount > 1e-9 and day not in days:
                    found.append(f"day {day}: {amount:.6g} {unit} of {factor} but no batch phase "
                                 f"using {factor} runs")
    return _listed("media_use", found)


def _factor_days(v: _PlanView) -> dict[tuple[str, str], set[int]]:
    """(factor, unit) -> days on which a batch phase that uses the factor runs (every phase of a
    batch whose recipe gives only the factor's total)."""
    days: dict[tuple[str, str], set[int]] = defaultdict(set)
    for b in v.batches:
        for key, per_phase in v.phase_cytokine_use(b).items():
            if per_phase is None:
                if v.cytokine_use(b).get(key, 0.0) > 0:
                    for phase in b.phases:
                        days[key].update(range(phase.start_day, phase.end_day))
                continue
            for phase, amount in zip(b.phases, per_phase, strict=False):
                if amount > 0:
                    days[key].update(range(phase.start_day, phase.end_day))
    return days


def check_labour(v: _PlanView) -> list[str]:
    """Operations (seedings, transfers, harvests) per day stay within the labour limit."""
    limit = v.scenario.labour.operations_per_day
    if limit is None:
        return []
    found = [f"day {day}: {n} operations, limit {limit}"
             for day, n in sorted(v.operations().items()) if 0 <= day < v.horizon and n > limit]
    return _listed("batches", found)


# ---- checks: costs ------------------------------------------------------------------------------


def _cytokine_use(v: _PlanView) -> dict[tuple[str, str], float]:
    """(factor, unit) -> amount [mg or kU] used by all batches."""
    use: dict[tuple[str, str], float] = defaultdict(float)
    for b in v.batches:
        for key, amount in v.cytokine_use(b).items():
            use[key] += amount
    return dict(use)


def recompute_costs(plan: Plan) -> dict[str, float]:
    """The objective's cost terms recomputed from the scenario and the plan tables [USD]
    (``COST_TERMS`` plus one ``cytokine:<FACTOR>`` entry per cytokine)."""
    v = _PlanView.of(plan)
    sc = v.scenario
    costs = dict.fromkeys(COST_TERMS, 0.0)
    for b in v.batches:
        source, lots = _lots(v, b)
        if source is not None:
            costs["starting_material"] += lots * sc.sources[source].cost_usd_per_lot
        for phase in b.phases:
            costs["basal_medium"] += phase.medium_L * sc.media.basal_price_usd_per_L
            rtype = sc.reactors.get(phase.reactor_type)
            if rtype is not None:
                days = phase.end_day - phase.start_day
                costs["reactor_operation"] += days * rtype.operating_cost_usd_per_day
    for (factor, unit), amount in _cytokine_use(v).items():
        prices = sc.media.cytokine_price_usd_per_kU if unit == "kU" else (
            sc.media.cytokine_price_usd_per_mg)
        usd = amount * prices.get(factor, 0.0)
        costs[f"cytokine:{factor}"] = usd
        costs["cytokines"] += usd
    for name, size in v.fleet().items():
        costs["reactor_capital"] += size * sc.reactors[name].capital_cost_usd_per_unit_day * v.horizon
    costs["labour"] = sum(v.operations().values()) * sc.labour.cost_usd_per_operation
    for product, units in _series(plan.expiries, "units", ["product"]).items():
        if product in v.products:
            costs["expiry_waste"] += units * v.products[product].expiry_cost_usd_per_unit
    for product, units in _series(plan.shortages, "units", ["product"]).items():
        if product in v.products:
            costs["shortage_penalty"] += units * v.products[product].shortage_penalty_usd_per_unit
    return costs


def check_costs(v: _PlanView) -> list[str]:
    """The ``COST_TERMS`` rows add up to the objective within 1e-6 relative, ``cytokine:<F>`` rows
    add up to ``cytokines``, and every term equals its recomputation from the tables."""
    found: list[str] = []
    breakdown = {str(k): float(x) for k, x in v.plan.cost_breakdown.items()}
    objective = v.plan.objective_usd
    missing = [t for t in COST_TERMS if t not in breakdown]
    if missing:
        found.append(f"terms {missing} missing")
    total = sum(breakdown.get(t, 0.0) for t in COST_TERMS)
    if objective is None or not math.isclose(total, objective, rel_tol=REL_TOL, abs_tol=1e-6):
        found.append(f"terms add up to {total:.10g} USD but the objective is {objective}")
    parts = [x for k, x in breakdown.items() if k.startswith("cytokine:")]
    if parts and not math.isclose(sum(parts), breakdown.get("cytokines", 0.0), rel_tol=REL_TOL,
                                  abs_tol=1e-6):
        found.append(f"cytokine:<F> rows add up to {sum(parts):.10g} but cytokines is "
                     f"{breakdown.get('cytokines', 0.0):.10g}")
    scale = max(abs(objective or 0.0), 1.0)
    for term, usd in recompute_costs(v.plan).items():
        if term.startswith("cytokine:") and term not in breakdown:
            continue
        got = breakdown.get(term, 0.0)
        if abs(got - usd) > REL_TOL * max(abs(got), abs(usd)) + 1e-9 * scale:
            found.append(f"{term} is {got:.10g} USD but recomputing from the tables gives "
                         f"{usd:.10g}")
    return _listed("cost_breakdown", found)


def check_cost_by_product(v: _PlanView) -> list[str]:
    """Costs allocated to products add up, term by term, to the cost breakdown (so costs per
    delivered unit account for every dollar); none is negative."""
    table = v.plan.cost_by_product
    if table is None or table.empty:
        return []
    found: list[str] = []
    allocated = _series(table, "usd", ["term"])
    breakdown = {str(k): float(x) for k, x in v.plan.cost_breakdown.items()}
    scale = max(abs(v.plan.objective_usd or 0.0), 1.0)
    for term in COST_TERMS:
        got, expect = allocated.get(term, 0.0), breakdown.get(term, 0.0)
        if abs(got - expect) > REL_TOL * scale:
            found.append(f"{term}: products are allocated {got:.10g} USD but the term is "
                         f"{expect:.10g}")
    if (table["usd"].astype(float) < -REL_TOL * scale).any():
        found.append("negative allocations")
    return _listed("cost_by_product", found)


CHECKS: list[Callable[[_PlanView], list[str]]] = [
    check_batch_recipes,
    check_vessels,
    check_reactor_units,
    check_capacity,
    check_occupancy,
    check_deliveries_meet_demand,
    check_shelf_life,
    check_inventory_balance,
    check_storage,
    check_starting_material,
    check_media,
    check_labour,
    check_costs,
    check_cost_by_product,
    *UNIT_CHECKS,
]
"""Every check, in the order its messages are reported."""


def describe_checks() -> Iterable[tuple[str, str]]:
    """(name, first docstring line) of every check, for documentation."""
    for check in CHECKS:
        doc = (check.__doc__ or "").strip().splitlines()
        yield check.__name__.removeprefix("check_"), doc[0] if doc else ""

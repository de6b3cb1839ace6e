"""Checks of the products: deliveries against demand, shelf life, inventory, storage."""

from __future__ import annotations

from collections import defaultdict

from bioplan.results.checks import view
from bioplan.results.checks.view import PlanView


def check_deliveries_meet_demand(v: PlanView) -> list[str]:
    """Deliveries + shortages = demand for every day and product; no negative amounts; any hard
    minimum service level holds."""
    found: list[str] = []
    demand = view.series(v.scenario.demand_table(), "units", ["day", "product"])
    delivered = view.series(v.plan.deliveries, "units", ["day", "product"])
    short = view.series(v.plan.shortages, "units", ["day", "product"])
    for (day, product), need in sorted(demand.items()):
        got = delivered.get((day, product), 0.0) + short.get((day, product), 0.0)
        if not view.close(got, need):
            found.append(f"day {day} {product}: delivered {delivered.get((day, product), 0.0):g} + "
                         f"short {short.get((day, product), 0.0):g} != demand {need:g}")
    for name, table in (("deliveries", v.plan.deliveries), ("shortages", v.plan.shortages),
                        ("expiries", v.plan.expiries), ("inventory", v.plan.inventory)):
        if not table.empty and (table["units"].astype(float) < -view.ABS_TOL_UNITS).any():
            found.append(f"{name} has negative units")
    extra = sorted(set(delivered) - set(demand))
    if extra:
        found.append(f"deliveries on days/products without demand rows: {extra[:3]}")
    for product, prod in v.products.items():
        if prod.min_service_level is None:
            continue
        need = sum(u for (_d, p), u in demand.items() if p == product)
        got = sum(u for (_d, p), u in delivered.items() if p == product)
        if need > 0 and got < prod.min_service_level * need - view.ABS_TOL_UNITS:
            found.append(f"{product}: service level {got / need:.4f} below the hard minimum "
                         f"{prod.min_service_level}")
    return view.listed("deliveries", found)


def check_shelf_life(v: PlanView) -> list[str]:
    """Nothing is delivered before its cohort is released or after its last usable day."""
    found: list[str] = []
    for (day, product, cohort), units in sorted(
            view.series(v.plan.deliveries, "units", ["day", "product", "cohort_day"]).items()):
        if units <= view.ABS_TOL_UNITS or product not in v.products:
            continue
        if day < cohort:
            found.append(f"{units:g} {product} delivered on day {day} from cohort {cohort}, "
                         f"before it is released")
        last = v.last_usable_day(product, cohort)
        if day > last:
            found.append(f"{units:g} {product} delivered on day {day} from cohort {cohort}, after "
                         f"its last usable day {last}")
    return view.listed("deliveries", found)


def check_inventory_balance(v: PlanView) -> list[str]:
    """Cohort by cohort and day by day: stock(end of d) = stock(d − 1) + released on d − delivered
    on d − expired on d. Units may only leave unexplained (expire) on a cohort's last usable day or
    the day after, none are held later, and the implied expiries add up to the ``expiries`` table.
    Production is counted from the batches (units released on their cohort day)."""
    found: list[str] = []
    released = v.released()
    stock = view.series(v.plan.inventory, "units", ["day", "product", "cohort_day"])
    delivered = view.series(v.plan.deliveries, "units", ["day", "product", "cohort_day"])
    expired_table = view.series(v.plan.expiries, "units", ["day", "product"])
    cohorts = {(p, c) for (p, c) in released} | {(p, c) for (_d, p, c) in stock} | {
        (p, c) for (_d, p, c) in delivered}
    implied: dict[tuple[int, str], float] = defaultdict(float)
    for product, cohort in sorted(cohorts):
        if product not in v.products:
            found.append(f"cohort {cohort} of unknown product {product!r}")
            continue
        inflow_units = released.get((product, cohort), 0.0)
        if inflow_units <= view.ABS_TOL_UNITS:
            used = [d for (d, p, c), u in delivered.items()
                    if p == product and c == cohort and u > view.ABS_TOL_UNITS]
            held = [d for (d, p, c), u in stock.items()
                    if p == product and c == cohort and u > view.ABS_TOL_UNITS]
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
            if loss < -view.ABS_TOL_UNITS - view.REL_TOL * (previous + inflow):
                found.append(f"{product} cohort {cohort} day {day}: stock {end:g} exceeds "
                             f"{previous:g} held + {inflow:g} released − {out:g} delivered")
            elif loss > view.ABS_TOL_UNITS + view.REL_TOL * (previous + inflow):
                if day in (last, last + 1):
                    implied[(day, product)] += loss
                else:
                    found.append(f"{product} cohort {cohort} day {day}: {loss:g} units vanish "
                                 f"(held {previous:g} + released {inflow:g} − delivered {out:g} − "
                                 f"stock {end:g}) before the cohort expires on day {last + 1}")
            if day > last and end > view.ABS_TOL_UNITS:
                found.append(f"{product} cohort {cohort}: {end:g} units held on day {day}, after "
                             f"its last usable day {last}")
            previous = end
    for key in sorted(set(implied) | set(expired_table)):
        got, expect = expired_table.get(key, 0.0), implied.get(key, 0.0)
        if not view.close(got, expect):
            found.append(f"expiries day {key[0]} {key[1]}: table says {got:g} but the cohorts lose "
                         f"{expect:g} units")
    return view.listed("inventory", found)


def check_storage(v: PlanView) -> list[str]:
    """Stock held at the end of each day stays within each product's storage capacity."""
    found: list[str] = []
    stock = view.series(v.plan.inventory, "units", ["day", "product"])
    for (day, product), units in sorted(stock.items()):
        prod = v.products.get(product)
        if prod is not None and prod.storage_capacity_units is not None and view.exceeds(
                units, prod.storage_capacity_units):
            found.append(f"day {day} {product}: {units:g} units stored, capacity "
                         f"{prod.storage_capacity_units:g}")
    return view.listed("inventory", found)


# ---- checks: resources ----------------------------------------------------------------------

"""Invariants every solved plan must satisfy, checked by the tests after each solve.

Deliberately small and separate from the model code; the independent checker
(``bioplan.results.check_plan``) runs too.
"""

from __future__ import annotations

import itertools
import math
from collections import defaultdict

from bioplan.contracts import TERM_NAMES as COST_TERMS
from bioplan.results import Plan, check_plan


def check_invariants(plan: Plan) -> list[str]:
    problems: list[str] = []
    if not plan.has_solution:
        return problems
    sc = plan.scenario
    total = float(sum(plan.cost_breakdown[t] for t in COST_TERMS))
    if not math.isclose(total, plan.objective_usd or 0.0, rel_tol=1e-6, abs_tol=1e-6):
        problems.append(f"cost terms add up to {total} but objective is {plan.objective_usd}")
    solver_obj = plan.solver.get("solver_objective_usd")
    if solver_obj is not None and not math.isclose(total, solver_obj, rel_tol=1e-6, abs_tol=1e-3):
        problems.append(f"cost terms {total} differ from the solver objective {solver_obj}")
    # demand = delivered + short
    need = sc.demand_table()["units"]
    got = defaultdict(float)
    for (d, p, _c), u in plan.deliveries["units"].items():
        got[(d, p)] += u
    for (d, p), u in plan.shortages["units"].items():
        got[(d, p)] += u
    for (d, p), u in need.items():
        if abs(got.get((d, p), 0.0) - u) > 1e-5:
            problems.append(f"day {d} {p}: delivered+short {got.get((d, p), 0.0)} != demand {u}")
    # shelf life: cohort c usable on c .. c - release + shelf - 1
    for (d, p, c), u in plan.deliveries["units"].items():
        prod = sc.products[p]
        if u > 1e-6 and not (c <= d <= c - prod.release_delay_days + prod.shelf_life_days - 1):
            problems.append(f"{p} delivered day {d} from cohort {c} outside its shelf life")
    # no unit holds two phases at once
    spans = defaultdict(list)
    for r in plan.batches.itertuples():
        # phases back to back on one unit are one stay: the turnaround follows the last of them
        key = (r.reactor_type, r.reactor_unit)
        turn = sc.reactors[r.reactor_type].turnaround_days
        if spans[key] and spans[key][-1][2] == r.Index and spans[key][-1][1] - turn == r.start_day:
            spans[key][-1] = (spans[key][-1][0], r.end_day + turn, r.Index)
        else:
            spans[key].append((r.start_day, r.end_day + turn, r.Index))
    for key, items in spans.items():
        items.sort()
        for (_s1, e1, _b1), (s2, _e2, _b2) in itertools.pairwise(items):
            if s2 < e1:
                problems.append(f"{key} double-booked at day {s2}")
    problems.extend(check_plan(plan))
    return problems


def assert_valid(plan: Plan) -> None:
    problems = check_invariants(plan)
    assert not problems, "\n".join(problems)

"""The media search as part of a plan: the plain solve it is measured against, the search, and
the tables and ``summary.json`` entry the plan reports.

``plan(..., search_media=True)`` calls :func:`run_search` before its own solve and
:meth:`PlanSearch.attach` after it: the plan's scenario then holds the generated recipes as one
more hand-made recipe source (so the independent checker checks their batches like any other),
and the plan reports

- ``media_search_recipes``: each generated recipe (settings, yields, cost per unit, round, the
  saving per unit against the card's default protocol on the same reactor route, and the units
  the plan makes with it);
- ``media_search_rounds``: the LP objective, recipes generated and seconds of every round;
- ``media_search_duals``: the non-zero duals that priced each round;
- ``summary["media_search"]``: rounds, convergence, the objective of the plain plan (the
  scenario's own variants) and of the searched plan, the saving, and the times.
"""

from __future__ import annotations

import logging
import math
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from bioplan.media_search.column_generation import MediaSearch, SearchBudget, search_recipes
from bioplan.optimisation import SolveOptions, prepare, solve_guarded

if TYPE_CHECKING:
    import pandas as pd

    from bioplan.results.plan import Plan
    from bioplan.scenario import Scenario
    from bioplan.scenario.schema import Uncertainty

log = logging.getLogger(__name__)


@dataclass
class PlanSearch:
    """A media search run for a plan, with the plain plan it is measured against."""

    search: MediaSearch
    plain_objective_usd: float | None
    """Objective of the MIP on the scenario's own recipes [USD]."""
    plain_seconds: float
    """Wall time of that plain solve, preparation included [s]."""
    robust: bool = False
    """Robust pricing: objectives are the robust program's expected costs."""

    def attach(self, plan: Any) -> None:
        """Put the search's tables and summary on ``plan`` (a solved ``Plan``)."""
        recipes = self.search.recipes.copy()
        if not recipes.empty:
            made = plan.batches.drop_duplicates(["recipe", "start_day", "reactor_unit"]) if len(
                plan.batches) else plan.batches
            units = made.groupby("recipe")["product_units"].sum() if len(made) else {}
            recipes["units_in_plan"] = [float(units.get(r, 0.0)) if len(made) else 0.0
                                        for r in recipes.index]
        plan.media_search = {
            "tables": {"media_search_recipes": recipes,
                       "media_search_rounds": self.search.rounds,
                       "media_search_duals": self.search.duals},
            "summary": self.summary(
                (plan.robust or {}).get("expected_cost_usd") if self.robust else plan.objective_usd,
                plan.timings.get("solve", math.nan), recipes,
                gap=(plan.robust or {}).get("gap") if self.robust else plan.gap),
        }

    def summary(self, searched_usd: float | None, final_solve_s: float,
                recipes: Any = None, gap: float | None = None) -> dict[str, Any]:
        """The ``summary.json`` entry (money in USD, times in seconds; ``gap``: the searched
        plan's relative MIP gap [-]). ``time_ratio`` is (search + final solve) over the plain
        solve (preparation and HiGHS, no table extraction)."""
        s = self.search
        recipes = s.recipes if recipes is None else recipes
        plain = self.plain_objective_usd
        saving = (plain - searched_usd) if plain is not None and searched_usd is not None else None
        used = (int((recipes["units_in_plan"] > 1e-9).sum())
                if "units_in_plan" in recipes else 0)
        total = s.seconds + (final_solve_s if math.isfinite(final_solve_s) else 0.0)
        return {
            "pricing": s.summary.get("pricing"),
            "objective": "robust expected cost" if self.robust else "plan cost",
            "rounds": len(s.rounds), "converged": s.converged, "stop_reason": s.stop_reason,
            "recipes_generated": len(s.recipes), "recipes_used": used,
            "lp_objective_usd_by_round": [float(v) for v in s.rounds.get("lp_objective_usd", [])],
            "seconds_by_round": [float(v) for v in s.rounds.get("seconds", [])],
            "plain_objective_usd": plain, "searched_objective_usd": searched_usd,
            "searched_gap": gap, "saving_usd": saving,
            "saving_fraction": saving / plain if saving is not None and plain else None,
            "search_seconds": s.seconds, "plain_solve_seconds": self.plain_seconds,
            "final_solve_seconds": final_solve_s if math.isfinite(final_solve_s) else None,
            "time_ratio": total / self.plain_seconds if self.plain_seconds > 0 else None,
        }


def run_search(sc: Scenario, options: SolveOptions, guard_s: float, *, pareto: bool = True,
               rounds: int | None = None) -> tuple[Scenario, PlanSearch]:
    """Solve the plain MIP (the baseline), then search; returns the scenario with the generated
    recipes and the :class:`PlanSearch`."""
    t0 = time.perf_counter()
    recipes = sc.recipe_table()
    plain = solve_guarded(prepare(sc, recipes, pareto=pareto), options, guard_s)
    plain_s = time.perf_counter() - t0
    budget = SearchBudget(rounds=rounds) if rounds is not None else SearchBudget()
    searched, report = search_recipes(sc, recipes, budget, pareto=pareto, threads=options.threads)
    objective = plain.objective_usd if plain.status.has_solution else None
    return searched, PlanSearch(report, objective, plain_s)


def robust_search_plan(sc: Scenario, unc: Uncertainty, options: SolveOptions, guard_s: float,
                       deterministic: Plan, *, fixed_batches: pd.DataFrame | None = None,
                       pareto: bool = True, rounds: int | None = None) -> Plan:
    """``plan(..., robust=..., search_media=True)``: the robust plan on the scenario's own
    recipes (the baseline), a search priced against the robust program
    (:mod:`bioplan.media_search.robust_pricing`), and the robust plan on the searched recipe set,
    started from the baseline's first stage. Returns the cheaper of the two in expected cost
    (:func:`cheaper_robust`; ``summary["robust_plan_kept"]`` says which) with ``plan.media_search``; its ``plan.robust`` carries the out-of-sample
    metrics of every robust plan (:func:`attach_metrics`)."""
    from bioplan.robust.plan import robust_plan

    t0 = time.perf_counter()
    plain = robust_plan(sc, unc, options, guard_s, deterministic=deterministic,
                        fixed_batches=fixed_batches, pareto=pareto, metrics=False)
    plain_s = time.perf_counter() - t0
    budget = SearchBudget(rounds=rounds) if rounds is not None else SearchBudget()
    searched_sc, report = search_recipes(sc, sc.recipe_table(), budget, pareto=pareto,
                                         threads=options.threads, robust=unc)
    start = plain if plain.has_solution else deterministic
    out = robust_plan(searched_sc, unc, options, guard_s, deterministic=start,
                      fixed_batches=fixed_batches, pareto=pareto, metrics=False)
    expected = (plain.robust or {}).get("expected_cost_usd") if plain.has_solution else None
    search = PlanSearch(report, expected, plain_s, robust=True)
    out, kept = cheaper_robust(out, plain)
    if out.has_solution:
        out.timings["media_search"] = report.seconds
        attach_metrics(out, deterministic, unc, options, guard_s, fixed_batches, pareto)
        if out.robust is not None:
            out.robust["metrics_recipes"] = ("own + generated" if kept == "searched" else
                                             "own (baseline kept)") + "; deterministic: own"
        search.attach(out)
        assert out.media_search is not None
        out.media_search["summary"]["robust_plan_kept"] = kept
    return out


def _expected(p: Plan) -> float | None:
    value = (p.robust or {}).get("expected_cost_usd") if p.has_solution else None
    return float(value) if value is not None else None


def cheaper_robust(searched: Plan, baseline: Plan) -> tuple[Plan, str]:
    """The robust plan to return, and which one it is in words: ``searched`` (the program on own
    + generated recipes) unless it has no plan or a higher expected cost than ``baseline`` (the
    program on the scenario's own recipes, also a plan of the searched set: its recipes are a
    subset). Both programs usually stop at their time limit, and the searched one's start from
    the baseline's first stage may fail, so its incumbent can be dearer."""
    mine, base = _expected(searched), _expected(baseline)
    if base is None or (mine is not None and mine <= base):
        return searched, "searched"
    why = ("no plan in time" if mine is None else
           f"expected cost {mine:,.0f} USD above the baseline's {base:,.0f} USD")
    log.warning("robust media search: the program on the searched recipes ended with %s; "
                "keeping the robust plan on the scenario's own recipes", why)
    return baseline, f"baseline (the program on the searched recipe set ended with {why})"


def attach_metrics(out: Plan, deterministic: Plan, unc: Uncertainty, options: SolveOptions,
                   guard_s: float, fixed_batches: pd.DataFrame | None, pareto: bool) -> None:
    """Add the out-of-sample block of every robust plan (:mod:`bioplan.robust.metrics`: price of
    robustness, VSS, EVPI, service mean and P10) to ``out.robust``, measured on the searched
    plan's recipe set (``out.scenario``: own + generated recipes, their fresh sample yields drawn
    by their settings) against ``deterministic``, the plan on the scenario's own recipes. The
    searched plan is solved from the baseline robust plan's first stage, so the metrics are
    computed here rather than by ``robust_plan`` (whose ``deterministic`` is that start)."""
    from bioplan.robust.metrics import robust_metrics

    if not deterministic.has_solution or out.robust is None:
        return
    t0 = time.perf_counter()
    sc = out.scenario
    data = prepare(sc, sc.recipe_table(), fixed_batches, pareto=pareto)
    out.robust.update(robust_metrics(out, deterministic, unc, data, options, guard_s))
    out.timings["metrics"] = time.perf_counter() - t0

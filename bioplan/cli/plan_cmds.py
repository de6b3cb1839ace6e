"""``bioplan plan`` (solve a scenario, print a summary, write the plan) and ``bioplan media``
(the Pareto-efficient recipes of a yield card).

Exit codes (:class:`bioplan.errors.ExitCode`): 0 a plan within the requested gap; 2 bad input;
3 infeasible; 4 no solution in time; 5 time limit with a plan above the requested gap; 1 a bug
(including a plan that fails the independent plan checker).
"""

from __future__ import annotations

import logging
import math
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, Literal, cast

import typer

from bioplan.errors import ExitCode, InputError

if TYPE_CHECKING:
    import pandas as pd

    from bioplan.results import Plan

log = logging.getLogger(__name__)


def register(app: typer.Typer, bench_app: typer.Typer) -> None:
    """Add ``plan`` and ``media`` to ``app``."""
    app.command("plan")(plan_command)
    app.command("media")(media_command)


# ---- bioplan plan -------------------------------------------------------------------------------


def plan_command(
    scenario_file: Annotated[str | None, typer.Argument(
        metavar="SCENARIO",
        help="Scenario YAML file or name of a shipped scenario (default: the built-in default).",
    )] = None,
    scenario: Annotated[str | None, typer.Option(
        "--scenario", "-s", metavar="NAME",
        help="Named scenario (an entry of the file's 'scenarios:' or 'overrides:').",
    )] = None,
    out: Annotated[Path | None, typer.Option(
        "--out", "-o", metavar="DIR",
        help="Write one CSV per table, plan.xlsx and summary.json into DIR.",
    )] = None,
    time_limit: Annotated[float | None, typer.Option(
        "--time-limit", metavar="S", help="Solver time limit in seconds (default: the scenario's).",
    )] = None,
    gap: Annotated[float | None, typer.Option(
        "--gap", metavar="G",
        help="Relative MIP gap to stop at, e.g. 0.01 (default: the scenario's).",
    )] = None,
    save_lp: Annotated[Path | None, typer.Option(
        "--save-lp", metavar="FILE", help="Write the model to FILE (.lp or .mps) before solving.",
    )] = None,
    solver_log: Annotated[Path | None, typer.Option(
        "--solver-log", metavar="FILE",
        help="Write HiGHS's log of every solve to FILE (otherwise HiGHS is silent).",
    )] = None,
    check: Annotated[bool, typer.Option(
        "--check/--no-check", help="Verify the plan with the independent plan checker.",
    )] = True,
    solver_interface: Annotated[str | None, typer.Option(
        "--solver-interface", metavar="NAME",
        help="How the model reaches HiGHS: 'highspy' (standard-form compiler, faster) or 'pyomo' "
             "(Pyomo's own HiGHS interface); default: the scenario's solver.interface.",
    )] = None,
    exact_prices: Annotated[bool, typer.Option(
        "--exact-prices",
        help="Also price one more reactor of each type and one more L/day of media preparation "
             "by re-solving (a process pool, each re-solve with its own gap). Without it, prices "
             "are shadow prices from one LP with the plan's batches fixed (bottlenecks.csv).",
    )] = False,
    robust: Annotated[bool, typer.Option(
        "--robust", help="Plan against yield samples (two-stage stochastic program); the "
                         "scenario's 'uncertainty:' block gives the defaults of the options below.",
    )] = False,
    samples: Annotated[int | None, typer.Option("--samples", metavar="K",
                                                help="Robust: yield samples K.")] = None,
    seed: Annotated[int | None, typer.Option("--seed", metavar="S",
                                             help="Robust: seed of the samples.")] = None,
    service_level: Annotated[float | None, typer.Option(
        "--service-level", metavar="P", help="Robust: service >= P per product ...")] = None,
    confidence: Annotated[float | None, typer.Option(
        "--confidence", metavar="C", help="... in >= a share C of the samples.")] = None,
    risk: Annotated[str | None, typer.Option(
        "--risk", metavar="cvar:ALPHA:WEIGHT",
        help="Robust: add WEIGHT x CVaR_ALPHA of the shortage penalty to the expected cost.")] = None,
    engine: Annotated[str | None, typer.Option(
        "--engine", metavar="ef|ph",
        help="Robust: 'ef' extensive form (HiGHS) or 'ph' progressive hedging (mpi-sppy).")] = None,
    search_media: Annotated[bool, typer.Option(
        "--search-media", help="Generate recipes by pricing against the plan (column generation "
        "over each card's settings inside its validity domain) and plan on them too.",
    )] = False,
    rounds: Annotated[int | None, typer.Option(
        "--rounds", metavar="N", min=1, help="Most rounds of the media search (default 10).",
    )] = None,
) -> None:
    """Plan recipes, batch schedule and reactor capacity for a scenario at least cost.

    Prints a summary and, with --out, writes the plan. Exit codes: 0 ok, 2 bad input,
    3 infeasible, 4 no solution in time, 5 time limit with a plan above the requested gap,
    1 internal error (also: the plan fails the independent checker).
    """
    from bioplan.paths import ensure_writable_dir, ensure_writable_file
    from bioplan.scenario import load_scenario, resolve_scenario_path

    check_number("--time-limit", time_limit, low=0.0, low_open=True, high=MAX_TIME_LIMIT_S)
    check_number("--gap", gap, low=0.0, high=1.0)
    if save_lp is not None:
        ensure_writable_file(save_lp, field="--save-lp", suffixes=(".lp", ".mps"))
    if out is not None:
        ensure_writable_dir(out, field="--out")
    if solver_log is not None:
        start_solver_log(solver_log)
    if solver_interface is not None and solver_interface not in ("highspy", "pyomo"):
        msg = f"unknown solver interface {solver_interface!r}"
        raise InputError(msg,
                         field="--solver-interface", fix="give 'highspy' or 'pyomo'")
    path = resolve_scenario_path(scenario_file)
    sc = load_scenario(path, scenario=scenario)
    uncertainty = None
    if robust:
        from bioplan.cli.robust_cmds import uncertainty_from_flags

        uncertainty = uncertainty_from_flags(sc, samples=samples, seed=seed, engine=engine,
                                             service_level=service_level, confidence=confidence,
                                             risk=risk)
    result = _solve(sc, time_limit, gap, save_lp, solver_interface, exact_prices, uncertainty,
                    search_media, rounds, solver_log)
    problems = _check(result) if check else []
    print_summary(result, path, scenario)
    if result.media_search is not None:
        from bioplan.cli.media_search_cmds import print_search

        print_search(result)
    if save_lp is not None:
        typer.echo(f"model     written to {save_lp}")
    if out is not None:
        files = result.write(out)
        typer.echo(f"written   {out}/ ({len(files)} files: CSV tables, plan.xlsx, summary.json)")
    if problems:
        for line in problems:
            typer.echo(f"plan check: {line}", err=True)
        typer.echo(f"internal error: the plan fails {len(problems)} independent check(s); please "
                   "report it with the scenario", err=True)
        raise typer.Exit(int(ExitCode.INTERNAL))
    raise typer.Exit(int(result.status.exit_code))


MAX_TIME_LIMIT_S = 1e6
"""Largest ``--time-limit`` [s] (about 11.6 days), as the scenario's ``solver.time_limit_s``."""


def check_number(option: str, value: float | None, *, low: float | None = None,
                  high: float | None = None, low_open: bool = False) -> None:
    """An InputError naming ``option`` unless ``value`` is finite and within the bounds."""
    if value is None:
        return
    bad = not math.isfinite(value) or (low is not None and (value <= low if low_open else
                                                            value < low))
    bad = bad or (high is not None and value > high)
    if bad:
        span = f"{'>' if low_open else '>='} {low}" + (f" and <= {high}" if high is not None else "")
        msg = f"{value} is out of range"
        raise InputError(msg, field=option, fix=f"give a number {span}")


def _solve(sc: Any, time_limit: float | None, gap: float | None, save_lp: Path | None,
           solver_interface: str | None = None, exact_prices: bool = False,
           uncertainty: Any = None, search_media: bool = False,
           rounds: int | None = None, solver_log: Path | None = None) -> Plan:
    from bioplan.planning import plan

    return plan(sc, time_limit_s=time_limit, mip_gap=gap,
                save_lp=str(save_lp) if save_lp is not None else None,
                solver_log=str(solver_log.resolve()) if solver_log is not None else None,
                solver_interface=cast(Literal["highspy", "pyomo"] | None, solver_interface),
                marginal_values="exact" if exact_prices else "dual", robust=uncertainty,
                search_media=search_media, media_rounds=rounds)


def start_solver_log(path: Path) -> None:
    """Create (or empty) the ``--solver-log`` file now, so an unwritable path is one exit-2 line
    before anything is solved."""
    try:
        with open(path, "w", encoding="utf-8"):
            pass
    except OSError as err:
        msg = f"cannot write the solver log {str(path)!r} ({err.strerror or err})"
        raise InputError(msg, field="--solver-log",
                         fix="give a file in a folder you can write") from None


def _check(result: Plan) -> list[str]:
    from bioplan.results.checker import check_plan

    return check_plan(result) if result.has_solution else []


def _usd(value: float | None) -> str:
    if value is None or not math.isfinite(value):
        return "-"
    return f"${value:,.0f}"


def _pct(value: float | None) -> str:
    if value is None or not math.isfinite(value):
        return "-"
    return f"{100 * value:.2f}%"


def print_summary(result: Plan, path: Path, named: str | None) -> None:
    """A short, aligned summary: status, gap, cost, per-product service, reactors added."""
    label = result.scenario.name + (f" / {named}" if named else "")
    from bioplan.results.calendar import horizon_dates

    typer.echo(f"scenario  {label} ({path})")
    first, last = horizon_dates(result)
    typer.echo(f"horizon   {first} .. {last} ({result.scenario.horizon.days} days)")
    solve_s = result.timings.get("total", result.timings.get("solve"))
    timing = f"   time {solve_s:.1f} s" if solve_s is not None else ""
    typer.echo(f"status    {result.status}   gap {_pct(result.gap)}   "
               f"cost {_usd(result.objective_usd)}{timing}")
    explained = result.explanation is not None and not result.explanation.empty
    if result.message and result.status != "optimal" and not explained:
        typer.echo(f"          {result.message}")
    if result.has_solution:
        kpis = result.kpis()
        typer.echo(f"{'product':<10}{'demand':>9}{'delivered':>11}{'short':>8}{'expired':>9}"
                   f"{'service':>9}{'cost/unit':>12}")
        for product, row in kpis.iterrows():
            typer.echo(f"{product!s:<10}{row['units_demanded']:>9.2f}{row['units_delivered']:>11.2f}"
                       f"{row['units_short']:>8.2f}{row['units_expired']:>9.2f}"
                       f"{_pct(row['service_level']):>9}"
                       f"{_usd(row['cost_usd_per_delivered_unit']):>12}")
        typer.echo(f"reactors  {_reactors(result)}")
        typer.echo(f"binds     {_bottlenecks(result)}")
        for warning in result.warnings():
            typer.echo(f"WARNING   {warning}")
    if result.robust is not None:
        from bioplan.cli.robust_cmds import format_robust

        typer.echo(format_robust(result.robust))
    if explained:
        assert result.explanation is not None
        typer.echo("why       the hard constraints cannot all hold:")
        table = result.explanation
        lines = (table["message"].astype(str).tolist() if "message" in table.columns
                 else table.to_string().splitlines())
        for line in lines:
            typer.echo(f"          - {line}")


def _reactors(result: Plan) -> str:
    cap = result.capacity
    if cap.empty:
        return "-"
    parts = []
    for name, row in cap.iterrows():
        owned, added = round(float(row["units_owned"])), round(float(row["units_added"]))
        verb = "bought" if str(row.get("acquisition", "rent")) == "buy" else "rented"
        parts.append(f"{name} {owned}" + (f" + {added} {verb}" if added else ""))
    return ", ".join(parts)


def _bottlenecks(result: Plan, top: int = 3) -> str:
    """The resources with the largest horizon values, e.g. ``media_prep $612 (dual)``."""
    values = result.marginal_values
    if values.empty or "usd_per_unit" not in values.columns:
        return "-"
    ranked = values[values["usd_per_unit"] > 0].sort_values("usd_per_unit", ascending=False)
    if ranked.empty:
        return "no priced resource binds"
    return ", ".join(f"{name} {_usd(row['usd_per_unit'])} ({row.get('method', '')})"
                     for name, row in ranked.head(top).iterrows())


# ---- bioplan media ------------------------------------------------------------------------------


def media_command(
    card: Annotated[str, typer.Argument(metavar="CARD", help="Yield card name or card file.")],
    scenario_file: Annotated[str | None, typer.Option(
        "--scenario", "-s", metavar="FILE",
        help="Scenario whose prices, sources and reactors to use (default: the built-in default).",
    )] = None,
    vary: Annotated[list[str] | None, typer.Option(
        "--vary", metavar="KEY=V1,V2",
        help="Candidate settings, e.g. --vary maturation.days=7,10 (repeatable); default: the "
        "variants the scenario lists for the card, else the default protocol.",
    )] = None,
    show_all: Annotated[bool, typer.Option("--all", help="List dominated recipes too.")] = False,
    search: Annotated[bool, typer.Option(
        "--search", help="Search the card's settings against a plan of SCENARIO (default: the "
        "built-in default) and print the recipes generated beside the default protocol.",
    )] = False,
    scenario_arg: Annotated[str | None, typer.Argument(
        metavar="[SCENARIO]", help="Scenario for --search (same as --scenario).",
    )] = None,
) -> None:
    """Pareto-efficient recipes of a yield card (cost/unit vs days vs reactor-days/unit).

    These are the media options the planner chooses from; prices, sources and reactors come
    from the scenario.
    """
    from bioplan.media_options import media_options
    from bioplan.scenario import load_scenario
    from bioplan.yields import load_card

    load_card(card)  # an unknown card is reported before the scenario is read
    if search:
        from bioplan.cli.media_search_cmds import search_card

        search_card(card, scenario_file or scenario_arg)
        return
    sc = load_scenario(scenario_file)
    options = media_options(card, sc, parse_variants(vary or []))
    shown = options if show_all else options[options["efficient"]]
    product = options.attrs.get("product", "unit")
    typer.echo(f"card {card}: {len(options)} recipes, {int(options['efficient'].sum())} "
               f"efficient (prices and reactors from scenario {sc.name}; per {product} unit)")
    if options.attrs.get("source") is None:
        typer.echo(f"note: no source of {sc.name} feeds this card: starting material is not costed")
    for factor in options.attrs.get("unpriced_cytokines", []):
        typer.echo(f"note: {sc.name} has no price for {factor}: costed at 0")
    for vessel in options.attrs.get("unhosted_vessel_classes", []):
        typer.echo(f"note: no reactor type of {sc.name} hosts vessel class {vessel!r} "
                   "(reactor-days unknown)")
    typer.echo(format_options(shown, show_all))


def parse_variants(items: list[str]) -> dict[str, list[float]]:
    """``["maturation.days=7,10"]`` -> ``{"maturation.days": [7.0, 10.0]}``."""
    variants: dict[str, list[float]] = {}
    for item in items:
        key, sep, values = item.partition("=")
        try:
            numbers = [float(v) for v in values.split(",") if v.strip()]
        except ValueError:
            numbers = []
        if not sep or not key.strip() or not numbers:
            msg = f"{item!r} is not KEY=V1,V2,..."
            raise InputError(msg, field="--vary",
                             fix="e.g. --vary maturation.days=7,10 --vary expansion.EPO=1,3")
        variants[key.strip()] = numbers
    return variants


def format_options(options: pd.DataFrame, show_all: bool) -> str:
    """The options as an aligned text table (cost [USD/unit], days, reactor-days/unit, settings)."""
    table = options.copy()
    columns = {"cost_usd_per_unit": "cost $/unit", "days": "days",
               "reactor_days_per_unit": "reactor-days/unit",
               "cytokines_usd_per_unit": "cytokines $/unit",
               "basal_medium_usd_per_unit": "medium $/unit",
               "starting_material_usd_per_unit": "cells $/unit"}
    # settings columns of this card only (a scenario's table carries other cards' variants as NaN)
    keep = list(columns) + [c for c in table.columns
                            if str(c).startswith("set:") and table[c].notna().any()]
    if show_all:
        keep.append("efficient")
    table = table[keep].rename(columns=columns)
    table.columns = [str(c).removeprefix("set:") for c in table.columns]
    formatters = {name: (lambda x: f"{x:,.0f}") for name in
                  ("cost $/unit", "cytokines $/unit", "medium $/unit", "cells $/unit")}
    formatters["reactor-days/unit"] = lambda x: f"{x:.3g}"
    return table.to_string(formatters=formatters)  # type: ignore[arg-type]

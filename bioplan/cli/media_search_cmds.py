"""``bioplan plan --search-media`` output, ``bioplan media CARD --search [SCENARIO]`` and
``bioplan bench media`` (rounds, recipes generated, objective and time per round)."""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Annotated

import typer

if TYPE_CHECKING:
    from bioplan.results import Plan


def register(app: typer.Typer, bench_app: typer.Typer) -> None:
    """Add ``bench media`` to ``bench_app``."""
    bench_app.command("media")(bench_media)


def _money(value: float | None) -> str:
    return "-" if value is None else f"${value:,.0f}"


def print_search(result: Plan) -> None:
    """The media search's rounds, generated recipes and saving, as aligned text."""
    assert result.media_search is not None
    s = result.media_search["summary"]
    typer.echo(f"media     {s['recipes_generated']} recipes generated in {s['rounds']} rounds "
               f"({s['stop_reason']}), {s['recipes_used']} used; search {s['search_seconds']:.1f} s")
    typer.echo(f"          pricing {s.get('pricing')}")
    what = "robust plan (expected cost)" if s.get("objective") == "robust expected cost" else "plan"
    typer.echo(f"          {what} on the scenario's own recipes {_money(s['plain_objective_usd'])}"
               f", with the generated ones {_money(s['searched_objective_usd'])}, saving "
               f"{_money(s['saving_usd'])}")
    kept = s.get("robust_plan_kept", "searched")
    if kept != "searched":
        typer.echo(f"          kept the {kept}")
    rounds = result.media_search["tables"]["media_search_rounds"]
    typer.echo(rounds.to_string(float_format=lambda x: f"{x:,.1f}"))
    recipes = result.media_search["tables"]["media_search_recipes"]
    if not recipes.empty:
        cols = ["round", "cost_usd_per_unit", "default_cost_usd_per_unit",
                "saving_vs_default_usd_per_unit", "days", "units_in_plan"]
        typer.echo(recipes[cols].to_string(float_format=lambda x: f"{x:,.1f}"))


def search_card(card: str, scenario: str | None) -> None:
    """Search ``card``'s settings against a plan of ``scenario`` and print them beside the
    default protocol."""
    from bioplan.media_search.biology import protocol_table
    from bioplan.media_search.column_generation import search_recipes
    from bioplan.scenario import load_scenario

    sc = load_scenario(scenario)
    recipes = sc.recipe_table()
    if card not in set(recipes["card"]):
        from bioplan.errors import InputError

        msg = f"scenario {sc.name} offers no recipe of card {card!r}"
        raise InputError(msg, field="recipes",
                         fix="add the card to the scenario's recipes and to a source's cards")
    _, report = search_recipes(sc, recipes, cards=[card])
    typer.echo(f"card {card} against scenario {sc.name}: {len(report.recipes)} recipes "
               f"generated in {len(report.rounds)} rounds ({report.stop_reason})")
    if report.recipes.empty:
        return
    best = report.recipes.loc[report.recipes["cost_usd_per_unit"].idxmin()]  # type: ignore[call-overload]
    settings = {str(k).removeprefix("set:"): float(v) for k, v in best.items()
                if str(k).startswith("set:")}
    typer.echo(f"cheapest generated recipe {best.name}: {best['cost_usd_per_unit']:,.0f} USD/unit "
               f"(default protocol {best['default_cost_usd_per_unit']:,.0f} USD/unit)")
    typer.echo(protocol_table(card, settings).to_string(float_format=lambda x: f"{x:.4g}"))


def bench_media(
    instances: Annotated[list[str] | None, typer.Argument(
        metavar="INSTANCE", help="'default' and/or benchmark sizes S, M, L with two searchable "
        "cards added (bioplan.benchmarks.media_instance; default: default M).",
    )] = None,
    rounds: Annotated[int, typer.Option("--rounds", min=1, help="Most search rounds.")] = 10,
) -> None:
    """Media search against the plain plan: rounds, recipes generated, LP objective and time per
    round, final MIP objectives, gap and times, and the time ratio (wall time of the searched
    plan, its own plain baseline included, over the plain plan's; the process's one-off start-up
    is paid before either is timed)."""
    from bioplan.benchmarks.media_instance import media_instance
    from bioplan.optimisation.guard import warm_up
    from bioplan.planning import plan
    from bioplan.scenario import load_scenario

    typer.echo(f"start-up (Pyomo, HiGHS; not timed below) {warm_up():.1f} s")
    for name in instances or ["default", "M"]:
        sc = load_scenario(None) if name == "default" else media_instance(name)
        t0 = time.perf_counter()
        plain = plan(sc, marginal_values=False)
        plain_s = time.perf_counter() - t0
        t1 = time.perf_counter()
        searched = plan(sc, marginal_values=False, search_media=True, media_rounds=rounds)
        total_s = time.perf_counter() - t1
        typer.echo(f"== {name}: plain plan {_money(plain.objective_usd)} in {plain_s:.1f} s; "
                   f"searched plan {_money(searched.objective_usd)} in {total_s:.1f} s "
                   f"({total_s / plain_s:.1f}x)")
        if searched.media_search is None:
            typer.echo("   no media search result (no solution)")
            continue
        s = searched.media_search["summary"]
        gap = "-" if searched.gap is None else f"{100 * searched.gap:.1f} %"
        final_s = searched.timings.get("solve", 0.0)
        typer.echo(f"   search {s['search_seconds']:.1f} s, final MIP {final_s:.1f} s (gap {gap}), "
                   f"plain baseline inside {s['plain_solve_seconds']:.1f} s")
        print_search(searched)

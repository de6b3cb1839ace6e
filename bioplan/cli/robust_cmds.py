"""``bioplan evaluate`` (judge a written plan out of sample under yield variability).

Exit codes (:class:`bioplan.errors.ExitCode`): 0 ok; 2 bad input (a missing plan folder, a bad
``--samples``); 1 a bug.
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from bioplan.errors import InputError

if TYPE_CHECKING:
    from bioplan.results.evaluation import Evaluation


def register(app: typer.Typer, bench_app: typer.Typer) -> None:
    """Add ``evaluate`` to ``app``."""
    app.command("evaluate")(evaluate_command)


def check_samples(option: str, value: int) -> None:
    """``value`` must be a whole number >= 1 (one line naming ``option`` otherwise)."""
    if value < 1:
        raise InputError(f"{value} is out of range", field=option,
                         fix="give a whole number of samples >= 1, e.g. 1000")


def evaluate_command(
    plan_dir: Annotated[Path, typer.Argument(
        metavar="PLAN_DIR", help="A plan folder written by `bioplan plan --out DIR`.")],
    samples: Annotated[int, typer.Option(
        "--samples", "-n", metavar="N", help="Yield realisations to draw.")] = 1000,
    seed: Annotated[int, typer.Option("--seed", metavar="S", help="Seed of the draws.")] = 0,
    variability: Annotated[bool, typer.Option(
        "--variability/--no-variability",
        help="Draw lot-to-lot yields from the cards (default), or use the means "
             "(reproduces the plan's own KPIs).")] = True,
    as_json: Annotated[bool, typer.Option("--json", help="Print the summary as JSON.")] = False,
    out: Annotated[Path | None, typer.Option(
        "--out", "-o", metavar="DIR",
        help="Write per_sample.csv, costs.csv, stock_fan.csv and evaluation.json into DIR.")] = None,
) -> None:
    """Service level, shortage, waste and cost of a plan when yields vary from lot to lot.

    Keeps the plan's batches, seeding and reactors, draws N realisations of every batch's yield
    (batches seeded from one lot share its draw) and re-dispatches each one first-expiry-first,
    which is optimal for the recourse. Reports per product the service level (mean, P5, P10, P50),
    units short and expired, and the total cost (mean, P5, P50, P95).
    """
    from bioplan.results.plan_io import read_plan
    from bioplan.robust.evaluate import evaluate

    check_samples("--samples", samples)
    plan = read_plan(plan_dir)
    ev = evaluate(plan, samples=samples, seed=seed, variability=variability)
    if out is not None:
        write_evaluation(ev, out)
    if as_json:
        typer.echo(json.dumps(ev.to_json(), indent=2))
        return
    typer.echo(f"plan      {plan.scenario.name} ({plan_dir}), {plan.status}, "
               f"cost {_usd(plan.objective_usd)} as planned")
    typer.echo(format_evaluation(ev))
    if out is not None:
        typer.echo(f"written   {out}/ (per_sample.csv, costs.csv, stock_fan.csv, evaluation.json)")


def write_evaluation(ev: Evaluation, out: Path) -> None:
    """The per-sample tables and the JSON summary of ``ev`` as files in ``out``."""
    out.mkdir(parents=True, exist_ok=True)
    ev.per_sample.to_csv(out / "per_sample.csv")
    ev.costs.to_csv(out / "costs.csv")
    ev.stock.to_csv(out / "stock_fan.csv")
    (out / "evaluation.json").write_text(json.dumps(ev.to_json(), indent=2) + "\n",
                                         encoding="utf-8")


def _usd(value: float | None) -> str:
    return "-" if value is None or not math.isfinite(value) else f"${value:,.0f}"


def _pct(value: float | None) -> str:
    return "-" if value is None or not math.isfinite(value) else f"{100 * value:.1f}%"


def format_evaluation(ev: Evaluation) -> str:
    """An aligned text table: service (mean, P5, P10, P50), short and wasted units (mean,
    P90), then the cost distribution."""
    kind = "lot-to-lot yields" if ev.variability else "nominal yields (no variability)"
    lines = [f"samples   {ev.samples} ({kind}, seed {ev.seed})",
             f"{'product':<10}{'service':>9}{'P5':>8}{'P10':>8}{'P50':>8}{'short':>9}"
             f"{'P90':>8}{'wasted':>9}{'P90':>8}"]
    table = ev.products()
    for product, r in table.iterrows():
        lines.append(
            f"{product!s:<10}{_pct(r['service_level_mean']):>9}{_pct(r['service_level_p5']):>8}"
            f"{_pct(r['service_level_p10']):>8}{_pct(r['service_level_p50']):>8}"
            f"{r['short_units_mean']:>9.2f}{r['short_units_p90']:>8.2f}"
            f"{r['expired_units_mean']:>9.2f}{r['expired_units_p90']:>8.2f}")
    cost = ev.cost_summary()
    se = cost.get("se")
    lines.append(f"cost      mean {_usd(cost['mean'])}"
                 + (f" (± {_usd(se)})" if se is not None else "")
                 + f"   P5 {_usd(cost['p5'])}   P50 {_usd(cost['p50'])}   P95 {_usd(cost['p95'])}")
    return "\n".join(lines)

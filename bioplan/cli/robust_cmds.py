"""``bioplan evaluate`` (judge a written plan out of sample under yield variability).

Exit codes (:class:`bioplan.errors.ExitCode`): 0 ok; 2 bad input (a missing plan folder, a bad
``--samples``); 1 a bug.
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from bioplan.errors import InputError

if TYPE_CHECKING:
    from bioplan.results.evaluation import Evaluation
    from bioplan.scenario.schema import Uncertainty


def register(app: typer.Typer, bench_app: typer.Typer) -> None:
    """Add ``evaluate`` and ``pareto`` to ``app`` and ``bench robust`` to ``bench_app``."""
    app.command("evaluate")(evaluate_command)
    app.command("pareto")(pareto_command)
    bench_app.command("robust")(bench_robust_command)


def pareto_command(
    scenario_file: Annotated[str | None, typer.Argument(
        metavar="SCENARIO", help="Scenario file or shipped name (default: the built-in default).")
    ] = None,
    service: Annotated[str, typer.Option(
        "--service", metavar="LOW:HIGH:N", help="Service targets, e.g. 0.80:0.99:5.")] = "0.80:0.99:5",
    robust: Annotated[bool, typer.Option(
        "--robust", help="Chance-constrained robust plans (else hard service levels).")] = False,
    samples: Annotated[int, typer.Option(
        "--samples", metavar="N", help="Out-of-sample draws per point.")] = 500,
    time_limit: Annotated[float | None, typer.Option(
        "--time-limit", metavar="S", help="Solver time limit per point [s].")] = None,
    out: Annotated[Path, typer.Option(
        "--out", "-o", metavar="DIR", help="Write front.csv and front.html here.")] = Path("out/pareto"),
) -> None:
    """Trace a cost–service front (ε-constraint): plan at each service target, judge each plan
    out of sample, print the table and write it with a plotly figure."""
    from bioplan.robust.pareto import front, parse_grid
    from bioplan.robust_charts import front_figure
    from bioplan.scenario import load_scenario, resolve_scenario_path

    targets = parse_grid(service)
    check_samples("--samples", samples)
    sc = load_scenario(resolve_scenario_path(scenario_file))
    unc = None
    if robust:
        unc = uncertainty_from_flags(sc, samples=None, seed=None, engine=None, service_level=None,
                                     confidence=None, risk=None)
    table = front(sc, targets, robust=unc, samples=samples, time_limit_s=time_limit)
    out.mkdir(parents=True, exist_ok=True)
    table.to_csv(out / "front.csv")
    front_figure(table).write_html(out / "front.html", include_plotlyjs=True)
    typer.echo(table.to_string(float_format=lambda x: f"{x:,.4g}"))
    typer.echo(f"written   {out}/front.csv, {out}/front.html")


def bench_robust_command(
    instance: Annotated[list[str] | None, typer.Option(
        "--instance", help="default, S, M or L (repeatable; default: default and M).")] = None,
    samples: Annotated[int, typer.Option("--samples", metavar="K")] = 20,
    engine: Annotated[str, typer.Option("--engine", metavar="ef|ph")] = "ef",
    time_limit: Annotated[float, typer.Option("--time-limit", metavar="S")] = 60.0,
    evaluate_l: Annotated[bool, typer.Option(
        "--evaluate-l/--no-evaluate-l", help="Also time evaluate of the L plan (1,000 samples).")
    ] = True,
) -> None:
    """Robust plans: samples, engine, columns, nonzeros, build / solve / total seconds, gap,
    bound and peak memory; then the out-of-sample evaluation time of the L plan."""
    from bioplan.benchmarks.robust_bench import bench_evaluate, bench_robust, format_table

    names = instance or ["default", "M"]
    bad = [n for n in names if n not in ("default", "S", "M", "L")]
    if bad:
        msg = f"unknown instance(s) {bad}"
        raise InputError(msg, field="--instance",
                         fix="choose from default, S, M, L")
    check_samples("--samples", samples)
    rows = [bench_robust(n, samples=samples, engine=engine, time_limit_s=time_limit) for n in names]
    typer.echo(format_table(rows))
    if evaluate_l:
        ev = bench_evaluate("L", 1000, time_limit_s=time_limit)
        typer.echo(f"evaluate  L plan ({ev['batches']} batches), {ev['samples']} samples: "
                   f"{ev['evaluate_s']:.2f} s")


def check_samples(option: str, value: int) -> None:
    """``value`` must be a whole number >= 1 (one line naming ``option`` otherwise)."""
    if value < 1:
        msg = f"{value} is out of range"
        raise InputError(msg, field=option,
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
    uncertainty: Annotated[str | None, typer.Option(
        "--uncertainty", metavar="KIND",
        help="What the yield draws take from the cards: both (lot-to-lot spread and the "
             "calibration's parameter uncertainty, one fit draw per sample), lot (the cards "
             "taken as right) or fit (default: the scenario's uncertainty.yield_uncertainty, "
             "both).")] = None,
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
    ev = evaluate(plan, samples=samples, seed=seed, variability=variability,
                  uncertainty=uncertainty)
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
    from bioplan.scenario.schema import YIELD_UNCERTAINTY

    kind = (YIELD_UNCERTAINTY.get(ev.uncertainty, ev.uncertainty) if ev.variability
            else "nominal yields (no variability)")
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


def uncertainty_from_flags(sc: Any, *, samples: int | None, seed: int | None, engine: str | None,
                           service_level: float | None, confidence: float | None,
                           risk: str | None) -> Uncertainty:
    """The scenario's ``uncertainty:`` block (defaults if none) with the flags given on top;
    a bad flag is one line naming the flag, what is wrong and the fix."""
    from pydantic import ValidationError

    from bioplan.scenario.schema import Uncertainty

    flags = {"--samples": ("samples", samples), "--seed": ("seed", seed),
             "--engine": ("engine", engine), "--service-level": ("service_level", service_level),
             "--confidence": ("confidence", confidence), "--risk": ("risk", risk)}
    if samples is not None:
        check_samples("--samples", samples)
    for flag, low in (("--service-level", service_level), ("--confidence", confidence)):
        if low is not None and not (0 < low <= 1):
            msg = f"{low} is outside (0, 1]"
            raise InputError(msg, field=flag,
                             fix="give a fraction above 0 and at most 1, e.g. 0.95")
    if engine is not None and engine not in ("ef", "ph"):
        msg = f"unknown engine {engine!r}"
        raise InputError(msg, field="--engine",
                         fix="give 'ef' (extensive form, HiGHS) or 'ph' (progressive hedging)")
    base = sc.uncertainty.model_dump() if sc.uncertainty is not None else {}
    given = {field: value for field, value in flags.values() if value is not None}
    if "service_level" in given or "risk" in given:  # a target on the command line replaces the file's
        for key in ("service_level", "confidence", "risk"):
            base.pop(key, None)
    try:
        return Uncertainty.model_validate({**base, **given})
    except ValidationError as err:
        problem = err.errors()[0]
        field = str(problem["loc"][0]) if problem["loc"] else ""
        flag = next((f for f, (name, _v) in flags.items() if name == field), "--robust")
        message = str(problem["msg"]).removeprefix("Value error, ")
        raise InputError(message, field=flag,
                         fix="give --service-level P with --confidence C, or --risk "
                             "cvar:ALPHA:WEIGHT (ALPHA in [0, 1), WEIGHT >= 0)") from None


def format_robust(robust: dict[str, Any]) -> str:
    """Robust-plan lines: samples and engine, expected cost, what robustness costs and buys, and
    the out-of-sample service of the robust and the deterministic plan."""
    def usd(key: str) -> str:
        value, se = robust.get(key), robust.get(key.replace("_usd", "_se_usd"))
        return _usd(value) + (f" ± {_usd(se)}" if se is not None and key != "price_of_robustness_usd"
                              and se is not None else "")

    from bioplan.scenario.schema import YIELD_UNCERTAINTY

    gap = robust.get("gap")
    kind = YIELD_UNCERTAINTY.get(str(robust.get("yield_uncertainty", "both")), "")
    lines = [f"robust    {robust.get('samples')} samples ({kind}), engine {robust.get('engine')}, "
             f"expected cost {_usd(robust.get('expected_cost_usd'))}"
             f" (bound {_usd(robust.get('bound_usd'))}, gap {_pct(gap)})"]
    if "deterministic_objective_usd" in robust:
        lines.append(f"          deterministic plan {_usd(robust['deterministic_objective_usd'])}, "
                     f"price of robustness {usd('price_of_robustness_usd')}, "
                     f"VSS {usd('vss_usd')}, EVPI {usd('evpi_usd')}")
        for product, s in (robust.get("service") or {}).items():
            lines.append(f"          {product:<9} out-of-sample service P10 robust "
                         f"{_pct(s.get('robust_p10'))} vs deterministic "
                         f"{_pct(s.get('deterministic_p10'))} (mean {_pct(s.get('robust_mean'))}"
                         f" vs {_pct(s.get('deterministic_mean'))})")
    return "\n".join(lines)

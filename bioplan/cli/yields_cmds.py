"""``bioplan simulate``, ``bioplan cards``, ``bioplan validate`` and ``bioplan bench yields``.

Exit codes: 0 ok; 2 bad input (unknown card, bad ``--set``, invalid card file: one line naming
file, field and fix); 1 internal error.
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Annotated, Any

import typer

from bioplan.errors import InputError


def _fmt(v: float) -> str:
    if v == 0:
        return "0"
    if not math.isfinite(v):
        return str(v)
    return f"{v:.3g}" if 1e-3 <= abs(v) < 1e5 else f"{v:.3e}"


def _table(header: list[str], rows: list[list[str]]) -> str:
    widths = [max(len(h), *(len(r[i]) for r in rows)) for i, h in enumerate(header)]
    line = "  ".join(
        h.ljust(w) if i == 0 else h.rjust(w)
        for i, (h, w) in enumerate(zip(header, widths, strict=True))
    )
    out = [line, "-" * len(line)]
    for r in rows:
        out.append(
            "  ".join(
                c.ljust(w) if i == 0 else c.rjust(w)
                for i, (c, w) in enumerate(zip(r, widths, strict=True))
            )
        )
    return "\n".join(out)


def parse_sets(values: list[str]) -> dict[str, float]:
    """``PHASE.KEY=VALUE`` strings -> settings mapping (InputError on a malformed one)."""
    out: dict[str, float] = {}
    for item in values:
        key, sep, val = item.partition("=")
        if not sep or "." not in key:
            msg = f"--set {item!r} is not PHASE.FACTOR=VALUE"
            raise InputError(
                msg,
                field="--set",
                fix="write e.g. --set expansion.EPO=2 or --set expansion.days=9",
            )
        try:
            out[key.strip()] = float(val)
        except ValueError:
            msg = f"--set {item!r}: {val!r} is not a number"
            raise InputError(
                msg, field="--set", fix="give a number"
            ) from None
    return out


def _print_simulation(sim: Any) -> None:
    card = sim.card
    ph = sim.phases
    typer.echo(f"{card.name}: {card.title}")
    typer.echo(
        f"lineage {card.lineage}, product {card.product}, source {card.cell_source}; "
        f"seed {_fmt(sim.seed_cells)} cells, {sim.days} days"
    )
    typer.echo("")
    header = [
        "phase",
        "days",
        "d0-d1",
        "vessel",
        "feeding",
        *card.stage_names,
        "cells",
        "peak_L",
        "medium_L",
    ]
    factors = list(card.costed_factors)
    header += [f"{f}_{card.factors[f].amount_unit}" for f in factors]
    rows = []
    for name, r in ph.iterrows():
        row = [
            str(name),
            str(int(r["days"])),
            f"{int(r['start_day'])}-{int(r['end_day'])}",
            str(r["vessel_class"]),
            str(r["feeding"]),
            *[_fmt(float(r[f"cells_{s}"])) for s in card.stage_names],
            _fmt(float(r["cells_total"])),
            _fmt(float(r["peak_volume_L"])),
            _fmt(float(r["medium_L"])),
            *[_fmt(float(r[f"{f}_{card.factors[f].amount_unit}"])) for f in factors],
        ]
        rows.append(row)
    typer.echo(_table(header, rows))
    s = sim.summary()
    typer.echo("")
    enuc = "n/a" if s["enucleation"] is None else f"{100 * s['enucleation']:.1f} %"
    typer.echo(
        f"fold expansion {_fmt(s['fold_expansion'])}; purity {100 * s['purity']:.1f} %; "
        f"enucleation {enuc}"
    )
    what = "RBCs" if card.product == "rbc" else "platelets"
    typer.echo(
        f"product: {_fmt(s['product_cells_per_seed_cell'])} {what} per seed cell; "
        f"{_fmt(s['product_cells'])} {what} = {_fmt(s['units'])} units "
        f"(1 unit = {_fmt(s['cells_per_unit'])} {what})"
    )
    typer.echo(
        f"per unit: {_fmt(s['seed_cells_per_unit'])} seed cells, {_fmt(s['medium_L_per_unit'])} L "
        f"medium, peak culture {_fmt(s['peak_volume_L_per_unit'])} L"
    )
    amounts = [f"{f} {_fmt(v)} mg" for f, v in s["cytokine_mg_per_unit"].items()]
    amounts += [f"{f} {_fmt(v)} kU" for f, v in s["cytokine_kU_per_unit"].items()]
    typer.echo("cytokines per unit: " + ", ".join(amounts))
    inert = [f for f in card.inert_factors() if f in card.costed_factors and any(
        float(r[f"{f}_{card.factors[f].amount_unit}"]) > 0 for _, r in ph.iterrows())]
    if inert:
        typer.echo("no modelled effect (costed only): " + ", ".join(
            f"{f} ({card.factors[f].no_modelled_effect})" for f in inert))
    for w in sim.warnings:
        typer.echo(f"warning: {w}", err=True)


def _quantiles(sim: Any) -> dict[str, dict[str, float]]:
    """P5/P50/P95 of product per seed cell and fold expansion for the simulated protocol."""
    from bioplan.yields import quantiles

    card = sim.card
    if not card.variability or not card.calibration.covariance:
        return {}
    n = 200
    q = quantiles(card, sim.settings, n=n)
    return {str(k): {"p5": float(r["p5"]), "p50": float(r["p50"]), "p95": float(r["p95"]),
                     "n": n} for k, r in q.iterrows()}


def _echo_validation(table: Any) -> None:
    has_loo = "loo_log10_error" in table.columns
    header = ["dataset", "use", "quantity", "day", "published", "predicted", "fit_error"]
    header += ["loo_log10_error"] if has_loo else []
    rows = []
    for _, x in table.iterrows():
        row = [str(x["dataset"]), str(x["use"]), str(x["quantity"]), str(int(x["day"])),
               _fmt(float(x["published"])), _fmt(float(x["predicted"])),
               f"{float(x['fit_error']):+.2f}" + ("" if x["within_tolerance"] else " !")]
        if has_loo:
            v = float(x["loo_log10_error"])
            row.append(f"{v:+.2f}" if math.isfinite(v) else "-")
        rows.append(row)
    typer.echo(_table(header, rows))


def _plot(sim: Any, path: Path) -> None:
    if path.suffix.lower() not in (".html", ".htm"):
        msg = f"cannot write a plot to {path.name!r}"
        raise InputError(
            msg, field="--plot", fix="give a .html file name"
        )
    import plotly.graph_objects as go

    tc = sim.time_course
    fig = go.Figure()
    for s in sim.card.stage_names:
        fig.add_trace(go.Scatter(x=tc.index, y=tc[f"cells_{s}"], name=s, mode="lines"))
    fig.update_layout(
        title=f"{sim.card.name}: cells by stage (seed {sim.seed_cells:g})",
        xaxis_title="day",
        yaxis_title="cells (platelets for the platelet stage)",
        yaxis_type="log",
    )
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.write_html(str(path), include_plotlyjs=True)


def register(app: typer.Typer, bench_app: typer.Typer) -> None:
    """Add this area's commands to ``app`` and its benchmarks to ``bench_app``."""
    _register_simulate(app)
    _register_catalogue(app, bench_app)


def _register_simulate(app: typer.Typer) -> None:
    """Add ``bioplan simulate``."""

    @app.command("simulate")
    def simulate_cmd(
        card: Annotated[
            str, typer.Argument(help="Card name (see `bioplan cards`) or card YAML path.")
        ],
        seed_cells: Annotated[
            float, typer.Option("--seed-cells", help="Number of seed cells.")
        ] = 1e6,
        set_: Annotated[
            list[str] | None,
            typer.Option(
                "--set", help="PHASE.FACTOR=VALUE (also PHASE.days, PHASE.density_setpoint)."
            ),
        ] = None,
        days: Annotated[
            int | None, typer.Option("--days", help="Stop after D days (or extend the last phase).")
        ] = None,
        cells_per_unit: Annotated[
            float | None,
            typer.Option(
                "--cells-per-unit", help="Cells per unit (default 2e12 RBC, 2.4e11 platelets)."
            ),
        ] = None,
        as_json: Annotated[bool, typer.Option("--json", help="Print one JSON object.")] = False,
        plot: Annotated[
            Path | None, typer.Option("--plot", help="Write a time-course plot (.html).")
        ] = None,
    ) -> None:
        """Simulate a card's protocol: per-phase table and product per seed cell and per unit."""
        from bioplan.yields import simulate

        settings = parse_sets(set_ or [])
        sim = simulate(
            card,
            seed_cells=seed_cells,
            settings=settings,
            days=days,
            time_course=plot is not None,
            cells_per_unit=cells_per_unit,
        )
        if plot is not None:
            _plot(sim, plot)
        q = _quantiles(sim)
        if as_json:
            typer.echo(json.dumps(sim.summary() | {"quantiles": q}, indent=2, default=float))
        else:
            _print_simulation(sim)
            for name, row in q.items():
                typer.echo(f"{name} P5-P50-P95 (lot-to-lot and fit uncertainty, "
                           f"{row['n']} draws): {_fmt(row['p5'])} - {_fmt(row['p50'])} - "
                           f"{_fmt(row['p95'])}")



def _register_catalogue(app: typer.Typer, bench_app: typer.Typer) -> None:
    """Add ``bioplan cards``, ``bioplan validate`` and ``bioplan bench yields``."""

    @app.command("cards")
    def cards_cmd(
        as_json: Annotated[bool, typer.Option("--json", help="Print a JSON list.")] = False,
        targets: Annotated[
            bool, typer.Option("--targets", help="Also compare calibration targets with the model.")
        ] = False,
    ) -> None:
        """List the shipped yield-model cards."""
        from bioplan.yields import list_cards, load_card

        rows: list[dict[str, Any]] = []
        for name in list_cards():
            c = load_card(name)
            rows.append(
                {
                    "name": c.name,
                    "lineage": c.lineage,
                    "product": c.product,
                    "cell_source": c.cell_source,
                    "days": c.total_days,
                    "phases": [p.name for p in c.protocol],
                    "title": c.title,
                }
            )
        if as_json:
            typer.echo(json.dumps(rows, indent=2))
            return
        typer.echo(
            _table(
                ["card", "lineage", "product", "days", "phases", "cell source"],
                [
                    [
                        r["name"],
                        r["lineage"],
                        r["product"],
                        str(r["days"]),
                        ",".join(r["phases"]),
                        r["cell_source"],
                    ]
                    for r in rows
                ],
            )
        )
        if targets:
            from bioplan.yields.calibration import target_table

            for r in rows:
                typer.echo(f"\n{r['name']}")
                _echo_validation(target_table(r["name"]))

    @app.command("validate")
    def validate_cmd(
        card: Annotated[
            str | None, typer.Argument(help="Card name or path (default: every shipped card).")
        ] = None,
        as_json: Annotated[bool, typer.Option("--json", help="Print a JSON list.")] = False,
        plot: Annotated[
            Path | None, typer.Option("--plot", help="Write <card>.html time courses into DIR.")
        ] = None,
    ) -> None:
        """Each card against its published datasets: fit and leave-one-dataset-out errors."""
        from bioplan.yields import list_cards, load_card, validation_table
        from bioplan.yields.validation_report import records, time_course_figure

        names = [card] if card else list_cards()
        out: list[dict[str, Any]] = []
        for name in names:
            c = load_card(name)
            table = validation_table(c)
            out += records(table)
            if not as_json:
                typer.echo(f"\n{c.name} ({c.lineage})")
                _echo_validation(table)
            if plot is not None:
                plot.mkdir(parents=True, exist_ok=True)
                time_course_figure(c).write_html(str(plot / f"{c.name}.html"),
                                                 include_plotlyjs=True)
        if as_json:
            typer.echo(json.dumps(out, indent=2))

    @bench_app.command("yields")
    def bench_yields_cmd(
        card: Annotated[
            str, typer.Option("--card", help="Card to benchmark.")
        ] = "erythroid-cb-giarratana",
        n: Annotated[int, typer.Option("--n", help="Recipe variants to evaluate.")] = 100_000,
        reference: Annotated[
            int, typer.Option("--reference", help="Recipes solved with solve_ivp for the ratio.")
        ] = 200,
        repeat: Annotated[
            int, typer.Option("--repeat", help="Timed runs; the best is reported.")
        ] = 3,
        as_json: Annotated[bool, typer.Option("--json", help="Print one JSON object.")] = False,
    ) -> None:
        """Evaluate many recipe variants; evaluations/s, speed-up vs solve_ivp, error, peak memory."""
        from bioplan.yields.bench import bench_yields, format_bench

        result = bench_yields(card, n=n, n_reference=reference, repeat=repeat)
        if as_json:
            typer.echo(json.dumps(result, indent=2))
        else:
            typer.echo(format_bench(result))

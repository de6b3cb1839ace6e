"""``bioplan forecast | learn``: batch records -> per-batch forecasts, and cards that learn.

The batches records name are looked up in a stored run (``--run``, default the newest run with a
plan) and the runs it rolled over from (their ``previous_run_id`` chain), so a batch planned a few
nights ago is still known. Exit codes: 0 ok; 2 bad input (records, card, unknown run); 1 a bug.
"""

from __future__ import annotations

import datetime as dt
import json
import math
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from bioplan.errors import InputError

if TYPE_CHECKING:
    from bioplan.records import PlannedBatch

STORE_HELP = ("Run store URL (sqlite:///FILE or postgresql://...); default $BIOPLAN_STORE_URL, "
              "else sqlite:///runs/bioplan-runs.sqlite.")
RUN_HELP = "Run whose plan the records follow (id or unique prefix; default: the newest plan)."
CHAIN = 30
"""Runs followed back along ``previous_run_id`` to find a batch's plan."""


def register(app: typer.Typer, bench_app: typer.Typer) -> None:
    """Add ``forecast`` and ``learn`` to ``app``."""
    del bench_app
    app.command("forecast")(forecast_command)
    app.command("learn")(learn_command)


def planned_from_store(store_url: str | None, run: str | None) -> dict[str, PlannedBatch]:
    """Batch id -> planned batch, from ``run`` and the runs it rolled over from (newest wins)."""
    from bioplan.records import planned_batches
    from bioplan.runs.rolling import records_to_batches
    from bioplan.runs.store import RunStore, resolve_store_url
    from bioplan.scenario import Scenario

    store = RunStore(resolve_store_url(store_url), create=False)
    try:
        if run is None:
            found = [r for r in store.list_runs(limit=200) if r.status in ("optimal", "feasible")]
            if not found:
                msg = f"the run store {store.url} holds no run with a plan"
                raise InputError(msg, field="--run", fix="run `bioplan run CONFIG` first or give --store")
            info = found[0]
        else:
            info = store.get(run)
        out: dict[str, PlannedBatch] = {}
        for _ in range(CHAIN):
            raw = store.scenario(info.run_id)
            if raw and info.plan_start_date:
                table = records_to_batches(store.batches(info.run_id))
                known = planned_batches(table, Scenario.model_validate(raw),
                                        dt.date.fromisoformat(info.plan_start_date))
                out = {**known, **out}
            if not info.previous_run_id:
                break
            info = store.get(info.previous_run_id)
        return out
    finally:
        store.dispose()


def _fmt(x: float) -> str:
    return "-" if x is None or (isinstance(x, float) and math.isnan(x)) else f"{x:.3g}"


def forecast_command(
    records: Annotated[Path, typer.Argument(metavar="RECORDS", help="Batch records CSV.")],
    run: Annotated[str | None, typer.Option("--run", help=RUN_HELP)] = None,
    store: Annotated[str | None, typer.Option("--store", help=STORE_HELP)] = None,
    samples: Annotated[int, typer.Option("--samples", min=10, max=20000,
                                         help="Card draws the forecast conditions.")] = 400,
    as_json: Annotated[bool, typer.Option("--json", help="Print the forecasts as JSON.")] = False,
) -> None:
    """Per batch with records: planned units, forecast P10/P50/P90 at harvest, and the change."""
    from bioplan.records import forecast, read_records

    table = read_records(records)
    result = forecast(table, planned_from_store(store, run), n=samples)
    if as_json:
        typer.echo(json.dumps(json.loads(result.reset_index().to_json(orient="records")),
                              indent=2))
        return
    typer.echo(f"{'batch':<10} {'status':<10} {'day':>4} {'planned':>8} {'P10':>8} {'P50':>8} "
               f"{'P90':>8} {'change':>9}")
    for batch_id, r in result.iterrows():
        change = f"{r['change_pct']:+.1f}%" if not math.isnan(r["change_pct"]) else "-"
        typer.echo(f"{batch_id!s:<10} {r['status']:<10} {int(r['last_day']):>4} "
                   f"{_fmt(r['planned_units']):>8} {_fmt(r['forecast_p10']):>8} "
                   f"{_fmt(r['forecast_p50']):>8} {_fmt(r['forecast_p90']):>8} {change:>9}")


def learn_command(
    card: Annotated[str, typer.Argument(metavar="CARD", help="Card name or YAML file.")],
    records: Annotated[Path, typer.Argument(metavar="RECORDS", help="Batch records CSV.")],
    run: Annotated[str | None, typer.Option("--run", help=RUN_HELP)] = None,
    store: Annotated[str | None, typer.Option("--store", help=STORE_HELP)] = None,
    out: Annotated[Path | None, typer.Option(
        "--out", "-o", help="New card version (default <card>-learned-<date>.yaml here).")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the provenance as JSON.")] = False,
) -> None:
    """Update CARD's lot-to-lot distribution (and identified rates) from completed batches;
    write the new card version and its provenance, print prior vs posterior."""
    from bioplan.paths import ensure_writable_file
    from bioplan.records import read_records
    from bioplan.records.card_version import write_version
    from bioplan.records.learn import learn
    from bioplan.yields import load_card

    prior = load_card(card)
    table = read_records(records)
    learned = learn(prior, table, planned_from_store(store, run))
    target = out or Path(f"{learned.card.name}.yaml")
    target = ensure_writable_file(target, field="--out", suffixes=(".yaml", ".yml"))
    path, side = write_version(learned.card, learned.table, learned.provenance, target)
    if as_json:
        typer.echo(json.dumps({**learned.provenance, "card_file": str(path),
                               "provenance_file": str(side)}, indent=2))
        return
    typer.echo(f"learned from {len(learned.batches)} completed batches: "
               f"{', '.join(learned.batches)}")
    typer.echo(f"{'quantity':<48} {'prior':>9} {'[P5, P95]':>21} {'posterior':>9} "
               f"{'[P5, P95]':>21} updated")
    for name, r in learned.table.iterrows():
        typer.echo(f"{name!s:<48} {_fmt(r['prior']):>9} "
                   f"{'[' + _fmt(r['prior_p05']) + ', ' + _fmt(r['prior_p95']) + ']':>21} "
                   f"{_fmt(r['posterior']):>9} "
                   f"{'[' + _fmt(r['posterior_p05']) + ', ' + _fmt(r['posterior_p95']) + ']':>21} "
                   f"{'yes' if r['updated'] else 'no'}")
    typer.echo(f"wrote {path} and {side}")

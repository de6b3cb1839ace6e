"""Batch records generated from the model (for examples and tests), labelled as such.

:func:`model_records` follows each planned batch along its card's trajectory — the nominal one, a
draw of the card's uncertainty (a lot), or a growth-scaled one (``growth`` g: ln fold expansion
times g, so g = 0.5 is half the expected growth) — and writes a seed row, daily counts (with a
lognormal count error of ``count_cv``) and, for batches finished by ``until``, the harvest.

``python -m bioplan.records.example`` writes ``models/scenarios/records-example.csv``: the nightly
example's plan (the default scenario with ``nightly-demand.csv``, planned from 2027-01-04), and a
week of counts (2027-01-04 to 2027-01-10) of the batches started in that week, each batch a lot
drawn from its card, counted with a 10 % error.
"""

from __future__ import annotations

import argparse
import datetime as dt
import math
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from bioplan.records.batches import PlannedBatch
from bioplan.records.table import RECORD_COLUMNS
from bioplan.records.trajectory import trajectories

if TYPE_CHECKING:
    from bioplan.scenario import Scenario


def _batch_rows(batch: PlannedBatch, cells: np.ndarray, product: float, until: dt.date,
                noise: np.random.Generator, count_cv: float, every: int,
                markers: Mapping[str, np.ndarray] | None = None) -> list[dict[str, object]]:
    sigma = math.sqrt(math.log1p(count_cv**2))
    last = min((until - batch.start_date).days, batch.days)
    rows: list[dict[str, object]] = []
    for day in range(0, last + 1 if last < batch.days else batch.days, every):
        error = float(np.exp(noise.normal(-0.5 * sigma**2, sigma))) if day else 1.0
        rows.append({"batch_id": batch.batch_id, "date": batch.start_date + dt.timedelta(days=day),
                     "kind": "seed" if day == 0 else "count",
                     "viable_cells": batch.seed_cells * float(cells[day]) * error,
                     "viability": round(float(np.clip(noise.normal(0.92, 0.02), 0.5, 1.0)), 3),
                     **({k: float(v[day]) for k, v in markers.items() if np.isfinite(v[day])}
                        if markers and day else {})})
    if last >= batch.days:
        cells_out = batch.seed_cells * product
        rows.append({"batch_id": batch.batch_id, "date": batch.end_date, "kind": "harvest",
                     "product_cells": cells_out,
                     "units_packaged": math.floor(cells_out / batch.cells_per_unit)})
    return rows


def model_records(batches: Mapping[str, PlannedBatch], until: dt.date, *, lots: bool = False,
                  growth: float | Mapping[str, float] = 1.0, count_cv: float = 0.0,
                  seed: int = 0, every: int = 1, markers: bool = False) -> pd.DataFrame:
    """Records of ``batches`` up to ``until`` (batches seeded after it have none).

    ``lots``: each batch follows one draw of its card's uncertainty (else the nominal trajectory);
    ``growth``: exponent on the fold expansion (one value, or per batch id; 1 = as the card);
    ``count_cv``: relative count error [-]; ``every``: days between counts; ``markers``: count
    rows also carry the stage markers the card models, exactly as the trajectory has them."""
    noise = np.random.default_rng(seed)
    rows: list[dict[str, object]] = []
    for k, batch in enumerate(sorted(batches.values(), key=lambda b: b.batch_id)):
        if batch.start_date > until:
            continue
        traj = trajectories(batch.card, batch.settings, n=1, seed=seed + 101 * k)
        row = 1 if lots else 0
        g = growth.get(batch.batch_id, 1.0) if isinstance(growth, Mapping) else growth
        cells = traj.cells[row] ** g
        product = float(traj.product[row] * cells[-1] / traj.cells[row, -1])
        shown = {k: v[row] for k, v in traj.markers.items()} if markers else None
        rows.extend(_batch_rows(batch, cells, product, until, noise, count_cv, every, shown))
    frame = pd.DataFrame(rows, columns=list(RECORD_COLUMNS))
    frame.index = pd.RangeIndex(2, 2 + len(frame), name="line")
    return frame


def write_records(frame: pd.DataFrame, path: str | Path, label: str) -> Path:
    """Write ``frame`` as a records CSV whose first lines (``#`` comments) say what it is."""
    out = Path(path)
    header = "".join(f"# {line}\n" for line in label.splitlines())
    body = frame.to_csv(index=False, float_format="%.12g", date_format="%Y-%m-%d")
    out.write_text(header + body, encoding="utf-8")
    return out


LABEL = """GENERATED FROM THE MODEL WITH NOISE - not facility data (python -m bioplan.records.example).
A week of counts (2027-01-04 to 2027-01-10) of the batches the nightly example
(models/scenarios/nightly-run.yaml, planned from 2027-01-04) starts that week: each batch is one
lot drawn from its card's uncertainty, counted daily with a 10 % lognormal count error.
Use: set `records: records-example.csv` and `start_date: 2027-01-11` in a copy of the run config."""


EXAMPLE_SEED = 2027
"""Seed of the shipped example's lots and count errors."""


def example_records(batches: pd.DataFrame, scenario: Scenario, until: dt.date,
                    seed: int = EXAMPLE_SEED) -> pd.DataFrame:
    """The shipped example's records of a plan's ``batches`` (planned from the scenario's start):
    each batch one lot drawn from its card, counted daily with a 10 % error, up to ``until``."""
    from bioplan.records.batches import planned_batches

    planned = planned_batches(batches, scenario, scenario.horizon.start_date)
    return model_records(planned, until, lots=True, count_cv=0.10, seed=seed)


def example_scenario() -> Scenario:
    """The nightly example's scenario: the default with ``nightly-demand.csv``."""
    from bioplan.paths import scenarios_dir
    from bioplan.scenario import load_scenario

    demand = scenarios_dir() / "nightly-demand.csv"
    return load_scenario(None, None, {"demand.file": str(demand), "demand.records": []})


def main(argv: list[str] | None = None) -> None:  # pragma: no cover - writes the shipped example
    """Plan the nightly example and write its records (see the module docstring)."""
    from bioplan.paths import scenarios_dir
    from bioplan.planning import plan

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default=str(scenarios_dir() / "records-example.csv"))
    parser.add_argument("--until", default="2027-01-10")
    parser.add_argument("--seed", type=int, default=EXAMPLE_SEED)
    args = parser.parse_args(argv)
    scenario = example_scenario()
    result = plan(scenario, time_limit_s=60, mip_gap=0.01, threads=1)
    frame = example_records(result.batches, scenario, dt.date.fromisoformat(args.until), args.seed)
    write_records(frame, args.out, LABEL)


if __name__ == "__main__":  # pragma: no cover
    main()

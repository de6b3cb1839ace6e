"""Batch records: measurements taken in the facility on running and finished batches.

A records file is a CSV, one row per measurement (lines starting with ``#`` are comments)::

    batch_id,date,kind,viable_cells,viability,volume_mL,product_cells,units_packaged
    B00001,2027-01-04,seed,7.6e8,0.95,,,
    B00001,2027-01-07,count,2.1e9,0.93,420,,
    B00010,2027-01-17,harvest,,,,1.15e11,0

Columns (``RECORD_COLUMNS``; optional ones may be left out or empty):

- ``batch_id`` — the batch's id in the plan (``Plan.batches``);
- ``date`` — ``YYYY-MM-DD``; the culture day is the date minus the batch's seeding date;
- ``kind`` — ``seed`` (the cells seeded, day 0), ``count`` (an in-process count) or ``harvest``
  (the batch's end: ``product_cells`` and/or ``units_packaged``); default ``count``;
- ``viable_cells`` [cells] — total viable (nucleated, for platelets: non-platelet) cells;
- ``viability`` [-] — viable / total cells, in (0, 1];
- ``volume_mL`` [mL] — culture volume; stage markers (fractions [-] in [0, 1]):
  ``cd71_fraction``, ``cd235a_fraction``, ``enucleated_fraction``, ``cd41_fraction``,
  ``cd42b_fraction``; ``ploidy_mean_N`` [N] — kept with the records (the forecast uses the counts);
- ``product_cells`` [cells or platelets] and ``units_packaged`` [units] on harvest rows.

Every problem is an :class:`~bioplan.errors.InputError` naming the file, the row and column, and
the fix (the CLI prints one line and exits with 2).
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Literal

import pandas as pd
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from bioplan.errors import InputError

MARKER_COLUMNS = ("cd71_fraction", "cd235a_fraction", "enucleated_fraction", "cd41_fraction",
                  "cd42b_fraction")
RECORD_COLUMNS = ("batch_id", "date", "kind", "viable_cells", "viability", "volume_mL",
                  *MARKER_COLUMNS, "ploidy_mean_N", "product_cells", "units_packaged")
REQUIRED_COLUMNS = ("batch_id", "date")


class Record(BaseModel):
    """One measurement of one batch (a row of the records CSV)."""

    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)

    batch_id: str = Field(min_length=1)
    """The batch's id in the plan."""
    date: dt.date
    """Day of the measurement (YYYY-MM-DD)."""
    kind: Literal["seed", "count", "harvest"] = "count"
    """``seed`` (day 0), ``count`` (in process) or ``harvest`` (the batch's end)."""
    viable_cells: float | None = Field(default=None, ge=0)
    """Total viable cells [cells]."""
    viability: float | None = Field(default=None, gt=0, le=1)
    """Viable / total cells [-]."""
    volume_mL: float | None = Field(default=None, ge=0)
    """Culture volume [mL]."""
    cd71_fraction: float | None = Field(default=None, ge=0, le=1)
    """CD71+ fraction of viable cells [-]."""
    cd235a_fraction: float | None = Field(default=None, ge=0, le=1)
    """CD235a+ (glycophorin A) fraction [-]."""
    enucleated_fraction: float | None = Field(default=None, ge=0, le=1)
    """Enucleated fraction of erythroid cells [-]."""
    cd41_fraction: float | None = Field(default=None, ge=0, le=1)
    """CD41+ fraction [-]."""
    cd42b_fraction: float | None = Field(default=None, ge=0, le=1)
    """CD42b+ fraction [-]."""
    ploidy_mean_N: float | None = Field(default=None, ge=0)
    """Mean megakaryocyte ploidy [N]."""
    product_cells: float | None = Field(default=None, ge=0)
    """Harvested product (RBCs or platelets) [cells]."""
    units_packaged: float | None = Field(default=None, ge=0)
    """Transfusion units packaged from the harvest [units]."""

    @model_validator(mode="after")
    def _check(self) -> Record:
        if self.kind in ("seed", "count") and self.viable_cells is None:
            msg = f"a {self.kind} row needs viable_cells"
            raise ValueError(msg)
        if self.kind == "harvest" and self.product_cells is None and self.units_packaged is None:
            msg = "a harvest row needs product_cells or units_packaged"
            raise ValueError(msg)
        return self


_FIXES = {
    "greater_than_equal": "give a value >= 0 (counts cannot be negative)",
    "greater_than": "give a value > 0",
    "less_than_equal": "give a fraction <= 1 (e.g. 0.93 for 93 %)",
    "date_from_datetime_parsing": "write the date as YYYY-MM-DD",
    "date_parsing": "write the date as YYYY-MM-DD",
    "literal_error": "use seed, count or harvest",
    "extra_forbidden": f"use only the columns {', '.join(RECORD_COLUMNS)}",
    "float_parsing": "give a number (e.g. 2.1e9)",
}


def _row_error(err: ValidationError, file: str, row: int) -> InputError:
    first = err.errors()[0]
    column = ".".join(str(p) for p in first["loc"]) or "row"
    message = str(first["msg"]).removeprefix("Value error, ")
    fix = _FIXES.get(str(first["type"]), "correct the value")
    if first["type"] == "value_error":
        fix = "fill in the column the row's kind needs"
    return InputError(message, file=file, field=f"line {row}: {column}", fix=fix)


def read_records(path: str | Path) -> pd.DataFrame:
    """The validated records of ``path``: one row per measurement, index ``line`` (its line in
    the file), columns :data:`RECORD_COLUMNS` (dates as ``datetime.date``)."""
    file = Path(path)
    if not file.is_file():
        msg = f"records file not found: {file}"
        raise InputError(msg, file=str(file), fix="give the path of a records CSV")
    try:
        raw = pd.read_csv(file, comment="#", dtype=str, keep_default_na=False, skipinitialspace=True)
    except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError) as err:
        msg = f"not a readable CSV ({str(err).splitlines()[0]})"
        raise InputError(msg, file=str(file), fix="save the records as comma-separated UTF-8") from None
    missing = [c for c in REQUIRED_COLUMNS if c not in raw.columns]
    if missing:
        msg = f"missing column(s) {', '.join(missing)}"
        raise InputError(msg, file=str(file), field="header",
                         fix=f"give at least the columns {', '.join(REQUIRED_COLUMNS)}")
    text = file.read_text(encoding="utf-8").splitlines()
    lines = [n for n, line in enumerate(text, start=1)
             if line.strip() and not line.lstrip().startswith("#")][1:]
    rows = []
    for i, rec in zip(lines, raw.to_dict("records"), strict=False):
        data = {str(k).strip(): str(v).strip() for k, v in rec.items() if str(v).strip() != ""}
        try:
            rows.append(Record.model_validate(data).model_dump())
        except ValidationError as err:
            raise _row_error(err, str(file), i) from None
    frame = pd.DataFrame(rows, columns=list(RECORD_COLUMNS))
    frame.index = pd.Index(lines[: len(frame)], name="line")
    frame.attrs["file"] = str(file)
    return frame

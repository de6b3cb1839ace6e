"""Table cells as typed text, checked one by one against the schema as they are edited.

Numeric columns are edited as text, so a cell keeps exactly what was typed: ``-5`` is not turned
into 5 and ``twelve`` does not blank the cell. Each cell is parsed by its field's
:meth:`~bioplan.app.fields.FieldSpec.parse`; a bad cell keeps its text (the scenario validation
then names it too) and yields a :class:`~bioplan.app.problems.FieldProblem` at its dotted path.

>>> import pandas as pd
>>> from bioplan.app.tables import REACTOR_FIELDS
>>> frame = pd.DataFrame({"units_owned": ["-5", "twelve", "3"]}, index=["a", "b", "c"])
>>> spec = [f for f in REACTOR_FIELDS if f.name == "units_owned"]
>>> parsed, problems = parse_frame(frame, spec, "reactors")
>>> parsed["units_owned"].tolist(), [p.field for p in problems]
(['-5', 'twelve', 3], ['reactors.a.units_owned', 'reactors.b.units_owned'])
"""

from __future__ import annotations

import math
from typing import Any

import pandas as pd

from bioplan.app.fields import FieldSpec
from bioplan.app.problems import FieldProblem


def cell_text(value: Any) -> str:
    """A number as the text a cell shows and parses back exactly: ``2e12``, ``306178``, ``0.5``."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return ""
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return str(value)
    text = f"{float(value):.12g}".replace("e+", "e")
    return text


def text_frame(frame: pd.DataFrame, specs: list[FieldSpec]) -> pd.DataFrame:
    """``frame`` with the numeric columns of ``specs`` as text (a copy)."""
    out = frame.copy()
    for spec in specs:
        if spec.numeric and spec.name in out.columns:
            out[spec.name] = pd.Series([cell_text(v) for v in out[spec.name]], index=out.index,
                                       dtype=object)
    return out


def parse_frame(frame: pd.DataFrame, specs: list[FieldSpec], section: str,
                row_path: str | None = None) -> tuple[pd.DataFrame, list[FieldProblem]]:
    """Parse every cell of the ``specs`` columns. Returns the frame with parsed values (bad cells
    keep their text) and one problem per bad cell, at ``<section>.<row>.<field>`` where ``row`` is
    the index label, or ``row_path`` formatted with ``row`` (the position) and the row's values."""
    out = frame.copy().astype(object)
    problems: list[FieldProblem] = []
    for position, (label, row) in enumerate(frame.iterrows()):
        if _empty_row(row):
            continue  # a row added in the editor and not filled in
        values = {str(k): v for k, v in row.to_dict().items()}
        where = row_path.format(row=position, **values) if row_path else str(label)
        for spec in specs:
            if spec.name not in frame.columns:
                continue
            try:
                out.at[label, spec.name] = spec.parse(row[spec.name])
            except ValueError as err:
                problems.append(FieldProblem(f"{section}.{where}.{spec.name}", f"{spec.header}: {err}"))
    return out, problems


def _empty_row(row: pd.Series) -> bool:
    return all(v is None or (isinstance(v, float) and math.isnan(v)) or
               (isinstance(v, str) and not v.strip()) for v in row.tolist()) and \
        not (isinstance(row.name, str) and row.name.strip() and row.name != "nan")

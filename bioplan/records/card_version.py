"""A new version of a card after learning: updated numbers, each with its provenance in its source
(which batches, when, the prior value), and the card's own name and title saying so."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from bioplan.yields import YieldCard, dump_card
from bioplan.yields.card_writer import set_parameter
from bioplan.yields.loader import validate_card


def version_name(card: YieldCard, stamp: str) -> str:
    """``<card>-learned-<YYYYMMDD>`` (a card name: letters, digits, '-' and '_')."""
    base = card.name.split("-learned-")[0]
    return f"{base}-learned-{stamp.replace('-', '')}"


def updated_card(card: YieldCard, values: dict[str, float], cvs: dict[str, float],
                 provenance: dict[str, Any], *, name: str | None = None,
                 fit_variances: dict[str, float] | None = None) -> YieldCard:
    """``card`` with the rates ``values`` and lot spreads ``cvs`` written in, as a new version.

    ``fit_variances``: the posterior variance of ln θ of learned calibrated parameters. The
    calibration covariance Σ becomes D Σ D with D = √(posterior / prior variance) for those
    (1 elsewhere): each learned parameter's fit uncertainty narrows to its posterior and the
    fit's correlations stay (D Σ D stays positive semi-definite). Without it a learned card kept
    the calibration's whole spread, which robust plans draw once per sample (docs/robust.md)."""
    batches = ", ".join(provenance["batches"])
    when = provenance["learned_on"]
    note = f"learned from batch records {provenance['records']} ({batches}) on {when}"
    data = card.model_dump(mode="python")
    for path, value in values.items():
        set_parameter(data, path, value, note)
    cal = data["calibration"]
    if fit_variances and cal.get("covariance"):
        sigma = np.array(cal["covariance"], dtype=float)
        d = np.ones(len(cal["parameters"]))
        for k, p in enumerate(cal["parameters"]):
            if p in fit_variances and sigma[k, k] > 0:
                d[k] = np.sqrt(min(fit_variances[p], sigma[k, k]) / sigma[k, k])
        cal["covariance"] = (d[:, None] * sigma * d[None, :]).tolist()
    for entry in data["variability"]:
        if entry["parameter"] in cvs:
            old = entry["cv"]
            entry["cv"] = float(cvs[entry["parameter"]])
            entry["source"] = f"{note}; prior cv {old:.4g} ({entry['source']})"
    data["name"] = name or version_name(card, when)
    data["title"] = f"{card.title} (learned {when})"
    data["description"] = (f"{card.description}\n\nVersion learned by `bioplan learn` from "
                           f"{len(provenance['batches'])} completed batches: {note}.").strip()
    return validate_card(data, f"{data['name']}.yaml")


def write_version(card: YieldCard, table: pd.DataFrame, provenance: dict[str, Any],
                  out: str | Path) -> tuple[Path, Path]:
    """Write the card to ``out`` (its file stem becomes its name) and, beside it,
    ``<stem>.provenance.json`` (batches, date, records file, prior vs posterior)."""
    path = Path(out)
    if card.name != path.stem:
        card = card.model_copy(update={"name": path.stem})
    dump_card(card, path)
    side = path.with_name(f"{path.stem}.provenance.json")
    doc = {**provenance, "card_version": card.name,
           "written_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
           "prior_vs_posterior": json.loads(table.reset_index().to_json(orient="records"))}
    side.write_text(json.dumps(doc, indent=2) + "\n", encoding="utf-8")
    return path, side

"""A new version of a card after learning: updated numbers, each with its provenance in its source
(which batches, when, the prior value), and the card's own name and title saying so."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any

import pandas as pd

from bioplan.yields import YieldCard, dump_card
from bioplan.yields.card_writer import set_parameter
from bioplan.yields.loader import validate_card


def version_name(card: YieldCard, stamp: str) -> str:
    """``<card>-learned-<YYYYMMDD>`` (a card name: letters, digits, '-' and '_')."""
    base = card.name.split("-learned-")[0]
    return f"{base}-learned-{stamp.replace('-', '')}"


def updated_card(card: YieldCard, values: dict[str, float], cvs: dict[str, float],
                 provenance: dict[str, Any], *, name: str | None = None) -> YieldCard:
    """``card`` with the rates ``values`` and lot spreads ``cvs`` written in, as a new version."""
    batches = ", ".join(provenance["batches"])
    when = provenance["learned_on"]
    note = f"learned from batch records {provenance['records']} ({batches}) on {when}"
    data = card.model_dump(mode="python")
    for path, value in values.items():
        set_parameter(data, path, value, note)
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

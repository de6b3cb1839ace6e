"""Plans pin card versions: a run config's ``cards:`` maps a card name to the card file (e.g. the
version ``bioplan learn`` wrote) that the scenario's recipes and starting materials use instead."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from bioplan.errors import InputError

if TYPE_CHECKING:
    from bioplan.scenario import Scenario


def pin_overrides(scenario: Scenario, cards: Mapping[str, Path], *, file: str | None = None
                  ) -> dict[str, Any]:
    """Scenario overrides (dotted paths) that replace each card ``name`` of ``cards`` by the
    version in its file: the recipe sources that read the card, and the starting materials that
    seed it (by the version's name)."""
    from bioplan.yields import load_card

    out: dict[str, Any] = {}
    for name, path in cards.items():
        field = f"cards.{name}"
        if not path.is_file():
            msg = f"card version not found: {path}"
            raise InputError(msg, file=file, field=field,
                             fix="give the card file (relative to the run config)")
        version = load_card(path)
        hits = [i for i, src in enumerate(scenario.recipes)
                if src.card is not None and load_card(src.card).name == name]
        if not hits:
            used = sorted({load_card(s.card).name for s in scenario.recipes if s.card})
            msg = f"the scenario uses no card {name!r}"
            raise InputError(msg, file=file, field=field,
                             fix=f"pin one of the scenario's cards ({', '.join(used)})")
        for i in hits:
            out[f"recipes.{i}.card"] = str(path)
        for source_name, source in scenario.sources.items():
            if name in source.cards:
                out[f"sources.{source_name}.cards"] = [version.name if c == name else c
                                                        for c in source.cards]
    return out

"""Benchmark instances for the media search: the generated S/M/L instances
(:mod:`bioplan.benchmarks.instances`) offer hand-made recipe rows only, which have no yield card
to search. ``media_instance(size)`` adds two shipped cards to them — ``erythroid-bela`` (RBCs)
and ``mk-imkcl-vermes`` (platelets), both fed by the instance's unlimited cell bank — with the
vessel classes those cards need on the instance's reactor types (static -> flask, G-Rex;
stirred -> rocking-bag; turbulent -> VerMES) and the built-in default scenario's prices for the
cytokines the instance does not price.
"""

from __future__ import annotations

from bioplan.benchmarks.instances import generate
from bioplan.scenario import Scenario, load_scenario
from bioplan.scenario.schema import RecipeSource

CARDS = ("erythroid-bela", "mk-imkcl-vermes")
EXTRA_VESSELS = {"static": ["flask", "G-Rex"], "stirred": ["rocking-bag"], "turbulent": ["VerMES"]}


def media_instance(size: str, seed: int = 0) -> Scenario:
    """The benchmark instance ``size`` with searchable yield cards (module docstring)."""
    sc = generate(size, seed)
    default = load_scenario(None)
    reactors = {
        name: rt.model_copy(update={"vessel_classes": [
            *rt.vessel_classes, *(v for c in rt.vessel_classes for v in EXTRA_VESSELS.get(c, []))]})
        for name, rt in sc.reactors.items()}
    sources = dict(sc.sources)
    sources["bank"] = sources["bank"].model_copy(
        update={"cards": [*sources["bank"].cards, *CARDS]})
    media = sc.media.model_copy(update={
        "cytokine_price_usd_per_mg": {**default.media.cytokine_price_usd_per_mg,
                                      **sc.media.cytokine_price_usd_per_mg},
        "cytokine_price_usd_per_kU": {**default.media.cytokine_price_usd_per_kU,
                                      **sc.media.cytokine_price_usd_per_kU}})
    recipes = [*sc.recipes, *(RecipeSource(card=c) for c in CARDS)]
    return sc.model_copy(update={"name": f"{sc.name}-media", "reactors": reactors,
                                 "sources": sources, "media": media, "recipes": recipes})

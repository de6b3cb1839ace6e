"""The feeding policy as a searched setting: where a card offers both policies the search space
holds a whole-number ``<phase>.perfusion`` (with the exchange held, not searched), the search
evaluates a perfused protocol exactly as ``simulate`` does, and the validity domain refuses a
policy the card does not offer."""

from __future__ import annotations

import numpy as np
import pytest
from pydantic import ValidationError

from bioplan.media_search.space import evaluate_settings, search_space
from bioplan.yields import load_card, simulate


def test_the_space_offers_the_feeding_policy_only_where_the_card_does() -> None:
    bela = search_space("erythroid-bela")
    k = bela.keys.index("differentiation.perfusion")
    assert bela.integer[k] and (bela.lower[k], bela.upper[k], bela.default[k]) == (0, 1, 0)
    x = bela.keys.index("differentiation.perfusion_exchange_per_day")
    assert bela.lower[x] == bela.upper[x] == 0.5  # held at the card's assumption: not searched
    mk = search_space("mk-imkcl-vermes")
    assert "expansion.perfusion" in mk.keys
    assert "maturation.perfusion" not in mk.keys  # stays perfused (its cells do not grow)
    assert "maturation.density_setpoint" in mk.keys  # the other settings are still searched


def test_a_perfused_setting_is_evaluated_as_simulate_does_and_trades_medium_for_seed() -> None:
    space = search_space("erythroid-bela")
    dilution = space.default.copy()
    perfused = dilution.copy()
    perfused[space.keys.index("differentiation.perfusion")] = 1
    rows = evaluate_settings(space, np.vstack([dilution, perfused]))
    settings = {k: float(v) for k, v in zip(space.keys, perfused, strict=True)}
    sim = simulate("erythroid-bela", settings=settings).summary()
    assert rows.iloc[1]["product_cells_per_seed_cell"] == pytest.approx(
        sim["product_cells_per_seed_cell"], rel=1e-9)
    # a perfused vessel holds its final volume from the start: the culture is less dense early
    # (more growth per seed cell) but exchanges half its volume daily (more medium per cell)
    assert rows.iloc[1]["product_cells_per_seed_cell"] > rows.iloc[0]["product_cells_per_seed_cell"]
    medium = next(c for c in rows.columns if c.startswith("medium_L"))
    assert rows.iloc[1][medium] > rows.iloc[0][medium]
    assert not rows["extrapolates"].any()


def test_a_policy_the_card_does_not_offer_extrapolates() -> None:
    sim = simulate("mk-imkcl-vermes", settings={"maturation.perfusion": 0})
    assert any("maturation fed by dilution" in w for w in sim.warnings)
    dry = simulate("erythroid-bela", settings={"differentiation.perfusion": 1})
    assert any("perfused without medium exchange" in w for w in dry.warnings)


def test_bad_feeding_policies_in_a_card_are_refused() -> None:
    card = load_card("erythroid-pb-heshusius")
    data = card.model_dump(mode="python")
    phase = data["protocol"][0]["name"]
    data["validity"]["feeding_policies"] = {"no-such-phase": ["dilution", "perfusion"]}
    with pytest.raises(ValidationError, match="feeding_policies: unknown phase"):
        type(card).model_validate(data)
    data["validity"]["feeding_policies"] = {phase: ["dilution", "perfusion"]}
    with pytest.raises(ValidationError, match="no exchange rate is given"):
        type(card).model_validate(data)
    data["validity"]["perfusion_exchange_per_day"] = 0.3
    assert type(card).model_validate(data).validity.feeding_policies[phase] == [
        "dilution", "perfusion"]

"""The recipe-table contract of docs/architecture.md, which the planner builds on."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from bioplan.errors import InputError
from bioplan.yields import list_cards, load_card, recipe_table, simulate

SHIPPED = list_cards()


def test_five_cards_ship_with_both_lineages() -> None:
    assert len(SHIPPED) >= 5
    lineages = {load_card(n).lineage for n in SHIPPED}
    assert lineages == {"erythroid", "megakaryocytic"}
    for n in SHIPPED:
        card = load_card(n)
        assert card.cell_source
        assert all(ph.days >= 1 and ph.vessel_class for ph in card.phases)


@pytest.mark.parametrize("name", SHIPPED)
def test_recipe_table_columns_follow_the_contract(name: str) -> None:
    card = load_card(name)
    first = card.protocol[0].name
    table = recipe_table(
        card, {f"{first}.days": [card.protocol[0].days + 1, card.protocol[0].days + 2]}
    )
    assert table.index.name == "recipe"
    assert list(table.index) == [f"{name}/0", f"{name}/1", f"{name}/2"]
    for col in (
        "card",
        "lineage",
        "product",
        "cell_source",
        "n_phases",
        "days",
        "product_cells_per_seed_cell",
        "fold_expansion",
        "purity",
        "enucleation",
        "medium_L_per_seed_cell",
        "peak_volume_L_per_seed_cell",
        f"set:{first}.days",
    ):
        assert col in table.columns, col
    for f, spec in card.factors.items():  # factors in the basal medium are priced with it
        col = f"cytokine_{f}_{spec.amount_unit}_per_seed_cell"
        assert (col in table.columns) != spec.in_basal_medium, col
    assert "extrapolates" in table.columns and "extrapolation" in table.columns
    for k in range(1, len(card.protocol) + 1):
        for suffix in (
            "name",
            "days",
            "vessel_class",
            "peak_volume_L_per_seed_cell",
            "medium_L_per_seed_cell",
        ):
            assert f"phase{k}_{suffix}" in table.columns
        for f, spec in card.costed_factors.items():
            assert f"phase{k}_cytokine_{f}_{spec.amount_unit}_per_seed_cell" in table.columns
    assert pd.api.types.is_integer_dtype(table["days"])
    assert pd.api.types.is_integer_dtype(table["phase1_days"])
    # row 0 is the default protocol; the variants change phase 1 days and the total
    assert table["phase1_days"].tolist() == [
        card.protocol[0].days,
        card.protocol[0].days + 1,
        card.protocol[0].days + 2,
    ]
    assert (
        table["days"] == sum(table[f"phase{k}_days"] for k in range(1, len(card.protocol) + 1))
    ).all()
    if card.product == "platelet":
        assert table["enucleation"].isna().all()
    else:
        assert table["enucleation"].between(0, 1).all()
    # per-seed-cell outputs: row 0 equals simulate() per seed cell
    sim = simulate(card, seed_cells=1.0)
    assert table.iloc[0]["product_cells_per_seed_cell"] == pytest.approx(
        sim.per_seed["product_cells_per_seed_cell"], rel=1e-12
    )
    assert table.iloc[0]["medium_L_per_seed_cell"] == pytest.approx(
        sim.phases["medium_L"].sum(), rel=1e-12
    )
    # per-phase cytokines: add up to the total on every row; row 0 equals simulate()'s phases
    n = len(card.protocol)
    for f, spec in card.costed_factors.items():
        col = f"cytokine_{f}_{spec.amount_unit}_per_seed_cell"
        phases = table[[f"phase{k}_{col}" for k in range(1, n + 1)]]
        assert (phases >= 0).all().all()
        assert phases.sum(axis=1).to_numpy() == pytest.approx(table[col].to_numpy(), rel=1e-12)
        assert phases.iloc[0].tolist() == pytest.approx(
            sim.phases[f"{f}_{spec.amount_unit}"].tolist(), rel=1e-12, abs=0.0
        )


def test_full_factorial_and_set_columns() -> None:
    table = recipe_table(
        "erythroid-cb-giarratana",
        {"expansion.EPO": [1.0, 2.0, 3.0], "expansion.density_setpoint": [5e5, 1e6]},
    )
    # 3 x 2 = 6 combinations; the default (EPO 3, set-point 1e6) is row 0 and not repeated
    assert len(table) == 6
    combos = set(
        zip(table["set:expansion.EPO"], table["set:expansion.density_setpoint"], strict=True)
    )
    assert combos == {(e, s) for e in (1.0, 2.0, 3.0) for s in (5e5, 1e6)}
    # a higher set-point needs a smaller culture for the same cells (and grows slightly slower)
    epo3 = table[table["set:expansion.EPO"] == 3.0].set_index("set:expansion.density_setpoint")
    vol = epo3["phase1_peak_volume_L_per_seed_cell"]
    assert vol.loc[5e5] > 1.5 * vol.loc[1e6]
    assert epo3["fold_expansion"].loc[5e5] >= epo3["fold_expansion"].loc[1e6]


def test_unknown_variant_key_names_card_and_valid_keys() -> None:
    with pytest.raises(InputError) as err:
        recipe_table("mk-cb-tpo", {"expansion.EPO": [1.0]})
    text = str(err.value)
    assert "mk-cb-tpo" in text and "expansion.TPO" in text and "expansion.days" in text


def test_non_integer_days_are_rejected() -> None:
    with pytest.raises(InputError, match="whole number of days"):
        recipe_table("mk-cb-tpo", {"expansion.days": [7.5]})


def test_recipe_ids_are_unique_across_cards() -> None:
    tables = pd.concat([recipe_table(n) for n in SHIPPED])
    assert tables.index.is_unique
    assert np.isfinite(tables["product_cells_per_seed_cell"]).all()

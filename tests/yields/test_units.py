"""Unit bookkeeping, checked the way a person would compute it by hand."""

from __future__ import annotations

import pytest

from bioplan.yields import load_card, recipe_table, simulate


def test_units_equal_seed_times_product_per_seed_over_cells_per_unit() -> None:
    sim = simulate("erythroid-cb-giarratana", seed_cells=4.7e6)
    per_seed = sim.per_seed["product_cells_per_seed_cell"]
    # by hand: 4.7e6 CD34+ (a cord-blood unit, published-figures V1 [D]) x RBC per seed / 2e12
    assert sim.units == pytest.approx(4.7e6 * per_seed / 2e12, rel=1e-12)
    assert sim.summary()["units"] == pytest.approx(sim.units, rel=1e-12)
    # V1 reports 4.6 units per cord-blood unit [R2]: the joint fit is 0.41 log10 below the
    # published fold (see tests/yields/test_calibration.py KNOWN_MISSES): within ±0.5 log10
    assert 4.6 / 10**0.5 < sim.units < 4.6 * 10**0.5


def test_platelet_unit_defaults_to_2_4e11_and_is_configurable() -> None:
    default = simulate("mk-cb-tpo", seed_cells=1e5)
    assert default.cells_per_unit == 2.4e11
    assert default.units == pytest.approx(
        1e5 * default.per_seed["product_cells_per_seed_cell"] / 2.4e11
    )
    us = simulate("mk-cb-tpo", seed_cells=1e5, cells_per_unit=3e11)
    assert us.units == pytest.approx(default.units * 2.4 / 3.0, rel=1e-12)


def test_cytokine_amounts_are_concentration_times_medium() -> None:
    card = load_card("erythroid-cb-giarratana")
    sim = simulate(card, seed_cells=1e6)
    exp = sim.phases.loc["expansion"]
    medium = float(exp["medium_L"])
    # EPO 3 U/mL x L = 3 kU per L; SCF 100 ng/mL x L = 0.1 mg per L; IL-3 5 ng/mL = 0.005 mg/L
    assert float(exp["EPO_kU"]) == pytest.approx(3.0 * medium, rel=1e-12)
    assert float(exp["SCF_mg"]) == pytest.approx(0.1 * medium, rel=1e-12)
    assert float(exp["IL3_mg"]) == pytest.approx(0.005 * medium, rel=1e-12)
    # hydrocortisone 1 uM x 362.46 g/mol = 362.46 ug/L = 0.36246 mg per L
    assert float(exp["HC_mg"]) == pytest.approx(0.36246 * medium, rel=1e-12)
    # no cytokines in the maturation phase
    assert float(sim.phases.loc["maturation", "EPO_kU"]) == 0.0
    # per unit = per seed x seeds per unit
    s = sim.summary()
    seeds_per_unit = 2e12 / sim.per_seed["product_cells_per_seed_cell"]
    total_epo_kU = float(sim.phases["EPO_kU"].sum()) / 1e6
    assert s["cytokine_kU_per_unit"]["EPO"] == pytest.approx(
        total_epo_kU * seeds_per_unit, rel=1e-12
    )
    assert s["cytokine_per_unit"]["EPO"] == {
        "amount": s["cytokine_kU_per_unit"]["EPO"],
        "unit": "kU",
    }
    assert s["cytokine_per_unit"]["SCF"]["unit"] == "mg"
    assert "EPO" not in s["cytokine_mg_per_unit"]
    # the --json phases carry each phase's cytokines for the seed cells simulated
    phase = next(ph for ph in s["phases"] if ph["name"] == "expansion")
    assert phase["cytokines"]["EPO"] == {"amount": pytest.approx(3.0 * medium), "unit": "kU"}
    assert phase["cytokines"]["SCF"]["amount"] == pytest.approx(0.1 * medium, rel=1e-12)
    assert s["phases"][-1]["cytokines"]["EPO"]["amount"] == 0.0
    assert s["medium_L_per_unit"] == pytest.approx(
        float(sim.phases["medium_L"].sum()) / 1e6 * seeds_per_unit, rel=1e-12
    )


def test_recipe_table_cytokine_columns_sum_the_phases() -> None:
    table = recipe_table("erythroid-cb-giarratana")
    sim = simulate("erythroid-cb-giarratana", seed_cells=1.0)
    row = table.iloc[0]
    assert row["cytokine_EPO_kU_per_seed_cell"] == pytest.approx(
        float(sim.phases["EPO_kU"].sum()), rel=1e-12
    )
    assert row["cytokine_SCF_mg_per_seed_cell"] == pytest.approx(
        float(sim.phases["SCF_mg"].sum()), rel=1e-12
    )
    assert row["medium_L_per_seed_cell"] == pytest.approx(
        sum(row[f"phase{k}_medium_L_per_seed_cell"] for k in (1, 2, 3)), rel=1e-12
    )
    assert row["peak_volume_L_per_seed_cell"] == pytest.approx(
        max(row[f"phase{k}_peak_volume_L_per_seed_cell"] for k in (1, 2, 3)), rel=1e-12
    )


def test_volume_follows_seed_density_then_set_point() -> None:
    sim = simulate("erythroid-cb-giarratana", seed_cells=1e6, time_course=True)
    tc = sim.time_course
    assert tc is not None
    # day 0: 1e6 cells at 1e4 cells/mL = 100 mL = 0.1 L
    assert float(tc.loc[0, "volume_L"]) == pytest.approx(0.1, rel=1e-12)
    # end of expansion: cells / 1e6 cells/mL (set-point), in litres
    cells8 = float(sim.phases.loc["expansion", "cells_total"])
    assert float(sim.phases.loc["expansion", "peak_volume_L"]) == pytest.approx(
        cells8 / 1e6 / 1e3, rel=1e-12
    )
    # maturation: reseeded at 1e6/mL in fresh medium, so at least cells-in / 1e6 per mL
    cells11 = float(sim.phases.loc["epo", "cells_total"])
    assert float(sim.phases.loc["maturation", "medium_L"]) >= cells11 / 1e6 / 1e3 * (1 - 1e-12)


def test_perfusion_medium_is_volume_times_one_plus_exchange_days() -> None:
    sim = simulate("mk-imkcl-vermes", seed_cells=1e9)
    mat = sim.phases.loc["maturation"]
    vol = float(mat["peak_volume_L"])
    # the vessel holds the phase's seeded cells at its seeding density, or more at the set-point
    assert vol >= float(mat["cells_in"]) / 1e6 / 1000 * (1 - 1e-12)  # cells / (cells/mL) -> L
    assert float(mat["medium_L"]) == pytest.approx(vol * (1 + 0.2 * 6), rel=1e-12)


def test_outputs_scale_linearly_with_seed() -> None:
    a = simulate("erythroid-pb-heshusius", seed_cells=1e8)
    b = simulate("erythroid-pb-heshusius", seed_cells=3e8)
    for col in ("cells_total", "medium_L", "peak_volume_L", "EPO_kU"):
        assert (b.phases[col] / a.phases[col]).to_numpy() == pytest.approx(3.0, rel=1e-12)
    assert a.per_seed == pytest.approx(b.per_seed, rel=1e-12)


def test_validity_warnings() -> None:
    from bioplan.yields import list_cards

    for name in list_cards():  # the default protocols lie inside their own validity ranges
        assert simulate(name).warnings == [], name
    sim = simulate("erythroid-cb-giarratana", settings={"expansion.EPO": 50.0, "epo.days": 30})
    assert any("expansion.EPO = 50 U/mL" in w and "0.5-10" in w for w in sim.warnings)
    assert any("total culture days = 48 days" in w for w in sim.warnings)  # 8 + 30 + 10
    assert any("epo.days = 30 days" in w and "2-6" in w for w in sim.warnings)
    low = simulate("mk-cb-tpo", settings={"expansion.density_setpoint": 1e4})
    assert any("expansion.density_setpoint" in w for w in low.warnings)

"""A stage's own density half-inhibition (``density_half_inhibition_cells_per_mL``).

Cord-blood CD34+ cells seeded at 3,000/mL expand more than at 20,000/mL (calibration-data.md
CD-4, Housler 2014 [R]); the secreted feedback of differentiating progeny limits HSC-driven
cultures (Csaszar et al. 2012 Cell Stem Cell 10:218 [R]). The card `erythroid-cb-giarratana` gives
HSPC and BFU-E their own K, so a hollow-fibre culture seeded at 8e5/mL in a fixed volume (Housler
2012: ~100-fold in 7 d [R]) grows slower than a dilution-fed one held at 1e6/mL.
"""

from __future__ import annotations

import numpy as np
import pytest

from bioplan.errors import InputError
from bioplan.yields import load_card
from bioplan.yields.card import YieldCard
from bioplan.yields.exact_solver import run_batch
from bioplan.yields.kinetics import apply_settings, param_space, phase_rates

CARD = "erythroid-cb-giarratana"
HOLLOW_FIBRE = {"expansion.seed_density": 8.0e5, "expansion.density_setpoint": 8.0e7}


def _without_own_k(card: YieldCard) -> YieldCard:
    data = card.model_dump(mode="python")
    for st in data["stages"]:
        st["density_half_inhibition_cells_per_mL"] = None
    cal = data["calibration"]
    keep = [i for i, n in enumerate(cal["parameters"]) if "density_half_inhibition" not in n
            or n.startswith("density.")]
    cal["parameters"] = [cal["parameters"][i] for i in keep]
    cal["covariance"] = [[cal["covariance"][i][j] for j in keep] for i in keep]
    for block in ("priors", "bounds", "fitted"):
        cal[block] = {k: v for k, v in cal[block].items() if k in cal["parameters"]}
    return YieldCard.model_validate(data)


def _end_state(card: YieldCard, settings: dict[str, float]) -> np.ndarray:
    ps = param_space(card)
    theta = apply_settings(ps, ps.theta(1), settings, settings_only=False)
    return run_batch(ps, theta).x_end[0, -1]


def test_the_card_fits_early_stages_with_their_own_k() -> None:
    card = load_card(CARD)
    own = {s.name for s in card.stages if s.density_half_inhibition_cells_per_mL is not None}
    assert own == {"HSPC", "BFU"}


def test_an_own_k_equal_to_the_card_k_changes_nothing() -> None:
    """Exact: a stage K equal to the card's K gives the same matrices as no stage K."""
    card = load_card(CARD)
    k = card.density_effect.half_inhibition_cells_per_mL.value
    same = {"stages.HSPC.density_half_inhibition_cells_per_mL": k,
            "stages.BFU.density_half_inhibition_cells_per_mL": k}
    for settings in ({}, HOLLOW_FIBRE):
        a = _end_state(card, {**settings, **same})
        b = _end_state(_without_own_k(card), settings)
        np.testing.assert_allclose(a, b, rtol=1e-12, atol=0)


def test_own_k_slows_only_its_stage_and_only_at_high_density() -> None:
    card = load_card(CARD)
    ps = param_space(card)
    names = card.stage_names
    comp = ps.comp
    first = {s: comp.first[names.index(s)] for s in ("HSPC", "BFU", "CFU", "EB")}

    def gen0_proliferation(settings: dict[str, float]) -> dict[str, float]:
        theta = apply_settings(ps, ps.theta(1), settings, settings_only=False)
        P = phase_rates(ps, theta, 0).proliferation[0]
        return {s: float(P[c]) for s, c in first.items()}

    dilute = gen0_proliferation({})
    dense = gen0_proliferation(HOLLOW_FIBRE)
    lower_k = gen0_proliferation({**HOLLOW_FIBRE,
                                  "stages.HSPC.density_half_inhibition_cells_per_mL": 1e5})
    # at <= 1e6 cells/mL (dilution) the early stages are barely inhibited (K ~ 3e6)
    assert dense["HSPC"] < 0.8 * dilute["HSPC"]
    assert dense["BFU"] < 0.8 * dilute["BFU"]
    # CFU and EB follow the card K (1.5e7): inhibited less than the early stages
    assert dense["CFU"] / dilute["CFU"] > dense["BFU"] / dilute["BFU"]
    # lowering HSPC's own K lowers HSPC's proliferation and leaves every other stage as it was
    assert lower_k["HSPC"] < dense["HSPC"]
    for s in ("BFU", "CFU", "EB"):
        assert lower_k[s] == pytest.approx(dense[s], rel=1e-12)


def test_the_hollow_fibre_week_is_slower_than_the_diluted_one() -> None:
    """Housler 2012 [R]: ~100-fold in 7 d at 8e5 -> 8e7/mL; the diluted default grows faster."""
    card = load_card(CARD)
    ps = param_space(card)
    theta = apply_settings(ps, ps.theta(2), None)
    theta[1] = apply_settings(ps, theta[1:2], HOLLOW_FIBRE, settings_only=False)[0]
    course = run_batch(ps, theta, time_course=True).course_x
    assert course is not None
    cells = np.array([s.is_cell for s in card.stages])
    fold7 = course[:, 7][:, cells].sum(axis=1)
    assert fold7[1] < 0.5 * fold7[0]
    assert 10 ** -0.5 < fold7[1] / 100 < 10 ** 0.5


def test_a_non_positive_own_k_is_refused() -> None:
    data = load_card(CARD).model_dump(mode="python")
    data["stages"][0]["density_half_inhibition_cells_per_mL"] = {"value": 0.0, "source": "assumption"}
    with pytest.raises((InputError, ValueError), match="must be > 0"):
        YieldCard.model_validate(data)

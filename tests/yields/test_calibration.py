"""Every shipped card against the published datasets it is fitted to (models/calibration/*.yaml).

Issue 9: each fitted dataset within ±0.5 log10 (counts) / ±10 points (fractions), the primary
published end-point within ±0.3 log10. The figures, sources and provenance flags are in the
calibration files next to each number; KNOWN_MISSES lists, with the measured error, the checks the
shipped fit does not meet (xfail strict: a fix that makes them pass must remove the entry).
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from bioplan.yields import calibrate, list_cards, load_card, validation_table
from bioplan.yields.card_writer import dump_card
from bioplan.yields.datasets import load_datasets

KNOWN_MISSES = {
    # Giarratana 2005: "up to" 1.95e6-fold at d21 [R]; the fit gives 8.0e5 (-0.39 log10): the
    # BFU-E, CFU-E and EB division rates sit on their 2/day bound (PF-B fastest cycle ~12 h
    # [R-low]), and cells still in BFU-E when SCF (d8) and EPO (d11) are withdrawn stall. Without
    # Housler 2012 in the fit it is still -0.35 (docs/yields.md, "What this table says").
    ("erythroid-cb-giarratana", "giarratana-2005", "fold_expansion", 21): "primary -0.39 log10",
}


def _fit_rows() -> list[tuple[str, int]]:
    rows = []
    for name in list_cards():
        table = validation_table(name, loo=False)
        rows += [(name, int(i)) for i in table.index[table["use"] == "fit"]]
    return rows


@pytest.fixture(scope="module")
def tables() -> dict[str, pd.DataFrame]:
    return {name: validation_table(name, loo=False) for name in list_cards()}


@pytest.mark.parametrize(("name", "row"), _fit_rows())
def test_each_fitted_dataset_is_reproduced(
    tables: dict[str, pd.DataFrame], name: str, row: int
) -> None:
    r = tables[name].loc[row]
    key = (name, r["dataset"], r["quantity"], int(r["day"]))
    if key in KNOWN_MISSES:
        pytest.xfail(f"known miss: {KNOWN_MISSES[key]}")
    tol = 0.3 if r["primary"] else (0.5 if r["kind"] == "log10" else 0.10)
    assert abs(r["fit_error"]) <= tol, (r["dataset"], r["quantity"], r["predicted"], r["published"])


@pytest.mark.parametrize("name", list_cards())
def test_every_card_has_published_datasets_with_citations(name: str) -> None:
    card = load_card(name)
    data = load_datasets(card)
    assert data is not None and data.lineage == card.lineage
    assert all(len(ds.citation) > 20 and ds.read_in for ds in data.datasets)
    assert sum(ob.primary for ds in data.datasets for ob in ds.observations) == 1


def test_each_lineage_has_three_independent_fitted_datasets() -> None:
    groups: dict[str, set[str]] = {"erythroid": set(), "megakaryocytic": set()}
    for name in list_cards():
        data = load_datasets(load_card(name))
        assert data is not None
        groups[data.lineage] |= {ds.group for ds in data.datasets if ds.use == "fit"}
    assert len(groups["erythroid"]) >= 3
    assert len(groups["megakaryocytic"]) >= 3


@pytest.mark.parametrize("name", list_cards())
def test_stored_residuals_match_the_card(name: str, tables: dict[str, pd.DataFrame]) -> None:
    card = load_card(name)
    table = tables[name]
    fit = table[table["use"] == "fit"]
    stored = card.calibration.residuals
    assert len(stored) == len(fit)
    data = load_datasets(card)
    assert data is not None
    keys = [f"{ds.id}[{i}]:{ob.quantity}@d{ob.day}" for ds in data.datasets if ds.use == "fit"
            for i, ob in enumerate(ds.observations)]
    for key, (_, r) in zip(keys, fit.iterrows(), strict=True):
        assert stored[key] == pytest.approx(r["fit_error"], abs=1e-6)


@pytest.mark.parametrize("name", list_cards())
def test_covariance_is_stored_and_positive_definite(name: str) -> None:
    cal = load_card(name).calibration
    cov = np.array(cal.covariance)
    assert cov.shape == (len(cal.parameters), len(cal.parameters))
    assert np.allclose(cov, cov.T, atol=1e-9)
    assert np.all(np.linalg.eigvalsh(cov) > 0)


def test_calibrate_recovers_a_perturbed_rate() -> None:
    """Perturb a fitted rate by x1.5, refit, and land back on the shipped optimum."""
    card = load_card("mk-cb-tpo")
    data = card.model_dump(mode="python")
    stage = next(s for s in data["stages"] if s["name"] == "MKP")
    shipped = stage["proliferation_per_day"]["value"]
    stage["proliferation_per_day"]["value"] = shipped * 1.5
    perturbed = type(card).model_validate(data)
    result = calibrate(perturbed)
    assert result.success
    assert result.fitted["stages.MKP.proliferation_per_day"] == pytest.approx(shipped, rel=0.02)
    mkp = next(s for s in result.card.stages if s.name == "MKP")
    assert mkp.proliferation_per_day.source.startswith("calibrated")


def test_fit_round_trips_through_the_card_file(tmp_path: Path) -> None:
    card = load_card("erythroid-bela")
    result = calibrate(card)
    path = dump_card(result.card, tmp_path / "erythroid-bela.yaml")
    again = load_card(path)
    assert again.calibration.fitted == pytest.approx(result.fitted)
    assert np.allclose(again.calibration.covariance, result.card.calibration.covariance,
                       rtol=1e-6)


def test_leave_one_dataset_out_reports_held_out_errors() -> None:
    table = validation_table("mk-cb-tpo")
    fit = table[table["use"] == "fit"]
    assert fit["loo_log10_error"].notna().all()
    # held out, a dataset is predicted at least as badly as when it is fitted (on average)
    assert fit["loo_log10_error"].abs().mean() >= fit["fit_error"].abs().mean() - 1e-9


def test_fit_time_course_recovers_rates_from_a_synthetic_course() -> None:
    from bioplan.yields import fit_time_course, simulate

    card = load_card("mk-cb-tpo")
    course = simulate(card, seed_cells=1e5, time_course=True).time_course
    assert course is not None
    data = course.loc[[2, 4, 7, 10, 14], ["cells_total"]].reset_index()
    d = card.model_dump(mode="python")
    mkp = next(s for s in d["stages"] if s["name"] == "MKP")
    true = mkp["proliferation_per_day"]["value"]
    mkp["proliferation_per_day"]["value"] = true * 0.6
    result = fit_time_course(type(card).model_validate(d), data,
                             ["stages.MKP.proliferation_per_day"], seed_cells=1e5)
    assert result.fitted["stages.MKP.proliferation_per_day"] == pytest.approx(true, rel=0.05)
    assert all(math.isfinite(v) for v in result.residuals.values())


def test_fit_time_course_rejects_unknown_columns() -> None:
    from bioplan.errors import InputError
    from bioplan.yields import fit_time_course

    with pytest.raises(InputError, match="not understood"):
        fit_time_course("mk-cb-tpo", pd.DataFrame({"day": [1], "cells_foo": [1.0]}),
                        ["stages.MKP.proliferation_per_day"])


def _per_mk(settings: dict[str, float], per: str = "shedding_mk") -> float:
    from bioplan.yields.datasets import CalibrationData

    data = CalibrationData.model_validate({
        "card": "mk-imkcl-vermes", "lineage": "megakaryocytic",
        "datasets": [{"id": "probe", "citation": "hand-checkable probe, no publication",
                      "read_in": "test", "group": "test", "settings": settings,
                      "observations": [{"quantity": "platelets_per_mk", "day": 7, "value": 1.0,
                                        "error": 0.1, "provenance": "D",
                                        "run_phase": "expansion", "per": per}]}]})
    return float(validation_table("mk-imkcl-vermes", loo=False, data=data)["predicted"].iloc[0])


def test_platelets_per_shedding_mk_is_the_release_per_mk() -> None:
    """Per MK that shed (not per cell put in): with platelets that do not decay and one yield for
    every ploidy class, each shedding MK gives exactly platelets_per_mk_ref (expansion: static)."""
    card = load_card("mk-imkcl-vermes")
    pr = card.platelet_release
    assert pr is not None
    ref = pr.platelets_per_mk_ref.value
    flat = {"stages.Platelet.death_per_day": 0.0, "platelets.ploidy_exponent": 0.0}
    assert _per_mk(flat) == pytest.approx(ref, rel=1e-9)
    # with the ploidy scaling, the mean lies between the 2N and the 32N class's yield
    ploidy = _per_mk({"stages.Platelet.death_per_day": 0.0})
    assert pr.platelets_per_mk("static", 2) < ploidy < pr.platelets_per_mk("static", 32)
    # per cell put into the phase is a different (smaller) number: most cells never shed
    assert _per_mk(flat, per="input_cell") < 0.5 * ref

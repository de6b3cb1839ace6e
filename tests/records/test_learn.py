"""``learn``: a simulation-based calibration check on a small card (erythroid-bela: one lot-varied
rate, BEL-A proliferation, cv 5 %), and the written card version with its provenance."""

from __future__ import annotations

import datetime as dt
import json
import math

import numpy as np
import pandas as pd
import pytest

from bioplan.records.batches import PlannedBatch
from bioplan.records.card_version import write_version
from bioplan.records.learn import learn
from bioplan.records.table import RECORD_COLUMNS
from bioplan.records.trajectory import run_theta
from bioplan.yields import load_card
from bioplan.yields.kinetics import param_space

CARD = "erythroid-bela"
RATE = "stages.BELA.proliferation_per_day"
START = dt.date(2027, 1, 4)
SEED = 1.0e8
COUNT_CV = 0.10


def _batches(n: int) -> dict[str, PlannedBatch]:
    card = load_card(CARD)
    return {f"L{j:03d}": PlannedBatch(
        batch_id=f"L{j:03d}", product="rbc", recipe=f"{CARD}/0", card=CARD, settings={},
        start_date=START + dt.timedelta(days=j), days=card.total_days, seed_cells=SEED,
        planned_units=1.0, cells_per_unit=2e12) for j in range(n)}


def _records(batches: dict[str, PlannedBatch], mu: float, rng: np.random.Generator,
             shifted: str = RATE, lot_cv: float | None = None) -> pd.DataFrame:
    """Batches of a card whose true ``shifted`` rate is ``m · exp(mu)``, with lot draws of the
    lot-varied rate; counts every other day and the harvest, each with a 10 % lognormal error."""
    card = load_card(CARD)
    ps = param_space(card)
    cv = card.variability[0].cv if lot_cv is None else lot_cv
    sigma_lot = math.sqrt(math.log1p(cv**2))
    theta = ps.theta(len(batches))
    theta[:, ps.col(shifted)] *= math.exp(mu)
    theta[:, ps.col(RATE)] *= np.exp(rng.normal(0.0, sigma_lot, len(batches)))
    cells, product = run_theta(ps, theta)
    s = math.sqrt(math.log1p(COUNT_CV**2))
    rows = []
    for j, b in enumerate(batches.values()):
        rows.append({"batch_id": b.batch_id, "date": b.start_date, "kind": "seed",
                     "viable_cells": SEED})
        for day in range(2, 11, 2):
            rows.append({"batch_id": b.batch_id, "date": b.start_date + dt.timedelta(days=day),
                         "kind": "count",
                         "viable_cells": SEED * cells[j, day] * math.exp(rng.normal(0, s))})
        rows.append({"batch_id": b.batch_id, "date": b.end_date, "kind": "harvest",
                     "product_cells": SEED * product[j] * math.exp(rng.normal(0, s))})
    frame = pd.DataFrame(rows, columns=list(RECORD_COLUMNS))
    frame.index = pd.RangeIndex(2, 2 + len(frame), name="line")
    return frame


@pytest.mark.parametrize(("rate", "mu"), [(RATE, 0.04), ("stages.OrthoE.transit_per_day", 0.2)])
def test_learn_recovers_a_known_rate_within_its_interval(rate: str, mu: float) -> None:
    """The lot-varied proliferation 4 % above the card, or the calibrated enucleation rate (no
    lot spread; identified by the harvests) 22 % above it."""
    card = load_card(CARD)
    m = float(param_space(card).theta(1)[0, param_space(card).col(rate)])
    batches = _batches(8)
    rng = np.random.default_rng(7)
    out = learn(card, _records(batches, mu, rng, shifted=rate), batches, count_cv=COUNT_CV)
    row = out.table.loc[f"value:{rate}"]
    truth = m * math.exp(mu)
    assert row["posterior_p05"] < truth < row["posterior_p95"]
    assert bool(row["identified"])  # counts pin the proliferation rate down
    assert row["posterior_p95"] - row["posterior_p05"] < 0.5 * (row["prior_p95"] - row["prior_p05"])
    assert out.batches == sorted(batches)
    new = param_space(out.card).theta(1)[0, param_space(out.card).col(rate)]
    assert new == pytest.approx(row["posterior"], rel=1e-6)


def test_learn_widens_a_lot_spread_the_batches_show() -> None:
    """Lots spread three times as much as the card says (cv 15 % instead of 5 %): the
    posterior cv moves up and its 90 % interval holds the truth."""
    card = load_card(CARD)
    batches = _batches(16)
    out = learn(card, _records(batches, 0.0, np.random.default_rng(11), lot_cv=0.15), batches)
    row = out.table.loc[f"cv:{RATE}"]
    assert row["posterior_p05"] < 0.15 < row["posterior_p95"]
    assert row["posterior"] > 2 * row["prior"] and bool(row["updated"])
    assert out.card.variability[0].cv == pytest.approx(row["posterior"])


def test_simulation_based_calibration_of_the_rate() -> None:
    """Truths drawn from the prior (ln centre ~ N(0, σ_lot²)); each data set's 90 % posterior
    interval must cover its truth about 90 % of the time (Talts et al. 2018, SBC), and the ranks
    must not pile up at either end."""
    card = load_card(CARD)
    sigma = math.sqrt(math.log1p(card.variability[0].cv ** 2))
    m = float(param_space(card).theta(1)[0, param_space(card).col(RATE)])
    rng = np.random.default_rng(2027)
    batches = _batches(4)
    covered, below = 0, 0
    reps = 40
    for _ in range(reps):
        mu = rng.normal(0.0, sigma)
        row = learn(card, _records(batches, mu, rng), batches, count_cv=COUNT_CV).table.loc[
            f"value:{RATE}"]
        truth = m * math.exp(mu)
        covered += row["posterior_p05"] < truth < row["posterior_p95"]
        below += truth < row["posterior"]
    # binomial(40, 0.9): P(covered < 31) < 1 %; the truth below the posterior median ~ 20 of 40
    assert covered >= 31
    assert 10 <= below <= 30


def test_a_new_card_version_with_provenance(tmp_path) -> None:
    card = load_card(CARD)
    batches = _batches(4)
    out = learn(card, _records(batches, 0.0, np.random.default_rng(1)), batches,
                today=dt.date(2027, 2, 1))
    assert out.card.name == "erythroid-bela-learned-20270201"
    path, side = write_version(out.card, out.table, out.provenance, tmp_path / "bela-v2.yaml")
    again = load_card(path)
    assert again.name == "bela-v2"
    assert "learned from batch records" in again.variability[0].source
    doc = json.loads(side.read_text())
    assert doc["batches"] == sorted(batches) and doc["learned_on"] == "2027-02-01"
    # the lot-varied rate (centre and spread) and the card's other calibrated rate (centre only)
    assert {r["quantity"] for r in doc["prior_vs_posterior"]} == {
        f"value:{RATE}", f"cv:{RATE}", "value:stages.OrthoE.transit_per_day"}


def test_failed_batches_are_left_out_and_listed() -> None:
    card = load_card(CARD)
    batches = _batches(4)
    records = _records(batches, 0.0, np.random.default_rng(5))
    harvest = (records["batch_id"] == "L000") & (records["kind"] == "harvest")
    records.loc[harvest, "product_cells"] = 0.0
    out = learn(card, records, batches)
    assert out.batches == ["L001", "L002", "L003"]
    assert out.provenance["skipped_lost_batches"] == ["L000"]


def test_a_learned_rate_narrows_the_cards_calibration_uncertainty() -> None:
    """The calibrated enucleation rate, learned from 8 batches' harvests: the new card's
    calibration covariance holds its posterior variance (ln-scale sd from the table's 90 %
    interval), below the prior's, so robust plans and ``evaluate`` — which draw the calibration
    error once per sample, shared by every lot — see the narrower spread: the fit-only spread of
    the yield shrinks with it."""
    from bioplan.yields import sample

    rate = "stages.OrthoE.transit_per_day"
    card = load_card(CARD)
    batches = _batches(8)
    out = learn(card, _records(batches, 0.2, np.random.default_rng(7), shifted=rate), batches,
                count_cv=COUNT_CV)
    row = out.table.loc[f"value:{rate}"]
    assert bool(row["updated"])
    k = out.card.calibration.parameters.index(rate)
    z95 = 1.6448536269514722
    posterior_sd = math.log(row["posterior_p95"] / row["posterior_p05"]) / (2 * z95)
    new_var = out.card.calibration.covariance[k][k]
    assert new_var == pytest.approx(posterior_sd**2, rel=1e-6)
    assert new_var < 0.25 * card.calibration.covariance[k][k]
    assert np.all(np.linalg.eigvalsh(np.array(out.card.calibration.covariance)) >= -1e-12)
    spread = {}
    for name, c in (("prior", card), ("learned", out.card)):
        y = sample(c, 400, seed=2, uncertainty="fit")["product_cells_per_seed_cell"].to_numpy()
        spread[name] = float(np.std(np.log(y)))
    assert spread["learned"] < 0.6 * spread["prior"], spread

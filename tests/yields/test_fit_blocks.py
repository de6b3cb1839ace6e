"""A sample's lots share one draw of the calibration (fit) uncertainty (``fit_blocks``).

Lot-to-lot spread averages out over the lots of one world; the error of the card's fit does not:
if the fitted proliferation rate is 20 % high, it is high for every lot. Drawing the fit per lot
(``fit_blocks=None``) lets a mean over L lots shrink the fit's spread by √L, which is what the
robust program and ``evaluate`` did before.
"""

import numpy as np
import pytest

from bioplan.yields import sample
from bioplan.yields.kinetics import param_space
from bioplan.yields.loader import load_card
from bioplan.yields.variability import parameter_draws

CARD = "mk-imkcl-vermes"  # the default's platelet card: fit CV of its yield ~0.4, lot CV ~0.13


def test_fit_draws_are_constant_within_a_block_and_lot_draws_are_not() -> None:
    card = load_card(CARD)
    ps = param_space(card)
    k, lots = 5, 8
    d = parameter_draws(ps, k * lots, seed=1, fit_blocks=k)
    fit_only = [p for p in card.calibration.parameters
                if p not in {v.parameter for v in card.variability}]
    lot_varied = [v.parameter for v in card.variability]
    assert fit_only and lot_varied
    for p in fit_only:
        blocks = d[p].reshape(k, lots)
        assert np.ptp(blocks, axis=1).max() == 0.0  # one fit per sample
        assert np.ptp(blocks[:, 0]) > 0.0  # samples differ
    for p in lot_varied:
        assert np.ptp(d[p].reshape(k, lots), axis=1).min() > 0.0  # lots differ within a sample


def test_lot_draws_are_those_of_lot_only_uncertainty_when_the_fit_is_shared() -> None:
    """The lot factors come from the same stream: fit-shared ``both`` divided by its fit equals
    the lot-only draw for every lot-varied parameter that is not also fitted."""
    card = load_card(CARD)
    ps = param_space(card)
    both = parameter_draws(ps, 12, seed=4, fit_blocks=3)
    lot = parameter_draws(ps, 12, seed=4, uncertainty="lot")
    only_lot = [v.parameter for v in card.variability if v.parameter not in card.calibration.parameters]
    for p in only_lot:
        np.testing.assert_allclose(both[p], lot[p])


def test_a_mean_over_many_lots_keeps_the_fit_spread() -> None:
    k, lots = 60, 40
    shared = sample(CARD, k * lots, seed=3, fit_blocks=k)["product_cells_per_seed_cell"].to_numpy()
    per_lot = sample(CARD, k * lots, seed=3)["product_cells_per_seed_cell"].to_numpy()
    fit = sample(CARD, 2000, seed=3, uncertainty="fit")["product_cells_per_seed_cell"].to_numpy()
    sd_shared = (shared / shared.mean()).reshape(k, lots).mean(axis=1).std()
    sd_per_lot = (per_lot / per_lot.mean()).reshape(k, lots).mean(axis=1).std()
    fit_cv = fit.std() / fit.mean()
    assert sd_per_lot < 0.5 * fit_cv  # the old model: the fit error averaged out over 40 lots
    assert sd_shared == pytest.approx(fit_cv, rel=0.35)  # kept: 60 samples, SE of an SD ~9 %


def test_blocks_must_divide_the_draws() -> None:
    ps = param_space(load_card(CARD))
    with pytest.raises(ValueError, match="divide"):
        parameter_draws(ps, 10, fit_blocks=3)


def test_the_samples_fit_draws_are_a_latin_hypercube() -> None:
    """erythroid-bela has one fitted parameter: its K per-sample draws, mapped through the fit's
    normal CDF in ln(θ), fall one in each of the K equal-probability bins (a stratified design:
    20 samples of a common-mode error do not leave a tail out by chance)."""
    from scipy.stats import norm

    card = load_card("erythroid-bela")
    ps = param_space(card)
    (name,) = card.calibration.parameters
    k = 20
    d = parameter_draws(ps, k * 3, seed=7, uncertainty="fit", fit_blocks=k)[name].reshape(k, 3)[:, 0]
    mu = np.log(ps.theta(1)[0][ps.col(name)])
    sigma = np.sqrt(np.array(card.calibration.covariance)[0, 0])
    bins = np.floor(norm.cdf((np.log(d) - mu) / sigma) * k).astype(int)
    assert sorted(bins) == list(range(k))

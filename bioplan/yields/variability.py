"""Yield uncertainty: lot-to-lot variability and the calibration's parameter uncertainty, kept
apart and drawn separately or together, evaluated in one vectorised call.

- ``lot``: the card's ``variability`` entries (donor/lot spread, each centred on the card's
  value: lognormal with the card value as mean, normal truncated at 0, or uniform with the
  range's relative width about the card value);
- ``fit``: ln(fitted parameters) ~ N(ln(card values), ``calibration.covariance``) (the Laplace
  posterior of the joint fit);
- ``both``: a fit draw, then each lot-varied parameter multiplied by its lot factor
  (lot draw / card value).

Draws are common random numbers: draw k is the same lot (and the same fit) for every recipe.
Both are truncated to the parameters' physical domain (``draw_domain``: fractions in [0, 1],
exhaustion per division in [0, 1), everything else >= 0) by redrawing the draws outside it.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Literal

import numpy as np
import pandas as pd

from bioplan.errors import InputError
from bioplan.yields.card import Variation, YieldCard
from bioplan.yields.domains import EXHAUSTION, FRACTION, NON_NEGATIVE, Domain
from bioplan.yields.exact_solver import run_batch
from bioplan.yields.kinetics import ParamSpace, apply_settings, param_space
from bioplan.yields.loader import as_card
from bioplan.yields.recipes import table_from_batch
from bioplan.yields.validity import validate_theta

Uncertainty = Literal["lot", "fit", "both"]
UNCERTAINTIES = ("lot", "fit", "both")


def _draw(v: Variation, base: float, n: int, rng: np.random.Generator) -> np.ndarray:
    if v.distribution == "uniform":
        # the range's relative spread about the card's value: a published range of the parameter
        # (e.g. 5-8 platelets per MK) keeps its width when the card's fit moves the value; read as
        # absolute it made mk-imkcl-vermes' lots 0.63 x and mk-cb-tpo's 2.5 x the card's yield
        assert v.low is not None and v.high is not None
        return base * rng.uniform(v.low, v.high, n) / (0.5 * (v.low + v.high))
    assert v.cv is not None
    if v.distribution == "lognormal":
        sigma = np.sqrt(np.log1p(v.cv**2))
        return base * np.exp(rng.normal(-0.5 * sigma**2, sigma, n))  # mean = base
    return np.maximum(rng.normal(base, v.cv * base, n), 0.0)


def _check(card: YieldCard, uncertainty: str) -> None:
    if uncertainty not in UNCERTAINTIES:
        msg = f"uncertainty {uncertainty!r} is not one of {UNCERTAINTIES}"
        raise InputError(msg,
                         field="uncertainty", fix="use lot, fit or both")
    if uncertainty in ("lot", "both") and not card.variability:
        msg = f"card {card.name!r} declares no variability"
        raise InputError(
            msg,
            field="variability",
            fix="add entries under 'variability' (parameter, distribution, cv or low/high, source)",
        )
    if uncertainty in ("fit", "both") and not card.calibration.covariance:
        msg = f"card {card.name!r} stores no calibration covariance"
        raise InputError(msg,
                         field="calibration.covariance",
                         fix="refit the card with bioplan.yields.calibrate and save it")


def available_uncertainty(card: YieldCard, wanted: str = "both") -> Uncertainty | None:
    """What of ``wanted`` (``both``, ``lot``, ``fit``) ``card`` can be drawn under: the lot
    part needs its ``variability:``, the fit part its ``calibration.covariance`` (None: neither,
    the nominal yield)."""
    lot = wanted in ("lot", "both") and bool(card.variability)
    fit = wanted in ("fit", "both") and bool(card.calibration.covariance)
    return "both" if lot and fit else "lot" if lot else "fit" if fit else None


def draw_domain(path: str) -> Domain:
    """Physical domain of a drawn parameter, the card schema's own (:mod:`bioplan.yields.domains`):
    transit splits and seed fractions in ``FRACTION``, ``exhaustion_per_division`` in
    ``EXHAUSTION``, every other parameter (a rate, a concentration or a count) in
    ``NON_NEGATIVE``."""
    if ".transit_to." in path or path.startswith("seed."):
        return FRACTION
    if path.endswith(".exhaustion_per_division"):
        return EXHAUSTION
    return NON_NEGATIVE


def outside_domain(draws: Mapping[str, np.ndarray]) -> np.ndarray:
    """(n,) True for the draws (rows) with any parameter outside its ``draw_domain``."""
    bad = np.zeros(len(next(iter(draws.values()))), dtype=bool)
    for p, vals in draws.items():
        bad |= ~draw_domain(p).holds(vals)
    return bad


_MAX_REDRAWS = 50
"""Rounds of redrawing the draws outside the domain before giving up (each round keeps the
accepted draws; at 0.06 % rejected, as for erythroid-cb-giarratana, one or two rounds do)."""


def _draw_rows(ps: ParamSpace, base: np.ndarray, n: int, uncertainty: Uncertainty,
               rng: np.random.Generator, lot_rng: np.random.Generator,
               fit: Mapping[str, np.ndarray] | None = None) -> dict[str, np.ndarray]:
    """Parameter path -> (n,) untruncated draws: ln(fit) ~ N(ln(card), covariance) and/or each
    lot-varied parameter times its lot factor (lot draw / card value). ``fit`` (n,) per
    calibration parameter replaces the fit draw (rows that share a sample's fit)."""
    card = ps.card
    out: dict[str, np.ndarray] = {p: np.array(v, dtype=float) for p, v in (fit or {}).items()}
    if fit is None and uncertainty in ("fit", "both"):
        names = card.calibration.parameters
        cols = [ps.check_key(p, what="calibration parameter", settings_only=False) for p in names]
        z = rng.multivariate_normal(np.log(base[cols]), np.array(card.calibration.covariance), n,
                                    method="eigh")
        for p, zi in zip(names, z.T, strict=True):
            out[p] = np.exp(zi)
    if uncertainty in ("lot", "both"):
        for v in card.variability:
            c = ps.check_key(v.parameter, what="variability parameter", settings_only=False)
            lot = _draw(v, base[c], n, lot_rng)
            val = out[v.parameter] * (lot / base[c]) if v.parameter in out and base[c] else lot
            out[v.parameter] = val
    return out


def _fit_design(ps: ParamSpace, base: np.ndarray, k: int, rng: np.random.Generator
                ) -> dict[str, np.ndarray]:
    """``k`` fit draws (one per sample) as a Latin hypercube of the fit's normal law in ln(θ):
    each parameter's marginal is stratified into k equal-probability bins, one draw in each,
    then correlated by the covariance's root. With K = 20 samples of a common-mode error, an
    independent draw leaves whole tails out by chance; the hypercube covers them, and its mean's
    variance is never much above an independent sample's (Stein 1987)."""
    from scipy.stats import qmc  # here, not at import: scipy.stats costs 1-3 s of start-up

    card = ps.card
    names = card.calibration.parameters
    cols = [ps.check_key(p, what="calibration parameter", settings_only=False) for p in names]
    engine = qmc.LatinHypercube(d=len(cols), seed=rng)
    law = qmc.MultivariateNormalQMC(np.log(base[cols]), np.array(card.calibration.covariance),
                                    engine=engine)
    z = law.random(k)
    return {p: np.exp(zi) for p, zi in zip(names, z.T, strict=True)}


def _truncated(card: YieldCard, out: dict[str, np.ndarray], redraw: Callable[[np.ndarray], dict[str, np.ndarray]],
               uncertainty: Uncertainty) -> dict[str, np.ndarray]:
    """``out`` with its rows outside ``draw_domain`` replaced by ``redraw(bad rows)`` until none
    is left (accepted rows keep their values)."""
    for _ in range(_MAX_REDRAWS):
        bad = outside_domain(out)
        if not bad.any():
            return out
        redo = redraw(bad)
        for p in out:
            out[p][bad] = redo[p]
    msg = (f"card {card.name!r}: {int(bad.sum())} of {bad.size} {uncertainty} draws still leave "
           f"the parameters' physical domain after {_MAX_REDRAWS} redraws")
    raise InputError(msg, field="calibration.covariance" if uncertainty != "lot" else "variability",
                     fix="narrow the spread of the parameters bounded to [0, 1] "
                         "(fractions, exhaustion_per_division)")


def parameter_draws(ps: ParamSpace, n: int, *, seed: int | None = 0,
                    uncertainty: Uncertainty = "both", fit_blocks: int | None = None
                    ) -> dict[str, np.ndarray]:
    """Parameter path -> (n,) drawn values (only the parameters that vary).

    The distribution is truncated to the physical domain (``draw_domain``): a draw (row) with
    any parameter outside it is redrawn as a whole (fit and lot together, so the fit's
    correlations are kept), until every draw lies inside. Accepted draws keep their values.

    ``fit_blocks`` k (dividing n): the rows are k runs of n/k consecutive rows, one sample of a
    stochastic program or of ``evaluate`` each, and each run shares one fit draw while its rows
    (lots) draw their own lot factors. The calibration's error is the same for every lot of a
    world — it does not average out over lots as lot-to-lot spread does. The k fit draws are a
    Latin hypercube of the fit's law (:func:`_fit_design`). The fit draws are then
    truncated first and a row outside the domain redraws its lot factors only (at the 0.06 %
    rejected of erythroid-cb-giarratana this differs from truncating the joint law by as much).
    """
    card = ps.card
    _check(card, uncertainty)
    if n < 1:
        msg = f"n = {n} must be >= 1"
        raise InputError(msg, field="n", fix="ask for at least one sample")
    rng = np.random.default_rng(seed)
    lot_rng = np.random.default_rng(None if seed is None else seed + 7919)
    base = ps.theta(1)[0]
    if fit_blocks is None or uncertainty == "lot":
        return _truncated(card, _draw_rows(ps, base, n, uncertainty, rng, lot_rng),
                          lambda bad: _draw_rows(ps, base, int(bad.sum()), uncertainty, rng, lot_rng),
                          uncertainty)
    if fit_blocks < 1 or n % fit_blocks:
        msg = f"fit_blocks = {fit_blocks} must be >= 1 and divide n = {n}"
        raise ValueError(msg)
    fit = _truncated(card, _fit_design(ps, base, fit_blocks, rng),
                     lambda bad: _draw_rows(ps, base, int(bad.sum()), "fit", rng, lot_rng), "fit")
    rows = {p: np.repeat(v, n // fit_blocks) for p, v in fit.items()}
    if uncertainty == "fit":
        return rows
    return _truncated(card, _draw_rows(ps, base, n, "lot", rng, lot_rng, fit=rows),
                      lambda bad: _draw_rows(ps, base, int(bad.sum()), "lot", rng, lot_rng,
                                             fit={p: v[bad] for p, v in rows.items()}),
                      uncertainty)


def sample_theta(
    ps: ParamSpace, n: int, *, seed: int | None = 0, settings: Mapping[str, float] | None = None,
    uncertainty: Uncertainty = "both", fit_blocks: int | None = None,
) -> np.ndarray:
    """(n, P) parameter matrix: the protocol with ``settings``, card parameters drawn
    (``fit_blocks``: see :func:`parameter_draws`)."""
    draws = parameter_draws(ps, n, seed=seed, uncertainty=uncertainty, fit_blocks=fit_blocks)
    theta = apply_settings(ps, ps.theta(n), settings)
    for p, vals in draws.items():
        theta[:, ps.col(p)] = vals
    validate_theta(ps, theta)
    return theta


def sample(
    card: YieldCard | str,
    n: int = 1000,
    *,
    seed: int | None = 0,
    settings: Mapping[str, float] | None = None,
    uncertainty: Uncertainty = "both",
    fit_blocks: int | None = None,
) -> pd.DataFrame:
    """N realisations of one protocol under ``uncertainty`` (``lot``, ``fit`` or ``both``).

    Returns the recipe-table columns (per seed cell) for each draw, plus ``draw:<parameter>``
    columns with the drawn values; index ``draw`` (0..n-1). ``fit_blocks`` k: k runs of n/k
    consecutive draws (lots of one sample) share one fit draw (:func:`parameter_draws`).

    >>> t = sample("mk-cb-tpo", 100, seed=1)
    >>> len(t), bool(t["product_cells_per_seed_cell"].std() > 0)
    (100, True)
    """
    c = as_card(card)
    ps = param_space(c)
    theta = sample_theta(ps, n, seed=seed, settings=settings, uncertainty=uncertainty,
                         fit_blocks=fit_blocks)
    table = table_from_batch(ps, theta, run_batch(ps, theta), [])
    for p in parameter_draws(ps, 1, seed=seed, uncertainty=uncertainty):
        table[f"draw:{p}"] = theta[:, ps.col(p)]
    table.index = pd.RangeIndex(n, name="draw")
    return table


def sample_recipe_yields(
    card: YieldCard | str,
    recipes: pd.DataFrame,
    n: int,
    *,
    seed: int | None = 0,
    uncertainty: Uncertainty = "both",
    quantity: str = "product_cells_per_seed_cell",
) -> pd.DataFrame:
    """N realisations of each recipe's ``quantity`` (default: product cells per seed cell).

    ``recipes`` is a recipe table of ``card`` (``recipe_table``; its ``set:<key>`` columns say
    each recipe's settings). Returns a DataFrame indexed by ``draw`` (0..n-1) with one column per
    recipe (the recipe ids). Draw k is the same lot / fit for every recipe (common random
    numbers), so differences between recipes are not noise. ``uncertainty``: ``lot`` (lot-to-lot
    variability only), ``fit`` (calibration parameter uncertainty only) or ``both``.

    >>> from bioplan.yields import recipe_table
    >>> t = recipe_table("mk-cb-tpo", {"maturation.TPO": [25, 50]})
    >>> sample_recipe_yields("mk-cb-tpo", t, 50, uncertainty="lot").shape
    (50, 2)
    """
    c = as_card(card)
    ps = param_space(c)
    keys = [col.removeprefix("set:") for col in recipes.columns if col.startswith("set:")]
    draws = parameter_draws(ps, n, seed=seed, uncertainty=uncertainty)
    r = len(recipes)
    theta = np.repeat(ps.theta(1), r * n, axis=0)
    for k in keys:
        theta[:, ps.check_key(k)] = np.repeat(recipes[f"set:{k}"].to_numpy(dtype=float), n)
    for p, vals in draws.items():
        theta[:, ps.col(p)] = np.tile(vals, r)
    validate_theta(ps, theta)
    table = table_from_batch(ps, theta, run_batch(ps, theta), [])
    values = table[quantity].to_numpy().reshape(r, n).T
    out = pd.DataFrame(values, columns=list(recipes.index))
    out.index = pd.RangeIndex(n, name="draw")
    return out


def quantiles(card: YieldCard | str, settings: Mapping[str, float] | None = None, *,
              n: int = 400, seed: int | None = 0, uncertainty: Uncertainty = "both",
              columns: Sequence[str] = ("product_cells_per_seed_cell", "fold_expansion"),
              ) -> pd.DataFrame:
    """P5, P50, P95 of ``columns`` over ``n`` draws (index: the column; columns p5, p50, p95)."""
    t = sample(card, n, seed=seed, settings=settings, uncertainty=uncertainty)
    q = t[list(columns)].quantile([0.05, 0.5, 0.95]).T
    q.columns = ["p5", "p50", "p95"]
    q.index.name = "quantity"
    return q

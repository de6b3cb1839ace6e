"""The protocol settings a media search may move, inside a card's validity domain, and the exact
vectorised yield model evaluated on any list of settings (one batch solve per call).

Searched, per phase of the card's default protocol (``docs/yields.md``):

- the concentration of every factor the phase uses in the default protocol and the card's
  validity domain bounds (``validity.concentration_ranges``) [factor unit]; factors the default
  leaves out stay out (adding one is a new protocol, not a setting);
- the phase's whole days: ``validity.phase_days_ranges`` where the card gives them, else the
  default ± 50 % (at least 1 day); the total days must stay inside
  ``[total_days_min, total_days_max]`` (a row outside is reported by :func:`evaluate_settings`
  as extrapolating);
- the density set-point inside ``validity.density_setpoint_range_cells_per_mL``.

The feeding policy (dilution or perfusion, and the perfusion exchange rate) is kept as the card
gives it: the cards declare no validity range for it.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import numpy as np
import pandas as pd

from bioplan.yields import YieldCard, load_card
from bioplan.yields.exact_solver import run_batch
from bioplan.yields.kinetics import ParamSpace, param_space
from bioplan.yields.recipes import table_from_batch

DAYS_SPAN = 0.5
"""Phase days searched without a declared range: default × (1 ± DAYS_SPAN) [-]."""


@dataclass(frozen=True)
class SearchSpace:
    """The searched settings of one card: dotted keys with bounds and kinds."""

    card: str
    keys: tuple[str, ...]
    lower: np.ndarray
    upper: np.ndarray
    default: np.ndarray
    integer: np.ndarray
    """True for phase days (whole days)."""
    log: np.ndarray
    """True for concentrations and densities (searched on a log scale)."""
    total_days: tuple[int, int]


@lru_cache(maxsize=32)
def _space(card: str) -> ParamSpace:
    return param_space(load_card(card))


def search_space(card: YieldCard | str) -> SearchSpace:
    """The settings :mod:`bioplan.media_search` moves for ``card`` (module docstring)."""
    c = load_card(card) if isinstance(card, str) else card
    ps = _space(c.name)
    v = c.validity
    keys, lo, hi, integer, log = [], [], [], [], []

    def add(key: str, low: float, high: float, *, whole: bool, logscale: bool) -> None:
        keys.append(key)
        lo.append(float(low))
        hi.append(float(high))
        integer.append(whole)
        log.append(logscale)

    for ph in c.protocol:
        for f in ph.medium:
            default = ps.defaults[ps.col(f"{ph.name}.{f}")]
            if f in v.concentration_ranges and default > 0:
                add(f"{ph.name}.{f}", *v.concentration_ranges[f], whole=False, logscale=True)
        days = ps.defaults[ps.col(f"{ph.name}.days")]
        if ph.name in v.phase_days_ranges:
            dlo, dhi = v.phase_days_ranges[ph.name]
        else:
            dlo, dhi = max(1, round(days * (1 - DAYS_SPAN))), round(days * (1 + DAYS_SPAN))
        add(f"{ph.name}.days", dlo, max(dhi, dlo), whole=True, logscale=False)
        if v.density_setpoint_range_cells_per_mL is not None:
            add(f"{ph.name}.density_setpoint", *v.density_setpoint_range_cells_per_mL,
                whole=False, logscale=True)
    defaults = np.array([ps.defaults[ps.col(k)] for k in keys])
    return SearchSpace(c.name, tuple(keys), np.array(lo), np.array(hi),
                       np.clip(defaults, lo, hi), np.array(integer), np.array(log),
                       (v.total_days_min, v.total_days_max))


def evaluate_settings(space: SearchSpace, settings: np.ndarray) -> pd.DataFrame:
    """Recipe-table rows (``bioplan.yields.recipe_table`` columns, per seed cell) of the card's
    default protocol with each row of ``settings`` (shape (n, len(space.keys)), phase days rounded
    to whole days) applied, in ONE vectorised call of the exact yield model. Index ``recipe``
    ``"<card>/<k>"``, k = 0..n−1; ``set:<key>`` columns hold the settings."""
    ps = _space(space.card)
    x = np.atleast_2d(np.asarray(settings, dtype=float)).copy()
    x[:, space.integer] = np.round(x[:, space.integer])
    theta = ps.theta(x.shape[0])
    for j, key in enumerate(space.keys):
        theta[:, ps.col(key)] = x[:, j]
    return table_from_batch(ps, theta, run_batch(ps, theta), list(space.keys))

"""From a card to rate matrices: the named parameter space and the per-phase linear ODE x' = A x.

Every number of a card that can vary between recipes (settings), lots (variability) or fits
(calibration) has a dotted **parameter path**:

- ``<phase>.<factor>`` concentration [factor unit]; ``<phase>.days`` [days, integer];
  ``<phase>.density_setpoint`` and ``<phase>.seed_density`` [cells/mL];
  ``<phase>.perfusion_exchange_per_day`` [1/day] (perfusion phases)
- ``stages.<stage>.proliferation_per_day`` / ``.transit_per_day`` / ``.death_per_day`` [1/day]
- ``stages.<stage>.transit_to.<target>`` [-] (first target of a branching stage; the other
  targets share the remainder in their card proportions)
- ``stages.<stage>.<factor>.<effect>.ec50`` / ``.hill_n`` / ``.floor`` / ``.extra_death_per_day``
- ``seed.<stage>`` [-] (the other seed stages share the remainder in their card proportions)
- ``platelets.platelets_per_mk_ref`` / ``.mean_ploidy_N`` / ``.ploidy_exponent`` /
  ``.shear.<class>``; ``density.half_inhibition_cells_per_mL`` / ``density.hill_n``

A batch of recipes is a matrix ``theta`` of shape (N, P) over these paths. Within phase j the
stage vector x [cells (or platelets) per seed cell] obeys x' = A_j x with
A_j[i, i] = p_i - m_i - t_i and A_j[k, i] = t_i · f_ik · y_ik for each transit target k (y = 1
for cells, platelets per MK for release), so A_j is lower triangular.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

import numpy as np
from numpy.typing import NDArray

from bioplan.errors import InputError
from bioplan.yields.card import SHEAR_CLASSES, YieldCard
from bioplan.yields.dose_response import density_multiplier, extra_death, rate_multiplier

FloatArray = NDArray[np.float64]

SETTING_SUFFIXES = {
    "days": "days",
    "density_setpoint": "density_setpoint_cells_per_mL",
    "seed_density": "seed_density_cells_per_mL",
    "perfusion_exchange_per_day": "perfusion_exchange_per_day",
}
"""Phase-level setting keys (besides factor concentrations) and the Phase field they set."""

RESERVED_PHASE_NAMES = ("stages", "seed", "platelets", "density")


@dataclass
class ParamSpace:
    """The named parameters of one card with their default (card) values."""

    card: YieldCard
    names: list[str] = field(default_factory=list)
    defaults: list[float] = field(default_factory=list)
    index: dict[str, int] = field(default_factory=dict)

    def add(self, name: str, value: float) -> None:
        self.index[name] = len(self.names)
        self.names.append(name)
        self.defaults.append(float(value))

    def col(self, name: str) -> int:
        return self.index[name]

    def setting_keys(self) -> list[str]:
        """Keys accepted by ``settings``/``variants``: ``<phase>.<factor|days|density_setpoint|
        seed_density|perfusion_exchange_per_day>``."""
        return [n for n in self.names if n.split(".", 1)[0] not in RESERVED_PHASE_NAMES]

    def theta(self, rows: int = 1) -> FloatArray:
        """(rows, P) matrix of the card's default values."""
        return np.tile(np.asarray(self.defaults, dtype=float), (rows, 1))

    def check_key(self, key: str, *, what: str = "setting", settings_only: bool = True) -> int:
        """Column of ``key`` or an :class:`InputError` naming the card and the valid keys."""
        valid = self.setting_keys() if settings_only else self.names
        if key in valid:
            return self.index[key]
        phase = key.split(".", 1)[0]
        phases = [p.name for p in self.card.protocol]
        if settings_only and phase in phases and len(key.split(".")) == 2:
            factor = key.split(".", 1)[1]
            hint = (
                f"{factor!r} is not a factor of card {self.card.name!r} (factors: "
                f"{', '.join(self.card.factors)}) nor one of {', '.join(SETTING_SUFFIXES)}"
            )
        elif settings_only and phase not in phases:
            hint = f"unknown phase {phase!r} (phases: {', '.join(phases)})"
        else:
            hint = "unknown key"
        raise InputError(
            f"unknown {what} key {key!r} for card {self.card.name!r}: {hint}",
            field=key,
            fix=f"use one of: {', '.join(valid)}",
        )


def param_space(card: YieldCard) -> ParamSpace:
    """All variable numbers of ``card`` as a named parameter space."""
    ps = ParamSpace(card)
    for ph in card.protocol:
        if ph.name in RESERVED_PHASE_NAMES:
            raise InputError(
                f"phase name {ph.name!r} is reserved",
                field=f"protocol.{ph.name}",
                fix=f"rename the phase (reserved: {', '.join(RESERVED_PHASE_NAMES)})",
            )
        for f in card.factors:
            conc = ph.medium[f].value if f in ph.medium else 0.0
            ps.add(f"{ph.name}.{f}", conc)
        ps.add(f"{ph.name}.days", ph.days)
        ps.add(f"{ph.name}.density_setpoint", ph.density_setpoint_cells_per_mL.value)
        ps.add(f"{ph.name}.seed_density", ph.seed_density_cells_per_mL.value)
        if ph.feeding == "perfusion":
            assert ph.perfusion_exchange_per_day is not None
            ps.add(f"{ph.name}.perfusion_exchange_per_day", ph.perfusion_exchange_per_day.value)
    for st in card.stages:
        base = f"stages.{st.name}"
        ps.add(f"{base}.proliferation_per_day", st.proliferation_per_day.value)
        ps.add(f"{base}.transit_per_day", st.transit_per_day.value)
        ps.add(f"{base}.death_per_day", st.death_per_day.value)
        if len(st.transit_to) >= 2:
            t0 = st.transit_to[0]
            ps.add(f"{base}.transit_to.{t0.stage}", t0.fraction.value)
        for r in st.responses:
            rb = f"{base}.{r.factor}.{r.effect}"
            ps.add(f"{rb}.ec50", r.ec50.value)
            ps.add(f"{rb}.hill_n", r.hill_n.value)
            if r.floor is not None:
                ps.add(f"{rb}.floor", r.floor.value)
            if r.extra_death_per_day is not None:
                ps.add(f"{rb}.extra_death_per_day", r.extra_death_per_day.value)
    for s, frac in card.seed.items():
        ps.add(f"seed.{s}", frac.value)
    if card.platelet_release is not None:
        pr = card.platelet_release
        ps.add("platelets.platelets_per_mk_ref", pr.platelets_per_mk_ref.value)
        ps.add("platelets.ploidy_ref_N", pr.ploidy_ref_N.value)
        ps.add("platelets.mean_ploidy_N", pr.mean_ploidy_N.value)
        ps.add("platelets.ploidy_exponent", pr.ploidy_exponent.value)
        for c in SHEAR_CLASSES:
            ps.add(f"platelets.shear.{c}", pr.shear_multiplier[c].value)
    ps.add(
        "density.half_inhibition_cells_per_mL",
        card.density_effect.half_inhibition_cells_per_mL.value,
    )
    ps.add("density.hill_n", card.density_effect.hill_n.value)
    return ps


def validate_theta(ps: ParamSpace, theta: FloatArray, columns: list[int] | None = None) -> None:
    """Raise :class:`InputError` for negative values, non-integer days or broken densities."""
    cols = range(theta.shape[1]) if columns is None else columns
    for c in cols:
        name = ps.names[c]
        vals = theta[:, c]
        if not np.all(np.isfinite(vals)):
            raise InputError(f"{name} must be a finite number", field=name, fix="give a number")
        if np.any(vals < 0):
            bad = float(vals[vals < 0][0])
            raise InputError(f"{name} = {bad:g} is negative", field=name, fix="use a value >= 0")
        if name.endswith(".days") and np.any(vals != np.round(vals)):
            bad = float(vals[vals != np.round(vals)][0])
            raise InputError(
                f"{name} = {bad:g} is not a whole number of days",
                field=name,
                fix="phase durations are integer days (the planner works on a daily grid)",
            )
    for ph in ps.card.protocol:
        sd = theta[:, ps.col(f"{ph.name}.seed_density")]
        sp = theta[:, ps.col(f"{ph.name}.density_setpoint")]
        if np.any(sd <= 0):
            raise InputError(
                f"{ph.name}.seed_density must be > 0",
                field=f"{ph.name}.seed_density",
                fix="give a positive density in cells/mL",
            )
        if np.any(sp <= 0):
            raise InputError(
                f"{ph.name}.density_setpoint must be > 0",
                field=f"{ph.name}.density_setpoint",
                fix="give a positive density in cells/mL",
            )


@dataclass
class PhaseRates:
    """Rates of every stage in one phase for a batch of recipes (arrays of shape (N, k))."""

    proliferation: FloatArray
    death: FloatArray
    transit: FloatArray
    A: FloatArray
    """(N, k, k) rate matrix [1/day]; column = from, row = to."""


def seed_vector(ps: ParamSpace, theta: FloatArray) -> FloatArray:
    """(N, k) stage composition of one seed cell; overridden seed fractions rescale the rest."""
    card = ps.card
    names = card.stage_names
    x0 = np.zeros((theta.shape[0], len(names)))
    seed_names = list(card.seed)
    card_vals = np.array([card.seed[s].value for s in seed_names])
    vals = np.stack([theta[:, ps.col(f"seed.{s}")] for s in seed_names], axis=1)
    changed = ~np.isclose(vals, card_vals[None, :], rtol=0, atol=0)
    # rows where one fraction was overridden: keep it, rescale the others to fill the rest
    for j in range(len(seed_names)):
        rows = changed[:, j]
        if not rows.any():
            continue
        others = [i for i in range(len(seed_names)) if i != j]
        rest = card_vals[others].sum()
        scale = (1.0 - vals[rows, j]) / rest if rest > 0 else np.zeros(int(rows.sum()))
        for i in others:
            vals[rows, i] = card_vals[i] * scale
    for j, s in enumerate(seed_names):
        x0[:, names.index(s)] = vals[:, j]
    return x0


def phase_rates(ps: ParamSpace, theta: FloatArray, phase_idx: int) -> PhaseRates:
    """Rates and the rate matrix of phase ``phase_idx`` for every recipe in ``theta``."""
    card = ps.card
    ph = card.protocol[phase_idx]
    n, k = theta.shape[0], len(card.stages)
    pos = {s: i for i, s in enumerate(card.stage_names)}
    col = ps.col
    setpoint = theta[:, col(f"{ph.name}.density_setpoint")]
    dens = density_multiplier(
        setpoint,
        theta[:, col("density.half_inhibition_cells_per_mL")],
        theta[:, col("density.hill_n")],
    )
    P = np.zeros((n, k))
    M = np.zeros((n, k))
    T = np.zeros((n, k))
    A = np.zeros((n, k, k))
    ppm: FloatArray | None = None
    if card.platelet_release is not None:
        ratio = theta[:, col("platelets.mean_ploidy_N")] / theta[:, col("platelets.ploidy_ref_N")]
        ppm = (
            theta[:, col("platelets.platelets_per_mk_ref")]
            * ratio ** theta[:, col("platelets.ploidy_exponent")]
            * theta[:, col(f"platelets.shear.{ph.shear_class}")]
        )
    for i, st in enumerate(card.stages):
        base = f"stages.{st.name}"
        p = theta[:, col(f"{base}.proliferation_per_day")] * dens
        t = theta[:, col(f"{base}.transit_per_day")].copy()
        m = theta[:, col(f"{base}.death_per_day")].copy()
        for r in st.responses:
            rb = f"{base}.{r.factor}.{r.effect}"
            conc = theta[:, col(f"{ph.name}.{r.factor}")]
            ec50 = theta[:, col(f"{rb}.ec50")]
            hn = theta[:, col(f"{rb}.hill_n")]
            inhibits = r.mode == "inhibits"
            if r.effect == "death":
                m = m + extra_death(
                    conc, ec50, hn, theta[:, col(f"{rb}.extra_death_per_day")], inhibits
                )
            else:
                mult = rate_multiplier(conc, ec50, hn, theta[:, col(f"{rb}.floor")], inhibits)
                if r.effect == "proliferation":
                    p = p * mult
                else:
                    t = t * mult
        P[:, i], M[:, i], T[:, i] = p, m, t
        A[:, i, i] = p - m - t
        if not st.transit_to:
            continue
        if len(st.transit_to) == 1:
            fracs = [np.ones(n)]
        else:
            f0 = theta[:, col(f"{base}.transit_to.{st.transit_to[0].stage}")]
            rest = sum(tt.fraction.value for tt in st.transit_to[1:])
            fracs = [f0] + [
                (1.0 - f0)
                * (tt.fraction.value / rest if rest > 0 else 1.0 / (len(st.transit_to) - 1))
                for tt in st.transit_to[1:]
            ]
        for tt, fr in zip(st.transit_to, fracs, strict=True):
            j = pos[tt.stage]
            gain = t * fr
            if not card.stages[j].is_cell:
                assert ppm is not None  # validated: only platelet cards have non-cell stages
                gain = gain * ppm
            A[:, j, i] += gain
    return PhaseRates(P, M, T, A)


def apply_settings(
    ps: ParamSpace,
    theta: FloatArray,
    settings: Mapping[str, float] | None,
    *,
    settings_only: bool = True,
) -> FloatArray:
    """Copy of ``theta`` with ``settings`` (dotted keys -> values) applied to every row."""
    out = theta.copy()
    for key, value in (settings or {}).items():
        c = ps.check_key(key, settings_only=settings_only)
        try:
            out[:, c] = float(value)
        except (TypeError, ValueError):
            raise InputError(
                f"value {value!r} for {key!r} is not a number", field=key, fix="give a number"
            ) from None
    return out

"""From a card to rate matrices: the named parameter space and the per-phase linear ODE x' = A x.

Every number of a card that can vary between recipes (settings), lots (variability) or fits
(calibration) has a dotted **parameter path**:

- ``<phase>.<factor>`` concentration [factor unit]; ``<phase>.days`` [days, integer];
  ``<phase>.density_setpoint`` and ``<phase>.seed_density`` [cells/mL];
  ``<phase>.perfusion`` (0 = dilution feeding, 1 = perfusion) and
  ``<phase>.perfusion_exchange_per_day`` [1/day]; ``<phase>.stroma`` (0/1, co-culture)
- ``stages.<stage>.proliferation_per_day`` / ``.transit_per_day`` / ``.death_per_day`` [1/day]
- ``stages.<stage>.transit_to.<target>`` [-] (first target of a branching stage; the other
  targets share the remainder in their card proportions)
- ``stages.<stage>.exhaustion_per_division`` [-], ``stages.<stage>.ploidy_N`` [N],
  ``stages.<stage>.density_half_inhibition_cells_per_mL`` [cells/mL] (a stage's own K)
- ``stages.<stage>.<factor>.<effect>.ec50`` / ``.hill_n`` / ``.floor`` / ``.extra_death_per_day``
  / ``.or_ec50``
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
from bioplan.yields.compartments import Compartments, compartments
from bioplan.yields.dose_response import effective_density_multiplier, hill_activity

FloatArray = NDArray[np.float64]

SETTING_SUFFIXES = {
    "days": "days",
    "density_setpoint": "density_setpoint_cells_per_mL",
    "seed_density": "seed_density_cells_per_mL",
    "perfusion_exchange_per_day": "perfusion_exchange_per_day",
    "perfusion": "feeding",
    "stroma": "stroma",
}
"""Phase-level setting keys (besides factor concentrations) and the Phase field they set."""

RESERVED_PHASE_NAMES = ("stages", "seed", "platelets", "density")


@dataclass
class ParamSpace:
    """The named parameters of one card with their default (card) values."""

    card: YieldCard
    comp: Compartments = field(init=False)
    names: list[str] = field(default_factory=list)
    defaults: list[float] = field(default_factory=list)
    index: dict[str, int] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.comp = compartments(self.card)

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
        """(rows, P) matrix of the card's default values, column-major: the solver and the
        recipe table read it column by column (a row-major table of 100,000 recipes made each
        column read a strided pass over all of it)."""
        out = np.empty((rows, len(self.defaults)), order="F")
        out[:] = np.asarray(self.defaults, dtype=float)
        return out

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
        msg = f"unknown {what} key {key!r} for card {self.card.name!r}: {hint}"
        raise InputError(
            msg,
            field=key,
            fix=f"use one of: {', '.join(valid)}",
        )


def param_space(card: YieldCard) -> ParamSpace:
    """All variable numbers of ``card`` as a named parameter space."""
    ps = ParamSpace(card)
    for ph in card.protocol:
        if ph.name in RESERVED_PHASE_NAMES:
            msg = f"phase name {ph.name!r} is reserved"
            raise InputError(
                msg,
                field=f"protocol.{ph.name}",
                fix=f"rename the phase (reserved: {', '.join(RESERVED_PHASE_NAMES)})",
            )
        for f in card.factors:
            conc = ph.medium[f].value if f in ph.medium else 0.0
            ps.add(f"{ph.name}.{f}", conc)
        ps.add(f"{ph.name}.stroma", 1.0 if ph.stroma else 0.0)
        ps.add(f"{ph.name}.days", ph.days)
        ps.add(f"{ph.name}.density_setpoint", ph.density_setpoint_cells_per_mL.value)
        ps.add(f"{ph.name}.seed_density", ph.seed_density_cells_per_mL.value)
        ps.add(f"{ph.name}.perfusion", 1.0 if ph.feeding == "perfusion" else 0.0)
        exch = ph.perfusion_exchange_per_day
        ps.add(f"{ph.name}.perfusion_exchange_per_day", exch.value if exch is not None else 0.0)
    _add_stage_params(ps, card)
    _add_release_params(ps, card)
    ps.add(
        "density.half_inhibition_cells_per_mL",
        card.density_effect.half_inhibition_cells_per_mL.value,
    )
    ps.add("density.hill_n", card.density_effect.hill_n.value)
    return ps


def _add_stage_params(ps: ParamSpace, card: YieldCard) -> None:
    """Stage rates, ploidy, transit split, response curves and seed fractions."""
    for st in card.stages:
        base = f"stages.{st.name}"
        ps.add(f"{base}.proliferation_per_day", st.proliferation_per_day.value)
        ps.add(f"{base}.transit_per_day", st.transit_per_day.value)
        ps.add(f"{base}.death_per_day", st.death_per_day.value)
        if st.exhaustion_per_division is not None:
            ps.add(f"{base}.exhaustion_per_division", st.exhaustion_per_division.value)
        if st.density_half_inhibition_cells_per_mL is not None:
            ps.add(f"{base}.density_half_inhibition_cells_per_mL",
                   st.density_half_inhibition_cells_per_mL.value)
        if st.ploidy_N is not None:
            ps.add(f"{base}.ploidy_N", st.ploidy_N.value)
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
            if r.or_ec50 is not None:
                ps.add(f"{rb}.or_ec50", r.or_ec50.value)
    for s, frac in card.seed.items():
        ps.add(f"seed.{s}", frac.value)


def _add_release_params(ps: ParamSpace, card: YieldCard) -> None:
    """Platelet release per MK (ploidy and shear) of a megakaryocytic card."""
    if card.platelet_release is not None:
        pr = card.platelet_release
        ps.add("platelets.platelets_per_mk_ref", pr.platelets_per_mk_ref.value)
        ps.add("platelets.ploidy_ref_N", pr.ploidy_ref_N.value)
        if pr.mean_ploidy_N is not None:
            ps.add("platelets.mean_ploidy_N", pr.mean_ploidy_N.value)
        ps.add("platelets.ploidy_exponent", pr.ploidy_exponent.value)
        for c in SHEAR_CLASSES:
            ps.add(f"platelets.shear.{c}", pr.shear_multiplier[c].value)


@dataclass
class PhaseRates:
    """Rates of every compartment in one phase for a batch of recipes (arrays of shape (N, K))."""

    proliferation: FloatArray
    death: FloatArray
    transit: FloatArray
    A: FloatArray
    """(N, K, K) rate matrix [1/day]; column = from, row = to."""
    density_multiplier: FloatArray
    """(N,) phase mean of the density inhibition along the actual density [-]."""


def seed_vector(ps: ParamSpace, theta: FloatArray) -> FloatArray:
    """(N, K) compartment composition of one seed cell (generation 0 of each seeded stage);
    overridden seed fractions rescale the rest."""
    card = ps.card
    names = card.stage_names
    x0 = np.zeros((theta.shape[0], ps.comp.size))
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
        x0[:, ps.comp.first[names.index(s)]] = vals[:, j]
    return x0


def _stage_rates(
    ps: ParamSpace, theta: FloatArray, phase_idx: int
) -> tuple[FloatArray, FloatArray, FloatArray]:
    """(N, S) proliferation before density inhibition, death and transit of every stage [1/day]:
    the card's maxima times the Emax/Hill responses to the phase's medium."""
    card = ps.card
    ph = card.protocol[phase_idx]
    col = ps.col
    n, k = theta.shape[0], len(card.stages)
    P, M, T = np.zeros((n, k)), np.zeros((n, k)), np.zeros((n, k))
    for i, st in enumerate(card.stages):
        base = f"stages.{st.name}"
        p = theta[:, col(f"{base}.proliferation_per_day")].copy()
        t = theta[:, col(f"{base}.transit_per_day")].copy()
        m = theta[:, col(f"{base}.death_per_day")].copy()
        for r in st.responses:
            rb = f"{base}.{r.factor}.{r.effect}"
            hn = theta[:, col(f"{rb}.hill_n")]
            act = hill_activity(theta[:, col(f"{ph.name}.{r.factor}")],
                                theta[:, col(f"{rb}.ec50")], hn)
            if r.or_factor is not None:
                alt = hill_activity(theta[:, col(f"{ph.name}.{r.or_factor}")],
                                    theta[:, col(f"{rb}.or_ec50")], hn)
                act = 1.0 - (1.0 - act) * (1.0 - alt)
            if r.mode == "inhibits":
                act = 1.0 - act
            if r.effect == "death":
                m = m + theta[:, col(f"{rb}.extra_death_per_day")] * (1.0 - act)
            else:
                floor = theta[:, col(f"{rb}.floor")]
                mult = floor + (1.0 - floor) * act
                if r.effect == "proliferation":
                    p = p * mult
                else:
                    t = t * mult
        P[:, i], M[:, i], T[:, i] = p, m, t
    return P, M, T


def _density(ps: ParamSpace, theta: FloatArray, phase_idx: int, P: FloatArray,
             M: FloatArray) -> tuple[FloatArray, FloatArray]:
    """(N,) phase mean density inhibition with the card's K, and (N, S) per stage (a stage's
    own K where it has one): two fixed-point passes on the dominant growth rate
    r = max over dividing stages of (p · inhibition - m) (see ``effective_density_multiplier``);
    the stage multipliers follow the same density trajectory rho(t)."""
    ph = ps.card.protocol[phase_idx]
    col = ps.col
    dividing = P > 0
    args = (
        theta[:, col(f"{ph.name}.seed_density")],
        theta[:, col(f"{ph.name}.density_setpoint")],
        theta[:, col(f"{ph.name}.days")],
        theta[:, col(f"{ph.name}.perfusion")] > 0.5,
        theta[:, col("density.half_inhibition_cells_per_mL")],
        theta[:, col("density.hill_n")],
    )
    own = [(i, theta[:, col(f"stages.{st.name}.density_half_inhibition_cells_per_mL")])
           for i, st in enumerate(ps.card.stages)
           if st.density_half_inhibition_cells_per_mL is not None]
    per_stage = np.ones(P.shape)
    for _ in range(2):
        net = np.where(dividing, P * per_stage - M, -np.inf).max(axis=1)
        net = np.where(np.isfinite(net), net, 0.0)
        mult = effective_density_multiplier(net, *args)
        per_stage = np.repeat(mult[:, None], P.shape[1], axis=1)
        for i, k_i in own:
            per_stage[:, i] = effective_density_multiplier(net, *args[:4], k_i, args[5])
    return mult, per_stage


def _platelets_per_mk(ps: ParamSpace, theta: FloatArray, phase_idx: int, stage: int) -> FloatArray:
    """(N,) platelets per MK released from ``stage`` in this phase's shear class."""
    card = ps.card
    col = ps.col
    st = card.stages[stage]
    ploidy = theta[:, col(f"stages.{st.name}.ploidy_N" if st.ploidy_N is not None
                         else "platelets.mean_ploidy_N")]
    ratio = ploidy / theta[:, col("platelets.ploidy_ref_N")]
    shear = card.protocol[phase_idx].shear_class
    return (
        theta[:, col("platelets.platelets_per_mk_ref")]
        * ratio ** theta[:, col("platelets.ploidy_exponent")]
        * theta[:, col(f"platelets.shear.{shear}")]
    )


def _transit_fractions(ps: ParamSpace, theta: FloatArray, stage: int) -> list[FloatArray]:
    """(N,) fraction of the stage's transit going to each of its targets."""
    st = ps.card.stages[stage]
    n = theta.shape[0]
    if len(st.transit_to) <= 1:
        return [np.ones(n)] * len(st.transit_to)
    f0 = theta[:, ps.col(f"stages.{st.name}.transit_to.{st.transit_to[0].stage}")]
    rest = sum(tt.fraction.value for tt in st.transit_to[1:])
    return [f0] + [
        (1.0 - f0) * (tt.fraction.value / rest if rest > 0 else 1.0 / (len(st.transit_to) - 1))
        for tt in st.transit_to[1:]
    ]


def phase_rates(ps: ParamSpace, theta: FloatArray, phase_idx: int) -> PhaseRates:
    """Rates and the (N, K, K) rate matrix of phase ``phase_idx`` for every recipe in ``theta``.

    Per compartment c of stage i, generation g: proliferation p_c = p_i · dens_i · (1 - e_i)^g
    (0 in a budget's last generation), death m_i, transit t_i (only out of the last
    generation for ``transit_from_last_generation`` stages). A[c, c] = p_c - m_i - t_i for a
    self-renewing stage; in a budget a division leaves g for g + 1 with two cells:
    A[c, c] = -p_c - m_i - t_i, A[c + 1, c] = 2 p_c. Transit: A[c', c] += t_i · f_ij · y_ij
    (y = platelets per MK of stage i's ploidy for release into the platelet stage, else 1).
    """
    card = ps.card
    comp = ps.comp
    n, K = theta.shape[0], comp.size
    P_s, M_s, T_s = _stage_rates(ps, theta, phase_idx)
    dens, dens_stage = _density(ps, theta, phase_idx, P_s, M_s)
    P = np.zeros((n, K))
    A = np.zeros((n, K, K))
    M = M_s[:, comp.stage_of]
    gate = np.array([not (card.stages[i].transit_from_last_generation and not comp.last[c])
                     for c, i in enumerate(comp.stage_of)], dtype=float)
    T = T_s[:, comp.stage_of] * gate
    pos = {s: i for i, s in enumerate(card.stage_names)}
    for i, st in enumerate(card.stages):
        p = P_s[:, i] * dens_stage[:, i]
        e = (theta[:, ps.col(f"stages.{st.name}.exhaustion_per_division")]
             if st.exhaustion_per_division is not None else None)
        gains = []
        for tt, fr in zip(st.transit_to, _transit_fractions(ps, theta, i), strict=True):
            j = pos[tt.stage]
            gain = fr
            if not card.stages[j].is_cell:
                gain = gain * _platelets_per_mk(ps, theta, phase_idx, i)
            gains.append((j, gain))
        for g in range(comp.n_gen[i]):
            c = comp.first[i] + g
            if comp.budgeted[c]:
                pc = np.zeros(n) if comp.last[c] else p * ((1.0 - e) ** g if e is not None else 1.0)
                A[:, c, c] = -pc - M[:, c] - T[:, c]
                if not comp.last[c]:
                    A[:, c + 1, c] += 2.0 * pc
            else:
                pc = p
                A[:, c, c] = pc - M[:, c] - T[:, c]
            P[:, c] = pc
            for j, gain in gains:
                A[:, comp.target(card, i, g, j), c] += T[:, c] * gain
    return PhaseRates(P, M, T, A, dens)


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
            msg = f"value {value!r} for {key!r} is not a number"
            raise InputError(
                msg, field=key, fix="give a number"
            ) from None
    return out

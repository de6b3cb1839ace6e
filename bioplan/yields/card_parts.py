"""Building blocks of a yield-model card: numbers with sources, factors, dose-responses, stages,
platelet release, density effect and protocol phases (validated by pydantic).

Every number is a :class:`Num`: a value plus its source (a row of
``shared/literature/published-figures.md`` or ``models/calibration/*.yaml`` with its provenance
flag, ``calibrated: ...``, or ``assumption: ...``). In YAML a number is written
``[value, "source"]`` or ``{value: v, source: "..."}``; a bare number is rejected so that no
number ships without a source.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from bioplan.yields.domains import EXHAUSTION, FRACTION

FACTOR_UNITS = ("ng/mL", "ug/mL", "U/mL", "uM")
"""Concentration units a factor may be given in."""

MASS_UNIT_OF = {"ng/mL": "mg", "ug/mL": "mg", "U/mL": "kU", "uM": "mg"}
"""Unit of the consumed amount for each concentration unit (concentration × litres)."""

SHEAR_CLASSES = ("static", "low", "turbulent")
"""Hydrodynamic class of a vessel: static (flask, bag, G-Rex), low (rocking, stirred), turbulent
(vertical-reciprocating VerMES-like reactors)."""


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Num(_Strict):
    """A number with its provenance."""

    value: float = Field(allow_inf_nan=False)
    """The number, in the unit named by the field that holds it (finite: no inf or nan)."""
    source: str = Field(min_length=3)
    """Where it comes from: a published-figures.md row with its flag, ``calibrated: ...`` or
    ``assumption: ...``."""

    @model_validator(mode="before")
    @classmethod
    def _from_pair(cls, data: Any) -> Any:
        if isinstance(data, list | tuple):
            if len(data) != 2:
                msg = 'write a number as [value, "source"]'
                raise ValueError(msg)
            return {"value": data[0], "source": data[1]}
        if isinstance(data, int | float) and not isinstance(data, bool):
            msg = f'the number {data} has no source: write [{data}, "<source or assumption: why>"]'
            raise ValueError(
                msg
            )
        return data


def _nonneg(num: Num, what: str) -> Num:
    if num.value < 0:
        msg = f"{what} must be >= 0, got {num.value}"
        raise ValueError(msg)
    return num


class Factor(_Strict):
    """A medium component the model responds to or whose consumption is costed."""

    unit: str
    """Concentration unit: one of ng/mL, ug/mL, U/mL, uM."""
    description: str = ""
    """What the factor is (e.g. 'recombinant human erythropoietin')."""
    molar_mass_g_per_mol: Num | None = None
    """Molar mass [g/mol]; required for factors in uM so the amount can be reported in mg."""
    in_basal_medium: bool = False
    """Part of the basal medium and priced with it (``basal_price_usd_per_L``), e.g.
    holo-transferrin: it acts on rates but has no cytokine column of its own."""
    no_modelled_effect: str = ""
    """Why the factor has no modelled effect (cited), for a factor no stage responds to: it is
    costed but inert, and ``simulate`` lists it. A factor must have a response or this reason."""

    @field_validator("unit")
    @classmethod
    def _unit(cls, unit: str) -> str:
        if unit not in FACTOR_UNITS:
            close = [u for u in FACTOR_UNITS if u.lower() == unit.lower()]
            hint = f" (did you mean {close[0]!r}?)" if close else ""
            msg = f"unknown unit {unit!r}{hint}; use one of {', '.join(FACTOR_UNITS)}"
            raise ValueError(msg)
        return unit

    @model_validator(mode="after")
    def _molar(self) -> Factor:
        if self.unit == "uM" and self.molar_mass_g_per_mol is None:
            msg = "a factor in uM needs molar_mass_g_per_mol to report its mass in mg"
            raise ValueError(msg)
        return self

    @property
    def amount_unit(self) -> str:
        """Unit of the consumed amount: ``mg`` or ``kU``."""
        return MASS_UNIT_OF[self.unit]

    def amount_per_conc_litre(self) -> float:
        """Amount [mg or kU] in one litre of medium at concentration 1 [unit]."""
        if self.unit == "ng/mL":
            return 1e-3  # 1 ng/mL × 1 L = 1000 ng = 1e-3 mg
        if self.unit == "ug/mL":
            return 1.0  # 1 ug/mL × 1 L = 1000 ug = 1 mg
        if self.unit == "U/mL":
            return 1.0  # 1 U/mL × 1 L = 1000 U = 1 kU
        assert self.molar_mass_g_per_mol is not None  # checked by the validator
        return 1e-3 * self.molar_mass_g_per_mol.value  # 1 uM × 1 L = 1 umol = MW ug


class Response(_Strict):
    """How one rate of one stage responds to one factor (Emax/Hill).

    activity a(c) = c^n / (EC50^n + c^n) in [0, 1]; for ``mode: inhibits`` the activity is 1 - a.
    proliferation and transit are multiplied by ``floor + (1 - floor) · a``;
    death gains ``extra_death_per_day · (1 - a)`` (death rises when the factor is missing).
    """

    factor: str
    """Name of a factor declared under ``factors``."""
    effect: Literal["proliferation", "transit", "death"]
    """Which rate of the stage the factor acts on."""
    mode: Literal["activates", "inhibits"] = "activates"
    """``activates``: the rate rises with the factor; ``inhibits``: it falls (e.g. doxycycline
    holding an immortalised line in its progenitor state)."""
    ec50: Num
    """Half-effect concentration, in the factor's unit."""
    hill_n: Num
    """Hill coefficient [-]."""
    floor: Num | None = None
    """Fraction of the rate left without the factor [-] (proliferation/transit only; 0 = the
    factor is required)."""
    extra_death_per_day: Num | None = None
    """Death added when the factor is absent [1/day] (death responses only)."""
    or_factor: str | None = None
    """An alternative that can stand in for ``factor`` (e.g. ``stroma`` for EPO on stroma-supported
    progenitors): activity 1 - (1 - a_factor)(1 - a_or) (independent action), same Hill n."""
    or_ec50: Num | None = None
    """Half-effect level of ``or_factor`` (its unit; 0-1 for ``stroma``)."""

    @model_validator(mode="after")
    def _check(self) -> Response:
        _nonneg(self.ec50, "ec50")
        if self.ec50.value == 0:
            msg = "ec50 must be > 0"
            raise ValueError(msg)
        if self.hill_n.value <= 0:
            msg = f"hill_n must be > 0, got {self.hill_n.value}"
            raise ValueError(msg)
        if (self.or_factor is None) != (self.or_ec50 is None):
            msg = "or_factor and or_ec50 go together"
            raise ValueError(msg)
        if self.or_ec50 is not None and self.or_ec50.value <= 0:
            msg = "or_ec50 must be > 0"
            raise ValueError(msg)
        if self.effect == "death":
            if self.extra_death_per_day is None:
                msg = "a death response needs extra_death_per_day"
                raise ValueError(msg)
            _nonneg(self.extra_death_per_day, "extra_death_per_day")
        else:
            if self.floor is None:
                msg = f"a {self.effect} response needs floor (0 = factor required)"
                raise ValueError(msg)
            if not 0 <= self.floor.value <= 1:
                msg = f"floor must be within [0, 1], got {self.floor.value}"
                raise ValueError(msg)
        return self


class Transit(_Strict):
    """Where cells leaving a stage by differentiation go."""

    stage: str
    """Name of a later stage."""
    fraction: Num
    """Fraction of the cells leaving by transit that go to this stage [-]; fractions sum to 1."""


class Stage(_Strict):
    """One compartment of the differentiation chain."""

    name: str
    """Stage name (e.g. ``ProE``); unique within the card."""
    description: str = ""
    """Markers or morphology that define the stage."""
    proliferation_per_day: Num
    """Maximal proliferation rate [1/day] (ln 2 / doubling time) with saturating factors."""
    transit_per_day: Num
    """Maximal differentiation (transit) rate to the next stage(s) [1/day]."""
    death_per_day: Num
    """Baseline death rate [1/day]."""
    transit_to: list[Transit] = Field(default_factory=list)
    """Targets of transit; empty for end stages (then transit_per_day must be 0)."""
    committed: bool = True
    """True if the stage belongs to the card's lineage (counts for purity and enucleation)."""
    product: bool = False
    """True for the product stage (reticulocytes/RBCs or platelets); exactly one per card."""
    is_cell: bool = True
    """False for platelets: they do not count as cells for density, volume or fold expansion."""
    responses: list[Response] = Field(default_factory=list)
    """Dose-responses of this stage's rates to the factors of the medium."""
    division_budget: str | None = None
    """Name of an entry of the card's ``division_budgets``: the stage's cells are tracked by
    generation (divisions since they entered the budget) and cells that used the whole budget no
    longer divide. Stages sharing a budget carry the generation on transit (e.g. the ~4 terminal
    erythroid divisions from pro- to polychromatic erythroblast). None = no limit (self-renewing
    lines)."""
    transit_from_last_generation: bool = False
    """True: only cells that used the whole division budget leave by transit (division-coupled
    maturation, e.g. terminal erythroblasts: ~1 division per morphological stage)."""
    exhaustion_per_division: Num | None = None
    """Fractional loss of proliferation per division used [-]: proliferation in generation g is
    p · (1 - e)^g (HSPC self-renewal that exhausts with divisions). Needs a division budget."""
    ploidy_N: Num | None = None
    """Ploidy class of a megakaryocyte stage [N] (2, 4, ... 64); sets its platelets per MK."""
    density_half_inhibition_cells_per_mL: Num | None = None
    """This stage's own half-inhibition density K_i [cells/mL] (else the card's
    ``density_effect``): primitive cells are held back by the feedback signals of their
    differentiating progeny at densities late erythroblasts tolerate (CD-4, Housler 2014 [R])."""

    @model_validator(mode="after")
    def _check(self) -> Stage:
        for what in ("proliferation_per_day", "transit_per_day", "death_per_day"):
            _nonneg(getattr(self, what), what)
        if self.transit_to:
            total = sum(t.fraction.value for t in self.transit_to)
            if abs(total - 1.0) > 1e-6:
                msg = f"transit_to fractions sum to {total:g}; make them sum to 1"
                raise ValueError(msg)
            for t in self.transit_to:
                if not FRACTION.holds(t.fraction.value):
                    msg = f"transit fraction to {t.stage} must be within {FRACTION}"
                    raise ValueError(msg)
        elif self.transit_per_day.value > 0:
            msg = "transit_per_day > 0 but transit_to is empty; add a target stage"
            raise ValueError(msg)
        if self.transit_from_last_generation and self.division_budget is None:
            msg = "transit_from_last_generation needs a division_budget"
            raise ValueError(msg)
        if self.exhaustion_per_division is not None:
            if self.division_budget is None:
                msg = "exhaustion_per_division needs a division_budget"
                raise ValueError(msg)
            if not EXHAUSTION.holds(self.exhaustion_per_division.value):
                msg = f"exhaustion_per_division must be within {EXHAUSTION}"
                raise ValueError(msg)
        for what in ("ploidy_N", "density_half_inhibition_cells_per_mL"):
            v = getattr(self, what)
            if v is not None and v.value <= 0:
                msg = f"{what} must be > 0"
                raise ValueError(msg)
        return self


class PlateletRelease(_Strict):
    """Platelet release from megakaryocytes (megakaryocytic cards).

    Every MK stage that transits into the platelet stage releases there (the MK is consumed),
    each MK yielding ``platelets_per_mk_ref · (ploidy / ploidy_ref_N) ** ploidy_exponent ·
    shear_multiplier[shear class of the phase's vessel]`` platelets, with the stage's own
    ``ploidy_N`` (MK ploidy classes) or, for a stage without one, ``mean_ploidy_N``.
    """

    platelets_per_mk_ref: Num
    """Platelets per MK [platelets/MK] at the reference ploidy in a static vessel."""
    ploidy_ref_N: Num
    """Reference ploidy [N] of ``platelets_per_mk_ref``."""
    ploidy_exponent: Num
    """Exponent of the ploidy effect on platelets per MK [-]."""
    shear_multiplier: dict[str, Num]
    """Multiplier of platelets per MK for each shear class (static, low, turbulent) [-]."""
    mean_ploidy_N: Num | None = None
    """Ploidy [N] of releasing stages that declare no ``ploidy_N``."""

    @model_validator(mode="after")
    def _check(self) -> PlateletRelease:
        for what in ("platelets_per_mk_ref", "ploidy_ref_N"):
            if getattr(self, what).value <= 0:
                msg = f"{what} must be > 0"
                raise ValueError(msg)
        if self.mean_ploidy_N is not None and self.mean_ploidy_N.value <= 0:
            msg = "mean_ploidy_N must be > 0"
            raise ValueError(msg)
        missing = [c for c in SHEAR_CLASSES if c not in self.shear_multiplier]
        if missing:
            msg = f"shear_multiplier lacks class(es) {missing}"
            raise ValueError(msg)
        extra = [c for c in self.shear_multiplier if c not in SHEAR_CLASSES]
        if extra:
            msg = f"unknown shear class(es) {extra}; use {', '.join(SHEAR_CLASSES)}"
            raise ValueError(msg)
        for c, m in self.shear_multiplier.items():
            _nonneg(m, f"shear_multiplier.{c}")
        return self

    def platelets_per_mk(self, shear_class: str, ploidy_N: float) -> float:
        """Platelets per released MK of ``ploidy_N`` in a vessel of ``shear_class``."""
        ratio = ploidy_N / self.ploidy_ref_N.value
        return (
            self.platelets_per_mk_ref.value
            * ratio**self.ploidy_exponent.value
            * self.shear_multiplier[shear_class].value
        )


class DensityEffect(_Strict):
    """Growth inhibition by cell density: proliferation × 1 / (1 + (rho / K)^n), averaged over the
    phase's actual density rho(t) under its feeding policy (see ``bioplan.yields.density``)."""

    half_inhibition_cells_per_mL: Num
    """Density K at which proliferation is halved [cells/mL]."""
    hill_n: Num
    """Steepness n of the inhibition [-]."""


class Phase(_Strict):
    """One phase of the default protocol: fixed medium, one vessel, one feeding rule."""

    name: str
    """Phase name used in setting keys (``<phase>.<factor>``); letters, digits, '_' and '-'."""
    days: int = Field(ge=1)
    """Duration [days] (integer: the planner works on a daily grid)."""
    vessel_class: str
    """Vessel type the planner maps to reactors (e.g. ``rocking-bag``, ``G-Rex``, ``VerMES``)."""
    shear_class: Literal["static", "low", "turbulent"]
    """Hydrodynamic class of the vessel (drives platelets per MK)."""
    basal_medium: str = ""
    """Basal medium and supplements not modelled as factors (their cost is in the medium price)."""
    medium: dict[str, Num] = Field(default_factory=dict)
    """Factor concentrations [the factor's unit]; factors not listed are absent (0)."""
    feeding: Literal["dilution", "perfusion"]
    """``dilution``: fresh medium is added to keep density <= the set-point (volume grows);
    ``perfusion``: constant volume sized for the phase's peak cells at the set-point, medium
    exchanged at ``perfusion_exchange_per_day``."""
    seed_density_cells_per_mL: Num
    """Density at which cells are resuspended in fresh medium at the start of the phase
    [cells/mL]."""
    density_setpoint_cells_per_mL: Num
    """Maximum density kept by feeding [cells/mL]."""
    perfusion_exchange_per_day: Num | None = None
    """Medium exchanged per day as a fraction of the culture volume [1/day] (perfusion only)."""
    stroma: bool = False
    """Co-culture on stroma (e.g. MS-5) in this phase: the pseudo-factor ``stroma`` that responses
    may name is 1 here, else 0 (setting ``<phase>.stroma``); it is not a medium component and is
    not costed per litre."""
    support: str = ""
    """Support not modelled as a factor (descriptive)."""

    @field_validator("name")
    @classmethod
    def _name(cls, name: str) -> str:
        if not name.replace("_", "").replace("-", "").isalnum():
            msg = f"phase name {name!r} may use letters, digits, '_' and '-' only"
            raise ValueError(msg)
        return name

    @model_validator(mode="after")
    def _check(self) -> Phase:
        for f, c in self.medium.items():
            _nonneg(c, f"medium.{f}")
        if self.seed_density_cells_per_mL.value <= 0:
            msg = "seed_density_cells_per_mL must be > 0"
            raise ValueError(msg)
        if self.density_setpoint_cells_per_mL.value <= 0:
            msg = "density_setpoint_cells_per_mL must be > 0"
            raise ValueError(msg)
        if self.feeding == "perfusion":
            if self.perfusion_exchange_per_day is None:
                msg = "a perfusion phase needs perfusion_exchange_per_day"
                raise ValueError(msg)
            _nonneg(self.perfusion_exchange_per_day, "perfusion_exchange_per_day")
        elif self.perfusion_exchange_per_day is not None:
            msg = "perfusion_exchange_per_day applies to perfusion phases only"
            raise ValueError(msg)
        return self



"""The yield-model card schema (``models/yields/*.yaml``), validated by pydantic.

A card describes one differentiation process: its cell stages (with proliferation, transit and
death rates [1/day]), how each rate responds to the cytokines of the medium (Emax/Hill), the
default protocol (an ordered list of phases with medium, feeding and vessel), platelet release for
megakaryocytic cards, lot-to-lot variability and the published outcomes it is calibrated to.

Every number is a :class:`Num`: a value plus its source (a row of
``shared/literature/published-figures.md`` with its provenance flag, ``calibrated: ...``, or
``assumption: ...``). In YAML a number is written ``[value, "source"]`` or
``{value: v, source: "..."}``; a bare number is rejected so that no number ships without a source.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

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

    value: float
    """The number, in the unit named by the field that holds it."""
    source: str = Field(min_length=3)
    """Where it comes from: a published-figures.md row with its flag, ``calibrated: ...`` or
    ``assumption: ...``."""

    @model_validator(mode="before")
    @classmethod
    def _from_pair(cls, data: Any) -> Any:
        if isinstance(data, list | tuple):
            if len(data) != 2:
                raise ValueError('write a number as [value, "source"]')
            return {"value": data[0], "source": data[1]}
        if isinstance(data, int | float) and not isinstance(data, bool):
            raise ValueError(
                f'the number {data} has no source: write [{data}, "<source or assumption: why>"]'
            )
        return data


def _nonneg(num: Num, what: str) -> Num:
    if num.value < 0:
        raise ValueError(f"{what} must be >= 0, got {num.value}")
    return num


class Factor(_Strict):
    """A medium component the model responds to or whose consumption is costed."""

    unit: str
    """Concentration unit: one of ng/mL, ug/mL, U/mL, uM."""
    description: str = ""
    """What the factor is (e.g. 'recombinant human erythropoietin')."""
    molar_mass_g_per_mol: Num | None = None
    """Molar mass [g/mol]; required for factors in uM so the amount can be reported in mg."""

    @field_validator("unit")
    @classmethod
    def _unit(cls, unit: str) -> str:
        if unit not in FACTOR_UNITS:
            close = [u for u in FACTOR_UNITS if u.lower() == unit.lower()]
            hint = f" (did you mean {close[0]!r}?)" if close else ""
            raise ValueError(f"unknown unit {unit!r}{hint}; use one of {', '.join(FACTOR_UNITS)}")
        return unit

    @model_validator(mode="after")
    def _molar(self) -> Factor:
        if self.unit == "uM" and self.molar_mass_g_per_mol is None:
            raise ValueError("a factor in uM needs molar_mass_g_per_mol to report its mass in mg")
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

    @model_validator(mode="after")
    def _check(self) -> Response:
        _nonneg(self.ec50, "ec50")
        if self.ec50.value == 0:
            raise ValueError("ec50 must be > 0")
        if self.hill_n.value <= 0:
            raise ValueError(f"hill_n must be > 0, got {self.hill_n.value}")
        if self.effect == "death":
            if self.extra_death_per_day is None:
                raise ValueError("a death response needs extra_death_per_day")
            _nonneg(self.extra_death_per_day, "extra_death_per_day")
        else:
            if self.floor is None:
                raise ValueError(f"a {self.effect} response needs floor (0 = factor required)")
            if not 0 <= self.floor.value <= 1:
                raise ValueError(f"floor must be within [0, 1], got {self.floor.value}")
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

    @model_validator(mode="after")
    def _check(self) -> Stage:
        for what in ("proliferation_per_day", "transit_per_day", "death_per_day"):
            _nonneg(getattr(self, what), what)
        if self.transit_to:
            total = sum(t.fraction.value for t in self.transit_to)
            if abs(total - 1.0) > 1e-6:
                raise ValueError(f"transit_to fractions sum to {total:g}; make them sum to 1")
            for t in self.transit_to:
                if not 0 <= t.fraction.value <= 1:
                    raise ValueError(f"transit fraction to {t.stage} must be within [0, 1]")
        elif self.transit_per_day.value > 0:
            raise ValueError("transit_per_day > 0 but transit_to is empty; add a target stage")
        return self


class PlateletRelease(_Strict):
    """Platelet release from mature megakaryocytes (megakaryocytic cards).

    Mature MKs leave their stage at its ``transit_per_day`` into the platelet stage, each yielding
    ``platelets_per_mk_ref · (mean_ploidy_N / ploidy_ref_N) ** ploidy_exponent ·
    shear_multiplier[shear class of the phase's vessel]`` platelets (the MK is consumed).
    """

    from_stage: str
    """The mature MK stage that releases platelets."""
    platelets_per_mk_ref: Num
    """Platelets per MK [platelets/MK] at the reference ploidy in a static vessel."""
    ploidy_ref_N: Num
    """Reference ploidy [N] of ``platelets_per_mk_ref``."""
    mean_ploidy_N: Num
    """Mean ploidy of mature MKs in this process [N]."""
    ploidy_exponent: Num
    """Exponent of the ploidy effect on platelets per MK [-]."""
    shear_multiplier: dict[str, Num]
    """Multiplier of platelets per MK for each shear class (static, low, turbulent) [-]."""

    @model_validator(mode="after")
    def _check(self) -> PlateletRelease:
        for what in ("platelets_per_mk_ref", "ploidy_ref_N", "mean_ploidy_N"):
            if getattr(self, what).value <= 0:
                raise ValueError(f"{what} must be > 0")
        missing = [c for c in SHEAR_CLASSES if c not in self.shear_multiplier]
        if missing:
            raise ValueError(f"shear_multiplier lacks class(es) {missing}")
        extra = [c for c in self.shear_multiplier if c not in SHEAR_CLASSES]
        if extra:
            raise ValueError(f"unknown shear class(es) {extra}; use {', '.join(SHEAR_CLASSES)}")
        for c, m in self.shear_multiplier.items():
            _nonneg(m, f"shear_multiplier.{c}")
        return self

    def platelets_per_mk(self, shear_class: str) -> float:
        """Platelets per released MK in a vessel of ``shear_class`` [platelets/MK]."""
        ratio = self.mean_ploidy_N.value / self.ploidy_ref_N.value
        return (
            self.platelets_per_mk_ref.value
            * ratio**self.ploidy_exponent.value
            * self.shear_multiplier[shear_class].value
        )


class DensityEffect(_Strict):
    """Growth inhibition by cell density: proliferation × 1 / (1 + (s / K)^n), s = the phase's
    density set-point (cells are held at or below it by feeding)."""

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
    support: str = ""
    """Non-modelled support such as stroma (descriptive)."""

    @field_validator("name")
    @classmethod
    def _name(cls, name: str) -> str:
        if not name.replace("_", "").replace("-", "").isalnum():
            raise ValueError(f"phase name {name!r} may use letters, digits, '_' and '-' only")
        return name

    @model_validator(mode="after")
    def _check(self) -> Phase:
        for f, c in self.medium.items():
            _nonneg(c, f"medium.{f}")
        if self.seed_density_cells_per_mL.value <= 0:
            raise ValueError("seed_density_cells_per_mL must be > 0")
        if self.density_setpoint_cells_per_mL.value <= 0:
            raise ValueError("density_setpoint_cells_per_mL must be > 0")
        if self.feeding == "perfusion":
            if self.perfusion_exchange_per_day is None:
                raise ValueError("a perfusion phase needs perfusion_exchange_per_day")
            _nonneg(self.perfusion_exchange_per_day, "perfusion_exchange_per_day")
        elif self.perfusion_exchange_per_day is not None:
            raise ValueError("perfusion_exchange_per_day applies to perfusion phases only")
        return self


class Target(_Strict):
    """A published outcome the card is calibrated to."""

    name: str
    """Short id used in tests and residual tables."""
    quantity: Literal["fold_expansion", "enucleation", "product_per_seed_cell", "product_per_run"]
    """What is compared: fold expansion [-], enucleation [fraction], product cells per seed cell,
    or product per run [cells or platelets] (the seed is scaled so the phase ``run_phase`` peaks at
    ``run_volume_L``)."""
    value: float
    """The published value (in the unit of ``quantity``)."""
    source: str = Field(min_length=3)
    """Citation with its provenance flag."""
    at_end_of_phase: str | None = None
    """Evaluate at the end of this phase instead of the end of the protocol."""
    numerator_stages: list[str] | None = None
    """fold_expansion only: count only cells in these stages (default: all cells)."""
    seed_stages: list[str] | None = None
    """fold_expansion only: divide by the seed cells in these stages (default: all seed cells)."""
    run_phase: str | None = None
    """product_per_run only: the phase whose peak volume defines one run."""
    run_volume_L: float | None = None
    """product_per_run only: the culture volume of one run [L]."""
    tolerance: str = ""
    """How close the model must be (e.g. '±0.3 log10', '±10 points', 'factor 2')."""


class Calibration(_Strict):
    """Targets, fitted parameters and the fit's residuals."""

    targets: list[Target] = Field(default_factory=list)
    """Published outcomes (see :class:`Target`)."""
    parameters: list[str] = Field(default_factory=list)
    """Dotted parameter paths fitted to the targets (see ``bioplan.yields.kinetics``)."""
    bounds: dict[str, tuple[float, float]] = Field(default_factory=dict)
    """Optional (low, high) bounds of fitted parameters (e.g. cycle times the literature allows)."""
    fitted: dict[str, float] = Field(default_factory=dict)
    """Fitted values of ``parameters`` (already written into the card's numbers)."""
    residuals: dict[str, float] = Field(default_factory=dict)
    """Residual per target: log10(model/published) for counts, model - published for fractions."""
    method: str = ""
    """How the fit was made (optimiser, loss, date)."""


class Variation(_Strict):
    """Lot-to-lot variability of one parameter."""

    parameter: str
    """Dotted parameter path (see ``bioplan.yields.kinetics``)."""
    distribution: Literal["lognormal", "normal", "uniform"]
    """Shape: lognormal (cv of the value), normal (cv, truncated at 0), uniform (low..high)."""
    cv: float | None = Field(default=None, ge=0)
    """Coefficient of variation [-] (lognormal, normal)."""
    low: float | None = None
    """Lower bound (uniform)."""
    high: float | None = None
    """Upper bound (uniform)."""
    source: str = Field(min_length=3)
    """Why this spread (citation or assumption)."""

    @model_validator(mode="after")
    def _check(self) -> Variation:
        if self.distribution == "uniform":
            if self.low is None or self.high is None or self.high < self.low:
                raise ValueError("a uniform variation needs low <= high")
        elif self.cv is None:
            raise ValueError(f"a {self.distribution} variation needs cv")
        return self


class Validity(_Strict):
    """Where the card is meant to be used; simulate warns outside it."""

    total_days_min: int = Field(ge=0)
    """Shortest protocol [days] the calibration supports."""
    total_days_max: int = Field(ge=0)
    """Longest protocol [days] the calibration supports."""
    concentration_ranges: dict[str, tuple[float, float]] = Field(default_factory=dict)
    """Factor -> (low, high) concentration [factor unit] the card was built for."""
    density_setpoint_range_cells_per_mL: tuple[float, float] | None = None
    """(low, high) density set-points [cells/mL] the card was built for."""
    notes: str = ""
    """Sources, vessels and anything else the ranges above do not say."""


class YieldCard(_Strict):
    """A differentiation yield model with its default protocol and provenance."""

    name: str
    """Card id (the file stem): letters, digits, '-' and '_'."""
    title: str
    """One-line description."""
    lineage: Literal["erythroid", "megakaryocytic"]
    """Lineage produced."""
    product: Literal["rbc", "platelet"]
    """Product: ``rbc`` (enucleated reticulocytes/RBCs) or ``platelet``."""
    cell_source: str
    """Starting material (e.g. 'cord-blood CD34+', 'PBMC', 'BEL-A line', 'imMKCL line')."""
    description: str = ""
    """Free text: what the card models and its main assumptions."""
    references: dict[str, str] = Field(default_factory=dict)
    """Short keys used in sources -> full citations."""
    factors: dict[str, Factor]
    """Medium factors the card knows."""
    stages: list[Stage] = Field(min_length=2)
    """Stages in differentiation order (transit goes only to later stages)."""
    seed: dict[str, Num]
    """Composition of the seed material: fraction of seed cells in each stage [-]; sums to 1."""
    density_effect: DensityEffect
    """Growth inhibition at high culture density."""
    platelet_release: PlateletRelease | None = None
    """Required for megakaryocytic cards."""
    protocol: list[Phase] = Field(min_length=1)
    """The default protocol: ordered phases."""
    validity: Validity
    """Validity range."""
    calibration: Calibration = Field(default_factory=Calibration)
    """Calibration targets and fit."""
    variability: list[Variation] = Field(default_factory=list)
    """Lot-to-lot variability (for ``sample``)."""

    @model_validator(mode="after")
    def _check(self) -> YieldCard:
        names = [s.name for s in self.stages]
        dup = sorted({n for n in names if names.count(n) > 1})
        if dup:
            raise ValueError(f"stage name(s) {dup} appear twice")
        pos = {n: i for i, n in enumerate(names)}
        for i, st in enumerate(self.stages):
            for t in st.transit_to:
                if t.stage not in pos:
                    raise ValueError(f"stages.{st.name}.transit_to: unknown stage {t.stage!r}")
                if pos[t.stage] <= i:
                    raise ValueError(
                        f"stages.{st.name}.transit_to: {t.stage!r} must point to a later stage"
                    )
            for r in st.responses:
                if r.factor not in self.factors:
                    raise ValueError(
                        f"stages.{st.name}.responses: unknown factor {r.factor!r}; declare it under "
                        f"'factors' (known: {', '.join(self.factors)})"
                    )
        products = [s.name for s in self.stages if s.product]
        if len(products) != 1:
            raise ValueError(f"exactly one stage must have product: true (found {products})")
        prod = self.stages[pos[products[0]]]
        want_cell = self.product == "rbc"
        if prod.is_cell != want_cell:
            raise ValueError(f"product stage {prod.name}: is_cell must be {want_cell}")
        unknown_seed = [s for s in self.seed if s not in pos]
        if unknown_seed:
            raise ValueError(f"seed names unknown stage(s) {unknown_seed}")
        total = sum(v.value for v in self.seed.values())
        if abs(total - 1) > 1e-6 or any(v.value < 0 for v in self.seed.values()):
            raise ValueError(f"seed fractions must be >= 0 and sum to 1 (sum {total:g})")
        if (self.lineage == "erythroid") != (self.product == "rbc"):
            raise ValueError(
                "lineage erythroid goes with product rbc, megakaryocytic with platelet"
            )
        if self.product == "platelet":
            if self.platelet_release is None:
                raise ValueError("a platelet card needs platelet_release")
            src = self.platelet_release.from_stage
            if src not in pos or [t.stage for t in self.stages[pos[src]].transit_to] != products:
                raise ValueError(
                    f"platelet_release.from_stage {src!r} must be a stage whose only transit "
                    f"target is the product stage {products[0]!r}"
                )
        unknown_ranges = [f for f in self.validity.concentration_ranges if f not in self.factors]
        if unknown_ranges:
            raise ValueError(f"validity.concentration_ranges: unknown factor(s) {unknown_ranges}")
        phase_names = [p.name for p in self.protocol]
        if len(set(phase_names)) != len(phase_names):
            raise ValueError("phase names must be unique")
        for ph in self.protocol:
            unknown = [f for f in ph.medium if f not in self.factors]
            if unknown:
                raise ValueError(
                    f"protocol.{ph.name}.medium: unknown factor(s) {unknown}; declare them under "
                    f"'factors' (known: {', '.join(self.factors)})"
                )
        return self

    # convenience ----------------------------------------------------------------------------
    @property
    def phases(self) -> list[Phase]:
        """The default protocol's phases (alias of ``protocol``)."""
        return self.protocol

    @property
    def stage_names(self) -> list[str]:
        """Stage names in order."""
        return [s.name for s in self.stages]

    @property
    def product_stage(self) -> str:
        """Name of the product stage."""
        return next(s.name for s in self.stages if s.product)

    @property
    def total_days(self) -> int:
        """Length of the default protocol [days]."""
        return sum(p.days for p in self.protocol)

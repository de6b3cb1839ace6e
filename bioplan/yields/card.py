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

from typing import Literal

from pydantic import Field, model_validator

from bioplan.yields.card_parts import (
    FACTOR_UNITS,
    MASS_UNIT_OF,
    SHEAR_CLASSES,
    DensityEffect,
    Factor,
    Num,
    Phase,
    PlateletRelease,
    Response,
    Stage,
    Transit,
    _Strict,
)
from bioplan.yields.domains import FRACTION

STROMA = "stroma"
"""Pseudo-factor of stroma co-culture (1 in phases with ``stroma: true``)."""

__all__ = [
    "FACTOR_UNITS",
    "MASS_UNIT_OF",
    "SHEAR_CLASSES",
    "Calibration",
    "DensityEffect",
    "Factor",
    "Num",
    "Phase",
    "PlateletRelease",
    "Response",
    "Stage",
    "Transit",
    "Validity",
    "Variation",
    "YieldCard",
]

class Calibration(_Strict):
    """Fitted parameters, their priors, bounds and uncertainty, and the fit's residuals."""

    parameters: list[str] = Field(default_factory=list)
    """Dotted parameter paths fitted jointly to the card's datasets (``bioplan.yields.kinetics``)."""
    priors: dict[str, tuple[float, float]] = Field(default_factory=dict)
    """Parameter -> (prior value, sigma of ln) [parameter unit, -]: the literature value the fit
    starts from and how far (log-normal sigma) the data may move it (e.g. cycle times)."""
    bounds: dict[str, tuple[float, float]] = Field(default_factory=dict)
    """Optional (low, high) bounds of fitted parameters (e.g. cycle times the literature allows)."""
    fitted: dict[str, float] = Field(default_factory=dict)
    """Fitted values of ``parameters`` (already written into the card's numbers)."""
    residuals: dict[str, float] = Field(default_factory=dict)
    """Residual per observation ``<dataset>[<i>]:<quantity>@d<day>``: log10(model/published) for
    counts, model - published for fractions."""
    method: str = ""
    """How the fit was made (optimiser, loss, date)."""
    datasets: list[str] = Field(default_factory=list)
    """Ids of the published datasets (``models/calibration/<card>.yaml``) fitted jointly."""
    covariance: list[list[float]] = Field(default_factory=list)
    """Covariance of the fitted ln(parameters) (order of ``parameters``) from the Laplace
    approximation at the optimum (J^T J)^-1 of the residuals scaled by their measurement errors:
    the calibration's parameter uncertainty, kept apart from lot-to-lot ``variability``."""

    @model_validator(mode="after")
    def _check_covariance(self) -> Calibration:
        """Empty, or a finite symmetric positive semi-definite n x n matrix, n = len(parameters)."""
        if not self.covariance:
            return self
        import numpy as np

        n = len(self.parameters)
        cov = self.covariance
        if len(cov) != n or any(len(row) != n for row in cov):
            msg = (f"covariance must be a {n} x {n} matrix (one row and column per fitted "
                   "parameter, in the order of 'parameters')")
            raise ValueError(msg)
        c = np.array(cov, dtype=float)
        if not np.all(np.isfinite(c)) or not np.allclose(c, c.T, rtol=1e-9, atol=0):
            msg = "covariance must be finite and symmetric"
            raise ValueError(msg)
        if np.linalg.eigvalsh(c).min() < -1e-9 * max(float(np.abs(c).max()), 1e-300):
            msg = "covariance must be positive semi-definite"
            raise ValueError(msg)
        return self


class Variation(_Strict):
    """Lot-to-lot variability of one parameter."""

    parameter: str
    """Dotted parameter path (see ``bioplan.yields.kinetics``)."""
    distribution: Literal["lognormal", "normal", "uniform"]
    """Shape: lognormal (cv of the value), normal (cv, truncated at 0), uniform (low..high).
    Every shape is centred on the card's value (its fitted value where the card is calibrated):
    a uniform range gives the relative spread, ``value × U(low, high) / ((low + high) / 2)``, so a
    published range of the parameter keeps its width when the fit moves the value."""
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
            if self.low is None or self.high is None or self.high < self.low or self.high <= 0:
                msg = "a uniform variation needs low <= high and high > 0"
                raise ValueError(msg)
        elif self.cv is None:
            msg = f"a {self.distribution} variation needs cv"
            raise ValueError(msg)
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
    phase_days_ranges: dict[str, tuple[int, int]] = Field(default_factory=dict)
    """Phase -> (shortest, longest) duration [days] the calibration supports."""
    feeding_policies: dict[str, list[Literal["dilution", "perfusion"]]] = Field(
        default_factory=dict)
    """Phase -> feeding policies the card supports there (a phase not listed: only its own); the
    media search chooses among them."""
    perfusion_exchange_per_day: float | None = Field(default=None, gt=0)
    """Medium exchange [vessel volumes/day] of a phase perfused where its default protocol is
    not (needed when ``feeding_policies`` offers perfusion there)."""
    max_fold_expansion: float | None = Field(default=None, gt=0)
    """The card's biological ceiling on fold expansion [-] (live cells per seed cell), implied by
    its division budgets; no protocol, however long, may exceed it."""
    ceiling_source: str = ""
    """Where the ceiling comes from (published plateau, division counts)."""
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
    division_budgets: dict[str, Num] = Field(default_factory=dict)
    """Name -> number of divisions [-] (whole number) a cell may make in the stages that share
    the budget (see ``Stage.division_budget``)."""

    @model_validator(mode="after")
    def _check(self) -> YieldCard:
        pos = self._check_stages()
        self._check_products(pos)
        self._check_factors()
        return self

    def _check_stages(self) -> dict[str, int]:
        """Unique stage names, forward transits, known response factors; name -> position."""
        names = [s.name for s in self.stages]
        dup = sorted({n for n in names if names.count(n) > 1})
        if dup:
            msg = f"stage name(s) {dup} appear twice"
            raise ValueError(msg)
        pos = {n: i for i, n in enumerate(names)}
        for i, st in enumerate(self.stages):
            for t in st.transit_to:
                if t.stage not in pos:
                    msg = f"stages.{st.name}.transit_to: unknown stage {t.stage!r}"
                    raise ValueError(msg)
                if pos[t.stage] <= i:
                    msg = f"stages.{st.name}.transit_to: {t.stage!r} must point to a later stage"
                    raise ValueError(
                        msg
                    )
            for r in st.responses:
                bad = [f for f in (r.factor, r.or_factor)
                       if f is not None and f not in self.factors and f != STROMA]
                if bad:
                    msg = (
                        f"stages.{st.name}.responses: unknown factor {bad[0]!r}; declare it under "
                        f"'factors' (known: {', '.join(self.factors)})"
                    )
                    raise ValueError(
                        msg
                    )
        return pos

    def _check_products(self, pos: dict[str, int]) -> None:
        """Reserved names, budgets, one product stage, seed fractions, lineage."""
        if STROMA in self.factors:
            msg = f"factors.{STROMA}: the name is reserved for stroma co-culture"
            raise ValueError(msg)
        self._check_budgets()
        products = [s.name for s in self.stages if s.product]
        if len(products) != 1:
            msg = f"exactly one stage must have product: true (found {products})"
            raise ValueError(msg)
        prod = self.stages[pos[products[0]]]
        want_cell = self.product == "rbc"
        if prod.is_cell != want_cell:
            msg = f"product stage {prod.name}: is_cell must be {want_cell}"
            raise ValueError(msg)
        unknown_seed = [s for s in self.seed if s not in pos]
        if unknown_seed:
            msg = f"seed names unknown stage(s) {unknown_seed}"
            raise ValueError(msg)
        total = sum(v.value for v in self.seed.values())
        if abs(total - 1) > 1e-6 or not all(FRACTION.holds(v.value) for v in self.seed.values()):
            msg = f"seed fractions must be within {FRACTION} and sum to 1 (sum {total:g})"
            raise ValueError(msg)
        if (self.lineage == "erythroid") != (self.product == "rbc"):
            msg = "lineage erythroid goes with product rbc, megakaryocytic with platelet"
            raise ValueError(
                msg
            )
        if self.product == "platelet":
            self._check_release(products[0])

    def _check_factors(self) -> None:
        """Validity ranges, phase names, every factor responding or declared inert."""
        unknown_ranges = [f for f in self.validity.concentration_ranges if f not in self.factors]
        if unknown_ranges:
            msg = f"validity.concentration_ranges: unknown factor(s) {unknown_ranges}"
            raise ValueError(msg)
        phase_names = [p.name for p in self.protocol]
        if len(set(phase_names)) != len(phase_names):
            msg = "phase names must be unique"
            raise ValueError(msg)
        for what in ("phase_days_ranges", "feeding_policies"):
            bad = [p for p in getattr(self.validity, what) if p not in phase_names]
            if bad:
                msg = f"validity.{what}: unknown phase(s) {bad}"
                raise ValueError(msg)
        for ph in self.protocol:
            offered = self.validity.feeding_policies.get(ph.name, [])
            if ("perfusion" in offered and ph.perfusion_exchange_per_day is None
                    and self.validity.perfusion_exchange_per_day is None):
                msg = (f"validity.feeding_policies.{ph.name}: perfusion is offered but no exchange "
                       "rate is given; set validity.perfusion_exchange_per_day [volumes/day]")
                raise ValueError(msg)
        responding = {r.factor for st in self.stages for r in st.responses}
        inert = [f for f, spec in self.factors.items()
                 if f not in responding and not spec.no_modelled_effect]
        if inert:
            msg = (
                f"factors.{inert[0]}: no stage responds to it; add a response or say why it "
                "has none in no_modelled_effect"
            )
            raise ValueError(
                msg
            )
        for ph in self.protocol:
            unknown = [f for f in ph.medium if f not in self.factors]
            if unknown:
                msg = (
                    f"protocol.{ph.name}.medium: unknown factor(s) {unknown}; declare them under "
                    f"'factors' (known: {', '.join(self.factors)})"
                )
                raise ValueError(
                    msg
                )

    def _check_budgets(self) -> None:
        for name, num in self.division_budgets.items():
            if num.value < 0 or num.value != round(num.value) or num.value > 40:
                msg = f"division_budgets.{name} must be a whole number 0-40"
                raise ValueError(msg)
        for st in self.stages:
            if st.division_budget is not None and st.division_budget not in self.division_budgets:
                msg = (
                    f"stages.{st.name}.division_budget: unknown budget {st.division_budget!r} "
                    f"(declared: {', '.join(self.division_budgets) or 'none'})"
                )
                raise ValueError(
                    msg
                )

    def _check_release(self, product: str) -> None:
        if self.platelet_release is None:
            msg = "a platelet card needs platelet_release"
            raise ValueError(msg)
        for st in self.stages:
            releases = any(t.stage == product for t in st.transit_to)
            if releases and st.ploidy_N is None and self.platelet_release.mean_ploidy_N is None:
                msg = (
                    f"stages.{st.name}: releases platelets but has no ploidy_N (and "
                    "platelet_release has no mean_ploidy_N)"
                )
                raise ValueError(
                    msg
                )

    @property
    def costed_factors(self) -> dict[str, Factor]:
        """Factors costed per mg/kU (all but those ``in_basal_medium``)."""
        return {f: spec for f, spec in self.factors.items() if not spec.in_basal_medium}

    def inert_factors(self) -> list[str]:
        """Factors no stage responds to (costed, no modelled effect)."""
        responding = {r.factor for st in self.stages for r in st.responses}
        return [f for f in self.factors if f not in responding]

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

"""Published calibration datasets (``models/calibration/<card>.yaml``) and what a card predicts
for each of their observations.

A dataset is one published protocol (one lab, one paper) expressed as settings of the card's
default protocol, with its observations: a quantity on a culture day, the published value, its
measurement error (log10 units for counts, fraction points for fractions), the provenance flag
of the number as read, and whether it is the card's primary end-point. ``use: check`` datasets are
compared but not fitted (e.g. a published plateau outside the card's validity domain).
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import lru_cache
from pathlib import Path
from typing import Literal

import numpy as np
from pydantic import Field, ValidationError, model_validator

from bioplan.errors import InputError
from bioplan.paths import models_dir
from bioplan.yaml_files import read_yaml_mapping
from bioplan.yields.card import YieldCard
from bioplan.yields.card_parts import _Strict
from bioplan.yields.exact_solver import BatchResult
from bioplan.yields.kinetics import ParamSpace, apply_settings
from bioplan.yields.outcomes import stage_masks

Provenance = Literal["R", "R2", "R-low", "M", "D"]
COUNT_QUANTITIES = ("fold_expansion", "product_per_seed_cell", "product_per_run", "platelets_per_mk")
FRACTION_QUANTITIES = ("enucleation", "stage_fraction", "purity")


class Observation(_Strict):
    """One published number of a dataset."""

    quantity: Literal[
        "fold_expansion", "product_per_seed_cell", "product_per_run", "platelets_per_mk",
        "enucleation", "stage_fraction", "purity",
    ]
    """fold_expansion (live cells / seed cells, optionally only ``numerator`` stages),
    product_per_seed_cell, product_per_run (seed scaled so ``run_phase`` peaks at
    ``run_volume_L``), platelets_per_mk (platelets on ``day`` per lineage cell put into
    ``run_phase``, or per MK that shed platelets there: see ``per``), enucleation, stage_fraction (cells in ``numerator`` / cells in
    ``denominator`` stages), purity."""
    day: int = Field(ge=0)
    """Culture day of the observation (day 0 = seeding)."""
    value: float
    """The published value (count [-] or fraction [0-1])."""
    error: float = Field(gt=0)
    """Measurement error: log10 units for counts, fraction points for fractions (1 sigma)."""
    provenance: Provenance
    """Flag of this number as read: R read in the source, R2 secondary, R-low low quality,
    M unverified, D derived (arithmetic shown in ``note``)."""
    primary: bool = False
    """The card's primary published end-point (must be met within ±0.3 log10)."""
    numerator: list[str] = Field(default_factory=list)
    """Stages counted (fold_expansion, stage_fraction)."""
    denominator: list[str] = Field(default_factory=list)
    """Stages of the denominator (stage_fraction)."""
    seed_stages: list[str] = Field(default_factory=list)
    """fold_expansion only: divide by the seed cells in these stages (default: all)."""
    run_phase: str | None = None
    """Phase defining a run (product_per_run) or the MKs put into maturation (platelets_per_mk)."""
    run_volume_L: float | None = None
    """Culture volume of one run [L] (product_per_run)."""
    per: Literal["input_cell", "shedding_mk"] = "input_cell"
    """platelets_per_mk only: the denominator. ``input_cell``: lineage cells put into
    ``run_phase`` (a yield per seeded cell); ``shedding_mk``: megakaryocytes that released
    platelets in ``run_phase`` by ``day`` (the per-MK release of the card's
    ``platelet_release``, averaged over the ploidy classes that shed). A paper's "platelets per
    MK" counts MKs, not the progenitors seeded: most imMKCL put into maturation are not yet MKs,
    and MKs that die or have not shed by the harvest give no platelets."""
    note: str = ""
    """How the number was read or derived."""

    @model_validator(mode="after")
    def _check(self) -> Observation:
        if self.quantity in COUNT_QUANTITIES and self.value <= 0:
            msg = f"{self.quantity} must be > 0"
            raise ValueError(msg)
        if self.quantity in FRACTION_QUANTITIES and not 0 <= self.value <= 1:
            msg = f"{self.quantity} is a fraction within [0, 1]"
            raise ValueError(msg)
        if self.quantity == "stage_fraction" and not (self.numerator and self.denominator):
            msg = "stage_fraction needs numerator and denominator stages"
            raise ValueError(msg)
        if self.quantity in ("product_per_run", "platelets_per_mk") and self.run_phase is None:
            msg = f"{self.quantity} needs run_phase"
            raise ValueError(msg)
        if self.quantity == "product_per_run" and self.run_volume_L is None:
            msg = "product_per_run needs run_volume_L"
            raise ValueError(msg)
        return self

    @property
    def kind(self) -> str:
        """``log10`` (counts) or ``fraction``."""
        return "fraction" if self.quantity in FRACTION_QUANTITIES else "log10"


class Dataset(_Strict):
    """One published protocol with its observations."""

    id: str
    """Short id (e.g. ``giarratana-2005``)."""
    citation: str = Field(min_length=10)
    """Full citation (authors, year, journal, volume:page)."""
    read_in: str = Field(min_length=3)
    """Where the numbers were read (abstract, figure legend, review table)."""
    group: str = Field(min_length=2)
    """Lab or group: datasets of different groups are independent."""
    protocol: str = ""
    """The published protocol in words, and how it maps to the settings."""
    settings: dict[str, float] = Field(default_factory=dict)
    """Card settings (dotted keys) that express the protocol; may also name model parameters
    (e.g. ``seed.EP`` = 1 for a CD34+-selected seed)."""
    use: Literal["fit", "check"] = "fit"
    """``fit``: in the joint fit; ``check``: compared only."""
    observations: list[Observation] = Field(min_length=1)
    """The published numbers."""


class CalibrationData(_Strict):
    """All datasets of one card."""

    card: str
    """Card name."""
    lineage: Literal["erythroid", "megakaryocytic"]
    """Lineage (for the validation table)."""
    datasets: list[Dataset] = Field(min_length=1)
    """Published datasets."""


def calibration_dir() -> Path:
    """Folder of the shipped calibration data (``models/calibration``)."""
    return models_dir() / "calibration"


@lru_cache(maxsize=32)
def _load(path: str, mtime: float) -> CalibrationData:
    data = read_yaml_mapping(path, kind="calibration data",
                             example="models/calibration/erythroid-cb-giarratana.yaml")
    try:
        return CalibrationData.model_validate(data)
    except ValidationError as exc:
        err = exc.errors()[0]
        field = ".".join(str(p) for p in err["loc"])
        raise InputError(str(err["msg"]).removeprefix("Value error, "), file=path, field=field,
                         fix="see docs/yields.md, section 'Calibration data'") from None


def load_datasets(card: YieldCard, path: str | Path | None = None) -> CalibrationData | None:
    """The card's calibration data (``models/calibration/<card>.yaml`` or ``path``), or None."""
    p = Path(path) if path is not None else calibration_dir() / f"{card.name}.yaml"
    if not p.is_file():
        return None
    out = _load(str(p.resolve()), p.stat().st_mtime)
    if out.card != card.name:
        msg = f"calibration data is for card {out.card!r}, not {card.name!r}"
        raise InputError(msg,
                         file=str(p), field="card", fix="name the card the file belongs to")
    return out


def dataset_theta(ps: ParamSpace, base: np.ndarray, datasets: Sequence[Dataset]) -> np.ndarray:
    """(D, P) parameter rows: ``base`` (1, P) with each dataset's settings applied."""
    rows = [apply_settings(ps, base, ds.settings, settings_only=False)[0] for ds in datasets]
    return np.array(rows)


def shedding_theta(ps: ParamSpace, theta: np.ndarray) -> np.ndarray:
    """``theta`` with one platelet per shedding MK (reference 1, ploidy exponent 0, every shear
    multiplier 1) and no platelet loss: run with it, the product stage counts the MKs that have
    shed platelets (cumulative, exact)."""
    out = theta.copy()
    out[:, ps.col("platelets.platelets_per_mk_ref")] = 1.0
    out[:, ps.col("platelets.ploidy_exponent")] = 0.0
    for name in ps.names:
        if name.startswith("platelets.shear."):
            out[:, ps.col(name)] = 1.0
    for st in ps.card.stages:
        if st.product:
            out[:, ps.col(f"stages.{st.name}.death_per_day")] = 0.0
    return out


def needs_shedding(datasets: Sequence[Dataset]) -> bool:
    """Whether any observation counts platelets per shedding MK (an extra, unit-gain batch)."""
    return any(ob.quantity == "platelets_per_mk" and ob.per == "shedding_mk"
               for ds in datasets for ob in ds.observations)


def predict(ps: ParamSpace, res: BatchResult, row: int, obs: Observation,
            shed: BatchResult | None = None) -> float:
    """The card's value of ``obs`` for recipe ``row`` of a time-course batch (``shed``: the same
    batch run with :func:`shedding_theta`, needed for ``per: shedding_mk``)."""
    card = ps.card
    assert res.course_x is not None
    names = card.stage_names
    m = stage_masks(card)
    x = res.course_x[row, min(obs.day, res.course_x.shape[1] - 1)]
    x0 = res.x0[row]
    phases = [p.name for p in card.protocol]

    def total(stages: list[str]) -> float:
        return float(x[[names.index(s) for s in stages]].sum())

    if obs.quantity == "fold_expansion":
        num = total(obs.numerator) if obs.numerator else float(x[m["cell"]].sum())
        seed = (float(x0[[names.index(s) for s in obs.seed_stages]].sum()) if obs.seed_stages
                else float(x0[m["cell"]].sum()))
        return num / seed
    if obs.quantity == "product_per_seed_cell":
        return float(x[m["product"]].sum())
    if obs.quantity == "enucleation":
        prod, nucl = float(x[m["product"]].sum()), float(x[m["nucleated_committed"]].sum())
        return prod / (prod + nucl) if prod + nucl > 0 else float("nan")
    if obs.quantity == "purity":
        cells = float(x[m["cell"]].sum())
        return float(x[m["committed"]].sum()) / cells if cells > 0 else float("nan")
    if obs.quantity == "stage_fraction":
        den = total(obs.denominator)
        return total(obs.numerator) / den if den > 0 else float("nan")
    assert obs.run_phase is not None
    j = phases.index(obs.run_phase)
    if obs.quantity == "product_per_run":
        assert obs.run_volume_L is not None
        return float(x[m["product"]].sum()) * obs.run_volume_L / float(res.peak_volume_L[row, j])
    if obs.per == "shedding_mk":
        assert shed is not None and shed.course_x is not None
        day = min(obs.day, shed.course_x.shape[1] - 1)
        before = shed.x0[row] if j == 0 else shed.x_end[row, j - 1]
        mks = float(shed.course_x[row, day][m["product"]].sum() - before[m["product"]].sum())
        return float(x[m["product"]].sum()) / max(mks, 1e-300)
    start = res.x0[row] if j == 0 else res.x_end[row, j - 1]
    return float(x[m["product"]].sum()) / max(float(start[m["committed"]].sum()), 1e-300)


def residual(model: float, obs: Observation) -> float:
    """log10(model / published) for counts, model - published for fractions."""
    if obs.kind == "fraction":
        return model - obs.value if np.isfinite(model) else 1.0
    return float(np.log10(max(model, 1e-300) / obs.value))


def check_dataset_keys(ps: ParamSpace, data: CalibrationData, file: str) -> None:
    """Every setting key, stage and phase a dataset names must exist in the card."""
    card = ps.card
    for ds in data.datasets:
        for key in ds.settings:
            try:
                ps.check_key(key, settings_only=False)
            except InputError as exc:
                raise InputError(str(exc.message), file=file, field=f"{ds.id}.settings.{key}",
                                 fix=exc.fix or "use a setting key of the card") from None
        for ob in ds.observations:
            for s in ob.numerator + ob.denominator + ob.seed_stages:
                if s not in card.stage_names:
                    msg = f"unknown stage {s!r}"
                    raise InputError(msg, file=file, field=f"{ds.id}.{s}",
                                     fix=f"use one of {', '.join(card.stage_names)}")
            if ob.run_phase is not None and ob.run_phase not in [p.name for p in card.protocol]:
                msg = f"unknown phase {ob.run_phase!r}"
                raise InputError(msg, file=file,
                                 field=f"{ds.id}.run_phase", fix="name a phase of the card")

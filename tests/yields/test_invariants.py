"""Biological and bookkeeping invariants that must hold on every shipped card (issue 2)."""

from __future__ import annotations

import numpy as np
import pytest

from bioplan.yields import list_cards, load_card, simulate
from bioplan.yields.card import YieldCard
from bioplan.yields.dose_response import hill_activity
from bioplan.yields.exact_solver import run_batch
from bioplan.yields.kinetics import param_space

CARDS = list_cards()
ERYTHROID = [n for n in CARDS if load_card(n).lineage == "erythroid"]
MEGAKARYOCYTIC = [n for n in CARDS if load_card(n).lineage == "megakaryocytic"]


def _product(card: YieldCard | str, **settings: float) -> float:
    return simulate(card, seed_cells=1.0, settings=settings).per_seed["product_cells_per_seed_cell"]


def _removal(card: YieldCard, factor: str) -> dict[str, float]:
    return {
        f"{ph.name}.{factor}": 0.0
        for ph in card.protocol
        if factor in ph.medium and ph.medium[factor].value > 0
    }


ESSENTIAL_CYTOKINE = [(n, "EPO") for n in ERYTHROID] + [(n, "TPO") for n in MEGAKARYOCYTIC]
"""(card, the cytokine its lineage cannot do without)."""


@pytest.mark.parametrize(("name", "factor"), ESSENTIAL_CYTOKINE)
def test_removing_the_essential_cytokine_collapses_output(name: str, factor: str) -> None:
    card = load_card(name)
    sets = _removal(card, factor)
    assert sets, f"a {card.lineage} card must use {factor} somewhere"
    assert _product(card, **sets) < 0.01 * _product(card)


def _saturating(card: YieldCard) -> list[tuple[str, str, float]]:
    """(phase, factor, conc) where every response to the factor is at >= 99 % of its effect."""
    out = []
    for ph in card.protocol:
        for f, conc in ph.medium.items():
            acts = [
                float(
                    hill_activity(
                        np.array(conc.value), np.array(r.ec50.value), np.array(r.hill_n.value)
                    )
                )
                for st in card.stages
                for r in st.responses
                if r.factor == f
            ]
            if acts and min(acts) >= 0.99:
                out.append((ph.name, f, conc.value))
    return out


SATURATING = [(n, *f) for n in CARDS for f in _saturating(load_card(n))]


def test_most_cards_saturate_some_factor() -> None:
    assert len({s[0] for s in SATURATING}) >= 3


@pytest.mark.parametrize(("name", "phase", "factor", "conc"), SATURATING)
def test_doubling_a_saturating_cytokine_changes_output_by_under_10_percent(
    name: str, phase: str, factor: str, conc: float
) -> None:
    base = _product(name)
    doubled = _product(name, **{f"{phase}.{factor}": 2 * conc})
    assert abs(doubled / base - 1) < 0.10


@pytest.mark.parametrize("name", CARDS)
def test_cells_are_conserved_within_each_phase(name: str) -> None:
    """cells in + births = cells out + deaths + released MKs (exact integrals of the rates)."""
    sim = simulate(name, seed_cells=1e6)
    ph = sim.phases
    lhs = ph["cells_in"] + ph["births"]
    rhs = ph["cells_out"] + ph["deaths"] + ph["released"]
    assert np.allclose(lhs, rhs, rtol=1e-9, atol=0)
    assert (ph["births"] > 0).all() and (ph["deaths"] > 0).all()
    # phases chain: the cells leaving one phase enter the next
    assert np.allclose(ph["cells_in"].to_numpy()[1:], ph["cells_out"].to_numpy()[:-1], rtol=1e-12)


def _no_proliferation(name: str, extra_days: int) -> tuple[YieldCard, np.ndarray, np.ndarray]:
    """Daily states with every proliferation rate 0 and the last phase extended."""
    card = load_card(name)
    ps = param_space(card)
    theta = ps.theta(1)
    for st in card.stages:
        theta[0, ps.col(f"stages.{st.name}.proliferation_per_day")] = 0.0
    last = card.protocol[-1].name
    theta[0, ps.col(f"{last}.days")] += extra_days
    res = run_batch(ps, theta, time_course=True)
    assert res.course_x is not None
    return card, res.course_x[0], res.days[0]


def _product_potential(card: YieldCard, x: np.ndarray, shear: str) -> np.ndarray:
    """product + the most product each remaining cell could still become without dividing."""
    names = card.stage_names
    yield_of = np.zeros(len(names))
    for i in reversed(range(len(names))):
        st = card.stages[i]
        if st.product:
            yield_of[i] = 1.0
            continue
        for t in st.transit_to:
            j = names.index(t.stage)
            gain = 1.0
            if not card.stages[j].is_cell:
                assert card.platelet_release is not None and st.ploidy_N is not None
                gain = card.platelet_release.platelets_per_mk(shear, st.ploidy_N.value)
            yield_of[i] = max(yield_of[i], gain * yield_of[j])
    return x @ yield_of


@pytest.mark.parametrize("name", CARDS)
def test_more_days_at_zero_proliferation_never_increase_product(name: str) -> None:
    """Without division, product can only come from cells already present: the product plus each
    cell's best-case product never increases from day to day, total cells never increase, and the
    product at any day never exceeds that bound at the start of the phase."""
    card, xs, days = _no_proliferation(name, extra_days=10)
    cells = xs[:, [s.is_cell for s in card.stages]].sum(axis=1)
    assert np.all(np.diff(cells) <= 1e-12 * cells[:-1])
    prod = card.stage_names.index(card.product_stage)
    start = 0
    for j, ph in enumerate(card.protocol):
        seg = xs[start : start + int(days[j]) + 1]
        pot = _product_potential(card, seg, ph.shear_class)
        assert np.all(np.diff(pot) <= 1e-9 * pot[:-1] + 1e-300), ph.name
        assert np.all(seg[:, prod] <= pot[0] * (1 + 1e-9))
        start += int(days[j])


@pytest.mark.parametrize("name", MEGAKARYOCYTIC)
def test_platelets_per_mk_rise_with_ploidy_and_shear(name: str) -> None:
    card = load_card(name)
    ps = param_space(card)
    theta = ps.theta(2)
    for st in card.stages:
        if st.ploidy_N is not None:
            theta[1, ps.col(f"stages.{st.name}.ploidy_N")] *= 2  # every class twice the ploidy
    out = run_batch(ps, theta).x_end[:, -1, card.stage_names.index(card.product_stage)]
    assert out[1] == pytest.approx(2 * out[0], rel=1e-9)  # ploidy exponent 1 in both cards
    # a turbulent maturation vessel releases more platelets than a static one
    data = card.model_dump()
    data["protocol"][-1]["shear_class"] = "static"
    static = YieldCard.model_validate(data)
    data["protocol"][-1]["shear_class"] = "turbulent"
    turbulent = YieldCard.model_validate(data)
    assert _product(turbulent) > 3 * _product(static)


CEILED = [n for n in CARDS if load_card(n).validity.max_fold_expansion is not None]


@pytest.mark.parametrize("name", CEILED)
def test_stretching_each_phase_to_twice_its_limit_stays_below_the_ceiling(name: str) -> None:
    """Issue 9: a phase stretched to 2x its validity limit never raises fold expansion above the
    card's stated ceiling (on every day of the culture)."""
    card = load_card(name)
    ceiling = card.validity.max_fold_expansion
    assert ceiling is not None
    ps = param_space(card)
    for ph in card.protocol:
        hi = card.validity.phase_days_ranges.get(ph.name, (1, card.validity.total_days_max))[1]
        theta = ps.theta(1)
        theta[0, ps.col(f"{ph.name}.days")] = 2 * hi
        res = run_batch(ps, theta, time_course=True)
        assert res.course_x is not None
        cells = res.course_x[0][:, [s.is_cell for s in card.stages]].sum(axis=1)
        assert cells.max() <= ceiling, (ph.name, cells.max())


@pytest.mark.parametrize("name", CEILED)
def test_the_ceiling_is_the_division_budget_bound(name: str) -> None:
    """With every rate at 20x the card's and no death, the fold expansion approaches but never
    passes 2^(divisions along the longest budget path) = the stated ceiling."""
    card = load_card(name)
    ps = param_space(card)
    theta = ps.theta(1)
    for st in card.stages:
        theta[0, ps.col(f"stages.{st.name}.death_per_day")] = 0.0
        theta[0, ps.col(f"stages.{st.name}.proliferation_per_day")] *= 20
    for ph in card.protocol:
        theta[0, ps.col(f"{ph.name}.days")] = 40
    res = run_batch(ps, theta)
    fold = res.x_end[0, -1][[s.is_cell for s in card.stages]].sum()
    assert fold <= card.validity.max_fold_expansion


def _required(card: YieldCard) -> list[str]:
    """Factors with a floor-0 proliferation response (the card says: required) that the default
    protocol uses."""
    used = {f for ph in card.protocol for f, c in ph.medium.items() if c.value > 0}
    return sorted({r.factor for st in card.stages for r in st.responses
                   if r.effect == "proliferation" and r.mode == "activates"
                   and r.floor is not None and r.floor.value == 0 and r.factor in used})


REQUIRED = [(n, f) for n in CARDS for f in _required(load_card(n))]


@pytest.mark.parametrize(("name", "factor"), REQUIRED)
def test_removing_each_required_factor_collapses_output(name: str, factor: str) -> None:
    card = load_card(name)
    assert _product(card, **_removal(card, factor)) < 0.01 * _product(card)

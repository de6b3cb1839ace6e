"""Default vs searched protocol tables and figure (for the dashboard's Biology page)."""

from __future__ import annotations

import pytest

from bioplan.media_search import search_space
from bioplan.media_search.biology import protocol_table, time_course_figure, time_course_table


def test_protocol_table_shows_every_searched_setting() -> None:
    space = search_space("mk-imkcl-vermes")
    settings = {"maturation.TPO": 100.0, "expansion.days": 8.0}
    table = protocol_table("mk-imkcl-vermes", settings)
    assert list(table.index.names) == ["phase", "setting"]
    assert len(table) == len(space.keys)
    assert table.loc[("maturation", "TPO"), "default"] == 200.0
    assert table.loc[("maturation", "TPO"), "searched"] == 100.0
    assert table.loc[("maturation", "TPO"), "change"] == pytest.approx(-0.5)
    assert table.loc[("expansion", "days"), "unit"] == "days"
    # unchanged settings keep the default
    assert table.loc[("expansion", "TPO"), "searched"] == table.loc[("expansion", "TPO"), "default"]


def test_time_course_follows_the_searched_days() -> None:
    table = time_course_table("mk-imkcl-vermes", {"expansion.days": 9.0})
    default_days = table.xs("default", level="protocol").index.max()
    searched_days = table.xs("searched", level="protocol").index.max()
    assert searched_days == default_days + 2  # expansion 7 -> 9 days
    fig = time_course_figure("mk-imkcl-vermes", {"expansion.days": 9.0})
    assert len(fig.data) == 2


def test_search_space_inside_validity_domain() -> None:
    from bioplan.yields import load_card

    for card in ("erythroid-cb-giarratana", "mk-cb-tpo", "erythroid-bela"):
        v = load_card(card).validity
        space = search_space(card)
        for key, lo, hi in zip(space.keys, space.lower, space.upper, strict=True):
            setting = key.split(".", 1)[1]
            if setting in v.concentration_ranges:
                assert (lo, hi) == tuple(v.concentration_ranges[setting])
            if setting == "density_setpoint":
                assert (lo, hi) == tuple(v.density_setpoint_range_cells_per_mL)
        assert ((space.default >= space.lower) & (space.default <= space.upper)).all()

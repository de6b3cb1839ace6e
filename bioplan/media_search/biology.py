"""Tables and figures that show a searched protocol beside the card's default one (for the
dashboard's Biology page and the CLI): per-phase cytokines, days and density set-points, and the
two time courses of the exact yield model.
"""

from __future__ import annotations

from collections.abc import Mapping

import pandas as pd
import plotly.graph_objects as go

from bioplan.media_search.space import search_space
from bioplan.yields import simulate


def protocol_table(card: str, settings: Mapping[str, float]) -> pd.DataFrame:
    """The searched settings beside the default protocol: index (``phase``, ``setting``) over
    every key the search moves; columns ``default``, ``searched``, ``change`` (searched/default −
    1, NaN where the default is 0), ``unit``."""
    space = search_space(card)
    rows = []
    for key, default in zip(space.keys, space.default, strict=True):
        phase, setting = key.split(".", 1)
        value = float(settings.get(key, default))
        unit = ("days" if setting == "days" else "cells/mL" if setting == "density_setpoint"
                else _factor_unit(card, setting))
        change = value / default - 1 if default else float("nan")
        rows.append((phase, setting, float(default), value, change, unit))
    frame = pd.DataFrame(rows, columns=["phase", "setting", "default", "searched", "change",
                                        "unit"])
    return frame.set_index(["phase", "setting"])


def _factor_unit(card: str, factor: str) -> str:
    from bioplan.yields import load_card

    return str(load_card(card).factors[factor].unit)


def time_course_table(card: str, settings: Mapping[str, float]) -> pd.DataFrame:
    """Total and product-stage cells per seed cell by culture day for the default and the
    searched protocol: index (``protocol``, ``day``), columns of ``Simulation.time_course``."""
    default = simulate(card, time_course=True).time_course
    searched = simulate(card, settings=dict(settings), time_course=True).time_course
    assert default is not None and searched is not None
    return pd.concat({"default": default, "searched": searched}, names=["protocol", "day"])


def time_course_figure(card: str, settings: Mapping[str, float]) -> go.Figure:
    """Cells per seed cell over the culture, default vs searched protocol (log scale)."""
    table = time_course_table(card, settings)
    fig = go.Figure()
    for protocol, dash in (("default", "dot"), ("searched", "solid")):
        part = table.xs(protocol, level="protocol")
        fig.add_trace(go.Scatter(x=part.index, y=part["cells_total"], name=f"{protocol}: all cells",
                                 line={"dash": dash}))
    fig.update_layout(title=f"{card}: default vs searched protocol", xaxis_title="culture day",
                      yaxis_title="cells per seed cell", yaxis_type="log")
    return fig

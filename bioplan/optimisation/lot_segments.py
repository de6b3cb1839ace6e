"""Lot segments of the extensive form: every batch of a slot yields what its own lots yield.

Out of sample (``bioplan evaluate``) the batches of a slot are seeded one after the other from a
stream of lots of the slot's source, so batch j covers the lot interval ``[(j−1)c, jc)`` (c the
lots one batch seeds) and yields the seed-weighted mean of the draws of the lots it overlaps.
Summed over the slot's n batches of equal size that is the integral of the lot draws over
``[0, n c) = [0, ρ x)``: the units a slot releases depend only on its planned units ``x`` [unit]
(``ρ`` lots per unit [lot/unit]), not on how they are split into batches. The release is the
piecewise-linear function ``Σ_g f_g λ_g`` of the lots the slot consumes, in order:

    ``x[s] = Σ_g λ[s,g]``                                           (segment_sum)
    ``λ[s,g] ≤ c[s,g] · w[s,g]``                                    (segment_open)
    ``λ[s,g] ≥ c[s,g] · w[s,g+1]``                                  (segment_order)

- ``λ[s,g]`` units seeded from segment g of slot s's lot stream [unit], ``c[s,g]`` its capacity
  (lots in the segment / ρ) [unit]; ``w[s,g]`` 1 when the segment is opened [-] (binary,
  first stage): a segment is used only once every earlier one is full (the lots come in order;
  without the binaries the program would pick the lots whose draws it likes);
- in sample k, slot s grows ``Σ_g f_k[s,g] λ[s,g]`` units (``f_k[s,g]`` the segment's yield
  factor [-], :func:`grown_terms`) instead of ``f_k[s] x[s]``.

A segment is one lot where a slot can use at most ``MAX_SEGMENTS`` lots (exact); longer streams
are cut into ``MAX_SEGMENTS`` runs of whole lots, each with the mean draw of its lots
(:mod:`bioplan.robust.samples`). Slots with one segment get no rows and no binaries.
"""

from __future__ import annotations

import itertools
from typing import Any

import numpy as np
import pyomo.core as pyo

from bioplan.optimisation.expressions import linear

SEGMENT_VARS = ("slot_segment_units", "slot_segment_open")
"""First-stage variables of the lot segments (progressive hedging's non-anticipative columns)."""


def add_lot_segments(m: Any, capacity: np.ndarray) -> None:
    """The segment rows of the module docstring on the first stage ``m``; ``capacity`` (S, G)
    units per segment [unit] (0 where a slot has fewer segments)."""
    segments = {s: [g for g in range(capacity.shape[1]) if capacity[s, g] > 0]
                for s in range(capacity.shape[0])}
    segments = {s: gs for s, gs in segments.items() if len(gs) > 1}
    m.segments_of = segments
    index = [(s, g) for s, gs in segments.items() for g in gs]
    m.SEGMENT = pyo.Set(initialize=index, dimen=2, ordered=True)
    m.slot_segment_units = pyo.Var(m.SEGMENT, domain=pyo.NonNegativeReals,
                                   bounds=lambda _m, s, g: (0.0, float(capacity[s, g])))
    m.slot_segment_open = pyo.Var(m.SEGMENT, domain=pyo.Binary)
    m.SEGMENT_SLOT = pyo.Set(initialize=sorted(segments), ordered=True)
    m.segment_sum = pyo.Constraint(m.SEGMENT_SLOT, rule=lambda m, s: linear(
        [1.0] + [-1.0] * len(segments[s]),
        [m.slot_units[s], *(m.slot_segment_units[s, g] for g in segments[s])]) == 0.0)
    m.segment_open = pyo.Constraint(m.SEGMENT, rule=lambda m, s, g: linear(
        [1.0, -float(capacity[s, g])], [m.slot_segment_units[s, g], m.slot_segment_open[s, g]])
        <= 0.0)
    follow = [(s, g) for s, gs in segments.items() for g, nxt in itertools.pairwise(gs)
              if nxt == g + 1]
    m.SEGMENT_NEXT = pyo.Set(initialize=follow, dimen=2, ordered=True)
    m.segment_order = pyo.Constraint(m.SEGMENT_NEXT, rule=lambda m, s, g: linear(
        [1.0, -float(capacity[s, g])], [m.slot_segment_units[s, g], m.slot_segment_open[s, g + 1]])
        >= 0.0)


def grown_terms(m: Any, factor: np.ndarray, s: int) -> list[tuple[float, Any]]:
    """(coefficient, first-stage variable) pairs of the units slot ``s`` grows in one sample
    [unit]: ``f[s] · x[s]`` for a slot factor row ``factor`` (S,), or ``Σ_g f[s,g] λ[s,g]`` for
    a segment factor row (S, G) (one segment: ``f[s,0] · x[s]``)."""
    if factor.ndim == 1:
        return [(float(factor[s]), m.slot_units[s])]
    segments = getattr(m, "segments_of", {}).get(s)
    if not segments:
        return [(float(factor[s, 0]), m.slot_units[s])]
    return [(float(factor[s, g]), m.slot_segment_units[s, g]) for g in segments]


def segments_opened(capacity: np.ndarray, units: dict[int, float]) -> dict[tuple[int, int], float]:
    """``w[s,g]`` of a first stage planning ``units`` [unit] per slot: the segments its lots
    reach, in order (a start for the program from a plan without segments)."""
    out: dict[tuple[int, int], float] = {}
    for s in range(capacity.shape[0]):
        used = [g for g in range(capacity.shape[1]) if capacity[s, g] > 0]
        if len(used) < 2:
            continue
        before = np.concatenate([[0.0], np.cumsum(capacity[s, used])[:-1]])
        x = float(units.get(s, 0.0))
        for g, lo in zip(used, before, strict=True):
            out[(s, g)] = 1.0 if x > lo + 1e-9 else 0.0
    return out

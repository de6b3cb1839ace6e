"""Exact, vectorised solution of the phase-wise linear kinetics.

Within a phase the medium, the set-point and the density multiplier (a phase mean, see
``kinetics._density``) are fixed, so the rate matrix A is constant and x' = A x has the solution
x(t) = expm(A t) x(0). Phases last whole days, so one daily propagator E = expm(A · 1 day) per
distinct (recipe, phase) matrix gives the exact state at every day boundary, x_d = E^d x_0.

Work is shared wherever recipes share something. For each phase the batch is reduced to its
distinct **combinations** (state at the phase start, rate matrix, days): recipes of a factorial
table that differ only in a later phase share their earlier phases exactly. A combination is then
solved one of two ways, whichever costs fewer flops:

- **powers** (many combinations share few (matrix, days) pairs, e.g. the last phases of a
  factorial table): E^d once per pair by binary powering, x_end = E^d x_0 as one matrix product
  per pair, and the daily cell counts N_s = (w^T E^s) x_0 from the row vectors w^T E^s (w = 1 for
  cell compartments), so no state is stepped day by day;
- **steps** (every combination its own matrix, or a time course is wanted): x_{s+1} = E x_s in
  cache-sized chunks, propagators computed per chunk when the phase has too many distinct
  matrices to keep.

Feeding. Cells are resuspended in fresh medium at the phase's seeding density s0 at the start of a
phase, so V0 = N0 / s0. With **dilution** feeding, medium is added to keep the density at or below
the set-point s, so V(t) = max(V0, max_{tau<=t} N(tau) / s) (volume never shrinks); the phase
consumes V(end) litres. With **perfusion** the vessel volume is fixed at V = max(V0, max N / s) and
V · exchange · days litres are exchanged on top of the initial fill. N counts cells (platelets
excluded). The running maximum is taken over the daily grid (``grid_per_day`` sub-steps per day on
request): exact whenever the cell count is monotone within each day, which holds except on a day
where it turns from growth to decline (there the error is second order in the step).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from bioplan.errors import InputError
from bioplan.yields.expm import components, expm_batch, matrix_powers
from bioplan.yields.kinetics import ParamSpace, PhaseRates, phase_rates, seed_vector
from bioplan.yields.workers import run_chunks

FloatArray = NDArray[np.float64]
IntArray = NDArray[np.int64]

__all__ = ["BatchResult", "expm_batch", "run_batch"]

_BATCH_CHUNK = 2048
"""Combinations stepped (or pairs powered) together: the (chunk, K, K) stack stays ~26 MB."""
_STEP_ROWS = 128
"""Rows stepped together through all their days: their propagators (128 x K x K, 1.6 MB at K = 40)
stay in cache across the steps instead of being streamed from memory once per day."""
_CACHE_MATRICES = 4096
"""A phase with at most this many distinct rate matrices keeps their propagators for the batch;
with more they are computed per chunk (memory stays bounded for all-distinct batches)."""


@dataclass
class BatchResult:
    """Outcomes of N recipes, per seed cell."""

    stage_names: list[str]
    phase_names: list[str]
    x_end: FloatArray
    """(N, J, S) stage amounts at the end of each phase [cells or platelets per seed cell]."""
    x0: FloatArray
    """(N, S) seed composition by stage [cells per seed cell]."""
    days: IntArray
    """(N, J) phase durations [days]."""
    medium_L: FloatArray
    """(N, J) medium consumed per phase [L per seed cell]."""
    peak_volume_L: FloatArray
    """(N, J) peak culture volume per phase [L per seed cell]."""
    rates: list[PhaseRates]
    """Per phase: rates and matrices (for balances); empty for batches of more than one chunk."""
    course_x: FloatArray | None = None
    """(N, D+1, S) daily states when a time course was requested."""
    course_volume_L: FloatArray | None = None
    """(N, D+1) daily culture volume [L per seed cell] when a time course was requested."""
    x_end_comp: FloatArray | None = None
    """(N, J, K) compartment states at the end of each phase (single-chunk batches)."""
    x0_comp: FloatArray | None = None
    """(N, K) seed composition by compartment (single-chunk batches)."""


def _phase_columns(ps: ParamSpace, j: int) -> list[int]:
    """Parameter columns that change phase j's rate matrix: every model parameter plus the phase's
    concentrations, days, seeding density and set-point (these four set its density inhibition;
    not its perfusion exchange, nor other phases)."""
    phases = {p.name for p in ps.card.protocol}
    own = ps.card.protocol[j].name
    cols = []
    for i, name in enumerate(ps.names):
        head, _, tail = name.partition(".")
        if head in phases:
            if head == own and tail != "perfusion_exchange_per_day":
                cols.append(i)
        elif head != "seed":
            cols.append(i)
    return cols


def _distinct_rows(theta: FloatArray, cols: list[int] | range,
                   varies: NDArray[np.bool_] | None = None) -> tuple[IntArray, IntArray]:
    """(first, inverse): indices of distinct rows of theta[:, cols] and each row's distinct id
    (``varies``: which columns of theta take more than one value, if already known)."""
    n = theta.shape[0]
    if varies is None:
        varies = theta.max(axis=0) != theta.min(axis=0)
    varying = [c for c in cols if varies[c]]
    if not varying:
        return np.zeros(1, dtype=np.int64), np.zeros(n, dtype=np.int64)
    sub = theta[:, varying]
    key = sub @ np.random.default_rng(54321).standard_normal(len(varying))
    _, first, inverse = np.unique(key, return_index=True, return_inverse=True)
    for i in range(sub.shape[1]):  # verify: a hash collision falls back to all rows
        if not np.array_equal(sub[first, i][inverse], sub[:, i]):
            return np.arange(n), np.arange(n)
    return first.astype(np.int64), inverse.reshape(-1).astype(np.int64)


def _group(*keys: IntArray) -> tuple[IntArray, IntArray]:
    """(first, inverse) of the distinct tuples of non-negative integer keys (one entry per row)."""
    sizes = [int(k.max(initial=0)) + 1 for k in keys]
    if float(np.prod(np.array(sizes, dtype=float))) < 2.0**62:
        combined = np.zeros(keys[0].shape[0], dtype=np.int64)
        for k, size in zip(keys, sizes, strict=True):  # one mixed-radix key: one sort
            combined = combined * size + k
        _, first, inverse = np.unique(combined, return_index=True, return_inverse=True)
        return first.astype(np.int64), inverse.reshape(-1).astype(np.int64)
    inverse = np.zeros(keys[0].shape[0], dtype=np.int64)
    for k in keys:  # too many combinations for one int64 key: renumber after each key
        combined = inverse * (int(k.max(initial=0)) + 1) + k
        _, first, inverse = np.unique(combined, return_index=True, return_inverse=True)
        inverse = inverse.reshape(-1).astype(np.int64)
    return first.astype(np.int64), inverse


@dataclass
class _PhaseMatrices:
    """The distinct rate matrices of one phase of a batch."""

    j: int
    first: IntArray
    """A row of theta for each distinct matrix."""
    inverse: IntArray
    """Row -> distinct id."""
    grid_per_day: int
    rates: PhaseRates | None = None
    """Rates of the distinct matrices (kept when there are at most _CACHE_MATRICES)."""
    E: FloatArray | None = None
    """(distinct, K, K) propagators over one grid step (kept likewise)."""

    def propagators(self, ps: ParamSpace, theta: FloatArray, ids: IntArray, *,
                    threads: bool = True) -> FloatArray:
        """(len(ids), K, K) propagators over one grid step of distinct matrices ``ids``
        (``threads=False`` inside a worker thread)."""
        if self.E is not None:
            return self.E[ids]
        uniq, inv = np.unique(ids, return_inverse=True)
        r = phase_rates(ps, theta[self.first[uniq]], self.j)
        E = expm_batch(_per_step(r.A, self.grid_per_day), distinct=True, threads=threads)
        return E if len(uniq) == len(ids) and np.array_equal(uniq, ids) else E[inv.reshape(-1)]


def _per_step(A: FloatArray, grid_per_day: int) -> FloatArray:
    """Rate matrices times one grid step [days] (no copy of the stack on the daily grid)."""
    return A if grid_per_day == 1 else A / grid_per_day


def _phase_matrices(ps: ParamSpace, theta: FloatArray, j: int, grid: int,
                    varies: NDArray[np.bool_]) -> _PhaseMatrices:
    first, inverse = _distinct_rows(theta, _phase_columns(ps, j), varies)
    pm = _PhaseMatrices(j, first, inverse, grid)
    if len(first) <= _CACHE_MATRICES:
        pm.rates = phase_rates(ps, theta[first], j)
        pm.E = expm_batch(_per_step(pm.rates.A, grid), distinct=True)
    return pm


def _step_rows(E: FloatArray, x: FloatArray, limit: IntArray, w: FloatArray, nmax: FloatArray,
               record: list[tuple[FloatArray, FloatArray]] | None, grid: int) -> FloatArray:
    """Step every row with its own propagator (n, K, K) for ``limit`` steps, keeping the running
    maximum of the cell count w·x in ``nmax``; appends (x, nmax) every day when recording."""
    for step in range(int(limit.max(initial=0))):
        active = step < limit
        xn = np.matmul(E, x[:, :, None])[:, :, 0]
        if active.all():
            x = xn
        else:
            np.copyto(x, xn, where=active[:, None])
        np.maximum(nmax, x @ w, out=nmax)
        if record is not None and (step + 1) % grid == 0:
            record.append((x.copy(), nmax.copy()))
    return x


def _by_steps(ps: ParamSpace, theta: FloatArray, pm: _PhaseMatrices, xc: FloatArray,
              uc: IntArray, sc: IntArray, w: FloatArray,
              record: list[tuple[FloatArray, FloatArray]] | None) -> tuple[FloatArray, FloatArray]:
    """Combinations stepped day by day, in chunks sorted by matrix (one chunk when recording;
    otherwise the chunks run on ``workers.run_chunks`` threads). When every combination has its
    own matrix, a chunk is a range of theta rows (gathering scattered rows of the column-major
    theta cost 2.4 us per row and phase, a range 0.2 us) and within it the rows are sorted by
    their number of steps, so each slice of ``_STEP_ROWS`` rows steps (nearly) no further than
    its own rows need: with days drawn +-2 around the card's, a slice in matrix order stepped
    its longest row's days for all rows (17-40 % of the bench's daily products wasted)."""
    out, nmax = xc.copy(), xc @ w
    own = len(np.unique(uc)) == len(uc)
    order = np.argsort(pm.first[uc], kind="stable") if own else np.lexsort((sc, uc))
    size = max(len(order), 1) if record is not None else _BATCH_CHUNK
    starts = range(0, len(order), size)
    inner = len(starts) <= 1  # one chunk: its exponentials may use the threads themselves

    def chunk(start: int) -> None:  # its own rows of out and nmax: chunks run on threads
        idx = order[start : start + size]
        if own and record is None:
            idx = idx[np.argsort(sc[idx], kind="stable")]
        sub = len(idx) if record is not None else _STEP_ROWS
        ids = uc[idx]
        fused = pm.E is None and record is None and len(np.unique(ids)) == len(ids)
        if fused:  # all distinct: each slice's exponentials are computed just before its steps
            A = _per_step(phase_rates(ps, theta[pm.first[ids]], pm.j).A, pm.grid_per_day)
            groups = components(A)
        else:
            E = pm.propagators(ps, theta, ids, threads=inner)
        for a in range(0, len(idx), sub):  # a cache-sized slice of propagators steps all its days
            rows = idx[a : a + sub]
            Es = (expm_batch(A[a : a + sub], distinct=True, threads=False, groups=groups)
                  if fused else E[a : a + sub])
            nm = nmax[rows]
            out[rows] = _step_rows(Es, out[rows], sc[rows], w, nm, record, pm.grid_per_day)
            nmax[rows] = nm

    if record is not None:
        for start in starts:
            chunk(start)
    else:
        run_chunks(chunk, starts)
    if record is not None and len(order) and not np.array_equal(order, np.arange(len(order))):
        back = np.argsort(order)
        record[:] = [(x[back], m[back]) for x, m in record]
    return out, nmax


def _by_powers(ps: ParamSpace, theta: FloatArray, pm: _PhaseMatrices, xc: FloatArray,
               uc: IntArray, sc: IntArray, w: FloatArray) -> tuple[FloatArray, FloatArray]:
    """Combinations grouped by (matrix, steps) pair: E^d and the row vectors w^T E^s once per pair,
    then one matrix product per pair for its end states and daily cell counts."""
    pfirst, pinv = _group(uc, sc)
    order = np.argsort(pinv, kind="stable")
    bounds = np.searchsorted(pinv[order], np.arange(len(pfirst) + 1))
    xs = xc[order]  # combinations sorted by pair: each pair's rows are one contiguous block
    out, nmax = np.empty_like(xc), np.empty(xc.shape[0])
    for c0 in range(0, len(pfirst), _BATCH_CHUNK):
        pairs = np.arange(c0, min(c0 + _BATCH_CHUNK, len(pfirst)))
        E = pm.propagators(ps, theta, uc[pfirst[pairs]])
        steps = sc[pfirst[pairs]]
        P = matrix_powers(E, steps)
        W = np.empty((len(pairs), int(steps.max(initial=0)) + 1, xc.shape[1]))
        W[:, 0] = w
        for s in range(1, W.shape[1]):
            W[:, s] = np.matmul(W[:, s - 1, None, :], E)[:, 0]
        for i, p in enumerate(pairs):
            X = xs[bounds[p] : bounds[p + 1]]
            out[bounds[p] : bounds[p + 1]] = X @ P[i].T
            nmax[bounds[p] : bounds[p + 1]] = (X @ W[i, : steps[i] + 1].T).max(axis=1)
    back = np.empty_like(order)
    back[order] = np.arange(len(order))
    return out[back], nmax[back]


def _advance(ps: ParamSpace, theta: FloatArray, pm: _PhaseMatrices, x: FloatArray, sid: IntArray,
             steps: IntArray, w: FloatArray, record: list[tuple[FloatArray, FloatArray]] | None
             ) -> tuple[FloatArray, FloatArray, IntArray]:
    """Propagate every row through one phase: (end states, running max of cells, combination id
    of each row, which identifies its end state for the next phase)."""
    cfirst, cinv = _group(sid, pm.inverse, steps)
    xc, uc, sc = x[cfirst], pm.inverse[cfirst], steps[cfirst]
    n_pairs = len(_group(uc, sc)[0])
    K = x.shape[1]
    powering = n_pairs * 2 * max(1, int(sc.max(initial=0)).bit_length()) * K
    stepping = int(sc.sum())
    if record is None and powering < stepping:
        xe, nm = _by_powers(ps, theta, pm, xc, uc, sc, w)
    else:
        xe, nm = _by_steps(ps, theta, pm, xc, uc, sc, w, record)
        if record is not None:
            record[:] = [(rx[cinv], rm[cinv]) for rx, rm in record]
    return xe[cinv], nm[cinv], cinv


_ONE_THREAD_ROWS = 64
"""Batches of at least this many recipes run with BLAS limited to one thread: the stacks of small
(K, K) products gain nothing from OpenBLAS threads, which cost CPU (measured 2026-12-01 on 2
cores: 4,000 all-distinct recipes 4.1-4.3 s CPU with 2 threads, 2.9 s with 1, less wall time too).
The limit is process-wide for the duration of the call (``threadpoolctl``)."""


def run_batch(
    ps: ParamSpace, theta: FloatArray, *, grid_per_day: int = 1, time_course: bool = False
) -> BatchResult:
    """Propagate every recipe of ``theta`` through all phases (exact at the grid points);
    :class:`InputError` if any row overflows (``check_finite``)."""
    if theta.shape[0] < _ONE_THREAD_ROWS:
        res = _run_batch(ps, theta, grid_per_day, time_course)
    else:
        from threadpoolctl import threadpool_limits

        with threadpool_limits(1, user_api="blas"):
            res = _run_batch(ps, theta, grid_per_day, time_course)
    check_finite(ps, res)
    return res


def check_finite(ps: ParamSpace, res: BatchResult) -> None:
    """Raise :class:`InputError` naming the card and the rows (recipes or draws) whose cell
    counts, medium or volumes overflowed to inf/NaN, instead of returning them silently."""
    ok = (np.isfinite(res.x_end).all(axis=(1, 2)) & np.isfinite(res.medium_L).all(axis=1)
          & np.isfinite(res.peak_volume_L).all(axis=1))
    if ok.all():
        return
    rows = np.flatnonzero(~ok)
    shown = ", ".join(str(int(r)) for r in rows[:10]) + (" ..." if len(rows) > 10 else "")
    msg = (f"card {ps.card.name!r}: {len(rows)} of {res.x_end.shape[0]} recipes or draws (rows {shown}) "
           "overflow to non-finite cell counts (unbounded growth)")
    raise InputError(msg,
                     fix="keep their parameters within the card's physical bounds (fractions and "
                         "exhaustion_per_division within [0, 1)) and protocols within its validity")


def _run_batch(ps: ParamSpace, theta: FloatArray, grid_per_day: int,
               time_course: bool) -> BatchResult:
    card = ps.card
    comp = ps.comp
    n, J, col = theta.shape[0], len(card.protocol), ps.col
    w = np.array([s.is_cell for s in card.stages])[comp.stage_of].astype(float)
    x = seed_vector(ps, theta)
    x0 = x.copy()
    keep = n <= _BATCH_CHUNK  # per-row rates and compartment states (simulate's balance)
    x_end = np.zeros((n, J, len(card.stages)))
    x_end_comp = np.zeros((n, J, comp.size)) if keep else None
    days = np.rint(np.stack([theta[:, col(f"{p.name}.days")] for p in card.protocol], axis=1))
    days = days.astype(np.int64)
    medium, peak = np.zeros((n, J)), np.zeros((n, J))
    rates: list[PhaseRates] = []
    course_x: list[FloatArray] = [x.copy()] if time_course else []
    course_v: list[FloatArray] = []
    if time_course:
        course_v.append(x @ w / theta[:, col(f"{card.protocol[0].name}.seed_density")] / 1000.0)
    sid = _distinct_rows(x, range(x.shape[1]))[1]
    varies = theta.max(axis=0) != theta.min(axis=0)
    for j, ph in enumerate(card.protocol):
        pm = _phase_matrices(ps, theta, j, grid_per_day, varies)
        if keep and pm.rates is not None:
            r, inv = pm.rates, pm.inverse
            rates.append(PhaseRates(r.proliferation[inv], r.death[inv], r.transit[inv], r.A[inv],
                                    r.density_multiplier[inv]))
        setpoint = theta[:, col(f"{ph.name}.density_setpoint")]
        v0 = x @ w / theta[:, col(f"{ph.name}.seed_density")] / 1000.0  # cells/(cells/mL) -> L
        record: list[tuple[FloatArray, FloatArray]] | None = [] if time_course else None
        x, nmax, sid = _advance(ps, theta, pm, x, sid, days[:, j] * grid_per_day, w, record)
        for rx, rm in record or []:
            # dilution: the volume so far; perfusion: the volume the vessel must hold so far
            course_x.append(rx)
            course_v.append(np.maximum(v0, rm / setpoint / 1000.0))
        v = np.maximum(v0, nmax / setpoint / 1000.0)
        ran = days[:, j] > 0
        perf = theta[:, col(f"{ph.name}.perfusion")] > 0.5
        exch = np.where(perf, theta[:, col(f"{ph.name}.perfusion_exchange_per_day")], 0.0)
        medium[:, j] = np.where(ran, v * (1.0 + exch * days[:, j]), 0.0)
        peak[:, j] = np.where(ran, v, 0.0)
        x_end[:, j] = comp.aggregate(x)
        if x_end_comp is not None:
            x_end_comp[:, j] = x
    cx = comp.aggregate(np.stack(course_x, axis=1)) if time_course else None
    cv = np.stack(course_v, axis=1) if time_course else None
    return BatchResult(card.stage_names, [p.name for p in card.protocol], x_end,
                       comp.aggregate(x0), days, medium, peak, rates, cx, cv, x_end_comp,
                       x0 if keep else None)

"""Matrix exponentials and integer powers of stacks of small matrices (numpy only).

``expm_batch`` evaluates expm for a stack (N, k, k) by scaling and squaring of the degree-12
Taylor polynomial (truncation error < 1.6e-10 relative for the scaled 1-norm <= 1), computing each
distinct matrix once. A stack whose common sparsity pattern splits into independent groups of
compartments (weakly connected components of the graph i -> j for A[j, i] != 0 in any matrix) is
block-diagonal after a permutation, and so is its exponential, exactly: expm(diag(B_1, ..., B_c))
= diag(expm(B_1), ..., expm(B_c)), a single compartment c giving exp(A[c, c]). The dense products
then run on the blocks (sum of b_i^3 flops instead of k^3). ``matrix_powers`` raises each matrix of a stack to its own integer power by
binary powering (about 2 log2(d) products instead of d).
"""

from __future__ import annotations

import math

import numpy as np
from numpy.typing import NDArray

from bioplan.yields.workers import run_chunks

FloatArray = NDArray[np.float64]

_THETA = 1.0
"""Scale matrices so their 1-norm is <= 1: the degree-12 Taylor remainder is then < 1/13! = 1.6e-10
relative, far below the 1e-6 agreement required with solve_ivp (measured against
``scipy.linalg.expm`` on the cards' daily matrices: <= 5e-13 relative)."""
_CHUNK_BYTES = 400_000
"""Matrices per Taylor evaluation: stacks of about 400 kB (31 matrices at k = 40) stay in cache
through the ~20 products and sums (measured 2026-12-01, one BLAS thread: 84-106 us per 40 x 40
exponential in chunks of 16-48 against 155 us in chunks of 512)."""
_THREAD_CHUNKS = 16
"""Cache-sized chunks per thread task (~500 matrices at k = 40): tasks of one chunk spent their
time on the GIL between the small numpy calls."""
_COEF = np.array([1.0 / math.factorial(j) for j in range(13)])
_BLOCKS = np.array([_COEF[4 * i + 1 : 4 * i + 4] for i in range(3)])
"""(3, 3) coefficients of X, X^2, X^3 in the three Paterson-Stockmeyer blocks."""


def _expm_taylor(A: FloatArray) -> FloatArray:
    """expm of a stack (n, k, k): scaling and squaring of the degree-12 Taylor polynomial,
    evaluated by Paterson-Stockmeyer (5 matrix products) in powers of X^4. The three blocks
    c0 I + c1 X + c2 X^2 + c3 X^3 are formed by one BLAS product of the coefficients with the
    stacked powers (one pass over memory instead of nine)."""
    n, k, _ = A.shape
    norm = np.abs(A).sum(axis=-2).max(axis=-1)
    s = np.ceil(np.log2(np.maximum(norm, 1e-300) / _THETA))
    s = np.maximum(s, 0).astype(int)
    powers = np.empty((3, n, k, k))
    np.multiply(A, (0.5**s)[:, None, None], out=powers[0])
    np.matmul(powers[0], powers[0], out=powers[1])
    np.matmul(powers[1], powers[0], out=powers[2])
    X4 = powers[1] @ powers[1]
    blocks = (_BLOCKS @ powers.reshape(3, -1)).reshape(3, n, k, k)
    blocks.reshape(3, n, k * k)[:, :, :: k + 1] += _COEF[0:9:4, None, None]  # + c0 I (a view)
    R = blocks[2]
    R += _COEF[12] * X4
    R = np.matmul(X4, R, out=powers[0])  # X is no longer needed: reuse its memory
    R += blocks[1]
    R = np.matmul(X4, R, out=powers[1])
    R += blocks[0]
    for q in range(int(s.max(initial=0))):
        m = s > q
        if m.all():  # square into the other free power buffer (no new 400 kB stack)
            R = np.matmul(R, R, out=powers[2] if np.may_share_memory(R, powers[1]) else powers[1])
        else:
            R[m] = R[m] @ R[m]
    return R


def components(A: FloatArray) -> list[NDArray[np.int64]]:
    """Compartment groups of a stack (n, k, k) that no matrix of it couples: the weakly connected
    components of its common off-diagonal pattern, each as sorted indices."""
    k = A.shape[-1]
    linked = (A != 0).any(axis=0)
    linked = (linked | linked.T | np.eye(k, dtype=bool)).astype(np.int64)
    for _ in range(max(1, k).bit_length()):  # paths of length 2^s: the closure in log2(k) products
        linked = np.minimum(linked @ linked, 1)
    label = linked.argmax(axis=0)  # lowest compartment of each one's group
    return [np.flatnonzero(label == c).astype(np.int64) for c in np.unique(label)]


def _expm_blocks(U: FloatArray, out: FloatArray, groups: list[NDArray[np.int64]]) -> None:
    """out = expm(U) for a stack block-diagonal (after permutation) in ``groups``."""
    if len(groups) == 1:
        out[:] = _expm_taylor(U)
        return
    out.fill(0.0)
    for g in groups:
        if len(g) == 1:
            out[:, g[0], g[0]] = np.exp(U[:, g[0], g[0]])
        elif g[-1] - g[0] + 1 == len(g):  # a contiguous range: views, no gather
            sl = slice(int(g[0]), int(g[-1]) + 1)
            out[:, sl, sl] = _expm_taylor(np.ascontiguousarray(U[:, sl, sl]))
        else:
            ix = np.ix_(np.arange(U.shape[0]), g, g)
            out[ix] = _expm_taylor(U[ix])


def expm_batch(A: FloatArray, *, distinct: bool = False, threads: bool = True,
               groups: list[NDArray[np.int64]] | None = None) -> FloatArray:
    """Matrix exponential of every matrix in a stack (N, k, k), computing each distinct one once
    (``distinct=True``: the caller knows they are distinct, skip the search). Cache-sized chunks
    of matrices are spread over threads (``workers.run_chunks``) unless ``threads=False`` (the
    caller already runs in a worker thread). ``groups``: ``components`` of a stack containing
    this one, if known (saves the pattern search on small slices)."""
    n, k, _ = A.shape
    first, inverse = np.arange(n), np.arange(n)
    if not distinct and n > 1:
        flat = A.reshape(n, k * k)
        key = flat @ np.random.default_rng(12345).standard_normal(k * k)
        _, first, inverse = np.unique(key, return_index=True, return_inverse=True)
        if len(first) < n and not np.array_equal(flat[first][inverse], flat):
            first, inverse = np.arange(n), np.arange(n)  # a hash collision: no de-duplication
    U = A[first] if len(first) < n else A
    out = np.empty_like(U)
    groups = components(U) if groups is None else groups
    big = max(len(g) for g in groups)  # the largest block sets the cache-sized chunk
    chunk = max(8, _CHUNK_BYTES // (8 * big * big))

    def part(lo: int, hi: int) -> None:
        for i in range(lo, hi, chunk):
            j = min(i + chunk, hi)
            _expm_blocks(U[i:j], out[i:j], groups)

    m = U.shape[0]
    span = _THREAD_CHUNKS * max(8, _CHUNK_BYTES // (8 * k * k))  # a task: several chunks
    if threads and m >= 2 * span:
        run_chunks(lambda lo: part(lo, min(lo + span, m)), range(0, m, span))
    else:
        part(0, m)
    return out if len(first) == n else out[inverse.reshape(-1)]


def matrix_powers(E: FloatArray, d: NDArray[np.int64]) -> FloatArray:
    """E[i] ** d[i] for a stack (n, k, k) and integer powers d >= 0, by binary powering."""
    n, k, _ = E.shape
    R = np.broadcast_to(np.eye(k), (n, k, k)).copy()
    B = E.copy()
    left = np.asarray(d, dtype=np.int64).copy()
    while np.any(left > 0):
        odd = (left & 1) == 1
        if odd.any():
            R[odd] = R[odd] @ B[odd]
        left >>= 1
        live = left > 0
        if live.any():
            B[live] = B[live] @ B[live]
    return R

"""Matrix exponentials and integer powers of stacks of small matrices (numpy only).

``expm_batch`` evaluates expm for a stack (N, k, k) by scaling and squaring of the degree-18
Taylor polynomial in 5 products (Bader, Blanes & Casas 2019; truncation error < 1e-13 for the
scaled 1-norm <= 1.63), computing each distinct matrix once. A stack whose common sparsity
pattern splits into independent groups of compartments (weakly connected components of the graph
i -> j for A[j, i] != 0 in any matrix) is block-diagonal after a permutation, and so is its
exponential, exactly: expm(diag(B_1, ..., B_c)) = diag(expm(B_1), ..., expm(B_c)), a single
compartment c giving exp(A[c, c]). The dense products then run on the blocks (sum of b_i^3 flops
instead of k^3). ``matrix_powers`` raises each matrix of a stack to its own integer power by
binary powering (about 2 log2(d) products instead of d).
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

from bioplan.yields.workers import run_chunks

FloatArray = NDArray[np.float64]

_THETA = 1.63
"""Scale matrices so their 1-norm is <= 1.63: the degree-18 Taylor remainder
sum_{j>18} 1.63^j / j! is then 9e-14 (the previous degree-12 polynomial at 1-norm 1: 1.7e-10).
Not larger: at scaled norms of ~2.4 (the same truncation bound as the degree-12 polynomial at 1)
the small entries far below the diagonal lost up to 4e-7 of their relative accuracy (1.6e-11 at
<= 1.63; measured against an 80-bit Taylor reference on the cards' matrices). The bench card's
daily 1-norms (4.3-6.5) then take 2 squarings instead of 3: 7 products per matrix instead of 8."""
_CHUNK_BYTES = 400_000
"""Matrices per Taylor evaluation: stacks of about 400 kB (31 matrices at k = 40) stay in cache
through the products (measured 2026-12-01, one BLAS thread: 84-106 us per 40 x 40 exponential in
chunks of 16-48 against 155 us in chunks of 512; the degree-18 scheme, 2026-12-03: 24.3-25.6 us
in chunks of 16-48)."""
_THREAD_CHUNKS = 16
"""Cache-sized chunks per thread task (~500 matrices at k = 40): tasks of one chunk spent their
time on the GIL between the small numpy calls."""
_T18 = np.array([
    # I, X, X^2, X^3, X^6 in y_31, y_61, y_62, y_63, y_64 (Bader, Blanes & Casas 2019, eq. (15)
    # and Table 3 of "Computing the matrix exponential with an optimized Taylor polynomial
    # approximation", Mathematics 7(12) 1174): y_91 = y_31 y_64 + y_63,
    # y_18 = y_61 + (y_62 + y_91) y_91 is the degree-18 Taylor polynomial of exp(X), checked
    # coefficient by coefficient to 3e-16 relative in tests/yields/test_structured_expm.py.
    [0.0, -0.100365581030144620014614939405, -0.00802924648241156960116919515244,
     -0.000892138498045729955685466128049, 0.0],
    [0.0, 0.397849749499645076145196127710, 1.36783778460411719922523706878,
     0.498289622525382677556858817262, -0.000637898194594723309241550056492],
    [-10.9676396052962062593517462675, 1.68015813878906197182785401725,
     0.0571779846478865512702871713225, -0.00698210122488052084290466483802,
     0.0000334975017086070538313367340668],
    [-0.0904316832390810561971468877018, -0.0676404519071381907560079900380,
     0.0675961301770459646082799195079, 0.0295552570429315527426069182242,
     -0.0000139180257516060701124739979344],
    [0.0, 0.0, -0.0923364619367118592764570775143, -0.0169364939002081717191385115723,
     -0.0000140086798182036159794363205726],
])
"""(5, 5) coefficients of I, X, X^2, X^3, X^6 in the five combinations of the degree-18 scheme."""


def scaling(A: FloatArray, work: FloatArray | None = None) -> NDArray[np.int64]:
    """Squarings s per matrix of a stack (n, k, k) that bring its 1-norm to <= _THETA. The column
    sums of |A| are one BLAS product with a vector of ones (half the time of numpy's reduction
    over the middle axis); ``work``: a free buffer of A's shape for |A|."""
    absA = np.abs(A, out=work if work is not None else np.empty_like(A))
    norm = (np.ones(A.shape[-1]) @ absA).max(axis=-1)
    s = np.ceil(np.log2(np.maximum(norm, 1e-300) / _THETA))
    return np.maximum(s, 0).astype(np.int64)


def _expm_taylor(A: FloatArray, out: FloatArray | None = None) -> FloatArray:
    """expm of a stack (n, k, k): scaling and squaring of the degree-18 Taylor polynomial of
    X = A / 2^s evaluated with 5 matrix products (X^2, X^3, X^6 and two products of
    combinations, ``_T18``) instead of the 5 of a degree-12 Paterson-Stockmeyer evaluation, so
    one squaring fewer at the same norms. The five combinations of I, X, X^2, X^3, X^6 are one
    BLAS product of the coefficients with the stacked powers (one pass over memory). No
    diagonal shift: exp(A) = e^mu exp(A - mu I) with the norm-minimising mu would save one more
    squaring on these matrices (scaled norms up to 2.4), but the small entries far below the
    diagonal then lost up to 1.6e-4 of their relative accuracy (measured; docs/yields.md).
    ``out``: a C-contiguous stack for the result (the last product is written there, no copy
    when all matrices take the same number of squarings)."""
    n, k, _ = A.shape
    powers = np.empty((4, n, k, k))
    s = scaling(A, work=powers[0])
    X = powers[0]
    np.multiply(A, (0.5**s)[:, None, None], out=X)
    np.matmul(X, X, out=powers[1])
    np.matmul(powers[1], X, out=powers[2])
    np.matmul(powers[2], powers[2], out=powers[3])
    y = (_T18[:, 1:] @ powers.reshape(4, -1)).reshape(5, n, k, k)
    y.reshape(5, n, k * k)[:, :, :: k + 1] += _T18[:, :1, None]  # + c0 I (a view)
    y91 = np.matmul(y[0], y[4], out=powers[0])  # the powers are no longer needed
    y91 += y[3]
    y[2] += y91
    squarings = int(s.max(initial=0))
    uniform = bool((s == squarings).all())
    final = out if out is not None and uniform else powers[2]

    def target(left: int) -> FloatArray:  # the buffer after which `left` squarings remain
        return final if left % 2 == 0 else powers[1]

    R = np.matmul(y[2], y91, out=target(squarings))
    R += y[1]
    for q in range(squarings):
        if uniform:  # alternate between two free buffers, ending in `final`
            R = np.matmul(R, R, out=target(squarings - q - 1))
        else:
            m = s > q
            R[m] = R[m] @ R[m]
    if out is not None and R is not out:
        out[:] = R
        return out
    return R


def components(A: FloatArray) -> list[NDArray[np.int64]]:
    """Compartment groups of a stack (n, k, k) that no matrix of it couples: the weakly connected
    components of its common off-diagonal pattern, each as sorted indices."""
    n, k = A.shape[0], A.shape[-1]
    linked = np.logical_or.reduce(A.reshape(n, k * k) != 0, axis=0).reshape(k, k)  # rows: fast
    linked = (linked | linked.T | np.eye(k, dtype=bool)).astype(np.int64)
    for _ in range(max(1, k).bit_length()):  # paths of length 2^s: the closure in log2(k) products
        linked = np.minimum(linked @ linked, 1)
    label = linked.argmax(axis=0)  # lowest compartment of each one's group
    return [np.flatnonzero(label == c).astype(np.int64) for c in np.unique(label)]


def _expm_blocks(U: FloatArray, out: FloatArray, groups: list[NDArray[np.int64]]) -> None:
    """out = expm(U) for a stack block-diagonal (after permutation) in ``groups``."""
    if len(groups) == 1:
        _expm_taylor(U, out=out)
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
    chunk = -(-U.shape[0] // -(-U.shape[0] // chunk))  # equal chunks: 128 -> 5 x 26, not 4 x 31 + 4

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

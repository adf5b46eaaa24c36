"""Fused jet products for the contraction backend (:mod:`mcising.exact._jets`).

A jet carries five components (the coefficients of :math:`1, a, a^2, b, c` with
:math:`a^3 = b^2 = c^2 = ab = ac = bc = 0`) on its leading axis. Almost every pairwise
step of a contraction tree over size-2 indices sums over only a few indices: it reads
and writes far more memory than it multiplies. This kernel computes all five
components of the product in one pass over the output, in parallel over its rows, and
returns the smallest and largest entry of the value component for the caller's
rescaling, so that no further pass over the output is needed. Steps that multiply a
large tensor by a small one over indices it already holds run in place, in the large
tensor's own layout, and the transpositions between steps are tiled copies. Each
kernel has a serial twin for small tensors, where starting threads would cost more
than the work.
"""

import numpy as np
from numba import njit, prange

__all__ = ["jet_absorb", "jet_absorb_serial", "jet_product", "jet_product_serial",
           "permute_axes"]

# Parallel kernels split their rows into this many chunks (several per thread).
_CHUNKS = 64


@njit(cache=True, nogil=True, inline="always")
def _product_rows(x, y, out, first, last):
    """Rows ``first`` to ``last`` (flattened batch and row index) of the jet product."""
    n_left, n_sum, n_right = x.shape[2], x.shape[3], y.shape[3]
    top = -np.inf
    low = np.inf
    for row in range(first, last):
        b = row // n_left
        i = row - b * n_left
        for j in range(n_right):
            s0 = 0.0
            sa = 0.0
            saa = 0.0
            sb = 0.0
            sc = 0.0
            for k in range(n_sum):
                x0 = x[0, b, i, k]
                xa = x[1, b, i, k]
                y0 = y[0, b, k, j]
                ya = y[1, b, k, j]
                s0 += x0 * y0
                sa += x0 * ya + xa * y0
                saa += x0 * y[2, b, k, j] + xa * ya + x[2, b, i, k] * y0
                sb += x0 * y[3, b, k, j] + x[3, b, i, k] * y0
                sc += x0 * y[4, b, k, j] + x[4, b, i, k] * y0
            out[0, b, i, j] = s0
            out[1, b, i, j] = sa
            out[2, b, i, j] = saa
            out[3, b, i, j] = sb
            out[4, b, i, j] = sc
            top = max(top, s0)
            low = min(low, s0)
    return low, top


@njit(cache=True, parallel=True, nogil=True)
def jet_product(x, y, out):
    """Jet product of stacked matrices, written to ``out``, in parallel over rows.

    Parameters
    ----------
    x : numpy.ndarray of float64, shape (5, B, L, K)
    y : numpy.ndarray of float64, shape (5, B, K, R)
    out : numpy.ndarray of float64, shape (5, B, L, R)
        Overwritten.

    Returns
    -------
    low, top : float
        Smallest and largest entry of ``out[0]``.
    """
    n_rows = x.shape[1] * x.shape[2]
    n_chunks = min(n_rows, _CHUNKS)
    top = -np.inf
    low = np.inf
    for c in prange(n_chunks):
        chunk_low, chunk_top = _product_rows(x, y, out, c * n_rows // n_chunks,
                                             (c + 1) * n_rows // n_chunks)
        top = max(top, chunk_top)
        low = min(low, chunk_low)
    return low, top


@njit(cache=True, nogil=True)
def jet_product_serial(x, y, out):
    """:func:`jet_product` on the calling thread (small products: no thread start)."""
    return _product_rows(x, y, out, 0, x.shape[1] * x.shape[2])


@njit(cache=True, nogil=True, inline="always")
def _absorb_entries(big, small, bits, out, first, last):
    """Entries ``first`` to ``last`` of :func:`jet_absorb`."""
    top = -np.inf
    low = np.inf
    for e in range(first, last):
        s = 0
        for a in range(bits.shape[0]):
            s = (s << 1) | ((e >> bits[a]) & 1)
        x0 = big[0, e]
        xa = big[1, e]
        y0 = small[0, s]
        ya = small[1, s]
        v0 = x0 * y0
        out[2, e] = x0 * small[2, s] + xa * ya + big[2, e] * y0
        out[3, e] = x0 * small[3, s] + big[3, e] * y0
        out[4, e] = x0 * small[4, s] + big[4, e] * y0
        out[1, e] = x0 * ya + xa * y0
        out[0, e] = v0
        top = max(top, v0)
        low = min(low, v0)
    return low, top


@njit(cache=True, parallel=True, nogil=True)
def jet_absorb(big, small, bits, out):
    """Multiply ``big`` entrywise by ``small``, whose indices are a subset of its own.

    No transposition is needed: the entry of ``small`` that meets entry ``e`` of
    ``big`` is read off the bits of ``e``.

    Parameters
    ----------
    big : numpy.ndarray of float64, shape (5, n)
        A jet over ``log2(n)`` size-2 indices, flattened in C order.
    small : numpy.ndarray of float64, shape (5, 2**d)
        A jet over ``d`` of those indices, flattened in C order.
    bits : numpy.ndarray of int64, shape (d,)
        For each index of ``small`` (most significant first), its bit position in
        the flat index of ``big``.
    out : numpy.ndarray of float64, shape (5, n)
        Overwritten; may be ``big`` itself.

    Returns
    -------
    low, top : float
        Smallest and largest entry of ``out[0]``.
    """
    n = big.shape[1]
    n_chunks = min(n, _CHUNKS)
    top = -np.inf
    low = np.inf
    for c in prange(n_chunks):
        chunk_low, chunk_top = _absorb_entries(big, small, bits, out, c * n // n_chunks,
                                               (c + 1) * n // n_chunks)
        top = max(top, chunk_top)
        low = min(low, chunk_low)
    return low, top


@njit(cache=True, nogil=True)
def jet_absorb_serial(big, small, bits, out):
    """:func:`jet_absorb` on the calling thread (small tensors: no thread start)."""
    return _absorb_entries(big, small, bits, out, 0, big.shape[1])


@njit(cache=True, parallel=True, nogil=True)
def permute_axes(src, dst, outer_src, outer_dst, inner_src, inner_dst):
    """Copy ``src`` to ``dst`` with its size-2 axes permuted, tile by tile.

    Row ``c`` of ``dst`` receives ``dst[c, outer_dst[o] + inner_dst[j]] =
    src[c, outer_src[o] + inner_src[j]]`` for every outer ``o`` and inner ``j``: the
    inner offsets span the lowest axes of both layouts, so every tile reads and
    writes whole cache lines.
    """
    n_outer = outer_src.shape[0]
    n_inner = inner_src.shape[0]
    for job in prange(src.shape[0] * n_outer):
        c = job // n_outer
        o = job - c * n_outer
        base_src = outer_src[o]
        base_dst = outer_dst[o]
        for j in range(n_inner):
            dst[c, base_dst + inner_dst[j]] = src[c, base_src + inner_src[j]]

"""Running one slice of a compiled contraction program in jet arithmetic.

Private helper of :mod:`mcising.exact._jets`, which compiles the program and turns the
total jet into thermodynamics. Nearly every pairwise step over size-2 indices sums over
a few of them, so memory traffic, not arithmetic, sets the time; the steps are built
around that (kernels in :mod:`mcising.kernels.jets`):

- products that sum over few indices run in one fused pass over the output, in
  parallel, and return the value part's extremes for the rescaling;
- a step that multiplies a tensor by one whose indices it already holds (an edge or
  node factor absorbed late) runs in place in the larger tensor's layout;
- transpositions of large tensors are tiled copies;
- long sums go to BLAS, one thread per core over the rows;
- buffers come from a pool kept across steps and slices, so large blocks are not
  returned to the operating system and faulted in again.
"""

import functools
import math
from concurrent.futures import ThreadPoolExecutor

import numba
import numpy as np

from ..kernels.jets import (
    jet_absorb,
    jet_absorb_serial,
    jet_product,
    jet_product_serial,
    permute_axes,
)

__all__ = ["SAFE_EXPONENT", "contract_fast"]

_COMPONENTS = 5
_LN2 = math.log(2.0)
# Intermediates are rescaled (by a power of two) when their scale leaves
# [2^-_RESCALE, 2^_RESCALE]; exact, and rarely needed at moderate eps.
_RESCALE = 200
# Pairwise products summing over at most _FUSED_MAX_SUM entries, or with at most
# _FUSED_MAX_BLOCK entries per right-hand matrix, use the fused kernel (measured:
# BLAS is faster beyond).
_FUSED_MAX_SUM = 4
_FUSED_MAX_BLOCK = 64
# Fused products and absorptions with fewer output entries run on one thread.
_PARALLEL_MIN_SIZE = 1 << 16
# Transpositions of tensors with at least this many entries are tiled copies over
# tiles that span the lowest _TILE_BITS axes of both layouts.
_TILE_MIN_SIZE = 1 << 14
_TILE_BITS = 6
# Entries below 2^-SAFE_EXPONENT of their tensor's scale send the point to the
# log-domain path (products of two such entries could underflow).
SAFE_EXPONENT = 900
# Intermediates are scaled by their entry at the reference state, but so that no entry
# exceeds 2^_MAX_SPREAD: a product of two then stays far below the float64 maximum.
_MAX_SPREAD = 400


class _RangeExceeded(Exception):
    """Internal: the fast path may have lost entries to underflow."""


class _Pool:
    """Reusable float64 buffers, by entry count.

    Intermediates of a slice have the same sizes in every slice; taking their buffers
    from a pool instead of fresh allocations avoids returning large blocks to the
    operating system and faulting them in again, which cost as much as the arithmetic.
    """

    def __init__(self):
        self._free = {}

    def take(self, shape):
        stack = self._free.get(math.prod(shape))
        return (stack.pop() if stack else np.empty(math.prod(shape))).reshape(shape)

    def give(self, array):
        self._free.setdefault(array.size, []).append(array.reshape(-1))


@functools.lru_cache(maxsize=1024)
def _tiles(perm):
    """Offset tables of :func:`permute_axes` for a permutation of size-2 axes.

    ``perm[k]`` is the source axis of output axis ``k`` (C order). The inner tile
    spans the lowest :data:`_TILE_BITS` axes of the output and of the source.
    """
    n = len(perm)
    low_out = set(range(max(n - _TILE_BITS, 0), n))
    low_src = {k for k in range(n) if perm[k] >= n - _TILE_BITS}
    inner = sorted(low_out | low_src)
    outer = [k for k in range(n) if k not in low_out | low_src]

    def offsets(axes):
        count = np.arange(2 ** len(axes), dtype=np.int64)
        src = np.zeros_like(count)
        dst = np.zeros_like(count)
        for rank, k in enumerate(axes):
            bit = (count >> (len(axes) - 1 - rank)) & 1
            src += bit << (n - 1 - perm[k])
            dst += bit << (n - 1 - k)
        return src, dst

    return offsets(outer) + offsets(inner)


def _arranged(array, perm, shape, pool):
    """``array`` transposed by ``perm`` and reshaped to ``shape``, contiguous.

    ``perm`` keeps the jet axis first. Returns the array and whether its buffer is a
    fresh one from ``pool``.
    """
    view = array.transpose(perm)
    if view.flags.c_contiguous:
        return view.reshape(shape), False
    out = pool.take(view.shape)
    if array.size < _TILE_MIN_SIZE or not array.flags.c_contiguous:
        np.copyto(out, view)
    else:
        permute_axes(array.reshape(_COMPONENTS, -1), out.reshape(_COMPONENTS, -1),
                     *_tiles(tuple(a - 1 for a in perm[1:])))
    return out.reshape(shape), True


def _blas_product(x, y, out, temp):
    """Jet product by ten real matrix products (BLAS), written to ``out``.

    ``temp`` has the shape of ``out[1:]``; no other memory is allocated.
    """
    np.matmul(x[0], y, out=out)
    np.matmul(x[1:], y[0], out=temp)
    out[1:] += temp
    np.matmul(x[1], y[1], out=temp[0])
    out[2] += temp[0]


def _jet_matmul(x, y, out, pool):
    """Jet product of stacked matrices ``x`` (5, B, L, K) and ``y`` (5, B, K, R).

    Writes ``out`` (5, B, L, R) and returns the smallest and largest entry of its
    value component. Products that sum over few indices (nearly all of them) are
    memory-bound and run in one fused pass; long sums go to single-threaded BLAS,
    with the rows (or batches) split between threads, one per core.
    """
    if x.shape[-1] <= _FUSED_MAX_SUM or y.shape[-1] * y.shape[-2] <= _FUSED_MAX_BLOCK:
        kernel = jet_product if out.size >= _PARALLEL_MIN_SIZE else jet_product_serial
        return kernel(x, y, out)
    temp = pool.take((_COMPONENTS - 1,) + out.shape[1:])
    axis = 1 if x.shape[1] > 1 else 2
    bounds = np.linspace(0, x.shape[axis], min(_threads(), x.shape[axis]) + 1)
    tasks = []
    for start, stop in zip(bounds[:-1].astype(int), bounds[1:].astype(int)):
        rows = (slice(None),) * axis + (slice(start, stop),)
        tasks.append((x[rows], y[rows] if axis == 1 else y, out[rows], temp[rows]))
    if len(tasks) == 1:
        _blas_product(*tasks[0])
    else:
        list(_executor().map(lambda task: _blas_product(*task), tasks))
    pool.give(temp)
    return float(np.min(out[0])), float(np.max(out[0]))


_EXECUTORS = {}


def _threads():
    return numba.get_num_threads()


def _executor():
    """Thread pool for BLAS products, one thread per numba thread.

    numpy releases the GIL in ``matmul``, so the threads run in parallel; one pool is
    kept per thread count (``numba.set_num_threads`` may change it between calls).
    """
    n = _threads()
    if n not in _EXECUTORS:
        _EXECUTORS[n] = ThreadPoolExecutor(n, thread_name_prefix="mcising-blas")
    return _EXECUTORS[n]


def _rescale(z, low, top, reference=None):
    """Divide ``z`` in place by a power of two; return the exponent.

    Raises _RangeExceeded when entries may be lost: every entry of the value part is
    positive in exact arithmetic, so an entry that is zero or below
    ``2^-SAFE_EXPONENT`` of the scale (an all-zero slice included) means terms may
    have underflowed; the caller then uses the log-domain path.

    The scale is the entry at ``reference`` (the reference state's position), but at
    least ``2^-_MAX_SPREAD`` times the largest entry, so that a product of two scaled
    tensors cannot overflow. Powers of two make the scaling exact, so a subnormal
    scale cannot overflow either.
    """
    if not top > 0.0 or top == math.inf:
        raise _RangeExceeded
    scale = top
    if reference is not None:
        scale = max(float(z[0][reference]), math.ldexp(top, -_MAX_SPREAD))
    if not low >= math.ldexp(scale, -SAFE_EXPONENT):
        raise _RangeExceeded
    exponent = math.frexp(scale)[1]
    if abs(exponent) <= _RESCALE and top <= 2.0**_MAX_SPREAD:
        return 0
    np.ldexp(z, -exponent, out=z)
    return exponent


def _absorb(arrays, owned, step, pool):
    """Absorption step: the product in the larger operand's layout (in place if owned)."""
    big, small = arrays[step.left], arrays[step.right]
    flat = big.reshape(_COMPONENTS, -1)
    if owned[step.left] and flat.flags.c_contiguous:
        out = flat
    else:
        out = pool.take(flat.shape)
        flat = np.ascontiguousarray(flat)
    kernel = jet_absorb if out.size >= _PARALLEL_MIN_SIZE else jet_absorb_serial
    low, top = kernel(flat, np.ascontiguousarray(small.reshape(_COMPONENTS, -1)),
                      np.array(step.absorb, dtype=np.int64), out)
    if owned[step.right]:
        pool.give(small)
    if owned[step.left] and out is not flat:
        pool.give(big)
    arrays[step.left] = arrays[step.right] = None
    return out, low, top


def _finish_step(arrays, owned, exponents, step, z, low, top, state, consistent):
    """Rescale a step's output and store it with its power-of-two exponent."""
    z = z.reshape((_COMPONENTS,) + (2,) * len(step.out_nodes))
    reference = tuple(state[k] for k in step.out_nodes) if consistent else None
    exponent = _rescale(z, low, top, reference)
    arrays.append(z)
    owned.append(True)
    exponents.append(exponents[step.left] + exponents[step.right] + exponent)


def _run_slice(program, jets, index, state, pool):
    """Contract one slice: the total jet (shape (5,)) and its power-of-two exponent."""
    arrays, owned, exponents = [], [], []
    for leaf, jet in zip(program.leaves, jets):
        if leaf.slice_bits:
            selector = [slice(None)] * jet.ndim
            for axis, bit in leaf.slice_bits:
                selector[axis + 1] = (index >> bit) & 1
            jet = jet[tuple(selector)]
        if leaf.sum_axes:
            jet = jet.sum(axis=tuple(a + 1 for a in leaf.sum_axes))
        arrays.append(jet)
        owned.append(False)
        exponents.append(0)
    consistent = all(((index >> bit) & 1) == state[node]
                     for bit, node in enumerate(program.sliced_nodes))

    for step in program.steps:
        if step.absorb:
            z, low, top = _absorb(arrays, owned, step, pool)
            _finish_step(arrays, owned, exponents, step, z, low, top, state, consistent)
            continue
        operands = []
        for k, perm, shape in ((step.left, step.perm_left, step.shape_left),
                               (step.right, step.perm_right, step.shape_right)):
            array, copied = _arranged(arrays[k], (0, *(a + 1 for a in perm)),
                                      (_COMPONENTS, *shape), pool)
            if copied and owned[k]:
                pool.give(arrays[k])
            operands.append((array, copied or owned[k]))
            arrays[k] = None
        (x, x_owned), (y, y_owned) = operands
        z = pool.take((_COMPONENTS, *step.shape_left[:2], step.shape_right[2]))
        low, top = _jet_matmul(x, y, z, pool)
        for array, flag in operands:
            if flag:
                pool.give(array)
        _finish_step(arrays, owned, exponents, step, z, low, top, state, consistent)

    # Disconnected parts may leave several scalars; their product is the total.
    total, exponent = None, 0
    for array, power, flag in zip(arrays, exponents, owned):
        if array is None:
            continue
        part = np.array(array, dtype=float).reshape(_COMPONENTS, 1, 1, 1)
        if flag:
            pool.give(array)
        if total is None:
            total = part
            low = top = float(part[0, 0, 0, 0])
        else:
            product = np.empty_like(part)
            low, top = _jet_matmul(total, part, product, pool)
            total = product
        exponent += power + _rescale(total, low, top)
    return total.reshape(_COMPONENTS), exponent


def contract_fast(program, jets, state, update):
    """Jet ratios and log z_0 of the sum over slices, or (None, None) on range trouble."""
    bits = tuple(int(b) for b in state)
    pool = _Pool()
    total, total_exp = None, 0
    done = 0
    try:
        for index in range(program.n_slices):
            z, exponent = _run_slice(program, jets, index, bits, pool)
            done += 1
            if update is not None:
                update(1)
            if total is None:
                total, total_exp = z, exponent
                continue
            top = max(total_exp, exponent)
            total = np.ldexp(total, total_exp - top) + np.ldexp(z, exponent - top)
            total_exp = top
    except _RangeExceeded:
        if update is not None and done:
            update(-done)
        return None, None
    return total / total[0], math.log(total[0]) + total_exp * _LN2

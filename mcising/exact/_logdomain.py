r"""Log-domain contraction: the exact-range fallback of :mod:`mcising.exact._jets`.

Private helper. Every tensor is held as the logarithm of its value part,
:math:`L = \log z_0`, and the ratios :math:`z_a/z_0, z_{aa}/z_0, z_b/z_0, z_c/z_0`
of its jet components. A pairwise contraction is then a log-sum-exp over the summed
axis with ratio averages,

.. math::

    L_{lr} = \log \sum_k e^{L^x_{lk} + L^y_{kr}}, \qquad
    r_{lr} = \frac{\sum_k e^{L^x_{lk} + L^y_{kr}} (r^x \star r^y)_{lkr}}
                  {\sum_k e^{L^x_{lk} + L^y_{kr}}},

where :math:`\star` is the jet product of ratios. No exponent range is ever lost, at
the price of forming every product term (no BLAS), so the fast path in
:mod:`mcising.exact._jets` is tried first and this one is used only when that path
reports entries below :math:`2^{-900}` of their tensor's scale.
"""

import numpy as np

__all__ = ["contract_log"]

# Largest number of product terms formed at once (float64 entries per component).
_CHUNK_TERMS = 1 << 22


def _safe_max(log_values, axis):
    top = np.max(log_values, axis=axis, keepdims=True)
    return np.where(np.isfinite(top), top, 0.0)


def _log_sum(log_values, ratios, axes):
    """Sum over ``axes``: log-sum-exp of the values and weighted mean of the ratios."""
    if not axes:
        return log_values, ratios
    top = _safe_max(log_values, axes)
    weights = np.exp(log_values - top)
    total = weights.sum(axis=axes)
    ratio_axes = tuple(a + 1 for a in axes)
    sums = (weights * ratios).sum(axis=ratio_axes)
    with np.errstate(divide="ignore", invalid="ignore"):
        out = np.where(total > 0, sums / total, 0.0)
        return np.squeeze(top, axis=axes) + np.log(total), out


def _log_matmul(lx, rx, ly, ry):
    """Log-domain jet product of (B, L, K) and (B, K, R) tensors, chunked over L."""
    n_batch, n_left, n_sum = lx.shape
    n_right = ly.shape[2]
    out_l = np.empty((n_batch, n_left, n_right))
    out_r = np.empty((4, n_batch, n_left, n_right))
    step = max(1, _CHUNK_TERMS // max(1, n_batch * n_sum * n_right))
    for lo in range(0, n_left, step):
        part = slice(lo, lo + step)
        terms = lx[:, part, :, None] + ly[:, None, :, :]
        top = _safe_max(terms, 2)
        weights = np.exp(terms - top)
        total = weights.sum(axis=2)
        xa, xaa, xb, xc = (r[:, part, :, None] for r in rx)
        ya, yaa, yb, yc = (r[:, None, :, :] for r in ry)
        products = (xa + ya, xaa + xa * ya + yaa, xb + yb, xc + yc)
        with np.errstate(divide="ignore", invalid="ignore"):
            out_l[:, part] = np.squeeze(top, axis=2) + np.log(total)
            for k, ratio in enumerate(products):
                out_r[k, :, part] = np.where(
                    total > 0, (weights * ratio).sum(axis=2) / total, 0.0)
    return out_l, out_r


def _slice_leaf(leaf, log_values, ratios, index):
    if leaf.slice_bits:
        selector = [slice(None)] * log_values.ndim
        for axis, bit in leaf.slice_bits:
            selector[axis] = (index >> bit) & 1
        log_values = log_values[tuple(selector)]
        ratios = ratios[(slice(None), *selector)]
    return _log_sum(log_values, ratios, tuple(leaf.sum_axes))


def contract_log(program, leaves, update=None):
    r"""Contract every slice in the log domain and sum the slices.

    Parameters
    ----------
    program : mcising.exact._jets.Program
    leaves : list of (numpy.ndarray, numpy.ndarray)
        Log value and ratios (leading axis of 4) of every input tensor.
    update : callable, optional
        Called with 1 after every slice.

    Returns
    -------
    (float, numpy.ndarray)
        :math:`\log z_0` and the four ratios of the total.
    """
    totals_l, totals_r = [], []
    for index in range(program.n_slices):
        arrays = [_slice_leaf(leaf, lv, r, index)
                  for leaf, (lv, r) in zip(program.leaves, leaves)]
        for step in program.steps:
            (lx, rx), (ly, ry) = arrays[step.left], arrays[step.right]
            arrays[step.left] = arrays[step.right] = None
            lx = lx.transpose(step.perm_left).reshape(step.shape_left)
            ly = ly.transpose(step.perm_right).reshape(step.shape_right)
            rx = rx.transpose((0, *(a + 1 for a in step.perm_left))).reshape(
                (4, *step.shape_left))
            ry = ry.transpose((0, *(a + 1 for a in step.perm_right))).reshape(
                (4, *step.shape_right))
            lz, rz = _log_matmul(lx, rx, ly, ry)
            shape = (2,) * len(step.out_nodes)
            lz, rz = lz.reshape(shape), rz.reshape((4, *shape))
            if step.out_perm is not None:
                lz = lz.transpose(step.out_perm)
                rz = rz.transpose((0, *(a + 1 for a in step.out_perm)))
            arrays.append((lz, rz))
        root = [a for a in arrays if a is not None]
        totals_l.append(float(sum(np.sum(lv) for lv, _ in root)))
        ratios = np.zeros(4)
        for _, r in root:
            r = r.reshape(4)
            ratios = np.array([ratios[0] + r[0], ratios[1] + ratios[0] * r[0] + r[1],
                               ratios[2] + r[2], ratios[3] + r[3]])
        totals_r.append(ratios)
        if update is not None:
            update(1)
    log_value, ratios = _log_sum(np.array(totals_l), np.array(totals_r).T, (0,))
    return float(log_value), ratios

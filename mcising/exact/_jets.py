r"""Contraction of the spin-model tensor network in truncated-Taylor ("jet") arithmetic.

Private helper of :mod:`mcising.exact.contract`. Every tensor has a leading axis of
five components, the coefficients of :math:`1, a, a^2, b, c` in the algebra where
:math:`a^3 = b^2 = c^2 = ab = ac = bc = 0`. The product of two jets takes ten real
products:

.. math::

    (xy)_0 = x_0 y_0, \quad (xy)_a = x_0 y_a + x_a y_0, \quad
    (xy)_{aa} = x_0 y_{aa} + x_a y_a + x_{aa} y_0,

    (xy)_b = x_0 y_b + x_b y_0, \quad (xy)_c = x_0 y_c + x_c y_0.

A compiled program lists, for one contraction tree, how to slice and reduce every
input and how to transpose and reshape every pairwise contraction into a batched
matrix product (or, where one side's indices hold the other's, an entrywise product in
the larger side's layout); it is built once per plan and run for every point and
slice by :mod:`mcising.exact._slices`.
"""

import logging
import math
import typing

import numpy as np

from ..errors import TooExpensiveError
from ._logdomain import contract_log
from ._slices import SAFE_EXPONENT, contract_fast

__all__ = ["RangeError", "compile_program", "evaluate", "reference_state"]

logger = logging.getLogger(__name__)

_COMPONENTS = 5
# Steps that multiply a tensor by one whose indices it holds run in its own layout.
_ABSORB = True
# g(s, t) = s t - (s + t) / 2: the coupling in the spin gauge.
_GAUGE = np.array([[0.0, -0.5], [-0.5, 0.0]])
_LN2 = math.log(2.0)
# Largest input entry relative to the reference state's, as a natural log (2^390).
_MAX_LOG_ENTRY = 270.0
# Greedy descent: at most this many flips per node, and the relative improvement that
# counts as one.
_MAX_DESCENT = 4
_DESCENT_TOL = 1e-12
# Relative slack allowed when checking log Z against the reference state's weight.
_CHECK_RTOL = 1e-9


class RangeError(TooExpensiveError, ArithmeticError):
    """The contraction needs more exponent range than float64 offers."""


class _Leaf(typing.NamedTuple):
    slice_bits: tuple  # (axis, bit of the slice number) per sliced axis
    sum_axes: tuple    # axes (after slicing) that no other tensor shares


class _Step(typing.NamedTuple):
    left: int
    right: int
    perm_left: tuple
    perm_right: tuple
    shape_left: tuple   # (B, L, K)
    shape_right: tuple  # (B, K, R)
    out_nodes: tuple    # node number of every output axis
    # Absorption steps (the right side's indices are among the left's, none summed)
    # keep the left's layout: bit position of each right index in the left's flat
    # index, and the permutation from batch + free order to that layout.
    absorb: tuple
    out_perm: tuple




class Program(typing.NamedTuple):
    """Slicing and pairwise steps of one contraction tree."""

    leaves: tuple
    steps: tuple
    n_slices: int
    sliced_nodes: tuple  # node number of each slice bit


def _merge_open(left, right, total):
    """Return the indices still shared with tensors outside the merged subtree."""
    merged = dict(left)
    for ix, count in right.items():
        merged[ix] = merged.get(ix, 0) + count
    return {ix: c for ix, c in merged.items() if c < total[ix]}


def compile_program(tree, inputs, n_nodes):
    """Turn a cotengra tree over ``inputs`` into a :class:`Program`.

    Parameters
    ----------
    tree : cotengra.ContractionTree or None
        ``None`` when the network is a single tensor.
    inputs : list of tuple of str
        Index symbols of each input tensor (all indices have size 2); the first
        ``n_nodes`` tensors are the node vectors, one index each.
    n_nodes : int
        Number of nodes.

    Returns
    -------
    Program
    """
    sliced = [] if tree is None else list(tree.sliced_inds)
    number = {inputs[k][0]: k for k in range(n_nodes)}
    total = {}
    for term in inputs:
        for ix in term:
            if ix not in sliced:
                total[ix] = total.get(ix, 0) + 1

    # Leaves: slice, then sum out indices that appear nowhere else.
    leaves, opened, inds = [], [], []
    for term in inputs:
        bits = tuple((axis, sliced.index(ix)) for axis, ix in enumerate(term)
                     if ix in sliced)
        rest = [ix for ix in term if ix not in sliced]
        keep = [ix for ix in rest if total[ix] > 1]
        leaves.append(_Leaf(bits, tuple(a for a, ix in enumerate(rest)
                                        if total[ix] == 1)))
        opened.append(dict.fromkeys(keep, 1))
        inds.append(keep)
    if tree is None:
        return Program(tuple(leaves), (), 1, ())

    # Pairwise steps: batch (shared, kept), contracted (shared, dropped), free axes.
    node_id = {tree.input_to_node(k): k for k in range(len(inputs))}
    steps = []
    for parent, left, right in tree.traverse():
        lid, rid = node_id.pop(left), node_id.pop(right)
        l_inds, r_inds = inds[lid], inds[rid]
        out = _merge_open(opened[lid], opened[rid], total)
        batch = [ix for ix in l_inds if ix in r_inds and ix in out]
        summed = [ix for ix in l_inds if ix in r_inds and ix not in out]
        l_free = [ix for ix in l_inds if ix not in r_inds]
        r_free = [ix for ix in r_inds if ix not in l_inds]
        node_id[parent] = len(inds)
        opened.append(out)
        opened[lid] = opened[rid] = None
        absorb = (_ABSORB and not summed and not (l_free and r_free)
                  and bool(batch))
        if absorb and r_free:
            # Absorption: the larger side goes left.
            lid, rid, l_inds, r_inds = rid, lid, r_inds, l_inds
            batch = [ix for ix in l_inds if ix in r_inds]
            l_free, r_free = r_free, []
        order = batch + l_free + r_free
        steps.append(_Step(
            lid, rid,
            tuple(l_inds.index(ix) for ix in batch + l_free + summed),
            tuple(r_inds.index(ix) for ix in batch + summed + r_free),
            (2 ** len(batch), 2 ** len(l_free), 2 ** len(summed)),
            (2 ** len(batch), 2 ** len(summed), 2 ** len(r_free)),
            tuple(number[ix] for ix in (l_inds if absorb else order)),
            tuple(len(l_inds) - 1 - l_inds.index(ix) for ix in r_inds) if absorb else (),
            tuple(order.index(ix) for ix in l_inds) if absorb else None,
        ))
        inds.append(list(l_inds) if absorb else order)
    return Program(tuple(leaves), tuple(steps), int(tree.nslices),
                   tuple(number[ix] for ix in sliced))


def reference_state(model, point):
    """Find a state that no single flip improves, by greedy descent from three starts.

    Its factors set the gauge (every factor is 1 there), so the configurations that
    dominate :math:`Z` in the low-temperature limit never underflow.

    Returns
    -------
    numpy.ndarray of float64, shape (N,)
        Zeros and ones.
    """
    coupling = point.w * model.weights
    best, best_energy = None, math.inf
    half_theta = point.theta / 2
    for start in (np.zeros(model.n_nodes), np.ones(model.n_nodes),
                  (coupling @ np.full(model.n_nodes, 0.5) > half_theta) * 1.0):
        state = start.copy()
        field = coupling @ state - half_theta
        for _ in range(_MAX_DESCENT * model.n_nodes):
            delta = (2 * state - 1) * field
            node = int(np.argmin(delta))
            if not delta[node] < -_DESCENT_TOL * (1 + abs(field[node])):
                break
            sign = 1.0 - 2.0 * state[node]
            state[node] += sign
            row = slice(model.csr[0][node], model.csr[0][node + 1])
            field[model.csr[1][row]] += sign * point.w * model.csr[2][row]
        energy = model.with_params(theta=point.theta, w=point.w).energy(state)
        if energy < best_energy:
            best, best_energy = state, energy
    return best


def _factors(model, point, state):
    r"""Log values and jet ratios of every input, their log scales and centring energies.

    Node :math:`i`: energy :math:`s(\theta_i - W k_i)/2`, :math:`q = s k_i / 2`,
    :math:`n = s`, with :math:`k_i = \sum_j C_{ij}`. Edge :math:`ij`: energy
    :math:`-W C_{ij} g(s, t)`, :math:`q = C_{ij} g(s, t)`, :math:`n = 0`. Each factor
    is divided by its value at ``state`` (unless an entry would then exceed
    :math:`e^{600}`) and its energy is centred there.
    """
    i, j, c = model.edges
    n = model.n_nodes
    degree = np.bincount(i, c, n) + np.bincount(j, c, n)
    s = np.array([0.0, 1.0])
    node_e = np.outer((point.theta - point.w * degree) / 2, s)
    node_q = np.outer(degree / 2, s)
    node_n = np.broadcast_to(s, (n, 2))
    edge_e = -point.w * c[:, None, None] * _GAUGE
    edge_q = c[:, None, None] * _GAUGE
    bits = state.astype(np.int64)
    node_ref = bits
    edge_ref = 2 * bits[i] + bits[j]

    leaves, log_scale, centre = [], 0.0, 0.0
    for energy, q, count, ref_index in ((node_e, node_q, node_n, node_ref),
                                        (edge_e, edge_q, 0.0, edge_ref)):
        if len(energy) == 0:
            continue
        flat = energy.reshape(len(energy), -1)
        log_w = -point.eps * flat
        rows = np.arange(len(flat))
        norm = np.maximum(log_w[rows, ref_index],
                          np.max(log_w, axis=1) - _MAX_LOG_ENTRY)
        ref = flat[rows, ref_index]
        log_scale += float(np.sum(norm))
        centre += float(np.sum(ref))
        shape = (-1,) + (1,) * (energy.ndim - 1)
        log_value = -point.eps * energy - norm.reshape(shape)
        d_a = -(energy - ref.reshape(shape))
        ratios = np.stack([d_a, d_a**2 / 2, np.broadcast_to(q, energy.shape),
                           -np.broadcast_to(count, energy.shape)])
        leaves.extend(zip(log_value, np.moveaxis(ratios, 1, 0)))
    return leaves, log_scale, centre


def _jets(leaves):
    """Jets (value times 1 and the four ratios) from log values and ratios."""
    return [np.exp(lv) * np.concatenate([np.ones((1,) + lv.shape), r])
            for lv, r in leaves]


def evaluate(program, model, point, update=None):
    """Exact thermodynamics of ``model`` at ``point`` by running ``program``.

    Parameters
    ----------
    program : Program
        From :func:`compile_program` on the model's network.
    model : IsingModel
    point : Point
        With ``theta`` of length N.
    update : callable, optional
        Called with 1 after every slice (progress bars).

    Returns
    -------
    dict
        ``log_z``, ``mean_energy``, ``heat_capacity``, ``entropy``,
        ``mean_activity`` and ``mean_coupling``.

    Raises
    ------
    RangeError
        If the weights span more than float64 can hold inside one intermediate, so
        that :math:`Z` came out below the reference state's own weight.
    """
    state = reference_state(model, point)
    leaves, log_scale, centre = _factors(model, point, state)
    ratio = None
    if min(float(np.min(lv)) for lv, _ in leaves) > -SAFE_EXPONENT * _LN2:
        ratio, log_z = contract_fast(program, _jets(leaves), state, update)
    if ratio is None:
        logger.info("contraction at theta=%g, w=%g, eps=%g needs the log-domain path",
                    np.mean(point.theta), point.w, point.eps)
        log_z, ratios = contract_log(program, leaves, update)
        ratio = np.concatenate([[1.0], ratios])
    log_z += log_scale
    # Z is at least the reference state's weight; less means lost range (a bug).
    floor = -point.eps * model.with_params(theta=point.theta, w=point.w).energy(state)
    if not log_z >= floor - _CHECK_RTOL * max(1.0, abs(floor)) or not np.all(
            np.isfinite(ratio)):
        raise RangeError(
            f"exact contraction at theta={np.mean(point.theta):g}, w={point.w:g}, "
            f"eps={point.eps:g} lost the dominant states to floating-point range; "
            "use enumeration (N <= 34) or a smaller eps"
        )
    mean_energy = centre - ratio[1]
    variance = max(2.0 * ratio[2] - ratio[1] ** 2, 0.0)
    return {
        "log_z": log_z,
        "mean_energy": mean_energy,
        "heat_capacity": point.eps**2 * variance,
        "entropy": point.eps * mean_energy + log_z,
        "mean_activity": -ratio[4] / model.n_nodes,
        "mean_coupling": ratio[3],
    }

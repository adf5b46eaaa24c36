"""Gray-code enumeration kernels for the exact solver.

The 2^N states are split into chunks by their top ``N - n_low`` bits. Inside a chunk the
low ``n_low`` bits run through a reflected Gray code, so consecutive states differ by one
flip and every tracked quantity is updated incrementally. Chunks are independent and
run in parallel; the Python layer (:mod:`mcising.exact.enumerate`) calls the kernels
on batches of chunks and combines their outputs.

Weighted sums are accumulated per block of states as (log total weight, mean, variance)
triples relative to the block's largest Boltzmann exponent, and blocks are merged with
the pairwise update of Chan, Golub and LeVeque, so nothing overflows or underflows for
any finite energy scale.
"""

import numpy as np
from numba import njit, prange

from .bits import popcount, trailing_zeros
from .fastexp import exp_nonpositive

__all__ = ["count_nm", "merge_moments", "weighted_moments"]

# Layout of the per-point moment record written by ``weighted_moments``.
LOG_W, MEAN_E, VAR_E, MEAN_N, MEAN_Q = 0, 1, 2, 3, 4
N_MOMENTS = 5


@njit(cache=True, nogil=True)
def _initial_nm(state, nbr):
    n = 0
    twice_m = 0
    for i in range(nbr.shape[0]):
        if (state >> np.uint64(i)) & np.uint64(1):
            n += 1
            twice_m += popcount(state & nbr[i])
    return n, twice_m // 2


@njit(cache=True, parallel=True, nogil=True)
def count_nm(nbr, n_low, first_chunk, n_chunks, n_edges):
    """Count states by (active nodes n, active edges m) for unit-weight graphs.

    Parameters
    ----------
    nbr : uint64[N]
        Neighbour bit mask of each node.
    n_low : int
        Number of low bits enumerated inside each chunk.
    first_chunk, n_chunks : int
        Chunks ``first_chunk .. first_chunk + n_chunks - 1`` are enumerated; chunk
        ``c`` fixes the high bits of the state to ``c``.
    n_edges : int
        Number of edges M.

    Returns
    -------
    int64[N + 1, M + 1]
        ``counts[n, m]`` summed over the chunks.
    """
    n_nodes = nbr.shape[0]
    width = n_edges + 1
    partial = np.zeros((n_chunks, (n_nodes + 1) * width), dtype=np.int64)
    n_steps = np.uint64(1) << np.uint64(n_low)
    for c in prange(n_chunks):
        hist = partial[c]
        state = np.uint64(first_chunk + c) << np.uint64(n_low)
        n, m = _initial_nm(state, nbr)
        hist[n * width + m] += 1
        for k in range(np.uint64(1), n_steps):
            i = trailing_zeros(k)
            state ^= np.uint64(1) << i
            d = np.int64(popcount(state & nbr[i]))
            if (state >> i) & np.uint64(1):
                n += 1
                m += d
            else:
                n -= 1
                m -= d
            hist[n * width + m] += 1
    return partial.sum(axis=0).reshape(n_nodes + 1, width)


# Reassociation lets LLVM vectorise the block reductions; no NaN or inf reaches them.
_REDUCE_FLAGS = {"reassoc", "contract", "nsz", "arcp"}


@njit(cache=True, nogil=True, fastmath=_REDUCE_FLAGS)
def _block_moments(a, q, n, high_state, n_block, w, eps, track_nodes, out, node_out):
    """Reduce one block of states to per-point moments and merge them into ``out``."""
    n_points = a.shape[0]
    n_nodes = node_out.shape[1]
    n_used = q.shape[0]
    energy = np.empty(n_used)
    x = np.empty(n_used)
    weights = np.empty(n_used)
    bits = np.empty(n_used, dtype=np.int64)
    for p in range(n_points):
        # Boltzmann factors relative to the block's largest one.
        top = -np.inf
        for b in range(n_used):
            energy[b] = a[p, b] - w[p] * q[b]
            x[b] = -eps[p] * energy[b]
            top = max(top, x[b])
        for b in range(n_used):
            x[b] -= top
        exp_nonpositive(x, weights, bits)

        # Weighted means, then the variance about the mean (two passes, stable).
        total = 0.0
        mean_e = 0.0
        mean_n = 0.0
        mean_q = 0.0
        for b in range(n_used):
            total += weights[b]
            mean_e += weights[b] * energy[b]
            mean_n += weights[b] * n[b]
            mean_q += weights[b] * q[b]
        mean_e /= total
        mean_n /= total
        mean_q /= total
        var_e = 0.0
        for b in range(n_used):
            dev = energy[b] - mean_e
            var_e += weights[b] * dev * dev
        var_e /= total
        log_w = top + np.log(total)
        frac_new = _merge_into(out[p], log_w, mean_e, var_e, mean_n, mean_q)

        # Per-node activity, from the bits of each state.
        if track_nodes:
            for i in range(n_nodes):
                if i < n_block:
                    acc = 0.0
                    for b in range(n_used):
                        acc += weights[b] * ((b >> i) & 1)
                    share = acc / total
                else:
                    share = float((high_state >> np.uint64(i)) & np.uint64(1))
                node_out[p, i] += frac_new * (share - node_out[p, i])


@njit(cache=True, nogil=True)
def _merge_into(rec, log_w, mean_e, var_e, mean_n, mean_q):
    """Merge one block's moments into a record; return the new block's weight share."""
    if rec[LOG_W] == -np.inf:
        rec[LOG_W] = log_w
        rec[MEAN_E] = mean_e
        rec[VAR_E] = var_e
        rec[MEAN_N] = mean_n
        rec[MEAN_Q] = mean_q
        return 1.0
    hi = max(rec[LOG_W], log_w)
    s_old = np.exp(rec[LOG_W] - hi)
    s_new = np.exp(log_w - hi)
    log_total = hi + np.log(s_old + s_new)
    f_old = np.exp(rec[LOG_W] - log_total)
    f_new = np.exp(log_w - log_total)
    delta = mean_e - rec[MEAN_E]
    rec[VAR_E] = f_old * rec[VAR_E] + f_new * var_e + f_old * f_new * delta * delta
    rec[MEAN_E] = f_old * rec[MEAN_E] + f_new * mean_e
    rec[MEAN_N] = f_old * rec[MEAN_N] + f_new * mean_n
    rec[MEAN_Q] = f_old * rec[MEAN_Q] + f_new * mean_q
    rec[LOG_W] = log_total
    return f_new


@njit(cache=True, nogil=True)
def _low_tables(indptr, indices, data, half_theta, n_block):
    """Coupling, activity and threshold terms of every state of the lowest block bits."""
    n_points = half_theta.shape[0]
    size = np.int64(1) << n_block
    q_low = np.zeros(size)
    n_low = np.zeros(size)
    a_low = np.zeros((n_points, size))
    for b in range(1, size):
        i = trailing_zeros(np.uint64(b))
        rest = b & (b - 1)
        # Adding node i to state `rest`: its couplings to the active low nodes.
        coupling = 0.0
        for k in range(indptr[i], indptr[i + 1]):
            j = indices[k]
            if j < n_block and (rest >> j) & 1:
                coupling += data[k]
        q_low[b] = q_low[rest] + coupling
        n_low[b] = n_low[rest] + 1
        for p in range(n_points):
            a_low[p, b] = a_low[p, rest] + half_theta[p, i]
    return q_low, n_low, a_low


@njit(cache=True, parallel=True, nogil=True)
def weighted_moments(indptr, indices, data, half_theta, w, eps, n_low, first_chunk,
                     n_chunks, track_nodes):
    r"""Exact Boltzmann moments over every state of a weighted graph.

    The lowest ``min(n_low, 11)`` bits form a block whose coupling, activity and
    threshold terms come from tables built once; the block's couplings to the higher
    bits are a subset sum built with one addition per state. The bits between the
    block and the chunk's fixed bits run through a Gray code, one flip per block.

    Parameters
    ----------
    indptr, indices, data : int64[N+1], int64[nnz], float64[nnz]
        Symmetric CSR weights :math:`C`.
    half_theta : float64[P, N]
        :math:`\theta_i / 2` for each of the P parameter points.
    w, eps : float64[P]
        Coupling and inverse temperature of each point.
    n_low, first_chunk, n_chunks : int
        As in :func:`count_nm`.
    track_nodes : bool
        Also accumulate the per-node activity :math:`\langle S_i \rangle`.

    Returns
    -------
    moments : float64[n_chunks, P, 5]
        Per chunk and point: log of the summed weight, mean and variance of H, mean
        active count n and mean coupling term q.
    node_activity : float64[n_chunks, P, N]
        Per-node activity (zeros unless ``track_nodes``).
    """
    n_nodes = indptr.shape[0] - 1
    n_points = half_theta.shape[0]
    n_block = min(n_low, 11)
    size = np.int64(1) << n_block
    n_mid_steps = np.int64(1) << (n_low - n_block)
    q_low, n_act_low, a_low = _low_tables(indptr, indices, data, half_theta, n_block)
    moments = np.full((n_chunks, n_points, N_MOMENTS), -np.inf)
    nodes = np.zeros((n_chunks, n_points, n_nodes if track_nodes else 1))
    for c in prange(n_chunks):
        a = np.empty((n_points, size))
        q = np.empty(size)
        n = np.empty(size)
        cross = np.empty(size)
        high_field = np.zeros(n_nodes)
        a_high = np.zeros(n_points)
        state = np.uint64(first_chunk + c) << np.uint64(n_low)

        # Fields from the active high nodes, and the high part of n, q and theta.
        n_high = 0
        for i in range(n_block, n_nodes):
            if (state >> np.uint64(i)) & np.uint64(1):
                n_high += 1
                for p in range(n_points):
                    a_high[p] += half_theta[p, i]
                for k in range(indptr[i], indptr[i + 1]):
                    high_field[indices[k]] += data[k]
        q_high = 0.0
        for i in range(n_block, n_nodes):
            if (state >> np.uint64(i)) & np.uint64(1):
                q_high += 0.5 * high_field[i]

        for step in range(n_mid_steps):
            if step > 0:
                i = trailing_zeros(np.uint64(step)) + np.uint64(n_block)
                state ^= np.uint64(1) << i
                sign = 1.0 if (state >> i) & np.uint64(1) else -1.0
                n_high += 1 if sign > 0 else -1
                q_high += sign * high_field[i]
                for p in range(n_points):
                    a_high[p] += sign * half_theta[p, i]
                for k in range(indptr[i], indptr[i + 1]):
                    high_field[indices[k]] += sign * data[k]

            # Every state of the block: tables plus the couplings to the high nodes.
            cross[0] = 0.0
            for b in range(1, size):
                cross[b] = cross[b & (b - 1)] + high_field[trailing_zeros(np.uint64(b))]
            for b in range(size):
                q[b] = q_high + q_low[b] + cross[b]
                n[b] = n_high + n_act_low[b]
            for p in range(n_points):
                for b in range(size):
                    a[p, b] = a_high[p] + a_low[p, b]
            _block_moments(a, q, n, state, n_block, w, eps, track_nodes,
                           moments[c], nodes[c])
    return moments, nodes


def merge_moments(moments, nodes):
    """Merge per-chunk records from :func:`weighted_moments` over their first axis.

    Parameters
    ----------
    moments : float64[K, P, 5]
    nodes : float64[K, P, N']

    Returns
    -------
    moments : float64[P, 5]
    nodes : float64[P, N']
    """
    log_w = moments[..., LOG_W]
    log_total = np.logaddexp.reduce(log_w, axis=0)
    frac = np.exp(log_w - log_total)
    mean_e = np.sum(frac * moments[..., MEAN_E], axis=0)
    dev = moments[..., MEAN_E] - mean_e
    var_e = np.sum(frac * (moments[..., VAR_E] + dev * dev), axis=0)
    out = np.empty(moments.shape[1:])
    out[:, LOG_W] = log_total
    out[:, MEAN_E] = mean_e
    out[:, VAR_E] = var_e
    out[:, MEAN_N] = np.sum(frac * moments[..., MEAN_N], axis=0)
    out[:, MEAN_Q] = np.sum(frac * moments[..., MEAN_Q], axis=0)
    return out, np.sum(frac[..., None] * nodes, axis=0)

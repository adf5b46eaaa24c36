r"""Single-spin-flip sweep kernels with replica exchange, over CSR couplings.

Every run is a set of ``K`` independent chains; each chain holds ``R`` walkers (spin
configurations) sitting on the ``R`` points ("slots") of a parameter ladder, with
``R = 1`` for plain sampling. Walkers are updated one sweep at a time; after every
``swap_every`` sweeps neighbouring slots propose to exchange their walkers. Chains run
in parallel (``prange``); all randomness of a walker comes from its own xoshiro256**
state and all swap decisions of a chain from the chain's own state, so the numbers do
not depend on the number of threads.

An update of node :math:`i` draws its new value from :math:`P(S_i' = 1 \mid S_i, h_i)`:

.. math::

    \text{Glauber:}\quad \frac{1}{1 + e^{-\epsilon h_i}}, \qquad
    \text{Metropolis:}\quad
    \begin{cases} \min(1, e^{\epsilon h_i}) & S_i = 0 \\
                  1 - \min(1, e^{-\epsilon h_i}) & S_i = 1 \end{cases}

with :math:`h_i = W \sum_j C_{ij} S_j - \theta_i / 2`. For unit weights and a uniform
threshold the field only depends on the number :math:`m` of active neighbours, and
the probabilities are tabulated per slot as 64-bit integer thresholds
``table[slot, S_i, m]``; each walker's counts :math:`m` are kept up to date as nodes
change, so the update is one count, one random word and one integer comparison.
Changes of :math:`n = \sum_i S_i`, :math:`q = \sum_{i<j} C_{ij} S_i S_j` and
:math:`t = \sum_i \theta_i S_i` are accumulated as nodes change, so
:math:`H = t/2 - W q` is never recomputed from scratch.

Replica exchange between slots :math:`a` and :math:`b = a + 1` holding walkers
:math:`x` and :math:`y` is accepted with probability :math:`\min(1, e^{\Delta})`,

.. math::

    \Delta = \epsilon_a \left[H_a(x) - H_a(y)\right]
           + \epsilon_b \left[H_b(y) - H_b(x)\right],

alternating even and odd pairs (deterministic even-odd scheme), see Hukushima and
Nemoto, J. Phys. Soc. Jpn. 65, 1604 (1996), doi:10.1143/JPSJ.65.1604.
"""

import numpy as np
from numba import njit, prange

from .rng import below, next_u64, uniform

__all__ = [
    "GLAUBER",
    "METROPOLIS",
    "RANDOM_SCAN",
    "SYSTEMATIC",
    "active_counts",
    "probability_on",
    "run_segment",
]

GLAUBER = 0
METROPOLIS = 1
SYSTEMATIC = 0
RANDOM_SCAN = 1


@njit(cache=True, inline="always")
def probability_on(sampler, s_i, h, eps):
    """Probability that node ``i`` is 1 after its update (current value ``s_i``)."""
    if sampler == GLAUBER:
        return 1.0 / (1.0 + np.exp(-eps * h))
    if s_i == 0:
        x = eps * h
        return 1.0 if x >= 0.0 else np.exp(x)
    x = -eps * h
    return 0.0 if x >= 0.0 else -np.expm1(x)


@njit(cache=True)
def active_counts(indptr, indices, spins, active):
    """Write the number of active neighbours of every node of ``spins`` into ``active``."""
    for i in range(spins.shape[0]):
        total = 0
        for k in range(indptr[i], indptr[i + 1]):
            total += spins[indices[k]]
        active[i] = total


@njit(cache=True, inline="always")
def _sweep_table(spins, active, state, indptr, indices, table, order):
    """One sweep with tabulated integer thresholds; returns (dn, dm).

    ``active`` holds each node's number of active neighbours and is updated when a
    node changes, so an update reads one count instead of its neighbours' spins.
    """
    n_nodes = spins.shape[0]
    dn = 0
    dm = 0
    for step in range(n_nodes):
        i = step if order == SYSTEMATIC else below(state, n_nodes)
        m = active[i]
        s_i = spins[i]
        new = np.int8(next_u64(state) < table[s_i, m])
        if new != s_i:
            spins[i] = new
            d = np.int64(new) - np.int64(s_i)
            dn += d
            dm += d * m
            for k in range(indptr[i], indptr[i + 1]):
                active[indices[k]] += d
    return dn, dm


@njit(cache=True, inline="always")
def _sweep_field(spins, state, indptr, indices, data, theta, w, eps, sampler, order):
    """One sweep computing the local field in floating point; returns (dn, dq, dt)."""
    n_nodes = spins.shape[0]
    dn = 0
    dq = 0.0
    dt = 0.0
    for step in range(n_nodes):
        i = step if order == SYSTEMATIC else below(state, n_nodes)
        f = 0.0
        for k in range(indptr[i], indptr[i + 1]):
            f += data[k] * spins[indices[k]]
        s_i = spins[i]
        p = probability_on(sampler, s_i, w * f - 0.5 * theta[i], eps)
        new = np.int8(uniform(state) < p)
        spins[i] = new
        d = np.int64(new) - np.int64(s_i)
        dn += d
        dq += d * f
        dt += d * theta[i]
    return dn, dq, dt


@njit(cache=True, inline="always")
def _try_swaps(c, parity, w, eps, slot_walker, coupling, theta_on, swap_state,
               swap_attempts, swap_accepts):
    """Replica-exchange proposals between slot pairs (a, a+1), a = parity, parity+2..."""
    n_slots = w.shape[0]
    for a in range(parity, n_slots - 1, 2):
        b = a + 1
        x = slot_walker[c, a]
        y = slot_walker[c, b]
        h_ax = 0.5 * theta_on[c, x] - w[a] * coupling[c, x]
        h_ay = 0.5 * theta_on[c, y] - w[a] * coupling[c, y]
        h_bx = 0.5 * theta_on[c, x] - w[b] * coupling[c, x]
        h_by = 0.5 * theta_on[c, y] - w[b] * coupling[c, y]
        delta = eps[a] * (h_ax - h_ay) + eps[b] * (h_by - h_bx)
        swap_attempts[c, a] += 1
        if delta >= 0.0 or uniform(swap_state[c]) < np.exp(delta):
            slot_walker[c, a] = y
            slot_walker[c, b] = x
            swap_accepts[c, a] += 1


@njit(cache=True, inline="always")
def _track_round_trips(c, slot_walker, walker_end, round_trips):
    """Count returns to the bottom slot of walkers that reached the top since."""
    n_slots = slot_walker.shape[1]
    bottom = slot_walker[c, 0]
    top = slot_walker[c, n_slots - 1]
    if walker_end[c, top] == 0:
        walker_end[c, top] = 1
    if walker_end[c, bottom] == 1:
        round_trips[c] += 1
    walker_end[c, bottom] = 0


@njit(cache=True)
def walker_totals(indptr, indices, data, theta, spins):
    r"""Return :math:`n`, :math:`q` and :math:`\sum_i \theta_i S_i` of one configuration."""
    n_nodes = spins.shape[0]
    n_on = 0
    coupling = 0.0
    theta_on = 0.0
    for i in range(n_nodes):
        if spins[i]:
            n_on += 1
            theta_on += theta[i]
            for k in range(indptr[i], indptr[i + 1]):
                j = indices[k]
                if j > i and spins[j]:
                    coupling += data[k]
    return n_on, coupling, theta_on


@njit(cache=True, parallel=True)
def run_segment(indptr, indices, data, theta, w, eps, table, use_table, sampler,
                order, spins, states, swap_state, slot_walker, n_on, coupling,
                theta_on, walker_end, round_trips, swap_attempts, swap_accepts,
                n_sweeps, sweep_offset, swap_every, thin, record, draw_offset,
                out_energy, out_activity, out_coupling, node_sum, n_draws_total):
    r"""Advance every chain by ``n_sweeps`` sweeps of all its walkers, in place.

    Parameters
    ----------
    indptr : int64[N + 1]
    indices : int32[nnz]
    data : float64[nnz]
        Symmetric CSR couplings :math:`C` (both directions stored).
    theta : float64[N]
    w, eps : float64[R]
        Coupling and inverse temperature of each slot.
    table : uint64[R, 2, M]
        Thresholds :math:`\lfloor 2^{64} P(S_i'=1 \mid S_i, m) \rfloor`, used when
        ``use_table``; ``M`` is the largest degree plus one.
    use_table : bool
    sampler, order : int
        ``GLAUBER`` or ``METROPOLIS``; ``SYSTEMATIC`` or ``RANDOM_SCAN``.
    spins : int8[K, R, N]
        Configurations, indexed by walker.
    states : uint64[K, R, 4]
        RNG state of each walker.
    swap_state : uint64[K, 4]
        RNG state of each chain's swap decisions.
    slot_walker : int64[K, R]
        Which walker sits on each slot.
    n_on, coupling, theta_on : int64[K, R], float64[K, R], float64[K, R]
        Per walker: :math:`n`, :math:`q` and :math:`\sum_i \theta_i S_i`.
    walker_end : int8[K, R]
        Per walker: -1 before reaching the bottom slot, 0 after the bottom, 1 after
        the bottom and then the top.
    round_trips : int64[K]
    swap_attempts, swap_accepts : int64[K, R - 1]
    n_sweeps, sweep_offset : int
        Sweeps to run, and sweeps already run in this phase (for thinning and swap
        parity).
    swap_every : int
        Sweeps between swap rounds; 0 disables swaps.
    thin : int
        Record every ``thin``-th sweep.
    record : bool
        Record draws (production) or not (burn-in).
    draw_offset : int
        Index of the first draw written by this call.
    out_energy, out_activity, out_coupling : float64[K, R, D], int64[K, R, D],
        float64[K, R, D]
        Recorded :math:`H`, :math:`n`, :math:`q` per chain, slot and draw.
    node_sum : int32[K, R, B, N] or int32[K, R, 0, 0]
        Per-batch sums of :math:`S_i` at recorded draws (``B`` batches).
    n_draws_total : int
        Planned number of draws, which sets the batch of each draw.
    """
    n_chains = spins.shape[0]
    n_slots = spins.shape[1]
    n_batches = node_sum.shape[2]
    for c in prange(n_chains):
        draw = draw_offset
        # Active-neighbour counts of each walker (tabulated updates only): exact
        # integers, rebuilt from the spins at every call.
        active = np.zeros((n_slots if use_table else 0, spins.shape[2]), dtype=np.int32)
        for x in range(active.shape[0]):
            active_counts(indptr, indices, spins[c, x], active[x])
        for sweep in range(sweep_offset, sweep_offset + n_sweeps):
            for p in range(n_slots):
                x = slot_walker[c, p]
                if use_table:
                    dn, dm = _sweep_table(spins[c, x], active[x], states[c, x], indptr,
                                          indices, table[p], order)
                    n_on[c, x] += dn
                    coupling[c, x] += dm
                    theta_on[c, x] += dn * theta[0]
                else:
                    dn, dq, dt = _sweep_field(spins[c, x], states[c, x], indptr,
                                              indices, data, theta, w[p], eps[p],
                                              sampler, order)
                    n_on[c, x] += dn
                    coupling[c, x] += dq
                    theta_on[c, x] += dt

            if n_slots > 1 and swap_every > 0 and (sweep + 1) % swap_every == 0:
                parity = ((sweep + 1) // swap_every) % 2
                _try_swaps(c, parity, w, eps, slot_walker, coupling, theta_on,
                           swap_state, swap_attempts, swap_accepts)
                _track_round_trips(c, slot_walker, walker_end, round_trips)

            if record and (sweep + 1) % thin == 0:
                for p in range(n_slots):
                    x = slot_walker[c, p]
                    # Recorded values are exact functions of the state: floating-point
                    # drift of the running sums would break ties between equal
                    # states (which spoils rank-based diagnostics).
                    if use_table:
                        theta_on[c, x] = n_on[c, x] * theta[0]
                    else:
                        n_on[c, x], coupling[c, x], theta_on[c, x] = walker_totals(
                            indptr, indices, data, theta, spins[c, x])
                    out_energy[c, p, draw] = (0.5 * theta_on[c, x]
                                              - w[p] * coupling[c, x])
                    out_activity[c, p, draw] = n_on[c, x]
                    out_coupling[c, p, draw] = coupling[c, x]
                    if n_batches > 0:
                        b = min(draw * n_batches // n_draws_total, n_batches - 1)
                        row = node_sum[c, p, b]
                        s = spins[c, x]
                        for i in range(s.shape[0]):
                            row[i] += s[i]
                draw += 1

r"""Walks on the energy that serve Wang-Landau, apart from the walkers themselves.

:func:`anneal_extreme` finds the lowest or highest energy of a network (the range of
the bins), :func:`walk_into` moves a state into an energy window (the start of a
windowed walker), and :func:`run_multicanonical` samples with frozen weights
:math:`1/g` (the production run whose samples are reweighted exactly). The energy is
:math:`H = \sum_i \theta_i S_i / 2 - W \sum_{i<j} C_{ij} S_i S_j` throughout.
"""

import numpy as np
from numba import njit, prange

from .chains import walker_totals
from .rng import below, uniform

__all__ = ["anneal_extreme", "node_field", "run_multicanonical", "walk_into"]


@njit(cache=True, inline="always")
def node_field(indptr, indices, data, theta_half, w, spins, node):
    r"""Local field :math:`h_i = W \sum_j C_{ij} S_j - \theta_i / 2` of ``node``."""
    total = 0.0
    for p in range(indptr[node], indptr[node + 1]):
        total += data[p] * spins[indices[p]]
    return w * total - theta_half[node]


@njit(cache=True, inline="always")
def _flip_delta(indptr, indices, data, theta_half, w, spins, node):
    """Energy change of flipping ``node``: minus its local field (0 to 1), plus (1 to 0)."""
    field = node_field(indptr, indices, data, theta_half, w, spins, node)
    return -field if spins[node] == 0 else field


@njit(cache=True, parallel=True)
def run_multicanonical(indptr, indices, data, theta_half, w, e_min, inv_width, log_g,
                       spins, energy, rng, n_samples, thin, out_energy, out_n, out_q):
    r"""Sample with frozen weights :math:`1/g(\ell)` and record exact observables.

    Parameters
    ----------
    log_g : float64[K, L]
        Frozen :math:`\log g` per walker (``-inf`` is never entered).
    spins, energy, rng : as in :func:`run_binned` (updated).
    n_samples, thin : int
        Samples per walker, and trials between two samples.
    out_energy, out_n, out_q : float64[K, n_samples]
        Exact energy, number of active nodes and coupling sum of each sample.
    """
    for k in prange(spins.shape[0]):
        s = spins[k]
        st = rng[k]
        g = log_g[k]
        n_nodes = s.shape[0]
        e_cur = energy[k, 0]
        cur = np.int64(np.floor((e_cur - e_min) * inv_width))
        for j in range(n_samples):
            for _ in range(thin):
                node = below(st, n_nodes)
                e_new = e_cur + _flip_delta(indptr, indices, data, theta_half, w, s, node)
                new = np.int64(np.floor((e_new - e_min) * inv_width))
                if 0 <= new < g.shape[0] and np.isfinite(g[new]):
                    delta = g[cur] - g[new]
                    if delta >= 0.0 or uniform(st) < np.exp(delta):
                        s[node] = 1 - s[node]
                        cur = new
                        e_cur = e_new
            # Recompute the sample's energy exactly (no drift from the increments).
            n_active, q, half = walker_totals(indptr, indices, data, theta_half, s)
            e_cur = half - w * q
            cur = min(max(np.int64(np.floor((e_cur - e_min) * inv_width)), 0),
                      g.shape[0] - 1)
            out_energy[k, j] = e_cur
            out_n[k, j] = n_active
            out_q[k, j] = q
        energy[k, 0] = e_cur


@njit(cache=True, inline="always")
def _energy(indptr, indices, data, theta_half, w, spins):
    r"""Energy :math:`\sum_i \theta_i S_i / 2 - W \sum_{i<j} C_{ij} S_i S_j` of a state."""
    energy = 0.0
    for i in range(spins.shape[0]):
        if spins[i]:
            energy += theta_half[i]
            for p in range(indptr[i], indptr[i + 1]):
                if indices[p] > i and spins[indices[p]]:
                    energy -= w * data[p]
    return energy


@njit(cache=True)
def anneal_extreme(indptr, indices, data, theta_half, w, sign, spins, rng, n_sweeps,
                   beta_max):
    r"""Lowest (``sign=1``) or highest (``sign=-1``) energy found by annealing.

    Metropolis on :math:`\mathrm{sign}\cdot H` with the inverse temperature rising
    geometrically from :math:`10^{-2}` to ``beta_max`` over ``n_sweeps`` sweeps, then
    greedy single flips until none lowers :math:`\mathrm{sign}\cdot H`.

    Parameters
    ----------
    spins : int8[N]
        Start state (updated to the final state).
    rng : uint64[4]
        xoshiro256** state (updated).

    Returns
    -------
    float
        The energy :math:`H` of the final state.
    """
    n_nodes = spins.shape[0]
    energy = _energy(indptr, indices, data, theta_half, w, spins)
    ratio = (beta_max / 1e-2) ** (1.0 / max(n_sweeps - 1, 1))
    beta = 1e-2
    improved = True
    sweep = 0
    while sweep < n_sweeps or improved:
        improved = False
        for _ in range(n_nodes):
            node = below(rng, n_nodes)
            delta = _flip_delta(indptr, indices, data, theta_half, w, spins, node)
            change = sign * delta
            greedy = sweep >= n_sweeps
            if change < 0.0 or (not greedy and uniform(rng) < np.exp(-beta * change)):
                spins[node] = 1 - spins[node]
                energy += delta
                if change < 0.0:
                    improved = True
        if sweep < n_sweeps:
            improved = True
        beta *= ratio
        sweep += 1
        if sweep > n_sweeps + 100 * n_nodes:
            break
    return energy


@njit(cache=True)
def walk_into(indptr, indices, data, theta_half, w, e_lo, e_hi, spins, rng,
              max_sweeps):
    r"""Move a state into the energy window :math:`[e_{lo}, e_{hi}]`.

    Single flips that do not increase the distance of :math:`H` to the window are
    accepted, others with probability 1/20 (to leave local minima of the distance),
    until the state lies inside or ``max_sweeps`` sweeps have passed.

    Parameters
    ----------
    indptr, indices, data, theta_half, w :
        The energy :math:`H = \sum_i \theta_i S_i / 2 - W \sum_{i<j} C_{ij} S_i S_j`
        (a lattice of levels uses the same form, see
        :mod:`mcising.wl_windows`).
    e_lo, e_hi : float
        The window.
    spins : int8[N]
        Start state (updated).
    rng : uint64[4]
        xoshiro256** state (updated).
    max_sweeps : int

    Returns
    -------
    bool
        True when the final state lies inside the window.
    """
    n_nodes = spins.shape[0]
    energy = _energy(indptr, indices, data, theta_half, w, spins)
    for _ in range(max_sweeps * n_nodes):
        distance = max(e_lo - energy, energy - e_hi, 0.0)
        if distance == 0.0:
            return True
        node = below(rng, n_nodes)
        e_new = energy + _flip_delta(indptr, indices, data, theta_half, w, spins, node)
        if max(e_lo - e_new, e_new - e_hi, 0.0) <= distance or uniform(rng) < 0.05:
            spins[node] = 1 - spins[node]
            energy = e_new
    return max(e_lo - energy, energy - e_hi, 0.0) == 0.0

"""Brute-force references for the tests: every state listed explicitly with numpy.

Independent of mcising's kernels: energies come straight from the definition
H = (1/2) theta.S - (W/2) S.C.S, with a dense C.
"""

import itertools

import numpy as np
from scipy.special import logsumexp


def all_states(n_nodes):
    """All 2^N states as a (2^N, N) float array."""
    return np.array(list(itertools.product((0.0, 1.0), repeat=n_nodes)))


def brute_force(c, theta, w, eps):
    """Exact thermodynamics of the dense coupling matrix ``c`` by listing all states."""
    c = np.asarray(c, dtype=float)
    n = c.shape[0]
    s = all_states(n)
    theta = np.broadcast_to(np.asarray(theta, dtype=float), (n,))
    q = np.einsum("si,ij,sj->s", s, c, s) / 2
    energy = 0.5 * s @ theta - w * q
    log_weight = -eps * energy
    log_z = logsumexp(log_weight)
    p = np.exp(log_weight - log_z)
    mean_e = p @ energy
    return {
        "log_z": log_z,
        "mean_energy": mean_e,
        "heat_capacity": eps**2 * (p @ (energy - mean_e) ** 2),
        "entropy": -np.sum(p[p > 0] * np.log(p[p > 0])),
        "mean_activity": p @ s.sum(axis=1) / n,
        "mean_coupling": p @ q,
        "node_activity": p @ s,
    }

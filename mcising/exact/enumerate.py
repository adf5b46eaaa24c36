"""Exact thermodynamics by enumerating all 2^N states (Gray code, numba, all cores).

Two paths, both without materialising the states:

* unit weights and a uniform threshold: one enumeration counts :math:`g(n, m)`
  (:func:`density_of_states`), from which every parameter point follows;
* otherwise: one enumeration accumulates the Boltzmann moments of every requested
  point together (:func:`enumerate_points`).
"""

import logging
import os
import time

import numba
import numpy as np

from ..dos import DensityOfStates
from ..errors import InvalidInputError, TooExpensiveError
from ..kernels.enumerate import (
    LOG_W,
    MEAN_E,
    MEAN_N,
    MEAN_Q,
    VAR_E,
    count_nm,
    merge_moments,
    weighted_moments,
)
from ..params import points_for
from ..progress import progress_bar
from ..results import Estimate

__all__ = [
    "DEFAULT_MAX_NODES",
    "density_of_states",
    "enumerate_points",
    "predicted_seconds",
]

logger = logging.getLogger(__name__)

# Default size limit: 2^34 states take about a minute for g(n, m) on two cores.
# The environment variable MCISING_MAX_EXACT_NODES changes it.
DEFAULT_MAX_NODES = 34
# States are bit masks in 64-bit words.
_HARD_MAX_NODES = 62
# Bits enumerated inside one chunk, and states per kernel call (one progress step).
_CHUNK_BITS = 16
_MIN_CHUNK_BITS = 11
_STATES_PER_CALL = 1 << 27
# Measured single-thread costs in seconds per state (benchmarks/bench_exact.py).
_COST_COUNT = 2.8e-9
_COST_BASE = 1.0e-9
_COST_POINT = 3.8e-9
_COST_NODE = 0.5e-9
# Announce enumerations predicted to run longer than this (seconds).
_ANNOUNCE_SECONDS = 5.0


def max_nodes_limit(max_nodes=None):
    """Resolve the node limit: argument, then MCISING_MAX_EXACT_NODES, then default."""
    if max_nodes is None:
        env = os.environ.get("MCISING_MAX_EXACT_NODES")
        max_nodes = int(env) if env else DEFAULT_MAX_NODES
    if not 1 <= max_nodes <= _HARD_MAX_NODES:
        raise InvalidInputError(
            f"max_nodes must lie in 1..{_HARD_MAX_NODES}, got {max_nodes}"
        )
    return max_nodes


def predicted_seconds(n_nodes, n_points=1, *, counting=False, node_activity=False):
    """Predicted wall time of one enumeration on this machine's threads.

    Parameters
    ----------
    n_nodes : int
        N; the enumeration visits 2^N states.
    n_points : int
        Parameter points accumulated together (ignored when ``counting``).
    counting : bool
        The unit-weight g(n, m) count instead of weighted moments.
    node_activity : bool
        Per-node activity is accumulated too.

    Returns
    -------
    float
    """
    if counting:
        per_state = _COST_COUNT
    else:
        per_point = _COST_POINT + (n_nodes * _COST_NODE if node_activity else 0.0)
        per_state = _COST_BASE + n_points * per_point
    return 2.0**n_nodes * per_state / max(numba.get_num_threads(), 1)


def _check_size(model, max_nodes, seconds):
    limit = max_nodes_limit(max_nodes)
    if model.n_nodes > limit:
        raise TooExpensiveError(
            f"exact enumeration of N={model.n_nodes} nodes (2^{model.n_nodes} states) "
            f"exceeds the limit of {limit} nodes; use tensor-network contraction "
            "(method='exact', backend='contract'), exact on sparse graphs of any size, "
            "or an estimator (method 'ti', 'mbar' or 'wang-landau'); raise the limit "
            "with max_nodes= or MCISING_MAX_EXACT_NODES"
        )
    if seconds > _ANNOUNCE_SECONDS:
        logger.warning(
            "exact enumeration of 2^%d states: about %.0f s on %d threads",
            model.n_nodes, seconds, numba.get_num_threads(),
        )


def _chunking(n_nodes):
    """Bits inside a chunk, number of chunks, and chunks per kernel call."""
    # At least eight chunks once N allows, so that every thread has work.
    n_low = min(n_nodes, _CHUNK_BITS, max(n_nodes - 3, _MIN_CHUNK_BITS))
    n_chunks = 1 << (n_nodes - n_low)
    per_call = max(1, min(n_chunks, _STATES_PER_CALL >> n_low))
    return n_low, n_chunks, per_call


def _run_chunks(kernel, n_nodes, desc, progress, seconds):
    """Call ``kernel(n_low, first, count)`` over all chunks with a progress bar."""
    n_low, n_chunks, per_call = _chunking(n_nodes)
    outputs = []
    with progress_bar(n_chunks << n_low, desc, progress=progress,
                      expected_seconds=seconds, unit="state") as bar:
        for first in range(0, n_chunks, per_call):
            count = min(per_call, n_chunks - first)
            outputs.append(kernel(n_low, first, count))
            bar.update(count << n_low)
    return outputs


def _neighbour_masks(model):
    masks = np.zeros(model.n_nodes, dtype=np.uint64)
    i, j, _ = model.edges
    np.bitwise_or.at(masks, i, np.left_shift(np.uint64(1), j.astype(np.uint64)))
    np.bitwise_or.at(masks, j, np.left_shift(np.uint64(1), i.astype(np.uint64)))
    return masks


def density_of_states(model, *, max_nodes=None, progress=None):
    """Count the states of a unit-weight model by active nodes and active edges.

    Parameters
    ----------
    model : IsingModel
        Every edge weight must be 1 (thresholds and parameters do not matter).
    max_nodes : int, optional
        Size limit (default :data:`DEFAULT_MAX_NODES`).
    progress : bool or None
        Progress bar on stderr (``None``: only for long runs).

    Returns
    -------
    DensityOfStates
        Exact integer counts ``g[n, m]``; they sum to 2^N.

    Raises
    ------
    InvalidInputError
        If some edge weight is not 1.
    TooExpensiveError
        If N exceeds the size limit.
    """
    if not model.unit_weights:
        raise InvalidInputError(
            "g(n, m) needs unit edge weights; for weighted graphs use "
            "mcising.exact.solve, which handles any weights"
        )
    seconds = predicted_seconds(model.n_nodes, counting=True)
    _check_size(model, max_nodes, seconds)
    masks = _neighbour_masks(model)
    parts = _run_chunks(
        lambda n_low, first, count: count_nm(masks, n_low, first, count, model.n_edges),
        model.n_nodes, "g(n, m)", progress, seconds,
    )
    return DensityOfStates.from_counts(np.sum(parts, axis=0))


def enumerate_points(model, points=None, *, node_activity=False, max_nodes=None,
                     progress=None):
    r"""Exact thermodynamics of any model at many points from one enumeration.

    Parameters
    ----------
    model : IsingModel
    points : sequence of Point or (theta, w, eps), optional
        Default: the model's own parameters.
    node_activity : bool
        Also compute the per-node activity :math:`\langle S_i \rangle`.
    max_nodes : int, optional
        Size limit (default :data:`DEFAULT_MAX_NODES`).
    progress : bool or None
        Progress bar on stderr (``None``: only for long runs).

    Returns
    -------
    list of Estimate
    """
    points = points_for(model, points)
    seconds = predicted_seconds(model.n_nodes, len(points), node_activity=node_activity)
    _check_size(model, max_nodes, seconds)

    start = time.perf_counter()
    indptr, indices, data = model.csr
    half_theta = np.ascontiguousarray([p.theta / 2 for p in points], dtype=np.float64)
    w = np.array([p.w for p in points], dtype=np.float64)
    eps = np.array([p.eps for p in points], dtype=np.float64)
    parts = _run_chunks(
        lambda n_low, first, count: weighted_moments(
            indptr, indices, data, half_theta, w, eps, n_low, first, count,
            node_activity),
        model.n_nodes, "enumerate", progress, seconds,
    )
    moments, nodes = merge_moments(
        np.concatenate([m for m, _ in parts]), np.concatenate([n for _, n in parts])
    )
    elapsed = time.perf_counter() - start

    out = []
    for k, point in enumerate(points):
        rec = moments[k]
        theta = point.theta
        theta = float(theta[0]) if np.all(theta == theta[0]) else tuple(theta.tolist())
        fields = {
            "log_z": rec[LOG_W],
            "mean_energy": rec[MEAN_E],
            "heat_capacity": point.eps**2 * rec[VAR_E],
            "entropy": point.eps * rec[MEAN_E] + rec[LOG_W],
            "mean_activity": rec[MEAN_N] / model.n_nodes,
            "mean_coupling": rec[MEAN_Q],
        }
        fields.update({f"{name}_stderr": 0.0 for name in list(fields)})
        extra = {}
        if node_activity:
            extra = {"node_activity": nodes[k].copy(),
                     "node_activity_stderr": np.zeros(model.n_nodes)}
        out.append(Estimate(
            method="exact", n_nodes=model.n_nodes, n_edges=model.n_edges, theta=theta,
            w=point.w, eps=point.eps, seconds=elapsed / len(points),
            details={"exact_backend": "enumerate"}, **fields, **extra,
        ))
    return out

r"""Exact thermodynamics of rings, trees and complete graphs of any size.

These are the ground truth for the estimators on large networks.

* **Trees and forests** (paths included), any weights and thresholds: the partition
  function factorises along the tree, and messages passed from the leaves to a root
  sum it exactly (dynamic programming).
* **Rings** (cycles), any weights and thresholds: :math:`Z = \operatorname{Tr}
  \prod_k T_k` with the 2x2 transfer matrices
  :math:`T_k(s, s') = e^{-\epsilon\theta_k s/2}\, e^{\epsilon W C_{k,k+1} s s'}`;
  a uniform ring uses repeated squaring, so :math:`N = 10^6` costs 20 products.
* **Complete graphs** with one weight and one threshold: the energy depends only on
  the number :math:`n` of active nodes, so
  :math:`Z = \sum_n \binom{N}{n} e^{-\epsilon(\theta n/2 - W c\, n(n-1)/2)}`.

Moments come with the partition function, not from finite differences: every partial
sum is carried as a triple (log weight, mean, variance) of an additive observable
:math:`A` (the energy, the activity :math:`n` or the coupling term :math:`q`). Two
triples over disjoint variables multiply as (sum of logs, sum of means, sum of
variances); two alternative terms add as a mixture. This "moment semiring" is exact up
to rounding and never overflows.
"""

import networkx as nx
import numpy as np
from scipy.special import gammaln, logsumexp

from .errors import InvalidInputError
from .params import points_for
from .results import Estimate, Results

__all__ = ["closed_form", "complete_graph", "ring", "tree"]

_LOG, _MEAN, _VAR = 0, 1, 2


# -- the moment semiring ----------------------------------------------------------------


def _times(x, y):
    """Product of triples over disjoint variables (broadcasts over leading axes)."""
    return np.stack([x[..., _LOG] + y[..., _LOG], x[..., _MEAN] + y[..., _MEAN],
                     x[..., _VAR] + y[..., _VAR]], axis=-1)


def _plus(x, y):
    """Sum of alternative terms: a mixture of the two weighted distributions."""
    log = np.logaddexp(x[..., _LOG], y[..., _LOG])
    px = np.exp(x[..., _LOG] - log)
    py = np.exp(y[..., _LOG] - log)
    mean = px * x[..., _MEAN] + py * y[..., _MEAN]
    delta = x[..., _MEAN] - y[..., _MEAN]
    var = px * x[..., _VAR] + py * y[..., _VAR] + px * py * delta * delta
    return np.stack([log, mean, var], axis=-1)


def _factor(energy, observable, eps):
    """Triples of single Boltzmann factors: weight exp(-eps E), observable A, no spread."""
    energy, observable = np.broadcast_arrays(energy, observable)
    return np.stack([-eps * energy, observable, np.zeros_like(energy)], axis=-1)


def _matmul(a, b):
    """Product of 2x2 matrices of triples: (a b)[s, u] = plus over t of a[s, t] b[t, u]."""
    return _plus(_times(a[:, 0, None, :], b[None, 0, :, :]),
                 _times(a[:, 1, None, :], b[None, 1, :, :]))


# -- observables ------------------------------------------------------------------------

_S = np.array([0.0, 1.0])
_SS = np.outer(_S, _S)


def _estimate(n_nodes, n_edges, theta, w, eps, triples, seconds=0.0):
    """Build an Estimate from the (log Z, mean, var) triples of H, n and q."""
    energy, activity, coupling = triples
    log_z = energy[_LOG]
    fields = {
        "log_z": log_z,
        "mean_energy": energy[_MEAN],
        "heat_capacity": eps**2 * energy[_VAR],
        "entropy": eps * energy[_MEAN] + log_z,
        "mean_activity": activity[_MEAN] / n_nodes,
        "mean_coupling": coupling[_MEAN],
    }
    fields = {k: float(v) for k, v in fields.items()}
    fields.update({f"{k}_stderr": 0.0 for k in list(fields)})
    theta = np.asarray(theta, dtype=float)
    theta = float(theta.flat[0]) if np.all(theta == theta.flat[0]) else tuple(theta)
    return Estimate(method="closed-form", n_nodes=n_nodes, n_edges=n_edges, theta=theta,
                    w=float(w), eps=float(eps), seconds=seconds, **fields)


def _observables(model, theta, w, eps):
    """Node and edge triples for H, n and q: shapes (3, N, 2) and (3, E, 2, 2)."""
    i, j, c = model.edges
    nodes, edges = [], []
    for kind in ("energy", "activity", "coupling"):
        if kind == "energy":
            a_node = (theta / 2)[:, None] * _S
            a_edge = -(w * c)[:, None, None] * _SS
        elif kind == "activity":
            a_node = np.broadcast_to(_S, (model.n_nodes, 2))
            a_edge = np.zeros((len(c), 2, 2))
        else:
            a_node = np.zeros((model.n_nodes, 2))
            a_edge = c[:, None, None] * _SS
        nodes.append(_factor((theta / 2)[:, None] * _S, a_node, eps))
        edges.append(_factor(-(w * c)[:, None, None] * _SS, a_edge, eps))
    return nodes, edges


# -- trees ------------------------------------------------------------------------------


def tree(model, theta=None, w=None, eps=None):
    """Exact thermodynamics of a forest (every component a tree), any weights.

    Parameters
    ----------
    model : IsingModel
        Its graph must have no cycles.
    theta, w, eps : optional
        Override the model's parameters.

    Returns
    -------
    Estimate
        ``method="closed-form"``, zero standard errors.

    Raises
    ------
    InvalidInputError
        If the graph has a cycle.
    """
    model = model.with_params(theta=theta, w=w, eps=eps)
    graph = nx.Graph()
    graph.add_nodes_from(range(model.n_nodes))
    i_idx, j_idx, _ = model.edges
    graph.add_edges_from(zip(i_idx.tolist(), j_idx.tolist()))
    if not nx.is_forest(graph):
        raise InvalidInputError("tree() needs a graph without cycles; use ring() for "
                                "a cycle or the exact solver otherwise")
    edge_index = {(a, b): k for k, (a, b) in enumerate(zip(i_idx.tolist(),
                                                           j_idx.tolist()))}
    nodes, edges = _observables(model, model.theta, model.w, model.eps)
    results = []
    for node_t, edge_t in zip(nodes, edges):
        total = np.array([0.0, 0.0, 0.0])
        for component in nx.connected_components(graph):
            root = min(component)
            order = list(nx.dfs_preorder_nodes(graph, root))
            parent = dict(nx.dfs_predecessors(graph, root))
            message = {v: node_t[v].copy() for v in order}  # shape (2, 3) per node
            for v in reversed(order):
                if v == root:
                    continue
                u = parent[v]
                k = edge_index[(min(u, v), max(u, v))]
                pair = edge_t[k] if u < v else np.swapaxes(edge_t[k], 0, 1)
                # pair[s_u, s_v]: sum over s_v of pair * message_v(s_v).
                to_parent = _plus(_times(pair[:, 0], message[v][0]),
                                  _times(pair[:, 1], message[v][1]))
                message[u] = _times(message[u], to_parent)
            total = _times(total, _plus(message[root][0], message[root][1]))
        results.append(total)
    return _estimate(model.n_nodes, model.n_edges, model.theta, model.w, model.eps,
                     results)


# -- rings ------------------------------------------------------------------------------


def _cycle_order(model):
    """Node indices in the order met walking once around the cycle."""
    degree = np.diff(model.weights.indptr)
    if model.n_nodes < 3 or np.any(degree != 2):
        raise InvalidInputError("ring() needs a single cycle (every node of degree 2)")
    indptr, indices = model.weights.indptr, model.weights.indices
    order = [0]
    previous, current = -1, 0
    for _ in range(model.n_nodes - 1):
        a, b = indices[indptr[current]:indptr[current + 1]]
        previous, current = current, (b if a == previous else a)
        order.append(int(current))
    if len(set(order)) != model.n_nodes:
        raise InvalidInputError("ring() needs a single cycle, not several")
    return order


def _power(matrix, n):
    """Return matrix ** n in the semiring, by repeated squaring."""
    result = None
    base = matrix
    while n:
        if n & 1:
            result = base if result is None else _matmul(result, base)
        n >>= 1
        if n:
            base = _matmul(base, base)
    return result


def ring(model, theta=None, w=None, eps=None):
    """Exact thermodynamics of a cycle with any weights and thresholds.

    Parameters
    ----------
    model : IsingModel
        A single cycle of N >= 3 nodes.
    theta, w, eps : optional
        Override the model's parameters.

    Returns
    -------
    Estimate
    """
    model = model.with_params(theta=theta, w=w, eps=eps)
    order = _cycle_order(model)
    n = model.n_nodes
    weights = model.weights
    coupling = np.array([weights[order[k], order[(k + 1) % n]] for k in range(n)])
    theta_ring = model.theta[order]
    uniform = np.all(coupling == coupling[0]) and np.all(theta_ring == theta_ring[0])
    triples = []
    for kind in ("energy", "activity", "coupling"):
        def transfer(k, kind=kind):
            half = theta_ring[k] / 2
            c = coupling[k]
            energy = half * _S[:, None] - model.w * c * _SS
            if kind == "energy":
                obs = energy
            elif kind == "activity":
                obs = _S[:, None] + 0.0 * _SS
            else:
                obs = c * _SS
            return _factor(energy, obs, model.eps)

        if uniform:
            product = _power(transfer(0), n)
        else:
            product = transfer(0)
            for k in range(1, n):
                product = _matmul(product, transfer(k))
        triples.append(_plus(product[0, 0], product[1, 1]))
    return _estimate(n, model.n_edges, model.theta, model.w, model.eps, triples)


# -- complete graphs --------------------------------------------------------------------


def complete_graph(n_nodes, theta, w, eps, weight=1.0):
    """Exact thermodynamics of the complete graph with one weight and one threshold.

    Parameters
    ----------
    n_nodes : int
    theta, w, eps : float
    weight : float
        The common edge weight c.

    Returns
    -------
    Estimate
    """
    n = np.arange(n_nodes + 1, dtype=float)
    log_binom = gammaln(n_nodes + 1) - gammaln(n + 1) - gammaln(n_nodes - n + 1)
    q = weight * n * (n - 1) / 2
    energy = theta / 2 * n - w * q
    log_weight = log_binom - eps * energy
    log_z = logsumexp(log_weight)
    p = np.exp(log_weight - log_z)
    mean_e = p @ energy
    triples = [
        np.array([log_z, mean_e, p @ (energy - mean_e) ** 2]),
        np.array([log_z, p @ n, 0.0]),
        np.array([log_z, p @ q, 0.0]),
    ]
    return _estimate(n_nodes, n_nodes * (n_nodes - 1) // 2, theta, w, eps, triples)


# -- dispatch ---------------------------------------------------------------------------


def closed_form(model, points=None):
    """Closed-form thermodynamics of a forest, a cycle or a uniform complete graph.

    Parameters
    ----------
    model : IsingModel
    points : sequence of Point or (theta, w, eps), optional

    Returns
    -------
    Results

    Raises
    ------
    InvalidInputError
        If the graph is none of the three kinds.
    """
    points = points_for(model, points)
    _, _, c = model.edges
    n = model.n_nodes
    out = []
    for point in points:
        if model.n_edges < n and nx.is_forest(model.to_networkx()):
            out.append(tree(model, point.theta, point.w, point.eps))
            continue
        if model.n_edges == n and n >= 3:
            out.append(ring(model, point.theta, point.w, point.eps))
            continue
        uniform_theta = np.all(point.theta == point.theta[0])
        if model.n_edges == n * (n - 1) // 2 and uniform_theta and np.all(c == c[0]):
            out.append(complete_graph(n, float(point.theta[0]), point.w, point.eps,
                                      float(c[0])))
            continue
        raise InvalidInputError(
            "closed forms exist here for forests, cycles and complete graphs with one "
            "weight and one threshold; use mcising.exact.solve for other graphs"
        )
    return Results(out)


"""Validation cases: graphs, parameter points (regimes) and their exact values.

Small graphs (N from 8 to 20) are solved by exact enumeration; large rings, paths,
trees and complete graphs by the closed forms of :mod:`mcising.closed_forms`; large
sparse graphs by tensor contraction when :func:`mcising.exact.solve` offers the
``"contract"`` backend (those cases are skipped otherwise), and the 66-region human
connectome of the optional tvb-data package, at its entropy peak only, when that package
is installed (about a minute per exact point).

Each case is visited in up to five regimes, placed relative to the exact entropy peak
:math:`W^*` over W at :math:`\\epsilon = 1`:

========  =====================  ===================================================
regime    point                  what it tests
========  =====================  ===================================================
off       W = 0.4 W*, eps = 1    mostly inactive, fast mixing
peak      W = W*, eps = 1        the entropy peak: two competing modes (bimodal)
on        W = 1.6 W*, eps = 1    mostly active
low-eps   W = W*, eps = 0.3      high temperature, nearly independent nodes
high-eps  W = W*, eps = 2.5      low temperature at the peak: a strong barrier
========  =====================  ===================================================
"""

import dataclasses
import functools
import logging
import time

import networkx as nx
import numpy as np

import mcising
from mcising import IsingModel
from mcising.params import Point

__all__ = ["REGIMES", "Case", "build_cases", "case_names", "contract_available",
           "ground_truth"]

logger = logging.getLogger(__name__)

# Regime name -> (multiple of W*, eps).
REGIMES = {
    "off": (0.4, 1.0),
    "peak": (1.0, 1.0),
    "on": (1.6, 1.0),
    "low-eps": (1.0, 0.3),
    "high-eps": (1.0, 2.5),
}
# Largest N solved by enumeration in the suite (enumeration is exact to 34).
SMALL_MAX_NODES = 24
# W points of the search for the entropy peak, and of the golden-section search used
# where each exact point is expensive (the 66-region connectome: about a minute each).
_PEAK_GRID = 41
_PEAK_GOLDEN = 8


@dataclasses.dataclass(frozen=True)
class Case:
    """One network with its parameter points and exact values.

    Attributes
    ----------
    name : str
        Short identifier used in tables and on the command line.
    description : str
        What the graph is, in words.
    model : IsingModel
        The network; ``model.theta`` is the threshold of every point.
    regimes : tuple of str
        Regime name of each point (keys of :data:`REGIMES`).
    points : tuple of Point
        The parameter points, one per regime.
    truth : Results
        Exact values at every point.
    reference : str
        How the exact values were computed.
    w_peak : float
        W at the exact entropy peak for eps = 1.
    """

    name: str
    description: str
    model: IsingModel
    regimes: tuple
    points: tuple
    truth: object
    reference: str
    w_peak: float

    @property
    def n_nodes(self):
        """Number of nodes N."""
        return self.model.n_nodes

    def subset(self, regimes):
        """Return the case restricted to the given regimes (in the case's order)."""
        keep = [k for k, r in enumerate(self.regimes) if r in regimes]
        return dataclasses.replace(
            self, regimes=tuple(self.regimes[k] for k in keep),
            points=tuple(self.points[k] for k in keep),
            truth=mcising.Results([self.truth[k] for k in keep]))


def contract_available():
    """True when :func:`mcising.exact.solve` offers the ``"contract"`` backend."""
    from mcising import exact

    return "contract" in getattr(exact, "BACKENDS", ())


def ground_truth(model, points):
    """Exact values at ``points`` and the name of the method that gave them.

    Returns
    -------
    results : Results or None
        None when no exact method is affordable for this graph.
    reference : str
    """
    from mcising import closed_forms
    from mcising.exact import solve

    if model.n_nodes <= SMALL_MAX_NODES:
        return solve(model, points, progress=False), "enumeration"
    try:
        return closed_forms.closed_form(model, points), "closed form"
    except mcising.InvalidInputError:
        pass
    if contract_available():
        return (solve(model, points, backend="contract", progress=False),
                "tensor contraction")
    return None, "none"


def _entropy_peak(model, golden=False):
    """W of the exact entropy maximum at eps = 1 and the model's theta.

    A grid of :data:`_PEAK_GRID` points, or with ``golden`` a golden-section search of
    :data:`_PEAK_GOLDEN` exact points (the entropy is unimodal in W).
    """
    strength = np.abs(model.weights).sum(axis=1).mean()
    w_scale = abs(float(np.mean(model.theta))) / max(float(strength), 1e-12)
    low, high = np.array([0.05, 3.0]) * max(w_scale, 0.1)

    def entropies(w_values):
        truth, _ = ground_truth(model, [Point(model.theta, float(w), 1.0)
                                        for w in w_values])
        return None if truth is None else np.asarray(truth.entropy)

    if not golden:
        w_values = np.linspace(low, high, _PEAK_GRID)
        values = entropies(w_values)
        return None if values is None else float(w_values[int(np.argmax(values))])
    ratio = (np.sqrt(5.0) - 1.0) / 2.0
    a, b = low + (1 - ratio) * (high - low), low + ratio * (high - low)
    s_a, s_b = entropies([a, b])
    for _ in range(_PEAK_GOLDEN - 2):
        if s_a >= s_b:
            high, b, s_b = b, a, s_a
            a = low + (1 - ratio) * (high - low)
            s_a = entropies([a])[0]
        else:
            low, a, s_a = a, b, s_b
            b = low + ratio * (high - low)
            s_b = entropies([b])[0]
    return float(a if s_a >= s_b else b)


def _case(name, description, model, regimes=tuple(REGIMES), golden=False):
    start = time.perf_counter()
    w_peak = _entropy_peak(model, golden)
    if w_peak is None:
        logger.info("skipping %s: no exact method for it here", name)
        return None
    points = tuple(Point(model.theta, REGIMES[r][0] * w_peak, REGIMES[r][1])
                   for r in regimes)
    truth, reference = ground_truth(model, list(points))
    logger.info("case %s: N=%d, %s, W*=%.3f (%.1f s)", name, model.n_nodes, reference,
                w_peak, time.perf_counter() - start)
    return Case(name, description, model.with_params(w=w_peak, eps=1.0),
                tuple(regimes), points, truth, reference, w_peak)


def _weighted_graph(n, density, seed, *, signed):
    """Erdos-Renyi graph with lognormal (connectome-like) or signed normal weights."""
    rng = np.random.default_rng(seed)
    graph = nx.gnp_random_graph(n, density, seed=seed)
    for u, v in graph.edges:
        if signed:
            graph[u][v]["weight"] = float(rng.normal())
        else:
            graph[u][v]["weight"] = float(rng.lognormal(0.0, 1.0) / np.exp(0.5))
    return graph


def _disconnected():
    """A 3x3 grid, a ring of 6 and two isolated nodes (N = 17)."""
    graph = nx.disjoint_union(nx.grid_2d_graph(3, 3), nx.cycle_graph(6))
    graph.add_nodes_from(["a", "b"])
    return nx.convert_node_labels_to_integers(graph)


def _small_specs():
    """(name, description, model builder) of the small cases."""
    theta = 5.0
    rng = np.random.default_rng(7)
    hetero = rng.normal(theta, 1.5, size=16)
    return [
        ("grid4x4", "4x4 grid", lambda: mcising.load_model("grid_2d:4,4", theta)),
        ("ring12", "ring of 12", lambda: mcising.load_model("cycle:12", theta)),
        ("path10", "path of 10", lambda: mcising.load_model("path:10", theta)),
        ("complete10", "complete graph K10",
         lambda: mcising.load_model("complete:10", theta)),
        ("erdos_renyi18", "Erdos-Renyi G(18, 0.25)",
         lambda: mcising.load_model("erdos_renyi:18,0.25,seed=1", theta)),
        ("watts_strogatz18", "Watts-Strogatz (18, 4, 0.2)",
         lambda: mcising.load_model("watts_strogatz:18,4,0.2,seed=2", theta)),
        ("barabasi_albert18", "Barabasi-Albert (18, 2)",
         lambda: mcising.load_model("barabasi_albert:18,2,seed=3", theta)),
        ("lognormal20", "G(20, 0.3) with lognormal weights (connectome-like)",
         lambda: IsingModel.from_graph(_weighted_graph(20, 0.3, 4, signed=False),
                                       theta)),
        ("frustrated16", "G(16, 0.3) with normal weights of both signs",
         lambda: IsingModel.from_graph(_weighted_graph(16, 0.3, 5, signed=True),
                                       theta)),
        ("hetero_theta16", "4x4 grid, theta_i ~ Normal(5, 1.5)",
         lambda: mcising.load_model("grid_2d:4,4", hetero)),
        ("disconnected17", "3x3 grid + ring of 6 + 2 isolated nodes",
         lambda: IsingModel.from_graph(_disconnected(), theta)),
    ]


def _large_specs():
    """(name, description, model builder, regimes) of the large cases."""
    theta = 5.0
    three = ("off", "peak", "on")
    specs = [
        ("ring1000", "ring of 1000 (transfer matrix)",
         lambda: mcising.load_model("cycle:1000", theta), three),
        ("path500", "path of 500 (tree recursion)",
         lambda: mcising.load_model("path:500", theta), three),
        ("tree511", "binary tree of depth 8 (tree recursion)",
         lambda: mcising.load_model("balanced_tree:2,8", theta), three),
        ("complete200", "complete graph K200 (sum over n)",
         lambda: mcising.load_model("complete:200", theta), three),
    ]
    if contract_available():
        specs += [
            ("grid10x10", "10x10 grid (tensor contraction)",
             lambda: mcising.load_model("grid_2d:10,10", theta), three),
            ("regular3_100", "random 3-regular, N = 100 (tensor contraction)",
             lambda: mcising.load_model("random_regular:3,100,seed=1", theta), three),
        ]
        if _has_tvb_data():
            specs.append((
                "connectome66",
                "66-region human connectome, tvb-data (tensor contraction, ~1 min/point)",
                _connectome, ("peak",), True))
    return specs


def _has_tvb_data():
    try:
        import tvb_data  # noqa: F401
    except ImportError:
        return False
    return True


def _connectome():
    from mcising.datasets import tvb_connectome

    weights, labels = tvb_connectome()
    return IsingModel.from_matrix(weights, 5.0, symmetrize="mean", labels=labels)


@functools.cache
def _build(name):
    for spec in _small_specs():
        if spec[0] == name:
            return _case(spec[0], spec[1], spec[2]())
    for spec in _large_specs():
        if spec[0] == name:
            return _case(spec[0], spec[1], spec[2](), *spec[3:])
    raise KeyError(name)


def case_names(*, large=True):
    """Names of all cases, small first."""
    names = [s[0] for s in _small_specs()]
    if large:
        names += [s[0] for s in _large_specs()]
    return names


def build_cases(names=None, *, large=True, regimes=None):
    """Build the cases (exact values included), skipping those with no exact method.

    Parameters
    ----------
    names : sequence of str, optional
        Cases to build (default: all, see :func:`case_names`).
    large : bool
        Include the large cases when ``names`` is not given.
    regimes : sequence of str, optional
        Keep only these regimes.

    Returns
    -------
    list of Case
    """
    names = case_names(large=large) if names is None else list(names)
    unknown = set(names) - set(case_names())
    if unknown:
        raise ValueError(f"unknown case(s) {sorted(unknown)}; choose from "
                         f"{', '.join(case_names())}")
    cases = [c for c in (_build(n) for n in names) if c is not None]
    if regimes is not None:
        cases = [c.subset(regimes) for c in cases]
        cases = [c for c in cases if c.points]
    return cases

r"""The binary spin model on a network.

Each node :math:`i` carries a unit :math:`S_i \in \{0, 1\}`. With a symmetric weight
matrix :math:`C` (zero diagonal), thresholds :math:`\theta_i`, a global coupling
:math:`W` and an inverse temperature :math:`\epsilon`,

.. math::

    H(S) = \frac{1}{2}\sum_i \theta_i S_i - \frac{W}{2} \sum_{i,j} C_{ij} S_i S_j,
    \qquad P(S) = \frac{e^{-\epsilon H(S)}}{Z}.

The sum over :math:`i, j` counts each edge twice, so the coupling term is
:math:`-W q` with :math:`q = \sum_{i<j} C_{ij} S_i S_j`. Flipping node :math:`i` from 0
to 1 changes the energy by :math:`-h_i` with the local field

.. math::

    h_i = W \sum_j C_{ij} S_j - \frac{\theta_i}{2},

so the heat-bath (Glauber) rule, whose stationary law is exactly :math:`P`, switches
node :math:`i` on with probability :math:`1 / (1 + e^{-\epsilon h_i})`. The original
write-up of this model prints :math:`\theta` instead of :math:`\theta/2` in that rule,
which is inconsistent with its own :math:`H`: it samples the model with twice the
threshold. mcising keeps :math:`H` as the definition.
"""

import dataclasses
import functools
import hashlib
import numbers
import warnings

import networkx as nx
import numpy as np
import scipy.sparse as sp

from .errors import InputWarning, InvalidInputError

__all__ = ["IsingModel", "load_model"]

# Relative asymmetry below which a matrix counts as symmetric up to rounding.
SYMMETRY_RTOL = 1e-12

_SYMMETRIZE = {
    "mean": lambda c: (c + c.T) / 2,
    "max": lambda c: c.maximum(c.T),
    "min": lambda c: c.minimum(c.T),
    "upper": lambda c: sp.triu(c, 1) + sp.triu(c, 1).T,
    "lower": lambda c: sp.tril(c, -1) + sp.tril(c, -1).T,
}


def _finite_scalar(name, value, *, nonnegative=False):
    if not isinstance(value, numbers.Real) or isinstance(value, bool):
        raise InvalidInputError(f"{name} must be a real number, got {value!r}")
    value = float(value)
    if not np.isfinite(value):
        raise InvalidInputError(f"{name} must be finite, got {value}")
    if nonnegative and value < 0:
        raise InvalidInputError(
            f"{name} must be >= 0 (an inverse temperature), got {value}; a negative "
            "eps is the same as flipping the sign of theta and w"
        )
    return value


def _as_theta(theta, n_nodes):
    arr = np.asarray(theta, dtype=np.float64)
    if arr.ndim == 0:
        arr = np.full(n_nodes, float(arr))
    if arr.shape != (n_nodes,):
        raise InvalidInputError(
            f"theta must be a scalar or have one value per node ({n_nodes}); "
            f"got shape {arr.shape}"
        )
    if not np.all(np.isfinite(arr)):
        raise InvalidInputError("theta contains NaN or infinite values")
    arr = arr.copy()
    arr.flags.writeable = False
    return arr


def _clean_weights(matrix, symmetrize):
    """Validate a square weight matrix and return it as canonical CSR float64."""
    if sp.issparse(matrix):
        c = sp.csr_array(matrix, dtype=np.float64)
    else:
        dense = np.asarray(matrix)
        if dense.dtype.kind not in "biuf":
            raise InvalidInputError(f"weight matrix must be numeric, got {dense.dtype}")
        c = sp.csr_array(dense.astype(np.float64))
    if c.ndim != 2 or c.shape[0] != c.shape[1]:
        raise InvalidInputError(f"weight matrix must be square, got shape {c.shape}")
    if c.shape[0] == 0:
        raise InvalidInputError("the graph has no nodes; a model needs at least one")
    if not np.all(np.isfinite(c.data)):
        raise InvalidInputError(
            "weight matrix contains NaN or infinite values; clean the input first"
        )

    diagonal = c.diagonal()
    if np.any(diagonal != 0):
        warnings.warn(
            f"dropped {np.count_nonzero(diagonal)} self-loops (nonzero diagonal "
            "weights): the model has no self-coupling; fold them into theta if they "
            "were meant as a bias",
            InputWarning,
            stacklevel=4,
        )
        c = c - sp.diags_array(diagonal, format="csr")

    scale = np.abs(c.data).max() if c.nnz else 0.0
    asym = abs(c - c.T)
    asym_max = asym.data.max() if asym.nnz else 0.0
    if symmetrize is None:
        if asym_max > SYMMETRY_RTOL * scale:
            raise InvalidInputError(
                f"weight matrix is not symmetric (largest |C_ij - C_ji| = {asym_max:.3g}); "
                f"pass symmetrize= one of {', '.join(_SYMMETRIZE)} to choose how to "
                "make it symmetric"
            )
        c = (c + c.T) / 2
    elif symmetrize in _SYMMETRIZE:
        c = _SYMMETRIZE[symmetrize](c)
    else:
        raise InvalidInputError(
            f"symmetrize must be None or one of {', '.join(_SYMMETRIZE)}, "
            f"got {symmetrize!r}"
        )
    c = sp.csr_array(c, dtype=np.float64)
    c.eliminate_zeros()
    c.sort_indices()
    for arr in (c.data, c.indices, c.indptr):
        arr.flags.writeable = False
    return c


@dataclasses.dataclass(frozen=True, eq=False, repr=False)
class IsingModel:
    r"""An immutable binary spin model on a weighted network.

    Build one with :meth:`from_graph`, :meth:`from_matrix` or :func:`load_model`;
    change parameters with :meth:`with_params`, which shares the weights.

    Parameters
    ----------
    weights : scipy.sparse.csr_array, shape (N, N)
        Symmetric coupling matrix :math:`C`, float64, zero diagonal.
    theta : float or numpy.ndarray, shape (N,)
        Thresholds :math:`\theta_i`; a scalar is broadcast to every node.
    w : float
        Global coupling :math:`W`.
    eps : float
        Inverse temperature :math:`\epsilon \ge 0`.
    labels : tuple, optional
        Node labels of the source graph, in matrix order (default ``0..N-1``).
    symmetrize : {None, "mean", "max", "min", "upper", "lower"}
        How to make an asymmetric matrix symmetric. ``None`` refuses one.

    Raises
    ------
    InvalidInputError
        For an asymmetric matrix without ``symmetrize``, NaN or infinite entries,
        no nodes, ``eps < 0``, or a ``theta`` of the wrong length.

    Warns
    -----
    InputWarning
        When self-loops (diagonal weights) are dropped.

    Notes
    -----
    See the module docstring for the Hamiltonian and the heat-bath rule. A graph with
    nodes but no edges is accepted: its nodes are independent.
    """

    weights: sp.csr_array
    theta: np.ndarray = 0.0
    w: float = 1.0
    eps: float = 1.0
    labels: tuple = None
    symmetrize: dataclasses.InitVar[str | None] = None

    def __post_init__(self, symmetrize):
        weights = self.weights
        canonical = (
            isinstance(weights, sp.csr_array)
            and weights.dtype == np.float64
            and getattr(weights, "_mcising_clean", False)
        )
        if not canonical:
            weights = _clean_weights(weights, symmetrize)
            weights._mcising_clean = True
        n_nodes = weights.shape[0]
        object.__setattr__(self, "weights", weights)
        object.__setattr__(self, "theta", _as_theta(self.theta, n_nodes))
        object.__setattr__(self, "w", _finite_scalar("w", self.w))
        object.__setattr__(self, "eps", _finite_scalar("eps", self.eps, nonnegative=True))
        labels = tuple(range(n_nodes)) if self.labels is None else tuple(self.labels)
        if len(labels) != n_nodes:
            raise InvalidInputError(
                f"labels must name every node ({n_nodes}), got {len(labels)}"
            )
        object.__setattr__(self, "labels", labels)

    # -- construction ---------------------------------------------------------------

    @classmethod
    def from_graph(cls, graph, theta=0.0, w=1.0, eps=1.0, *, weight="weight",
                   symmetrize=None):
        """Build a model from a networkx graph.

        Parameters
        ----------
        graph : networkx.Graph or networkx.DiGraph
            Nodes keep their labels, in ``graph.nodes`` order. A directed graph needs
            ``symmetrize``.
        theta, w, eps : see :class:`IsingModel`.
        weight : str
            Edge attribute holding the weight; edges without it weigh 1.
        symmetrize : see :class:`IsingModel`.

        Returns
        -------
        IsingModel
        """
        if not isinstance(graph, nx.Graph):
            raise InvalidInputError(f"expected a networkx graph, got {type(graph)}")
        if graph.is_multigraph():
            raise InvalidInputError(
                "multigraphs are not supported; merge parallel edges into one weight"
            )
        if graph.is_directed() and symmetrize is None:
            raise InvalidInputError(
                "the graph is directed; pass symmetrize= (mean, max, min, upper or "
                "lower) to choose how to make its couplings symmetric"
            )
        labels = list(graph.nodes)
        if not labels:
            raise InvalidInputError("the graph has no nodes; a model needs at least one")
        for u, v, value in graph.edges(data=weight, default=1.0):
            try:
                ok = np.isfinite(float(value))
            except (TypeError, ValueError):
                ok = False
            if not ok:
                raise InvalidInputError(
                    f"edge {u}-{v} has weight {value!r}; weights must be finite numbers"
                )
        matrix = nx.to_scipy_sparse_array(
            graph, nodelist=labels, weight=weight, dtype=np.float64, format="csr"
        )
        return cls(matrix, theta, w, eps, labels, symmetrize=symmetrize)

    @classmethod
    def from_matrix(cls, matrix, theta=0.0, w=1.0, eps=1.0, *, labels=None,
                    symmetrize=None):
        """Build a model from a dense or sparse weight matrix.

        Parameters
        ----------
        matrix : array_like or scipy sparse matrix, shape (N, N)
        theta, w, eps, labels, symmetrize : see :class:`IsingModel`.

        Returns
        -------
        IsingModel
        """
        return cls(matrix, theta, w, eps, labels, symmetrize=symmetrize)

    def with_params(self, *, theta=None, w=None, eps=None):
        """Return a copy with some parameters changed; the weights are shared."""
        return dataclasses.replace(
            self,
            theta=self.theta if theta is None else theta,
            w=self.w if w is None else w,
            eps=self.eps if eps is None else eps,
        )

    # -- structure ------------------------------------------------------------------

    @property
    def n_nodes(self):
        """Number of nodes N."""
        return self.weights.shape[0]

    @property
    def n_edges(self):
        """Number of undirected edges with nonzero weight."""
        return self.weights.nnz // 2

    @functools.cached_property
    def edges(self):
        """Edges as ``(i, j, weight)`` arrays with ``i < j``, in CSR order."""
        upper = sp.triu(self.weights, 1, format="coo")
        order = np.lexsort((upper.col, upper.row))
        return (
            upper.row[order].astype(np.int64),
            upper.col[order].astype(np.int64),
            upper.data[order].astype(np.float64),
        )

    @functools.cached_property
    def csr(self):
        """``(indptr, indices, data)`` as int64, int64 and float64 arrays for kernels."""
        return (
            self.weights.indptr.astype(np.int64),
            self.weights.indices.astype(np.int64),
            self.weights.data.astype(np.float64),
        )

    @property
    def unit_weights(self):
        """True when every edge weighs exactly 1 (energies live on an integer lattice)."""
        return bool(np.all(self.weights.data == 1.0))

    @property
    def uniform_theta(self):
        """True when every node has the same threshold."""
        return bool(np.all(self.theta == self.theta[0]))

    @functools.cached_property
    def structure_hash(self):
        """SHA-256 hex digest of the edge set (N and edges, not weights or parameters)."""
        digest = hashlib.sha256()
        digest.update(np.int64(self.n_nodes).tobytes())
        i, j, _ = self.edges
        digest.update(i.tobytes())
        digest.update(j.tobytes())
        return digest.hexdigest()

    def to_networkx(self):
        """Return the weighted graph with the original node labels."""
        graph = nx.Graph()
        graph.add_nodes_from(self.labels)
        i, j, wts = self.edges
        graph.add_weighted_edges_from(
            (self.labels[a], self.labels[b], float(c)) for a, b, c in zip(i, j, wts)
        )
        return graph

    # -- energy ---------------------------------------------------------------------

    def _as_states(self, states):
        arr = np.asarray(states)
        if arr.shape[-1:] != (self.n_nodes,):
            raise InvalidInputError(
                f"states must have {self.n_nodes} entries on their last axis, "
                f"got shape {arr.shape}"
            )
        if not np.all((arr == 0) | (arr == 1)):
            raise InvalidInputError("states must contain only 0 and 1")
        return arr.astype(np.float64)

    def energies(self, states):
        """Energies :math:`H(S)` of a batch of states.

        Parameters
        ----------
        states : array_like of {0, 1}, shape (..., N)

        Returns
        -------
        numpy.ndarray of float64, shape (...)
        """
        s = self._as_states(states)
        flat = s.reshape(-1, self.n_nodes)
        coupling = np.einsum("bi,bi->b", flat, (self.weights @ flat.T).T) / 2
        energy = 0.5 * flat @ self.theta - self.w * coupling
        return energy.reshape(s.shape[:-1])

    def energy(self, state):
        """Energy :math:`H(S)` of one state of shape (N,)."""
        return float(self.energies(np.asarray(state)[None, :])[0])

    def local_field(self, state):
        r"""Local fields :math:`h_i = W \sum_j C_{ij} S_j - \theta_i / 2`, shape (N,).

        The heat-bath rule switches node :math:`i` on with probability
        :math:`1/(1 + e^{-\epsilon h_i})`.
        """
        s = self._as_states(state)
        return self.w * (self.weights @ s) - self.theta / 2

    def flip_delta(self, state, node):
        r"""Energy change :math:`H(S') - H(S)` when node ``node`` flips.

        Equal to :math:`(2 S_i - 1)\, h_i` with :math:`S_i` the value before the flip.
        """
        s = self._as_states(state)
        if not 0 <= int(node) < self.n_nodes:
            raise InvalidInputError(f"node index {node} outside 0..{self.n_nodes - 1}")
        h = self.w * (self.weights[[int(node)], :] @ s)[0] - self.theta[int(node)] / 2
        return float((2 * s[int(node)] - 1) * h)

    def __repr__(self):
        theta = (
            f"{self.theta[0]:g}" if self.uniform_theta else f"<{self.n_nodes} values>"
        )
        return (
            f"IsingModel(n_nodes={self.n_nodes}, n_edges={self.n_edges}, "
            f"theta={theta}, w={self.w:g}, eps={self.eps:g})"
        )


def load_model(source, theta=0.0, w=1.0, eps=1.0, *, symmetrize=None):
    """Build a model from any supported source.

    Parameters
    ----------
    source : str, os.PathLike, networkx.Graph, array_like or scipy sparse matrix
        A spec string or file path (see :func:`mcising.graphs.load_graph`), a graph
        or a weight matrix.
    theta, w, eps, symmetrize : see :class:`IsingModel`.

    Returns
    -------
    IsingModel
    """
    from .graphs import load_graph

    if isinstance(source, (str, bytes)) or hasattr(source, "__fspath__"):
        source = load_graph(source)
    if isinstance(source, nx.Graph):
        return IsingModel.from_graph(source, theta, w, eps, symmetrize=symmetrize)
    return IsingModel.from_matrix(source, theta, w, eps, symmetrize=symmetrize)

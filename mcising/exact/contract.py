r"""Exact thermodynamics of sparse graphs by tensor-network contraction.

The partition function is a sum over a product of small factors, one 2-vector per
node and one 2x2 matrix per edge,

.. math::

    Z = \sum_{S} \prod_i e^{-\epsilon \theta_i S_i / 2}
        \prod_{i<j} e^{\epsilon W C_{ij} S_i S_j},

so it is the contraction of a tensor network whose cost grows with the contraction
width (about the treewidth of the graph), not with :math:`2^N`. The contraction tree
comes from cotengra's hyper-optimiser [1]_ (with its Rust core, cotengrust); it depends
only on the graph's structure, so a :class:`ContractionPlan` is found once, cached on
disk (:mod:`mcising.exact.plan_cache`) and reused for any number of points.

Derivatives: every tensor carries a truncated Taylor polynomial ("jet") in three
perturbations of the log weight, :math:`-(\epsilon + a) H + b\, q - c\, n`, kept to
:math:`a^2`, :math:`b` and :math:`c`. One contraction in that algebra gives
:math:`Z` and its derivatives exactly up to rounding:

.. math::

    \partial_a \log Z = -\langle H \rangle, \quad
    \partial_a^2 \log Z = \operatorname{Var} H, \quad
    \partial_b \log Z = \langle q \rangle, \quad
    \partial_c \log Z = -\langle n \rangle.

Range: the coupling is written in the spin gauge,
:math:`S_i S_j = g(S_i, S_j) + (S_i + S_j)/2` with
:math:`g \in \{0, -\tfrac12\}`, so an edge matrix spans :math:`e^{\epsilon |W C_{ij}|/2}`
and stays in the normal float range for :math:`\epsilon |W C_{ij}|` up to about 1400.
Each input is divided by its largest entry (logarithms kept aside), each intermediate
is rescaled by a power of two (exact, so subnormal maxima cannot overflow), and
slices whose value part is identically zero are skipped instead of giving 0/0. Each
factor's energy is centred on its own most probable entry, which keeps
:math:`\operatorname{Var} H` accurate when :math:`\langle H \rangle^2 \gg
\operatorname{Var} H`.

References
----------
.. [1] J. Gray and S. Kourtis, "Hyper-optimized tensor network contraction",
   Quantum 5, 410 (2021). https://doi.org/10.22331/q-2021-03-15-410
"""

import logging
import math
import os
import time
import warnings

import cotengra as ctg
import numpy as np
from threadpoolctl import threadpool_limits

from ..errors import InputWarning, InvalidInputError, TooExpensiveError
from ..params import points_for
from ..progress import progress_bar
from ..results import Estimate
from . import plan_cache
from ._jets import compile_program, evaluate
from ._trees import COST_RATE, STEP_SECONDS, network, search, tree_cost

__all__ = ["ContractionPlan", "contract_points", "default_max_memory", "greedy_seconds",
           "plan"]

logger = logging.getLogger(__name__)

# Jet components: value, d/da, (1/2) d2/da2, d/db, d/dc.
_J0, _JA, _JAA, _JB, _JC = range(5)
_COMPONENTS = 5
# Peak memory model in float64 entries: five jet components of every live tensor,
# as much again in buffers kept for reuse, and the transposed operands and output of
# the largest pairwise product.
_LIVE_FACTOR = 2 * _COMPONENTS
_TEMP_FACTOR = 3 * _COMPONENTS
# Intermediates are rescaled when their largest entry leaves [2^-_RESCALE, 2^_RESCALE].
_RESCALE = 256
# Plans predicted to run longer than this are announced in the log.
_ANNOUNCE_SECONDS = 5.0


def default_max_memory():
    """Half of the machine's physical memory, in bytes (the default memory limit)."""
    try:
        total = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (ValueError, OSError, AttributeError):
        total = 8 * 2**30
    return total // 2


def _check_limit(name, value):
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not value > 0:
        raise InvalidInputError(f"{name} must be a positive number, got {value!r}")
    return float(value)


class ContractionPlan:
    """A contraction tree for one graph structure, sliced to a memory limit.

    Build one with :func:`plan`; keep it and pass it to :func:`contract_points` (or to
    :func:`mcising.exact.solve` as ``plan=``) to evaluate any number of points.

    Attributes
    ----------
    structure_hash : str
        Hash of the edge set the plan belongs to.
    n_nodes, n_edges : int
        Size of the graph.
    tree : cotengra.ContractionTree
        The (sliced) contraction tree.
    search_seconds : float
        Time spent searching for the tree.
    max_memory : float
        The memory limit in bytes the tree was sliced to.
    from_cache : bool
        True when the tree was read from the plan cache.
    """

    def __init__(self, structure_hash, n_nodes, n_edges, tree, *, search_seconds,
                 max_memory, from_cache=False):
        self.structure_hash = structure_hash
        self.n_nodes = n_nodes
        self.n_edges = n_edges
        self.tree = tree
        self.search_seconds = float(search_seconds)
        self.max_memory = float(max_memory)
        self.from_cache = from_cache
        self._program = None

    @property
    def width(self):
        """Contraction width: log2 of the largest intermediate (entries, per slice)."""
        if self.tree is None:
            return 1.0
        return float(self.tree.contraction_width())

    @property
    def flops(self):
        """Multiply-adds of one value-only contraction, all slices together."""
        return 2.0 if self.tree is None else float(self.tree.total_flops())

    @property
    def log10_flops(self):
        r""":math:`\log_{10}` of :attr:`flops`."""
        return math.log10(max(self.flops, 1.0))

    @property
    def n_slices(self):
        """Number of independent slices summed at the end."""
        return 1 if self.tree is None else int(self.tree.nslices)

    @property
    def peak_memory(self):
        """Predicted peak memory of one evaluation, in bytes."""
        if self.tree is None:
            return 8.0 * _COMPONENTS * 2
        peak = float(self.tree.peak_size()) / self.n_slices
        largest = float(self.tree.max_size())
        return 8.0 * (_LIVE_FACTOR * peak + _TEMP_FACTOR * largest)

    @property
    def n_steps(self):
        """Pairwise contractions per slice."""
        return self.n_nodes + self.n_edges - 1

    @property
    def cost(self):
        """Multiply-adds plus 64 per entry written, all slices together."""
        return 2.0 if self.tree is None else float(tree_cost(self.tree))

    def predicted_seconds(self, n_points=1):
        r"""Predicted wall time of ``n_points`` evaluations (from measured throughput).

        .. math::

            t = n_{points} \left(n_{slices}\, n_{steps}\, t_{step} + C / R\right)

        with :math:`C` the :attr:`cost` and :math:`R` the measured rate.
        """
        per_point = (self.n_slices * self.n_steps * STEP_SECONDS
                     + self.cost / COST_RATE)
        return n_points * per_point

    def summary(self, n_points=1):
        """Width, flops, slices, memory and time as a JSON-friendly dict."""
        return {
            "n_nodes": self.n_nodes,
            "n_edges": self.n_edges,
            "contraction_width": self.width,
            "log10_flops": round(self.log10_flops, 4),
            "log10_cost": round(math.log10(max(self.cost, 1.0)), 4),
            "n_slices": self.n_slices,
            "peak_memory_bytes": int(self.peak_memory),
            "predicted_seconds": self.predicted_seconds(n_points),
            "search_seconds": round(self.search_seconds, 3),
            "from_cache": self.from_cache,
        }

    def to_record(self):
        """Plain-data form for the plan cache (path and sliced node numbers)."""
        path = [] if self.tree is None else [list(map(int, p))
                                             for p in self.tree.get_ssa_path()]
        numbers = {ctg.get_symbol(k): k for k in range(self.n_nodes)}
        sliced = [] if self.tree is None else sorted(
            numbers[ix] for ix in self.tree.sliced_inds)
        return {
            "format": plan_cache.PLAN_FORMAT,
            "structure_hash": self.structure_hash,
            "n_nodes": self.n_nodes,
            "n_edges": self.n_edges,
            "ssa_path": path,
            "sliced": sliced,
            "search_seconds": self.search_seconds,
            "max_memory": self.max_memory,
            "log10_flops": self.log10_flops,
            "contraction_width": self.width,
        }

    def __repr__(self):
        return (f"ContractionPlan(n_nodes={self.n_nodes}, n_edges={self.n_edges}, "
                f"width={self.width:g}, log10_flops={self.log10_flops:.2f}, "
                f"n_slices={self.n_slices})")


def _slice_to(tree, max_memory, n_nodes, n_edges, structure_hash):
    """Slice ``tree`` until its predicted peak memory is within ``max_memory``."""
    def sized(t):
        return ContractionPlan(structure_hash, n_nodes, n_edges, t, search_seconds=0,
                               max_memory=max_memory)

    target = max(int(max_memory / (8.0 * (_LIVE_FACTOR + _TEMP_FACTOR))), 2)
    while sized(tree).peak_memory > max_memory:
        if target < 2 or tree.max_size() <= 2:
            raise TooExpensiveError(
                f"the contraction needs about {sized(tree).peak_memory / 1e9:.3g} GB "
                f"even when sliced, above the memory limit of {max_memory / 1e9:.3g} "
                "GB; raise max_memory (--max-memory) or use an estimator (method "
                "'ti', 'mbar' or 'wang-landau')"
            )
        tree = tree.slice(target_size=target, seed=0)
        target //= 2
    return tree


def greedy_seconds(model):
    """Predicted time of one point along a single greedy contraction tree (no search).

    A quick upper estimate (cotengrust's greedy path, about a second for 10^4 edges):
    the hyper-optimised trees of :func:`plan` are usually cheaper, by a factor of up to
    a few hundred on hard graphs. Used to skip planning where contraction is hopeless.

    Parameters
    ----------
    model : IsingModel

    Returns
    -------
    float
        Seconds; ``inf`` when the estimate overflows.
    """
    import cotengrust

    inputs, size_dict = network(model.n_nodes, model.edges)
    if len(inputs) == 1:
        return 0.0
    path = cotengrust.optimize_greedy(inputs, (), size_dict)
    tree = ctg.ContractionTree.from_path(inputs, (), size_dict, path=path)
    cost = tree_cost(tree)
    log10_cost = math.log10(cost) if cost > 0 else 0.0
    if log10_cost > 300:
        return math.inf
    return 10.0**log10_cost / COST_RATE


def plan(model, *, search_time=None, max_memory=None, cache=True):
    """Find (or load from the cache) a contraction plan for the model's graph.

    Parameters
    ----------
    model : IsingModel
        Only the edge set matters; weights and parameters do not.
    search_time : float, optional
        Seconds to search for the contraction tree. Default: stop once the search
        has lasted about as long as the contraction would (at most 64 trial trees).
        A cached plan found with a shorter search is searched again and the better
        tree kept.
    max_memory : float, optional
        Memory limit in bytes; the tree is sliced until its predicted peak fits.
        Default: half the machine's memory.
    cache : bool
        Read and write the on-disk plan cache (:mod:`mcising.exact.plan_cache`).

    Returns
    -------
    ContractionPlan

    Raises
    ------
    TooExpensiveError
        If no slicing brings the predicted memory under ``max_memory``.

    Warns
    -----
    InputWarning
        When a damaged cache entry is ignored.
    """
    search_time = _check_limit("search_time", search_time)
    max_memory = _check_limit("max_memory", max_memory) or default_max_memory()
    key = model.structure_hash
    inputs, size_dict = network(model.n_nodes, model.edges)
    cached = None
    if cache:
        record = plan_cache.load_record(key)
        if record is not None:
            cached = _from_record(model, record, inputs, size_dict, max_memory)
    if cached is not None and (search_time is None
                               or search_time <= cached.search_seconds):
        return cached

    if len(inputs) == 1:
        tree, seconds = None, 0.0
    else:
        start = time.perf_counter()
        tree = search(inputs, size_dict, search_time)
        seconds = time.perf_counter() - start
        if cached is not None and tree_cost(cached.tree.unslice_all()) < tree_cost(tree):
            tree = cached.tree.unslice_all()
        tree = _slice_to(tree, max_memory, model.n_nodes, model.n_edges, key)
    result = ContractionPlan(key, model.n_nodes, model.n_edges, tree,
                             search_seconds=seconds, max_memory=max_memory)
    if cache:
        plan_cache.save_record(result.to_record())
    return result


def _from_record(model, record, inputs, size_dict, max_memory):
    """Rebuild a cached plan; ``None`` (with a warning) if the record is inconsistent."""
    try:
        if record["n_nodes"] != model.n_nodes or record["n_edges"] != model.n_edges:
            raise ValueError("graph size differs")
        if len(inputs) == 1:
            tree = None
        else:
            tree = ctg.ContractionTree.from_path(
                inputs, (), size_dict, ssa_path=record["ssa_path"], autocomplete=False,
                check=True)
            if not tree.is_complete():
                raise ValueError("incomplete contraction path")
            if record.get("max_memory") == max_memory:
                for number in record["sliced"]:
                    tree.remove_ind_(ctg.get_symbol(number))
            else:
                tree = _slice_to(tree, max_memory, model.n_nodes, model.n_edges,
                                 model.structure_hash)
    except (ValueError, KeyError, IndexError, TypeError, AssertionError) as exc:
        warnings.warn(
            f"ignoring damaged contraction plan {model.structure_hash[:12]}... in the "
            f"plan cache ({exc.__class__.__name__}: {exc}); planning again",
            InputWarning, stacklevel=4,
        )
        return None
    return ContractionPlan(model.structure_hash, model.n_nodes, model.n_edges, tree,
                           search_seconds=record["search_seconds"],
                           max_memory=max_memory, from_cache=True)


def contract_points(model, points=None, *, plan=None, search_time=None,
                    max_memory=None, max_seconds=None, cache=True, progress=None):
    r"""Exact log Z, entropy, energy, heat capacity and activity by contraction.

    Parameters
    ----------
    model : IsingModel
    points : sequence of Point or (theta, w, eps), optional
        Default: the model's own parameters.
    plan : ContractionPlan, optional
        A plan for this graph structure; default :func:`plan` (cached on disk).
    search_time, max_memory, cache :
        Passed to :func:`plan` when no plan is given.
    max_seconds : float, optional
        Refuse when the predicted time for all points exceeds this.
    progress : bool or None
        Progress bar over slices and points on stderr (``None``: long runs only).

    Returns
    -------
    list of Estimate
        ``details`` holds ``exact_backend="contract"``, ``contraction_width`` and
        ``log10_flops``.

    Raises
    ------
    InvalidInputError
        If ``plan`` belongs to another graph.
    TooExpensiveError
        If the predicted memory or time exceeds its limit.

    Notes
    -----
    Accuracy against enumeration is about :math:`10^{-13}` relative for
    :math:`\log Z` and the first moments and :math:`10^{-10}` for the heat capacity
    (measured, ``tests/test_contract.py``). Per-node activity is not available from
    this backend (it would take a derivative per node).
    """
    points = points_for(model, points)
    max_seconds = _check_limit("max_seconds", max_seconds)
    if plan is None:
        plan = globals()["plan"](model, search_time=search_time,
                                 max_memory=max_memory, cache=cache)
    elif not isinstance(plan, ContractionPlan) or (
            plan.structure_hash != model.structure_hash):
        raise InvalidInputError(
            "plan was made for a different graph structure; build one with "
            "mcising.exact.contract.plan(model)"
        )
    seconds = plan.predicted_seconds(len(points))
    if max_seconds is not None and seconds > max_seconds:
        raise TooExpensiveError(
            f"exact contraction predicted to take {seconds:.3g} s for {len(points)} "
            f"points (width {plan.width:g}, 10^{plan.log10_flops:.1f} flops, "
            f"{plan.n_slices} slices), above the limit of {max_seconds:g} s; raise "
            "the limit or use an estimator (method 'ti', 'mbar' or 'wang-landau')"
        )
    if seconds > _ANNOUNCE_SECONDS:
        logger.warning(
            "exact contraction: width %g, 10^%.1f flops, %d slices, peak %.3g GB, "
            "about %.0f s", plan.width, plan.log10_flops, plan.n_slices,
            plan.peak_memory / 1e9, seconds)

    if plan._program is None:
        plan._program = compile_program(
            plan.tree, network(model.n_nodes, model.edges)[0], model.n_nodes)
    details = {"exact_backend": "contract", "contraction_width": plan.width,
               "log10_flops": round(plan.log10_flops, 4)}
    out = []
    # The contraction is a long series of tall, narrow matrix products: threaded BLAS
    # gains nothing on them and, on a busy machine, its threads wait on each other.
    with threadpool_limits(limits=1, user_api="blas"), progress_bar(
            len(points) * plan.n_slices, "contract", progress=progress,
            expected_seconds=seconds, unit="slice") as bar:
        for point in points:
            start = time.perf_counter()
            fields = evaluate(plan._program, model, point, bar.update)
            theta = point.theta
            theta = float(theta[0]) if np.all(theta == theta[0]) else tuple(
                theta.tolist())
            fields.update({f"{name}_stderr": 0.0 for name in list(fields)})
            out.append(Estimate(
                method="exact", n_nodes=model.n_nodes, n_edges=model.n_edges,
                theta=theta, w=point.w, eps=point.eps,
                seconds=time.perf_counter() - start, details=dict(details), **fields,
            ))
    return out

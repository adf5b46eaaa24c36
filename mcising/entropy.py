"""One entry point for the entropy at many parameter points, whatever the method.

:func:`entropy` validates the request and hands it to the method named by the user;
``"auto"`` picks the exact solver when it is affordable. Every method returns
:class:`~mcising.results.Results`, so callers never ask which method made a number.
"""

import logging

import numpy as np

from .errors import InvalidInputError, TooExpensiveError
from .exact import solve
from .exact.enumerate import max_nodes_limit, predicted_seconds
from .params import points_for

__all__ = ["AUTO_ESTIMATOR", "AUTO_EXACT_SECONDS", "METHODS", "choose_method",
           "entropy"]

logger = logging.getLogger(__name__)

# Options of the exact solver that "auto" drops when it hands over to an estimator.
_EXACT_ONLY = ("search_time", "max_memory", "max_seconds", "plan", "backend", "cache")


def _exact(model, points, **options):
    return solve(model, points, **options)


# name -> callable(model, points, **options) returning Results
METHODS = {"exact": _exact}


def _wang_landau(model, points, **options):
    from .wl_method import estimate

    return estimate(model, points, **options)


METHODS["wang-landau"] = _wang_landau


def _ti(model, points, **options):
    from .ti import thermodynamic_integration

    return thermodynamic_integration(model, points, **options)


def _mbar(model, points, **options):
    from .mbar import mbar

    return mbar(model, points, **options)


METHODS["ti"] = _ti
METHODS["mbar"] = _mbar

# The estimator ``"auto"`` uses where no exact method is affordable.
AUTO_ESTIMATOR = "ti"
# ``"auto"`` contracts a graph above the enumeration limit when the contraction is
# predicted to take at most this long (seconds), all points together.
AUTO_EXACT_SECONDS = 60.0
# A single greedy tree over-predicts the planned cost by up to this factor; graphs
# whose greedy prediction exceeds the limit by more are not planned at all.
_GREEDY_SLACK = 1000.0
# Graphs with more edges than this are only planned when no component has more than
# one cycle (contraction width 2): the greedy estimate itself takes seconds on them.
_AUTO_PLAN_MAX_EDGES = 20_000


def _few_cycles(model):
    """Return True when no connected component has more edges than nodes."""
    from scipy.sparse.csgraph import connected_components

    n_parts, labels = connected_components(model.weights, directed=False)
    nodes = np.bincount(labels, minlength=n_parts)
    edges = np.bincount(labels[model.edges[0]], minlength=n_parts)
    return bool(np.all(edges <= nodes))


def choose_method(model, n_points=1, *, max_nodes=None, max_seconds=AUTO_EXACT_SECONDS,
                  search_time=None, max_memory=None, node_activity=False):
    """Pick the method for ``"auto"``; return it and the options found on the way.

    Parameters
    ----------
    model : IsingModel
    n_points : int
        Number of parameter points to compute.
    max_nodes : int, optional
        Enumeration limit (default 34, or ``MCISING_MAX_EXACT_NODES``).
    max_seconds : float
        Largest predicted time of an exact computation that ``"auto"`` accepts.
    search_time, max_memory : optional
        Passed to :func:`mcising.exact.contract.plan`.
    node_activity : bool
        Per-node activity is wanted; contraction does not give it.

    Returns
    -------
    method : str
        ``"exact"`` when enumeration (N within its limit) or a contraction plan is
        predicted to take at most ``max_seconds``; :data:`AUTO_ESTIMATOR`
        otherwise.
    options : dict
        ``{"plan": ContractionPlan}`` when a plan was made, so that it is not made
        twice; empty otherwise.

    Notes
    -----
    Planning is skipped (and the estimator chosen) when one greedy contraction tree
    predicts more than a thousand times ``max_seconds``, and for graphs with more
    than 20,000 edges unless every component is a tree or has a single cycle.
    """
    if model.n_nodes <= max_nodes_limit(max_nodes):
        seconds = predicted_seconds(model.n_nodes, n_points,
                                    node_activity=node_activity)
        if seconds <= max_seconds:
            return "exact", {}
        logger.info("enumeration predicted to take %.3g s (auto limit %g s)", seconds,
                    max_seconds)
    if node_activity:
        return AUTO_ESTIMATOR, {}
    from .exact.contract import greedy_seconds, plan

    if model.n_edges > _AUTO_PLAN_MAX_EDGES and not _few_cycles(model):
        logger.info("N=%d is too large to enumerate and too dense to plan a "
                    "contraction for; using %s", model.n_nodes, AUTO_ESTIMATOR)
        return AUTO_ESTIMATOR, {}
    if greedy_seconds(model) * n_points > _GREEDY_SLACK * max_seconds:
        logger.info("N=%d: exact contraction is far out of reach; using %s",
                    model.n_nodes, AUTO_ESTIMATOR)
        return AUTO_ESTIMATOR, {}
    try:
        found = plan(model, search_time=search_time, max_memory=max_memory)
    except TooExpensiveError as exc:
        logger.info("exact contraction refused (%s); using %s", exc, AUTO_ESTIMATOR)
        return AUTO_ESTIMATOR, {}
    seconds = found.predicted_seconds(n_points)
    if seconds <= max_seconds:
        return "exact", {"plan": found}
    logger.info("exact contraction predicted to take %.3g s (auto limit %g s); "
                "using %s", seconds, max_seconds, AUTO_ESTIMATOR)
    return AUTO_ESTIMATOR, {}


def entropy(model, points=None, *, method="auto", **options):
    """Entropy, log Z, mean energy, heat capacity and activity at parameter points.

    Parameters
    ----------
    model : IsingModel
    points : sequence of Point or (theta, w, eps), optional
        Default: the model's own parameters.
    method : str
        ``"auto"`` or one of :data:`METHODS`. ``"auto"`` uses the exact solver when
        N is within the enumeration limit or a contraction is predicted to take at
        most :data:`AUTO_EXACT_SECONDS`, and thermodynamic integration (``"ti"``)
        otherwise (see :func:`choose_method`).
    **options
        Passed to the method (for example ``progress``, ``max_nodes``); the exact
        solver's ``search_time`` and ``max_memory`` also guide ``"auto"``.

    Returns
    -------
    Results

    Raises
    ------
    InvalidInputError
        For an unknown method.
    TooExpensiveError
        When the exact method is asked for a network beyond its limits.
    """
    points = points_for(model, points)
    if method == "auto":
        method, found = choose_method(
            model, len(points), max_nodes=options.get("max_nodes"),
            max_seconds=options.get("max_seconds") or AUTO_EXACT_SECONDS,
            search_time=options.get("search_time"),
            max_memory=options.get("max_memory"),
            node_activity=options.get("node_activity", False))
        if method == "exact":
            options.update(found)
        else:
            for name in _EXACT_ONLY:
                options.pop(name, None)
    if method not in METHODS:
        raise InvalidInputError(
            f"unknown method {method!r}; choose auto or one of {', '.join(METHODS)}"
        )
    return METHODS[method](model, points, **options)

"""Exact solvers: enumeration of all states, and the dispatch between exact backends."""

import dataclasses
import math
import time

import numpy as np

from ..errors import InvalidInputError, TooExpensiveError
from ..params import points_for
from ..results import Results
from .enumerate import (
    DEFAULT_MAX_NODES,
    density_of_states,
    enumerate_points,
    max_nodes_limit,
    predicted_seconds,
)

__all__ = [
    "BACKENDS",
    "DEFAULT_MAX_NODES",
    "density_of_states",
    "enumerate_points",
    "predicted_seconds",
    "solve",
]

BACKENDS = ("auto", "enumerate", "contract")
# "auto" enumerates without planning a contraction when enumeration is predicted to
# take less than this (seconds); above it, the cheaper predicted backend wins.
_ENUMERATE_QUICK_SECONDS = 0.05
# Keys every exact estimate carries in ``details`` (null where not applicable).
_DETAIL_KEYS = ("exact_backend", "contraction_width", "log10_flops")


def solve(model, points=None, *, backend="auto", node_activity=False, max_nodes=None,
          progress=None, plan=None, search_time=None, max_memory=None,
          max_seconds=None, cache=True):
    r"""Exact log Z, entropy, mean energy, heat capacity and activity.

    Parameters
    ----------
    model : IsingModel
    points : sequence of Point or (theta, w, eps) tuples, optional
        Parameter points; default the model's own. ``theta`` may be a scalar or one
        value per node.
    backend : {"auto", "enumerate", "contract"}
        ``"enumerate"`` visits all 2^N states; ``"contract"`` contracts the tensor
        network (:mod:`mcising.exact.contract`), exact for sparse graphs of any
        size. ``"auto"`` enumerates when that is predicted to take under 0.05 s or
        per-node activity is asked for, and otherwise picks the backend with the
        smaller predicted time.
    node_activity : bool
        Also compute :math:`\langle S_i \rangle` for every node (enumeration only).
    max_nodes : int, optional
        Enumeration size limit (default 34, or ``MCISING_MAX_EXACT_NODES``).
    progress : bool or None
        Progress bar on stderr; ``None`` shows one only for long runs.
    plan : ContractionPlan, optional
        A contraction plan for this graph (see :func:`mcising.exact.contract.plan`).
    search_time : float, optional
        Seconds to search for a contraction tree (default: about the predicted
        contraction time, at most 64 trial trees).
    max_memory : float, optional
        Memory limit of the contraction in bytes (default half the machine's).
    max_seconds : float, optional
        Refuse when the chosen backend's predicted time exceeds this.
    cache : bool
        Use the on-disk plan cache.

    Returns
    -------
    Results
        One :class:`~mcising.results.Estimate` per point, standard errors zero.
        Every estimate's ``details`` holds ``exact_backend`` and, for contraction,
        ``contraction_width`` (log2 of the largest intermediate) and ``log10_flops``;
        both are ``None`` for enumeration.

    Raises
    ------
    TooExpensiveError
        If the model is too large for every exact backend, or a predicted memory or
        time exceeds its limit.

    Notes
    -----
    Contraction handles weights of any sign and any :math:`\epsilon`; entries are
    kept in range by rescaling, with a log-domain fallback (see
    :mod:`mcising.exact.contract`).

    For unit weights and a uniform threshold at every point, one enumeration counts
    :math:`g(n, m)` and all points follow from it (see :mod:`mcising.dos`); otherwise
    one enumeration accumulates the moments of all points together. Sums are kept as
    (log weight, mean, variance) records per block of states, merged pairwise, so
    :math:`\epsilon |H|` up to well beyond :math:`10^4` neither overflows nor
    underflows.

    Examples
    --------
    >>> import mcising
    >>> model = mcising.load_model("grid_2d:4,4", theta=5, eps=1)
    >>> res = solve(model, mcising.grid(theta=5, w=[1.0, 1.5, 2.0], eps=1))
    >>> int(np.argmax(res.entropy))
    1
    """
    if backend not in BACKENDS:
        raise InvalidInputError(
            f"backend must be one of {', '.join(BACKENDS)}, got {backend!r}"
        )
    points = points_for(model, points)
    contract_options = {"plan": plan, "search_time": search_time,
                        "max_memory": max_memory, "cache": cache}
    if backend == "auto":
        backend = _choose_backend(model, len(points), node_activity, max_nodes,
                                  contract_options)
    if backend == "contract":
        if node_activity:
            raise InvalidInputError(
                "node_activity needs backend='enumerate' (N <= 34); contraction "
                "gives network totals only"
            )
        from .contract import contract_points

        return Results(contract_points(model, points, max_seconds=max_seconds,
                                       progress=progress, **contract_options))
    seconds = predicted_seconds(model.n_nodes, len(points), node_activity=node_activity)
    if max_seconds is not None and seconds > max_seconds:
        raise TooExpensiveError(
            f"exact enumeration of 2^{model.n_nodes} states predicted to take "
            f"{seconds:.3g} s, above the limit of {max_seconds:g} s; use "
            "backend='contract' for sparse graphs or an estimator (method 'ti', "
            "'mbar' or 'wang-landau')"
        )
    return Results(_with_details(e) for e in _enumerate(
        model, points, node_activity, max_nodes, progress))


def _with_details(estimate):
    details = {key: None for key in _DETAIL_KEYS}
    details.update(estimate.details)
    return dataclasses.replace(estimate, details=details)


def _choose_backend(model, n_points, node_activity, max_nodes, contract_options):
    """Pick "enumerate" or "contract" by predicted time (see :func:`solve`)."""
    limit = max_nodes_limit(max_nodes)
    if model.n_nodes <= limit:
        seconds = predicted_seconds(model.n_nodes, n_points,
                                    node_activity=node_activity)
        if node_activity or seconds < _ENUMERATE_QUICK_SECONDS:
            return "enumerate"
    else:
        seconds = math.inf
    from .contract import plan as make_plan

    plan = contract_options["plan"]
    if plan is None:
        plan = make_plan(model, **{k: v for k, v in contract_options.items()
                                   if k != "plan"})
        contract_options["plan"] = plan
    if plan.predicted_seconds(n_points) < seconds:
        return "contract"
    return "enumerate"


def _enumerate(model, points, node_activity, max_nodes, progress):
    """Enumerate: g(n, m) when every point allows it, weighted moments otherwise."""
    uniform = all(np.all(p.theta == p.theta[0]) for p in points)
    if model.unit_weights and uniform and not node_activity:
        start = time.perf_counter()
        dos = density_of_states(model, max_nodes=max_nodes, progress=progress)
        return dos.estimates(points, seconds=time.perf_counter() - start,
                             details={"exact_backend": "enumerate"})
    return enumerate_points(model, points, node_activity=node_activity,
                            max_nodes=max_nodes, progress=progress)

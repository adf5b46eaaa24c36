"""Exact solvers: enumeration of all states, and the dispatch between exact backends."""

import time

import numpy as np

from ..errors import InvalidInputError
from ..params import points_for
from ..results import Results
from .enumerate import (
    DEFAULT_MAX_NODES,
    density_of_states,
    enumerate_points,
    predicted_seconds,
)

__all__ = [
    "DEFAULT_MAX_NODES",
    "density_of_states",
    "enumerate_points",
    "predicted_seconds",
    "solve",
]

BACKENDS = ("auto", "enumerate")


def solve(model, points=None, *, backend="auto", node_activity=False, max_nodes=None,
          progress=None):
    r"""Exact log Z, entropy, mean energy, heat capacity and activity.

    Parameters
    ----------
    model : IsingModel
    points : sequence of Point or (theta, w, eps) tuples, optional
        Parameter points; default the model's own. ``theta`` may be a scalar or one
        value per node.
    backend : {"auto", "enumerate"}
        ``"enumerate"`` visits all 2^N states. ``"auto"`` picks the cheapest exact
        backend.
    node_activity : bool
        Also compute :math:`\langle S_i \rangle` for every node.
    max_nodes : int, optional
        Enumeration size limit (default 34, or ``MCISING_MAX_EXACT_NODES``).
    progress : bool or None
        Progress bar on stderr; ``None`` shows one only for long runs.

    Returns
    -------
    Results
        One :class:`~mcising.results.Estimate` per point, standard errors zero.

    Raises
    ------
    TooExpensiveError
        If the model is too large for every exact backend.

    Notes
    -----
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
    uniform = all(np.all(p.theta == p.theta[0]) for p in points)
    if model.unit_weights and uniform and not node_activity:
        start = time.perf_counter()
        dos = density_of_states(model, max_nodes=max_nodes, progress=progress)
        return Results(dos.estimates(points, seconds=time.perf_counter() - start,
                                     details={"exact_backend": "enumerate"}))
    return Results(enumerate_points(model, points, node_activity=node_activity,
                                    max_nodes=max_nodes, progress=progress))

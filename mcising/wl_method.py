r"""The ``"wang-landau"`` entropy method: one run per network, or a saved table reused.

For unit weights and a uniform threshold at every point, one (n, m) run answers all
points. Otherwise the points are grouped by :math:`(\theta, W)` and each group gets its
own binned run with a multicanonical production (every :math:`\epsilon` of a group
comes from the same samples).
"""

import os
import time

import numpy as np

from .errors import InvalidInputError
from .rng import as_seed_sequence
from .wang_landau import WangLandau
from .wl_results import EnergyDensityOfStates, WangLandauDensityOfStates, load_dos

__all__ = ["estimate"]

# Options of the entropy interface that this method accepts and does not need.
_IGNORED = ("max_nodes",)


def _check_dos(dos, model):
    if dos.structure_hash and dos.structure_hash != model.structure_hash:
        raise InvalidInputError(
            "the density of states was computed for another network (its structure "
            "hash differs); pass the graph it was made with or compute a new one"
        )
    if dos.n_nodes != model.n_nodes:
        raise InvalidInputError(
            f"the density of states has N={dos.n_nodes}, the network N={model.n_nodes}"
        )


def estimate(model, points, *, dos=None, seed=None, n_walkers=None, max_flips=None,
             max_seconds=None, log_f_final=None, levels="auto", n_samples=None,
             windows=1, progress=None, node_activity=False, **options):
    """Entropy and the other quantities at ``points`` from a Wang-Landau density of states.

    Parameters
    ----------
    model : IsingModel
    points : list of Point
        Already normalised by :func:`mcising.params.points_for`.
    dos : str, os.PathLike, WangLandauDensityOfStates or EnergyDensityOfStates, optional
        A table made earlier (``mcising dos --save``); no new run is made.
    seed, n_walkers, log_f_final, levels, windows :
        See :class:`~mcising.wang_landau.WangLandau`.
    max_flips, max_seconds : optional
        Budget of each run.
    n_samples : int, optional
        Multicanonical samples per walker for binned runs.
    progress : bool or None
        Progress bar on stderr.
    node_activity : bool
        Not available from a density of states; True raises.

    Returns
    -------
    Results

    Raises
    ------
    InvalidInputError
        For ``node_activity=True``, unknown options, or a table made for another
        network or another (theta, W).
    """
    from .results import Results

    unknown = set(options) - set(_IGNORED)
    if unknown:
        raise InvalidInputError(
            f"unknown option(s) for wang-landau: {', '.join(sorted(unknown))}"
        )
    if node_activity:
        raise InvalidInputError(
            "the Wang-Landau method gives no per-node activity; use a chain method or "
            "the exact solver for node_activity"
        )
    start = time.perf_counter()
    if dos is not None:
        if isinstance(dos, (str, os.PathLike)):
            dos = load_dos(dos)
        if not isinstance(dos, (WangLandauDensityOfStates, EnergyDensityOfStates)):
            raise InvalidInputError(f"dos must be a file or a density of states, got "
                                    f"{type(dos).__name__}")
        _check_dos(dos, model)
        return Results(dos.estimates(points, seconds=time.perf_counter() - start))

    settings = {"levels": levels, "windows": windows}
    if n_walkers is not None:
        settings["n_walkers"] = n_walkers
    if log_f_final is not None:
        settings["log_f_final"] = log_f_final
    budget = {"max_flips": max_flips, "max_seconds": max_seconds, "progress": progress}
    uniform = all(np.all(p.theta == p.theta[0]) for p in points)
    if levels == "nm" and not (model.unit_weights and uniform):
        raise InvalidInputError(
            "levels='nm' needs unit edge weights and a uniform theta at every point; "
            "use levels='auto' or 'binned'"
        )
    if levels in ("auto", "nm") and model.unit_weights and uniform:
        wl = WangLandau(model, seed=seed, **{**settings, "levels": "nm"})
        dos = wl.run(**budget).density_of_states()
        return Results(dos.estimates(points, seconds=time.perf_counter() - start))

    # One run per (theta, W) group; eps is free within a group.
    groups = {}
    for index, point in enumerate(points):
        key = (tuple(np.asarray(point.theta, float).tolist()), float(point.w))
        groups.setdefault(key, []).append(index)
    seeds = as_seed_sequence(seed).spawn(len(groups))
    out = [None] * len(points)
    for (theta, w), child in zip(groups, seeds):
        indices = groups[(theta, w)]
        tick = time.perf_counter()
        sub = model.with_params(theta=np.array(theta), w=w)
        wl_levels = "binned" if levels == "auto" else levels
        wl = WangLandau(sub, seed=child, **{**settings, "levels": wl_levels})
        wl.run(**budget).produce(n_samples)
        dos = wl.density_of_states()
        chosen = [points[i] for i in indices]
        for i, est in zip(indices, dos.estimates(chosen,
                                                 seconds=time.perf_counter() - tick)):
            out[i] = est
    return Results(out)

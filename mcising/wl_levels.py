r"""The levels a Wang-Landau walker estimates :math:`\log g` over.

* ``"nm"``: the joint lattice of :math:`n` active nodes and :math:`m` active edges
  (unit weights, one threshold); level :math:`n (M + 1) + m`.
* ``"energy"``: the energy lattice at one :math:`(\theta, W)` when
  :math:`\theta/2 : W` is a ratio of small integers :math:`p : q`, so that
  :math:`H = u\,(p n - q m)` with a unit :math:`u`; level :math:`p n - q m` plus an
  offset.
* ``"binned"``: bins of real energy (:func:`mcising.wl_binned.energy_bins`).

Every level a state could have gets a cell; cells no state reaches stay unvisited and
are never waited for.
"""

from fractions import Fraction

import numpy as np

from . import wl_binned
from .errors import InvalidInputError

__all__ = ["LEVELS", "level_settings"]

LEVELS = ("auto", "nm", "energy", "binned")
# Largest denominator tried when writing theta/2 : W as a ratio of integers.
_MAX_DENOMINATOR = 64
# Largest number of levels accepted.
_MAX_LEVELS = 50_000_000


def _energy_lattice(model):
    """Return (unit, p, q) with H = unit (p n - q m) exactly, or None."""
    half, w = float(model.theta[0]) / 2, float(model.w)
    if half == 0 and w == 0:
        return 1.0, 0, 0
    if w == 0:
        return abs(half), int(np.sign(half)), 0
    if half == 0:
        return abs(w), 0, int(np.sign(w))
    ratio = Fraction(half / w).limit_denominator(_MAX_DENOMINATOR)
    if abs(float(ratio) * w - half) > 1e-12 * max(abs(half), abs(w)):
        return None
    unit = abs(w) / ratio.denominator
    return unit, int(round(half / unit)), int(round(w / unit))


def level_settings(model, levels, *, n_bins=None, seed=None):
    """Choose the levels for ``model`` and lay them out.

    Parameters
    ----------
    model : IsingModel
    levels : {"auto", "nm", "energy", "binned"}
        ``"auto"`` is ``"nm"`` for unit weights and a uniform threshold, otherwise
        ``"binned"``; ``"energy"`` falls back to ``"binned"`` when the energy has no
        exact integer lattice.
    n_bins : int, optional
        Binned levels: see :func:`mcising.wl_binned.energy_bins`.
    seed : optional
        Seed of the annealing that finds the binned range.

    Returns
    -------
    levels : str
        The levels chosen.
    settings : dict
        ``n_levels`` and ``start``, plus ``c_n`` and ``c_m`` (lattices: level steps
        per active node and per active edge), ``unit`` (energy lattice) or
        ``e_min``, ``width`` and ``annealed`` (bins).

    Raises
    ------
    InvalidInputError
        For an unknown ``levels``, ``"nm"`` on real weights or several thresholds, or
        more than 5e7 levels.
    """
    if levels not in LEVELS:
        raise InvalidInputError(f"levels must be one of {', '.join(LEVELS)}, got {levels!r}")
    lattice_ok = model.unit_weights and model.uniform_theta
    if levels == "nm" and not lattice_ok:
        raise InvalidInputError(
            "levels='nm' needs unit edge weights and one threshold for all nodes; "
            "use levels='binned' for real weights"
        )
    lattice = _energy_lattice(model) if lattice_ok else None
    if levels == "auto":
        levels = "nm" if lattice_ok else "binned"
    if levels == "energy" and lattice is None:
        levels = "binned"
    n, m = model.n_nodes, model.n_edges
    if levels == "nm":
        settings = {"c_n": m + 1, "c_m": 1, "n_levels": (n + 1) * (m + 1), "start": 0}
    elif levels == "energy":
        unit, p, q = lattice
        low = min(0, p * n) + min(0, -q * m)
        settings = {"c_n": p, "c_m": -q, "start": -low, "unit": unit,
                    "n_levels": abs(p) * n + abs(q) * m + 1}
    else:
        e_min, width, n_levels, found = wl_binned.energy_bins(model, n_bins=n_bins,
                                                              seed=seed)
        settings = {"e_min": e_min, "width": width, "n_levels": n_levels,
                    "start": int(np.floor(-e_min / width)), "annealed": list(found)}
    if settings["n_levels"] > _MAX_LEVELS:
        raise InvalidInputError(
            f"{settings['n_levels']} levels exceed the limit of {_MAX_LEVELS}; "
            "use levels='binned' with fewer bins"
        )
    return levels, settings

r"""Replica-exchange Wang-Landau over overlapping windows of energy levels.

For large networks one walker cannot traverse the whole range of levels often enough.
Following Vogel, Li, Wuest and Landau [1]_, the range is cut into ``n_windows``
overlapping windows; each window has its own walker (one per independent replica set),
which refuses moves that leave the window, and walkers of neighbouring windows swap
configurations at fixed trial intervals with probability

.. math::

    \min\left(1, \frac{g_a(E_a)\, g_b(E_b)}{g_a(E_b)\, g_b(E_a)}\right),

so every walker keeps a detailed-balanced flat-histogram walk inside its window while
configurations travel across the whole range. The windows' :math:`\log g` are known up
to a constant each; they are joined at the level of their overlap where the slopes
:math:`d \log g / dE` of the two agree best (for a one-dimensional range of energies),
or by the mean difference over the shared cells of the joint :math:`(n, m)` lattice,
whose windows are ranges of :math:`n`.

Walker ``k`` belongs to replica set ``k // n_windows`` and window ``k % n_windows``.

References
----------
.. [1] T. Vogel, Y. W. Li, T. Wuest and D. P. Landau, Phys. Rev. Lett. 110, 210603
   (2013), doi:10.1103/PhysRevLett.110.210603.
"""

import math

import numpy as np

from .errors import InvalidInputError
from .kernels import energy_walks
from .kernels import wang_landau as kern
from .rng import spawn_seeds

__all__ = ["DEFAULT_OVERLAP", "enter_windows", "exchange", "join", "window_bounds"]

# Overlap of neighbouring windows, as a fraction of a window (Vogel et al. use 0.75).
DEFAULT_OVERLAP = 0.75
# Sweeps allowed for driving a walker into its window before giving up.
_ENTER_SWEEPS = 10_000
# Annealing sweeps used to find the lowest and highest level of an energy lattice.
_ANNEAL_SWEEPS, _BETA_MAX = 200, 50.0


def _lattice_energy(settings, n_nodes):
    """Write a lattice mode's level as an energy: theta_half = c_n, w = -c_m."""
    return np.full(n_nodes, float(settings["c_n"])), -float(settings["c_m"])


def _one_d_range(wl, seed):
    """Lowest and highest reachable level index of a one-dimensional level set."""
    s, model = wl.settings, wl.model
    if wl.levels == "binned":
        # The bins of the annealed extremes (the bins beyond reach to the bounds).
        return tuple(s["annealed"])
    indptr, indices, _ = model.csr
    theta_half, w = _lattice_energy(s, model.n_nodes)
    ones = np.ones(len(indices))
    states = spawn_seeds(seed, 2)
    ends = []
    for row, sign in zip(states, (1.0, -1.0)):
        spins = np.zeros(model.n_nodes, dtype=np.int8)
        ends.append(energy_walks.anneal_extreme(
            indptr, indices.astype(np.int32), ones, theta_half, w, sign, spins,
            row.copy(), _ANNEAL_SWEEPS, _BETA_MAX))
    low = int(round(min(ends))) + s["start"]
    high = int(round(max(ends))) + s["start"]
    return max(low, 0), min(high, s["n_levels"] - 1)


def window_bounds(wl, n_windows, overlap, seed):
    """Level bounds of ``n_windows`` windows with the given overlap.

    Parameters
    ----------
    wl : WangLandau
    n_windows : int
    overlap : float
        Shared fraction of neighbouring windows, in (0, 1).
    seed : optional
        Seed of the annealing that finds the range of an energy lattice.

    Returns
    -------
    numpy.ndarray of int64, shape (n_windows, 2)
        Lowest and highest level (inclusive) of each window.

    Raises
    ------
    InvalidInputError
        When the range is too narrow for that many windows.
    """
    if wl.levels == "nm":
        first, last = 0, wl.model.n_nodes
    else:
        first, last = _one_d_range(wl, seed)
    span = last - first
    width = span / (1 + (n_windows - 1) * (1 - overlap))
    step = (1 - overlap) * width
    if step < 1 or width < 2:
        raise InvalidInputError(
            f"{n_windows} windows with overlap {overlap} do not fit the {span + 1} "
            f"{'values of n' if wl.levels == 'nm' else 'levels'} of this network; use "
            "fewer windows or a smaller overlap"
        )
    out = np.empty((n_windows, 2), dtype=np.int64)
    for k in range(n_windows):
        lo = first + int(round(k * step))
        hi = min(first + int(math.ceil(k * step + width)), last)
        if k == n_windows - 1:
            hi = last
        out[k] = lo, hi
    if wl.levels == "nm":
        # Windows over n hold whole rows of the (n, m) lattice.
        row = wl.model.n_edges + 1
        out = np.stack([out[:, 0] * row, out[:, 1] * row + row - 1], axis=1)
    else:
        # The end windows reach the ends of the level set, in case annealing missed
        # the true extremes: no level is ever excluded.
        out[0, 0], out[-1, 1] = 0, wl.settings["n_levels"] - 1
    return out


def enter_windows(wl, seed):
    """Drive every walker into its window and register its first level.

    Raises
    ------
    InvalidInputError
        When no state of some window is found.
    """
    s, model = wl.settings, wl.model
    indptr, indices, data = model.csr
    indices = indices.astype(np.int32)
    lattice = wl.levels != "binned"
    if lattice:
        theta_half, w = _lattice_energy(s, model.n_nodes)
        data = np.ones(len(indices))
    else:
        theta_half, w = model.theta / 2, float(model.w)
    rng = spawn_seeds(seed, len(wl.spins))
    for k, (lo, hi) in enumerate(wl.bounds):
        if lattice:
            e_lo, e_hi = lo - s["start"] - 0.5, hi - s["start"] + 0.5
        else:
            e_lo = s["e_min"] + (lo + 1e-6) * s["width"]
            e_hi = s["e_min"] + (hi + 1 - 1e-6) * s["width"]
        inside = energy_walks.walk_into(indptr, indices, data, theta_half, w, e_lo,
                                        e_hi, wl.spins[k], rng[k], _ENTER_SWEEPS)
        if not inside:
            raise InvalidInputError(
                f"no state was found in Wang-Landau window {k % s['windows']} (levels "
                f"{lo} to {hi}); use fewer windows"
            )
        level = _level_of(wl, wl.spins[k])
        wl.level[k, 0] = level
        wl.energy[k, 0] = model.energy(wl.spins[k]) if not lattice else 0.0
        wl.refresh_field(slice(k, k + 1))
        wl.visited[k] = 0
        wl.visited[k, level] = 1
        wl.counters[k, kern.LOW] = level
        wl.counters[k, kern.HIGH] = level


def _level_of(wl, spins):
    """Level index of a state."""
    s, model = wl.settings, wl.model
    if wl.levels == "binned":
        return int(np.floor((model.energy(spins) - s["e_min"]) / s["width"]))
    i, j, _ = model.edges
    n, m = int(spins.sum()), int(np.sum(spins[i] * spins[j]))
    return s["c_n"] * n + s["c_m"] * m + s["start"]


def exchange(wl):
    """Propose one round of swaps between neighbouring windows of every replica set.

    Even rounds pair windows (0, 1), (2, 3), ...; odd rounds (1, 2), (3, 4), .... The
    random numbers come from the seed and the round number, so a run cut into any
    number of calls makes the same swaps.
    """
    n_windows = wl.settings["windows"]
    rounds = int(wl.exchanges[0])
    rng = np.random.default_rng([wl.settings["exchange_seed"], rounds])
    n_sets = len(wl.spins) // n_windows
    stage = wl.counters[:, kern.STAGE]
    for r in range(n_sets):
        for w in range(rounds % 2, n_windows - 1, 2):
            a, b = r * n_windows + w, r * n_windows + w + 1
            u = rng.random()
            la, lb = int(wl.level[a, 0]), int(wl.level[b, 0])
            (a_lo, a_hi), (b_lo, b_hi) = wl.bounds[a], wl.bounds[b]
            if stage[a] == 2 or stage[b] == 2:
                continue
            if not (a_lo <= lb <= a_hi and b_lo <= la <= b_hi):
                continue
            if not (wl.visited[a, lb] and wl.visited[b, la]):
                continue
            wl.exchanges[1] += 1
            log_ratio = (wl.log_g[a, la] - wl.log_g[a, lb]
                         + wl.log_g[b, lb] - wl.log_g[b, la])
            if log_ratio >= 0 or u < math.exp(log_ratio):
                wl.exchanges[2] += 1
                for name in ("spins", "field", "level", "energy"):
                    array = getattr(wl, name)
                    array[[a, b]] = array[[b, a]]
    wl.exchanges[0] += 1


def join(log_g, visited, n_windows, *, row=None):
    r"""Join the windows of every replica set into one table each.

    Parameters
    ----------
    log_g : numpy.ndarray, shape (K, L)
        Each walker's :math:`\log g` (arbitrary offset).
    visited : numpy.ndarray of bool, shape (K, L)
    n_windows : int
    row : int, optional
        Length of a row of the (n, m) lattice (M + 1); None for one-dimensional
        levels.

    Returns
    -------
    log_g : numpy.ndarray, shape (K // n_windows, L)
        Joined tables, ``-inf`` where no window found the level.
    visited : numpy.ndarray of bool, shape (K // n_windows, L)

    Raises
    ------
    InvalidInputError
        When two neighbouring windows share no level (no joint can be made).
    """
    n_sets, n_levels = log_g.shape[0] // n_windows, log_g.shape[1]
    out = np.full((n_sets, n_levels), -np.inf)
    levels = np.arange(n_levels)
    for r in range(n_sets):
        joined = np.where(visited[r * n_windows], log_g[r * n_windows], -np.inf)
        for w in range(1, n_windows):
            k = r * n_windows + w
            following = np.where(visited[k], log_g[k], -np.inf)
            common = np.isfinite(joined) & np.isfinite(following)
            if not common.any():
                raise InvalidInputError(
                    f"Wang-Landau windows {w - 1} and {w} share no level: the run is "
                    "too short or the overlap too small"
                )
            split, shift = _joint(joined, following, common, row)
            joined = np.where(levels <= split, joined, following + shift)
        out[r] = joined
    return out, np.isfinite(out)


def _joint(lower, upper, common, row):
    """Last level taken from ``lower`` and the shift that aligns ``upper`` to it."""
    shared = np.flatnonzero(common)
    if row is not None:
        # (n, m) lattice: align on the mean over the shared cells, cut mid-overlap.
        shift = float(np.mean(lower[shared] - upper[shared]))
        rows = np.unique(shared // row)
        return int(rows[len(rows) // 2] * row + row - 1), shift
    # One-dimensional levels: the point where the slopes agree best.
    inner = shared[(shared > 0) & (shared < len(common) - 1)]
    inner = inner[common[inner - 1] & common[inner + 1]]
    if inner.size:
        slope_lower = lower[inner + 1] - lower[inner - 1]
        slope_upper = upper[inner + 1] - upper[inner - 1]
        best = int(inner[np.argmin(np.abs(slope_lower - slope_upper))])
    else:
        best = int(shared[len(shared) // 2])
    return best, float(lower[best] - upper[best])

r"""Wang-Landau on real-valued energies: automatic range and bins, multicanonical production.

For real weights the energy takes up to :math:`2^N` distinct values, so the walkers
estimate :math:`g` per energy bin at one :math:`(\theta, W)`. Binning alone biases
thermodynamics (every state of a bin is treated as if it had one energy); the
production run removes that bias: it samples with the frozen weights
:math:`1/g(b)`, records each sample's exact energy :math:`E_s`, and reweights,

.. math::

    \langle A \rangle_\epsilon = \frac{\sum_s A_s\, g(b_s)\, e^{-\epsilon E_s}}
        {\sum_s g(b_s)\, e^{-\epsilon E_s}}, \qquad
    Z(\epsilon) = 2^N \frac{\sum_s g(b_s)\, e^{-\epsilon E_s}}{\sum_s g(b_s)},

which is exact for any frozen :math:`g` (only the statistical error depends on how
flat the weights make the walk). The bin width comes from the energy range found by
annealing towards the lowest and the highest energies; the bins then extend to the
bounds that no state can pass (every term of :math:`H` at its own extreme), so a walker
that finds an energy beyond the annealed range enters a new bin online, just as on a
lattice of levels. Bins no state reaches stay unvisited and are never waited for.

References
----------
.. [1] B. A. Berg and T. Neuhaus, Phys. Rev. Lett. 68, 9 (1992),
   doi:10.1103/PhysRevLett.68.9 (multicanonical sampling).
.. [2] F. Wang and D. P. Landau, Phys. Rev. E 64, 056101 (2001),
   doi:10.1103/PhysRevE.64.056101.
"""

import numpy as np

from .errors import InvalidInputError
from .kernels import energy_walks
from .rng import spawn_seeds

__all__ = ["DEFAULT_SAMPLES", "energy_bins", "produce"]

# Samples per walker in the production run; one sample every N trials.
DEFAULT_SAMPLES = 20_000
# Default number of bins: two per node, within these bounds.
_MIN_BINS, _MAX_BINS = 32, 4096
# Annealing restarts and sweeps used to find each end of the energy range.
_RESTARTS, _ANNEAL_SWEEPS, _BETA_MAX = 4, 200, 50.0
# Empty bins added beyond each end of the range found.
_PAD_BINS = 2


def _energy_bounds(model):
    """Lower and upper bounds of H over all states: every term at its own extreme."""
    theta_half = model.theta / 2
    _, _, weight = model.edges
    coupling = -float(model.w) * weight
    low = float(np.minimum(theta_half, 0).sum() + np.minimum(coupling, 0).sum())
    high = float(np.maximum(theta_half, 0).sum() + np.maximum(coupling, 0).sum())
    return low, high


def energy_bins(model, *, n_bins=None, seed=None):
    """Energy bins for ``model`` at its own (theta, W).

    Parameters
    ----------
    model : IsingModel
    n_bins : int, optional
        Bins between the lowest and highest energies found by annealing (default
        ``2 N``, clipped to [32, 4096]); bins of the same width continue to the bounds
        of the energy.
    seed : optional
        Seed of the annealing runs.

    Returns
    -------
    e_min : float
        Lower edge of the first bin.
    width : float
        Bin width.
    n_levels : int
        Number of bins.
    found : tuple of int
        Bins of the lowest and the highest energy found by annealing.
    """
    if n_bins is None:
        n_bins = int(np.clip(2 * model.n_nodes, _MIN_BINS, _MAX_BINS))
    if not (isinstance(n_bins, (int, np.integer)) and n_bins >= 1):
        raise InvalidInputError(f"n_bins must be a positive int, got {n_bins!r}")
    indptr, indices, data = model.csr
    states = spawn_seeds(seed, 2 * _RESTARTS)
    rng = np.random.default_rng(states[0, 0])
    ends = []
    for sign in (1.0, -1.0):
        best = []
        for r in range(_RESTARTS):
            spins = (rng.random(model.n_nodes) < 0.5).astype(np.int8)
            row = states[r + (0 if sign > 0 else _RESTARTS)].copy()
            best.append(energy_walks.anneal_extreme(
                indptr, indices.astype(np.int32), data, model.theta / 2,
                float(model.w), sign, spins, row, _ANNEAL_SWEEPS, _BETA_MAX,
            ))
        ends.append(min(best) if sign > 0 else max(best))
    low, high = min(ends[0], 0.0), max(ends[1], 0.0)
    span = high - low
    if span <= 0:
        span = 1.0
    width = span / n_bins * (1 + 1e-9)
    # The annealed extremes sit in the middle of their bins: a level whose energy lies
    # on a bin edge would flip between two bins with the rounding of the running
    # energy. Padding bins guard the bounds against the same rounding.
    bound_low, bound_high = _energy_bounds(model)
    below = int(np.ceil(max(low - bound_low, 0.0) / width)) + _PAD_BINS
    above = int(np.ceil(max(bound_high - high, 0.0) / width)) + _PAD_BINS
    e_min = low - (below + 0.5) * width
    return (float(e_min), float(width), int(below + n_bins + above + 1),
            (below, below + n_bins))


def produce(wl, *, n_samples=None, thin=None):
    """Run the multicanonical production of a binned or energy-lattice run.

    Parameters
    ----------
    wl : WangLandau
        Walkers after :meth:`~mcising.wang_landau.WangLandau.run`. Production starts
        from their states and advances their random states; their spins, levels and
        energies are left as the walk had them, so that the walk can go on.
    n_samples : int, optional
        Samples per walker (default :data:`DEFAULT_SAMPLES`).
    thin : int, optional
        Trials between samples (default N).

    Returns
    -------
    dict of numpy.ndarray, shape (K, n_samples)
        ``energy``, ``n`` and ``q`` of every sample.
    """
    n_samples = DEFAULT_SAMPLES if n_samples is None else int(n_samples)
    thin = wl.model.n_nodes if thin is None else int(thin)
    if n_samples < 1 or thin < 1:
        raise InvalidInputError("n_samples and thin must be positive")
    s, model = wl.settings, wl.model
    if wl.levels == "binned":
        e_min, width = s["e_min"], s["width"]
    else:
        # Exact lattice: level l holds energy (l - start) * unit; centre the bins.
        width = s["unit"]
        e_min = -(s["start"] + 0.5) * width
    # One production walker per independent estimate: with windows, the walker of
    # each replica set's first window samples its set's joined table.
    log_g = wl._tables()[0]
    first = slice(None, None, s["windows"])
    spins, rng = wl.spins[first].copy(), wl.rng[first].copy()
    k = log_g.shape[0]
    out = {key: np.empty((k, n_samples)) for key in ("energy", "n", "q")}
    energy = np.empty((k, 1))
    for j in range(k):
        energy[j, 0] = model.energy(spins[j])
    indptr, indices, data = model.csr
    energy_walks.run_multicanonical(indptr, indices.astype(np.int32), data,
                                    model.theta / 2, float(model.w), float(e_min),
                                    1.0 / width, log_g, spins, energy, rng, n_samples,
                                    thin, out["energy"], out["n"], out["q"])
    wl.rng[first] = rng
    return out

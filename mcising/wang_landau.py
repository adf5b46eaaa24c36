r"""Wang-Landau density of states: the whole entropy surface from one run.

Wang-Landau walkers estimate the density of states :math:`g` by a random walk that
visits every level equally often. Three choices of levels:

* ``"nm"`` (unit weights and a uniform threshold): the joint lattice of :math:`n`
  active nodes and :math:`m` active edges. :math:`H = \tfrac{\theta}{2} n - W m`, so
  :math:`\log g(n, m)` gives :math:`\log Z`, the entropy, :math:`\langle H\rangle`
  and the heat capacity at every :math:`(\theta, W, \epsilon)`.
* ``"energy"``: the exact energy lattice at one :math:`(\theta, W)` when the weights
  are units, :math:`\theta` is uniform and :math:`\theta/2 : W` is rational
  (:math:`H = u\,(p\,n - q\,m)`); it answers every :math:`\epsilon` at that point.
* ``"binned"`` (real weights): energy bins at one :math:`(\theta, W)`, their width
  from the range found by annealing and their span out to the bounds of :math:`H`,
  followed by a multicanonical production run whose samples are reweighted exactly
  (see :mod:`mcising.wl_binned`).

The levels are laid out by :mod:`mcising.wl_levels`.

The modification factor follows the 1/t schedule of Belardinelli and Pereyra [2]_, with
:math:`t` counted in trials per known level. Several independent walkers run in
parallel; the spread between them gives the error bars. Levels that no state can reach
are never waited for: the flatness criterion runs over the levels found so far, and a
level found later (an energy beyond the annealed range included) starts from the current
walker's :math:`\log g`. Every table is normalised to :math:`\sum g = 2^N`.

References
----------
.. [1] F. Wang and D. P. Landau, Phys. Rev. Lett. 86, 2050 (2001),
   doi:10.1103/PhysRevLett.86.2050.
.. [2] R. E. Belardinelli and V. D. Pereyra, Phys. Rev. E 75, 046701 (2007),
   doi:10.1103/PhysRevE.75.046701.
.. [3] T. Vogel, Y. W. Li, T. Wuest and D. P. Landau, Phys. Rev. Lett. 110, 210603
   (2013), doi:10.1103/PhysRevLett.110.210603.
"""

import logging
import time
import warnings

import numpy as np

from . import wl_binned, wl_checkpoint, wl_levels, wl_windows
from .errors import ConvergenceWarning, InvalidInputError
from .kernels import wang_landau as kern
from .progress import progress_bar
from .rng import as_seed_sequence, spawn_seeds
from .wl_results import (
    EnergyDensityOfStates,
    WangLandauDensityOfStates,
    normalise_log_g,
)

__all__ = ["DEFAULT_FLATNESS", "DEFAULT_LOG_F_FINAL", "WangLandau", "wang_landau"]

logger = logging.getLogger(__name__)

# Flatness criterion min H >= 0.8 <H> of Wang and Landau (2001).
DEFAULT_FLATNESS = 0.8
# Final ln f; in the 1/t stage this is t = 1e6 trials per level.
DEFAULT_LOG_F_FINAL = 1e-6
DEFAULT_WALKERS = 8
# Entries of the ln f history kept per walker.
_TRACE = 64
# Target wall time of one kernel call (seconds): progress, checkpoints and Ctrl-C.
_CALL_SECONDS = 0.5


class WangLandau:
    r"""A resumable set of Wang-Landau walkers on one model.

    Parameters
    ----------
    model : IsingModel
        The network; for ``levels="energy"`` or ``"binned"`` also its ``theta`` and
        ``w`` (the inverse temperature is free afterwards).
    levels : {"auto", "nm", "energy", "binned"}
        ``"auto"`` is ``"nm"`` for unit weights and a uniform threshold, otherwise
        ``"binned"``. ``"energy"`` falls back to ``"binned"`` when the energy has no
        exact integer lattice.
    n_walkers : int
        Independent estimates K (at least 2 for error bars): K walkers, or with
        ``windows > 1`` K replica sets of ``windows`` walkers each; all walkers run
        in parallel.
    flatness : float
        Stage-0 criterion :math:`\min H \ge` ``flatness`` :math:`\langle H\rangle`.
    log_f_final : float
        A walker stops when :math:`\ln f` reaches this. In the 1/t stage
        :math:`\ln f = L/\text{trials}`, so a walker makes about ``L / log_f_final``
        trials for ``L`` reachable levels.
    seed : None, int or numpy.random.SeedSequence
        Same seed, same result, whatever the number of threads.
    n_bins : int, optional
        Binned mode: number of bins between the lowest and highest energies found
        by annealing; bins of the same width continue to the bounds of the energy,
        so energies beyond the annealed range are found online (default:
        :func:`mcising.wl_binned.energy_bins`).
    windows : int
        Overlapping windows of levels for replica-exchange Wang-Landau
        (:mod:`mcising.wl_windows`): windows of n for ``"nm"``, of energy
        otherwise. 1 (default) is plain Wang-Landau over the whole range.
    overlap : float
        Shared fraction of neighbouring windows (default 0.75).
    exchange_every : int, optional
        Trials per walker between two rounds of exchanges (default ``100 N``, at
        least 10^4).

    Raises
    ------
    InvalidInputError
        For ``levels="nm"`` on weighted edges or non-uniform theta, or bad settings.

    Notes
    -----
    A trial proposes one node flip, accepted with probability
    :math:`\min(1, g(\ell)/g(\ell'))`; afterwards :math:`\ln g(\ell_{\rm now})`
    grows by :math:`\ln f`. Stage 0 halves :math:`\ln f` whenever the histogram is
    flat over the known levels, until :math:`\ln f < 1/t` with :math:`t` the trials
    per known level; from then on :math:`\ln f = 1/t` [2]_.

    Examples
    --------
    >>> import mcising
    >>> model = mcising.load_model("grid_2d:3,3")
    >>> wl = WangLandau(model, n_walkers=4, log_f_final=1e-4, seed=1).run()
    >>> dos = wl.density_of_states()
    >>> bool(abs(dos.estimates(mcising.params.points_for(model, None))[0].log_z
    ...          - 9 * np.log(2) - 0.0) < 5.0)
    True
    """

    def __init__(self, model, *, levels="auto", n_walkers=DEFAULT_WALKERS,
                 flatness=DEFAULT_FLATNESS, log_f_final=DEFAULT_LOG_F_FINAL, seed=None,
                 n_bins=None, windows=1, overlap=wl_windows.DEFAULT_OVERLAP,
                 exchange_every=None):
        if not (isinstance(windows, (int, np.integer)) and windows >= 1):
            raise InvalidInputError(f"windows must be a positive int, got {windows!r}")
        if not 0 < overlap < 1:
            raise InvalidInputError(f"overlap must lie in (0, 1), got {overlap}")
        if exchange_every is None:
            exchange_every = max(100 * model.n_nodes, 10_000)
        if not (isinstance(exchange_every, (int, np.integer)) and exchange_every >= 1):
            raise InvalidInputError(
                f"exchange_every must be a positive int, got {exchange_every!r}")
        if not (isinstance(n_walkers, (int, np.integer)) and n_walkers >= 1):
            raise InvalidInputError(f"n_walkers must be a positive int, got {n_walkers!r}")
        if not 0 < flatness < 1:
            raise InvalidInputError(f"flatness must lie in (0, 1), got {flatness}")
        if not 0 < log_f_final < 1:
            raise InvalidInputError(f"log_f_final must lie in (0, 1), got {log_f_final}")
        levels, level_settings = wl_levels.level_settings(model, levels, n_bins=n_bins,
                                                          seed=seed)
        self.model = model
        self.levels = levels
        self.settings = {"levels": levels, "n_walkers": int(n_walkers),
                         "flatness": float(flatness), "log_f_final": float(log_f_final),
                         "windows": int(windows), "overlap": float(overlap),
                         "exchange_every": int(exchange_every), **level_settings}
        self.settings["check_every"] = max(int(self.settings["n_levels"]), 1000)
        self.settings["exchange_seed"] = 0
        if windows == 1:
            self._init_walkers(seed)
        else:
            walker_seed, window_seed, enter_seed, exchange_seed = as_seed_sequence(
                seed).spawn(4)
            self.settings["exchange_seed"] = int(exchange_seed.generate_state(1)[0])
            self._init_walkers(walker_seed)
            bounds = wl_windows.window_bounds(self, windows, overlap, window_seed)
            self.bounds[:] = np.tile(bounds, (int(n_walkers), 1))
            wl_windows.enter_windows(self, enter_seed)
        self.seconds = 0.0

    def _init_walkers(self, seed):
        k = self.settings["n_walkers"] * self.settings["windows"]
        n_levels = self.settings["n_levels"]
        start = self.settings["start"]
        self.spins = np.zeros((k, self.model.n_nodes), dtype=np.int8)
        self.level = np.full((k, 1), start, dtype=np.int64)
        self.energy = np.zeros((k, 1), dtype=np.float64)
        # Binned levels: each node's local field, kept up to date by the walk.
        width = self.model.n_nodes if self.levels == "binned" else 0
        self.field = np.zeros((k, width), dtype=np.float64)
        self.refresh_field()
        self.log_g = np.zeros((k, n_levels), dtype=np.float64)
        self.hist = np.zeros((k, n_levels), dtype=np.int64)
        self.visited = np.zeros((k, n_levels), dtype=np.uint8)
        self.visited[:, start] = 1
        self.counters = np.zeros((k, kern.N_COUNTERS), dtype=np.int64)
        self.counters[:, kern.N_KNOWN] = 1
        self.counters[:, kern.LOW] = start
        self.counters[:, kern.HIGH] = start
        self.log_f = np.ones((k, 1), dtype=np.float64)
        self.trace = np.zeros((k, _TRACE, 2), dtype=np.float64)
        self.rng = spawn_seeds(seed, k)
        # Window of each walker (inclusive level bounds), and the exchange counters:
        # rounds, attempted and accepted swaps.
        self.bounds = np.tile(np.array([[0, n_levels - 1]], dtype=np.int64), (k, 1))
        self.exchanges = np.zeros(3, dtype=np.int64)
        self.samples = None

    # -- running ----------------------------------------------------------------------

    @property
    def flips(self):
        """Trials (proposed flips) made so far, all walkers together."""
        return int(self.counters[:, kern.TRIALS].sum())

    @property
    def finished(self):
        """True when every walker has reached ``log_f_final``."""
        return bool(np.all(self.counters[:, kern.STAGE] == 2))

    def refresh_field(self, rows=slice(None)):
        """Recompute the local fields of the walkers ``rows`` from their spins.

        Binned levels only (a no-op otherwise); code that changes walkers' spins
        outside the walk calls this afterwards.
        """
        if self.levels != "binned":
            return
        indptr, indices, data = self.model.csr
        field = self.field[rows]
        kern.local_fields(indptr, indices, data, self.model.theta / 2,
                          float(self.model.w), self.spins[rows], field)
        self.field[rows] = field

    def _call(self, n_trials):
        s = self.settings
        indptr, indices, data = self.model.csr
        args = (self.log_g, self.hist, self.visited, self.counters, self.log_f,
                self.trace, self.rng, int(n_trials), s["flatness"], s["log_f_final"],
                s["check_every"], self.bounds)
        if self.levels == "binned":
            kern.run_binned(indptr, indices.astype(np.int32), data, float(self.model.w),
                            s["e_min"], 1.0 / s["width"], self.spins, self.field,
                            self.energy, self.level, *args)
        else:
            kern.run_lattice(indptr, indices.astype(np.int32), s["c_n"], s["c_m"],
                             self.spins, self.level, *args)

    def run(self, *, max_flips=None, max_seconds=None, checkpoint=None,
            checkpoint_seconds=60.0, progress=None):
        """Advance the walkers until they finish or a budget is spent.

        Parameters
        ----------
        max_flips : int, optional
            Budget of further trials, all walkers together.
        max_seconds : float, optional
            Budget of further wall time.
        checkpoint : str or os.PathLike, optional
            File written every ``checkpoint_seconds``, at the end and on Ctrl-C.
        checkpoint_seconds : float
        progress : bool or None
            Progress bar on stderr (``None``: only for runs with a budget > 1 s).

        Returns
        -------
        WangLandau
            ``self``, to chain ``.density_of_states()``.
        """
        k = len(self.spins)
        per_walker = None if max_flips is None else -(-int(max_flips) // k)
        done = 0
        windows = self.settings["windows"] > 1
        # With windows, calls end where exchanges are due, at fixed trial counts.
        chunk = self.settings["exchange_every"] if windows else 1 << 16
        start = last_save = time.perf_counter()
        bar = progress_bar(max_seconds or 0, "wang-landau", progress=progress,
                           expected_seconds=max_seconds or 0, unit="s")
        try:
            while not self.finished:
                if per_walker is not None:
                    if done >= per_walker:
                        break
                    chunk = min(chunk, per_walker - done)
                tick = time.perf_counter()
                self._call(chunk)
                if windows:
                    wl_windows.exchange(self)
                elapsed = time.perf_counter() - tick
                self.seconds += elapsed
                done += chunk
                bar.set_postfix(flips=f"{self.flips:.3g}",
                                log_f=f"{self.log_f.max():.2g}", refresh=False)
                bar.update(min(elapsed, max(0, bar.total - bar.n)) if bar.total else 0)
                now = time.perf_counter()
                if max_seconds is not None and now - start >= max_seconds:
                    break
                if checkpoint is not None and now - last_save >= checkpoint_seconds:
                    self.save_checkpoint(checkpoint)
                    last_save = now
                if elapsed < _CALL_SECONDS / 2 and not windows:
                    chunk *= 2
        except KeyboardInterrupt:
            if checkpoint is not None:
                self.save_checkpoint(checkpoint)
                logger.info("interrupted; checkpoint written to %s", checkpoint)
            raise
        finally:
            bar.close()
        if checkpoint is not None:
            self.save_checkpoint(checkpoint)
        return self

    # -- results ----------------------------------------------------------------------

    def diagnostics(self):
        """Facts about the run, one value per walker where it varies.

        Returns
        -------
        dict
            ``walkers``, ``flips``, ``seconds``, ``levels`` (kind), ``levels_found``,
            ``log_f`` (current per walker), ``log_f_final``, ``stage`` (0, 1 or 2),
            ``round_trips``, ``late_levels`` (found after the 1/t switch),
            ``acceptance``, ``flatness`` (min H / mean H now), ``log_f_history``
            (per walker, list of (trials, ln f)), ``windows`` and
            ``exchange_acceptance`` (accepted share of the attempted window swaps,
            None without windows). Walker ``k`` works in window ``k % windows``.
        """
        c = self.counters
        trials = np.maximum(c[:, kern.TRIALS], 1)
        flat = []
        for hist, seen in zip(self.hist, self.visited.astype(bool)):
            h = hist[seen]
            flat.append(float(h.min() / h.mean()) if h.size and h.mean() > 0 else 0.0)
        return {
            "walkers": self.settings["n_walkers"],
            "flips": self.flips,
            "seconds": self.seconds,
            "levels": self.levels,
            "levels_found": c[:, kern.N_KNOWN].tolist(),
            "log_f": self.log_f[:, 0].tolist(),
            "log_f_final": self.settings["log_f_final"],
            "stage": c[:, kern.STAGE].tolist(),
            "round_trips": c[:, kern.ROUND_TRIPS].tolist(),
            "late_levels": c[:, kern.LATE_FOUND].tolist(),
            "acceptance": (c[:, kern.ACCEPTED] / trials).tolist(),
            "flatness": flat,
            "log_f_history": [t[: n].tolist() for t, n in
                              zip(self.trace, c[:, kern.N_TRACE])],
            "windows": self.settings["windows"],
            "exchange_acceptance": (float(self.exchanges[2] / self.exchanges[1])
                                    if self.exchanges[1] else None),
        }

    def _summary(self):
        d = self.diagnostics()
        return {"walkers": d["walkers"], "flips": d["flips"],
                "wl_seconds": round(d["seconds"], 3), "levels": d["levels"],
                "levels_found": int(max(d["levels_found"])),
                "log_f_max": float(max(d["log_f"])),
                "round_trips_min": int(min(d["round_trips"]))}

    def _tables(self):
        """Log g (-inf where not found) and found levels, one row per estimate.

        With windows, each replica set's windows are joined into one table
        (:func:`mcising.wl_windows.join`).
        """
        found = self.visited.astype(bool)
        if self.settings["windows"] == 1:
            return np.where(found, self.log_g, -np.inf), found
        row = self.model.n_edges + 1 if self.levels == "nm" else None
        return wl_windows.join(self.log_g, found, self.settings["windows"], row=row)

    def _warn_if_unconverged(self):
        stage = self.counters[:, kern.STAGE]
        found = self._tables()[1]
        if np.any(stage == 0):
            warnings.warn(
                f"{int(np.sum(stage == 0))} of {len(stage)} Wang-Landau walkers never "
                "reached the 1/t stage (their histograms never became flat): the "
                "density of states is unreliable; give the run more flips or time",
                ConvergenceWarning, stacklevel=3,
            )
        elif np.any(found != found[0]):
            warnings.warn(
                "the Wang-Landau walkers found different sets of levels: a rare level "
                "was missed by some, so its log g rests on fewer walkers; give the run "
                "more flips",
                ConvergenceWarning, stacklevel=3,
            )

    def _normalised_log_g(self):
        return normalise_log_g(self._tables()[0], self.model.n_nodes)

    def density_of_states(self, *, warn=True):
        r"""Return the estimated density of states, normalised to :math:`\sum g = 2^N`.

        Parameters
        ----------
        warn : bool
            Issue a :class:`ConvergenceWarning` when some walker never reached the
            1/t stage or the walkers disagree about which levels exist.

        Returns
        -------
        WangLandauDensityOfStates or EnergyDensityOfStates
            The first for ``levels="nm"``, the second for ``"energy"`` and
            ``"binned"`` (with multicanonical samples once :meth:`produce` ran).
        """
        if warn:
            self._warn_if_unconverged()
        log_g = self._normalised_log_g()
        model, s = self.model, self.settings
        if self.levels == "nm":
            shape = (log_g.shape[0], model.n_nodes + 1, model.n_edges + 1)
            return WangLandauDensityOfStates(
                log_g.reshape(shape), structure_hash=model.structure_hash,
                diagnostics=self._summary(),
            )
        if self.levels == "energy":
            energies = (np.arange(s["n_levels"]) - s["start"]) * s["unit"]
            width = s["unit"]
        else:
            energies = s["e_min"] + s["width"] * np.arange(s["n_levels"])
            width = s["width"]
        return EnergyDensityOfStates(
            energies, log_g, theta=model.theta, w=model.w, n_nodes=model.n_nodes,
            n_edges=model.n_edges, exact_levels=self.levels == "energy",
            samples=self.samples, bin_width=width,
            structure_hash=model.structure_hash, diagnostics=self._summary(),
        )

    def produce(self, n_samples=None, *, thin=None):
        r"""Run a multicanonical production with each walker's frozen :math:`\log g`.

        Parameters
        ----------
        n_samples : int, optional
            Samples per walker (default :data:`mcising.wl_binned.DEFAULT_SAMPLES`).
        thin : int, optional
            Trials between samples (default N).

        Returns
        -------
        WangLandau
            ``self``; :meth:`density_of_states` then reweights the samples exactly.
        """
        if self.levels == "nm":
            raise InvalidInputError(
                "the (n, m) lattice is exact per level and needs no production run"
            )
        self.samples = wl_binned.produce(self, n_samples=n_samples, thin=thin)
        return self

    # -- checkpoints ------------------------------------------------------------------

    def save_checkpoint(self, path):
        """Write every walker's full state to ``path`` (npz, written atomically)."""
        wl_checkpoint.save(self, path)

    @classmethod
    def from_checkpoint(cls, path, model):
        """Rebuild the walkers saved in ``path`` for ``model``; :meth:`run` continues.

        Raises
        ------
        InvalidInputError
            If the file is no checkpoint, or was written for another network or other
            parameters.
        """
        self = cls.__new__(cls)
        wl_checkpoint.restore(self, path, model)
        return self


def wang_landau(model, *, max_flips=None, max_seconds=None, production=True, **options):
    """Run Wang-Landau walkers and return the density of states.

    Parameters
    ----------
    model : IsingModel
    max_flips, max_seconds : optional
        Budgets passed to :meth:`WangLandau.run`.
    production : bool
        For ``"energy"`` and ``"binned"`` levels, also run the multicanonical
        production whose samples give exact reweighting and the activity.
    **options
        Passed to :class:`WangLandau` (``levels``, ``n_walkers``, ``seed``...).

    Returns
    -------
    WangLandauDensityOfStates or EnergyDensityOfStates
    """
    wl = WangLandau(model, **options).run(max_flips=max_flips, max_seconds=max_seconds)
    if production and wl.levels != "nm":
        wl.produce()
    return wl.density_of_states()

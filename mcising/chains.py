r"""Markov chains for the spin model: Glauber (heat-bath) and Metropolis dynamics.

:func:`sample` runs ``n_chains`` independent chains at the model's parameters and
returns a :class:`ChainSamples`: per-sweep :math:`H`, :math:`n = \sum_i S_i` and
:math:`q = \sum_{i<j} C_{ij} S_i S_j` for every chain (an arviz InferenceData),
estimates with standard errors that account for autocorrelation, and convergence
diagnostics. Parallel tempering over a ladder of parameters lives in
:mod:`mcising.tempering` and shares the engine here (a plain run is a ladder of one).

Chains start over-dispersed by default: chain ``k`` starts all off if ``k % 3 == 0``,
all on if ``k % 3 == 1`` and uniformly random otherwise, so a network torn between two
states shows up as a large :math:`\hat R` instead of hiding. The kernels run in
segments of a fraction of a second, so Ctrl-C stops a run between segments; the
sweeps completed so far are kept and the result is flagged ``interrupted``.

Same seed, same numbers: every walker draws from its own xoshiro256** stream
(spawned from the seed by :func:`mcising.rng.spawn_seeds`), whatever the number of
threads.

References
----------
.. [1] R. J. Glauber, "Time-dependent statistics of the Ising model",
   J. Math. Phys. 4, 294 (1963), doi:10.1063/1.1703954.
.. [2] N. Metropolis, A. W. Rosenbluth, M. N. Rosenbluth, A. H. Teller and E. Teller,
   "Equation of state calculations by fast computing machines",
   J. Chem. Phys. 21, 1087 (1953), doi:10.1063/1.1699114.
"""

import logging
import math
import numbers
import time

import numpy as np

from . import samples as _samples
from .chain_samples import ChainSamples, wrap
from .errors import InvalidInputError
from .progress import progress_bar

__all__ = ["ORDERS", "SAMPLERS", "ChainSamples", "sample"]

logger = logging.getLogger(__name__)

SAMPLERS = ("glauber", "metropolis")
ORDERS = ("sweep", "random")
INITS = ("dispersed", "random", "off", "on")

# Kernel segments are sized to take about this long, so Ctrl-C is answered quickly.
SEGMENT_SECONDS = 0.25
# Rough single-core speed used to size the first segment and the progress bar.
_UPDATES_PER_SECOND = 3e7
# Batches per chain for the standard error of the per-node activity.
NODE_BATCHES = 20
# Memory cap for the per-node batch sums, in bytes.
_NODE_SUM_BYTES = 512 * 2**20


def _positive_int(name, value, minimum=1):
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise InvalidInputError(f"{name} must be an integer, got {value!r}")
    if value < minimum:
        raise InvalidInputError(f"{name} must be >= {minimum}, got {value}")
    return int(value)


def _choice(name, value, choices):
    if value not in choices:
        raise InvalidInputError(
            f"{name} must be one of {', '.join(choices)}, got {value!r}"
        )
    return value


class _Run:
    """Arrays of one run (K chains x R slots) and the kernel calls that advance it."""

    def __init__(self, model, ladder_w, ladder_eps, *, sampler, order, n_chains, init,
                 seed, reorder):
        from scipy.sparse.csgraph import reverse_cuthill_mckee

        from .kernels import chains as kernels
        from .rng import as_seed_sequence, spawn_seeds

        self.kernels = kernels
        self.model = model
        self.sampler = sampler
        self.order = order
        n_nodes = model.n_nodes
        n_slots = len(ladder_w)

        # Node order: reverse Cuthill-McKee keeps neighbours close in memory.
        weights = model.weights
        if reorder and model.n_edges:
            perm = reverse_cuthill_mckee(weights.tocsr(), symmetric_mode=True)
            weights = weights[perm][:, perm].tocsr()
            weights.sort_indices()
        else:
            perm = np.arange(n_nodes)
        self.perm = np.asarray(perm, dtype=np.int64)
        self.indptr = weights.indptr.astype(np.int64)
        self.indices = weights.indices.astype(np.int32)
        self.data = weights.data.astype(np.float64)
        self.theta = np.ascontiguousarray(model.theta[self.perm], dtype=np.float64)
        self.use_table = model.unit_weights and model.uniform_theta
        self.max_degree = int(np.diff(self.indptr).max()) if n_nodes else 0

        # Random streams: walkers, swap decisions, initial states.
        self.seed_sequence = as_seed_sequence(seed)
        walker_seq, swap_seq, init_seq = self.seed_sequence.spawn(3)
        self.states = spawn_seeds(walker_seq, n_chains * n_slots).reshape(
            n_chains, n_slots, 4)
        self.swap_state = spawn_seeds(swap_seq, n_chains)
        self.spins = self._initial_spins(init, n_chains, n_slots,
                                         np.random.default_rng(init_seq))

        self.slot_walker = np.tile(np.arange(n_slots, dtype=np.int64), (n_chains, 1))
        self.walker_end = np.full((n_chains, n_slots), -1, dtype=np.int8)
        self.round_trips = np.zeros(n_chains, dtype=np.int64)
        self.swap_attempts = np.zeros((n_chains, max(n_slots - 1, 0)), dtype=np.int64)
        self.swap_accepts = np.zeros_like(self.swap_attempts)
        self.n_on = np.zeros((n_chains, n_slots), dtype=np.int64)
        self.coupling = np.zeros((n_chains, n_slots))
        self.theta_on = np.zeros((n_chains, n_slots))
        for c in range(n_chains):
            for x in range(n_slots):
                self.n_on[c, x], self.coupling[c, x], self.theta_on[c, x] = (
                    kernels.walker_totals(self.indptr, self.indices, self.data,
                                          self.theta, self.spins[c, x]))
        self.set_ladder(ladder_w, ladder_eps)

    def _initial_spins(self, init, n_chains, n_slots, rng):
        n_nodes = self.model.n_nodes
        spins = np.empty((n_chains, n_slots, n_nodes), dtype=np.int8)
        if isinstance(init, str):
            kinds = {"dispersed": [("off", "on", "random")[c % 3]
                                   for c in range(n_chains)],
                     "random": ["random"] * n_chains, "off": ["off"] * n_chains,
                     "on": ["on"] * n_chains}[init]
            for c, kind in enumerate(kinds):
                if kind == "random":
                    spins[c] = rng.random((n_slots, n_nodes)) < 0.5
                else:
                    spins[c] = kind == "on"
            return spins
        given = np.asarray(init)
        if given.shape not in ((n_nodes,), (n_chains, n_nodes)):
            raise InvalidInputError(
                f"init must be 'dispersed', 'random', 'off', 'on' or an array of 0/1 of "
                f"shape ({n_nodes},) or ({n_chains}, {n_nodes}); got shape {given.shape}"
            )
        if not np.all((given == 0) | (given == 1)):
            raise InvalidInputError("init states must contain only 0 and 1")
        given = np.broadcast_to(given, (n_chains, n_nodes))[:, self.perm]
        spins[:] = given[:, None, :]
        return spins

    def set_ladder(self, ladder_w, ladder_eps):
        """Set each slot's (W, eps) and rebuild the threshold tables."""
        self.ladder_w = np.ascontiguousarray(ladder_w, dtype=np.float64)
        self.ladder_eps = np.ascontiguousarray(ladder_eps, dtype=np.float64)
        n_slots = len(self.ladder_w)
        table = np.zeros((n_slots, 2, self.max_degree + 1), dtype=np.uint64)
        if self.use_table:
            code = SAMPLERS.index(self.sampler)
            half_theta = 0.5 * self.theta[0] if len(self.theta) else 0.0
            for p in range(n_slots):
                for s_i in (0, 1):
                    for m in range(self.max_degree + 1):
                        h = self.ladder_w[p] * m - half_theta
                        prob = _probability_on(code, s_i, h, self.ladder_eps[p])
                        table[p, s_i, m] = _threshold(prob)
        self.table = table

    def advance(self, n_sweeps, *, sweep_offset, swap_every, thin, record=False,
                draw_offset=0, out=None, node_sum=None, n_draws_total=1):
        """Run ``n_sweeps`` sweeps of every chain (recording into ``out`` if asked)."""
        k = self.spins.shape[0]
        if out is None:
            out = (np.zeros((k, 1, 0)), np.zeros((k, 1, 0), np.int64),
                   np.zeros((k, 1, 0)))
        if node_sum is None:
            node_sum = np.zeros((k, 1, 0, 0), dtype=np.int32)
        self.kernels.run_segment(
            self.indptr, self.indices, self.data, self.theta, self.ladder_w,
            self.ladder_eps, self.table, self.use_table, SAMPLERS.index(self.sampler),
            ORDERS.index(self.order), self.spins, self.states, self.swap_state,
            self.slot_walker, self.n_on, self.coupling, self.theta_on, self.walker_end,
            self.round_trips, self.swap_attempts, self.swap_accepts, int(n_sweeps),
            int(sweep_offset), int(swap_every), int(thin), bool(record),
            int(draw_offset), out[0], out[1], out[2], node_sum, int(n_draws_total),
        )

    def slot_states(self):
        """Return the configurations by slot in model node order, (K, R, N) int8."""
        k, r, n = self.spins.shape
        by_slot = self.spins[np.arange(k)[:, None], self.slot_walker]
        out = np.empty((k, r, n), dtype=np.int8)
        out[..., self.perm] = by_slot
        return out

    def updates_per_sweep(self):
        """Single-spin updates in one sweep of every chain and walker."""
        return self.spins.size


def _probability_on(sampler, s_i, h, eps):
    """Python twin of :func:`mcising.kernels.chains.probability_on`, for tables."""
    from .kernels.chains import probability_on

    return float(probability_on(sampler, s_i, h, eps))


def _threshold(prob):
    """Integer threshold t with P(u64 < t) = prob (to 2^-64)."""
    return np.uint64(min(int(math.ldexp(prob, 64)), 2**64 - 1))


def run_phase(run, n_sweeps, *, swap_every, thin=1, record=False, out=None,
              node_sum=None, n_draws_total=1, bar=None):
    """Advance ``run`` in segments of about :data:`SEGMENT_SECONDS`.

    Returns
    -------
    sweeps_done : int
    interrupted : bool
        True if Ctrl-C stopped the phase; the sweeps done so far are kept.
    """
    done = 0
    per_sweep = run.updates_per_sweep() / _UPDATES_PER_SECOND
    try:
        while done < n_sweeps:
            segment = max(1, int(SEGMENT_SECONDS / max(per_sweep, 1e-9)))
            if record:
                segment = max(thin, segment - segment % thin)
            segment = min(segment, n_sweeps - done)
            start = time.perf_counter()
            run.advance(segment, sweep_offset=done, swap_every=swap_every, thin=thin,
                        record=record, draw_offset=done // thin, out=out,
                        node_sum=node_sum, n_draws_total=n_draws_total)
            done += segment
            elapsed = time.perf_counter() - start
            per_sweep = max(elapsed / segment, 1e-9)
            if bar is not None:
                bar.update(segment)
    except KeyboardInterrupt:
        logger.warning("interrupted after %d of %d sweeps; keeping them", done,
                       n_sweeps)
        return done, True
    return done, False


def run_ladder(model, ladder_w, ladder_eps, *, sampler, order, n_chains, n_sweeps,
               burn_in, thin, seed, init, record_node_activity, keep_states,
               swap_every, reorder, progress, kind, adapt=None, extra_attrs=None):
    """Burn in, then record; the engine behind :func:`sample` and tempering.

    ``adapt``, if given, is called as ``adapt(run, burn_in, bar) -> interrupted``
    instead of the plain burn-in (the tempering ladder adaptation). Returns a
    :class:`ChainSamples` (or the tempering subclass, per ``kind``).
    """
    start = time.perf_counter()
    run = _Run(model, ladder_w, ladder_eps, sampler=sampler, order=order,
               n_chains=n_chains, init=init, seed=seed, reorder=reorder)
    n_slots = len(run.ladder_w)
    n_draws = n_sweeps // thin
    expected = (burn_in + n_sweeps) * run.updates_per_sweep() / _UPDATES_PER_SECOND
    bar = progress_bar(burn_in + n_draws * thin, f"{sampler} sweeps",
                       progress=progress, expected_seconds=expected, unit="sweep")
    with bar:
        if adapt is not None:
            interrupted = adapt(run, burn_in, bar)
        else:
            _, interrupted = run_phase(run, burn_in, swap_every=swap_every, bar=bar)
        run.swap_attempts[:] = 0
        run.swap_accepts[:] = 0
        run.round_trips[:] = 0
        run.walker_end[:] = -1

        out = (np.zeros((n_chains, n_slots, n_draws)),
               np.zeros((n_chains, n_slots, n_draws), dtype=np.int64),
               np.zeros((n_chains, n_slots, n_draws)))
        node_sum = None
        if record_node_activity:
            per_batch = n_chains * n_slots * model.n_nodes * 4
            n_batches = int(max(1, min(NODE_BATCHES, n_draws,
                                       _NODE_SUM_BYTES // max(per_batch, 1))))
            node_sum = np.zeros((n_chains, n_slots, n_batches, model.n_nodes),
                                dtype=np.int32)
        done = 0
        if not interrupted:
            done, interrupted = run_phase(run, n_draws * thin, swap_every=swap_every,
                                          thin=thin, record=True, out=out,
                                          node_sum=node_sum, n_draws_total=n_draws,
                                          bar=bar)
    draws = done // thin
    series = {"energy": out[0][:, :, :draws].transpose(0, 2, 1),
              "activity": out[1][:, :, :draws].transpose(0, 2, 1),
              "coupling": out[2][:, :, :draws].transpose(0, 2, 1)}

    constants = {"ladder_w": run.ladder_w, "ladder_eps": run.ladder_eps,
                 "theta": model.theta}
    if node_sum is not None and draws:
        constants.update(_node_activity(node_sum, draws, n_draws, run.perm))
    if keep_states:
        constants["final_states"] = run.slot_states()
    if n_slots > 1:
        constants.update(swap_attempts=run.swap_attempts.copy(),
                         swap_accepts=run.swap_accepts.copy(),
                         round_trips=run.round_trips.copy())
    attrs = {
        "mcising_kind": kind, "sampler": sampler, "order": order,
        "n_nodes": model.n_nodes, "n_edges": model.n_edges,
        "structure_hash": model.structure_hash, "n_chains": n_chains,
        "n_sweeps": draws * thin, "n_sweeps_planned": n_sweeps, "burn_in": burn_in,
        "thin": thin, "swap_every": swap_every, "init": init if isinstance(init, str)
        else "given", "seed_entropy": str(run.seed_sequence.entropy),
        "interrupted": interrupted, "seconds": time.perf_counter() - start,
        "kernel": "table" if run.use_table else "field", **(extra_attrs or {}),
    }
    idata = _samples.to_inference_data(series, constants, attrs,
                                       keep_ladder=kind == "tempering")
    return wrap(idata)


def _node_activity(node_sum, draws, n_draws, perm):
    """Per-node mean activity and batch-means standard error, in model node order."""
    n_chains, n_slots, n_batches, n_nodes = node_sum.shape
    draw_batch = np.minimum(np.arange(draws) * n_batches // n_draws, n_batches - 1)
    counts = np.bincount(draw_batch, minlength=n_batches)
    full = counts > 0
    sums = node_sum[:, :, full, :].astype(np.float64)
    means = sums / counts[full][None, None, :, None]
    total = sums.sum(axis=(0, 2)) / (n_chains * draws)
    batch_means = means.transpose(1, 0, 2, 3).reshape(n_slots, -1, n_nodes)
    n_used = batch_means.shape[1]
    stderr = (batch_means.std(axis=1, ddof=1) / math.sqrt(n_used) if n_used > 1
              else np.full((n_slots, n_nodes), np.nan))
    activity = np.empty_like(total)
    activity_stderr = np.empty_like(stderr)
    activity[:, perm] = total
    activity_stderr[:, perm] = stderr
    return {"node_activity": activity, "node_activity_stderr": activity_stderr}


def validate_run(model, *, sampler, order, n_chains, n_sweeps, burn_in, thin, init):
    """Check the options shared by :func:`sample` and tempering; return burn_in."""
    from .model import IsingModel

    if not isinstance(model, IsingModel):
        raise InvalidInputError(
            f"model must be an IsingModel (see mcising.load_model), got {type(model)}")
    _choice("sampler", sampler, SAMPLERS)
    _choice("order", order, ORDERS)
    _positive_int("n_chains", n_chains, 2)
    thin = _positive_int("thin", thin)
    _positive_int("n_sweeps", n_sweeps, 4 * thin)
    burn_in = n_sweeps // 10 if burn_in is None else _positive_int("burn_in", burn_in, 0)
    if isinstance(init, str):
        _choice("init", init, INITS)
    return burn_in


def sample(model, *, sampler="glauber", order="sweep", n_chains=4, n_sweeps=10_000,
           burn_in=None, thin=1, seed=None, init="dispersed",
           record_node_activity=False, keep_states=False, reorder=True, check=True,
           progress=None):
    r"""Run independent Markov chains at the model's parameters.

    Parameters
    ----------
    model : IsingModel
        Sampled at its own ``theta``, ``w`` and ``eps``.
    sampler : {"glauber", "metropolis"}
        Heat-bath (Glauber) or Metropolis single-spin-flip updates.
    order : {"sweep", "random"}
        Systematic sweeps over the nodes, or N random node choices per sweep.
    n_chains : int
        Independent chains, at least 2 (R-hat compares chains); run in parallel.
    n_sweeps : int
        Recorded sweeps per chain after burn-in (one sweep = N updates); at least
        ``4 * thin``.
    burn_in : int, optional
        Sweeps discarded first (default ``n_sweeps // 10``).
    thin : int
        Record every ``thin``-th sweep.
    seed : int or numpy.random.SeedSequence, optional
        Same seed, same numbers, whatever the thread count. ``None``: fresh entropy.
    init : {"dispersed", "random", "off", "on"} or array_like of {0, 1}
        Starting states (see the module docstring); an array of shape (N,) or
        (n_chains, N) gives them explicitly.
    record_node_activity : bool
        Also estimate :math:`\langle S_i \rangle` per node (batch-means errors).
    keep_states : bool
        Keep each chain's final configuration.
    reorder : bool
        Sweep the nodes in reverse Cuthill-McKee order (faster on large sparse
        networks; results are reported in the model's node order).
    check : bool
        Warn with :class:`~mcising.diagnostics.NotConvergedWarning` when R-hat or
        the ESS fails its threshold.
    progress : bool or None
        Progress bar on stderr; ``None`` shows one for runs over a second.

    Returns
    -------
    ChainSamples

    Raises
    ------
    InvalidInputError
        For an unknown sampler or order, fewer than two chains, too few sweeps or a
        malformed ``init``.

    Warns
    -----
    NotConvergedWarning
        When ``check`` and any :math:`\hat R > 1.01` or ESS < 400.

    Notes
    -----
    A sweep costs one random 64-bit word per update (two for ``order="random"``).
    With unit weights and a uniform threshold the acceptance probabilities are
    tabulated by the number of active neighbours; otherwise each update evaluates
    one exponential.

    Examples
    --------
    >>> import mcising
    >>> from mcising.chains import sample
    >>> model = mcising.load_model("grid_2d:4,4", theta=1, w=0.5, eps=1)
    >>> run = sample(model, n_sweeps=2000, seed=1, check=False)
    >>> est = run.estimates()[0]
    >>> bool(abs(est.mean_activity - 0.5) < 0.2)
    True
    """
    burn_in = validate_run(model, sampler=sampler, order=order, n_chains=n_chains,
                           n_sweeps=n_sweeps, burn_in=burn_in, thin=thin, init=init)
    result = run_ladder(
        model, [model.w], [model.eps], sampler=sampler, order=order,
        n_chains=n_chains, n_sweeps=n_sweeps, burn_in=burn_in, thin=thin, seed=seed,
        init=init, record_node_activity=record_node_activity,
        keep_states=keep_states, swap_every=0, reorder=reorder, progress=progress,
        kind="chains",
    )
    if check and result.n_draws:
        result.diagnostics().warn(stacklevel=2)
    return result

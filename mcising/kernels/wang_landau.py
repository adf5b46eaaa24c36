r"""Wang-Landau walkers on an integer lattice of energy levels, one walker per thread.

A walker holds a state of the binary spins and its own estimate :math:`\log g` over
``n_levels`` levels. The level of a state is a linear function of its number of active
nodes :math:`n` and active edges :math:`m` (unit weights),

.. math::

    \ell(S) = c_n\, n + c_m\, m + c_0,

which covers both the joint lattice :math:`(n, m)` (:math:`c_n = M + 1`,
:math:`c_m = 1`) and the energy lattice of one parameter point whose
:math:`\theta/2 : W` is rational. :func:`run_binned` is the same walk on real-valued
energies cut into bins of equal width.

A trial picks a node uniformly, proposes its flip and accepts it with probability
:math:`\min(1, g(\ell)/g(\ell'))`; then :math:`\log g(\ell_{\rm now}) \mathrel{+}=
\ln f` and the histogram :math:`H(\ell_{\rm now})` grows by one. Stage 0 halves
:math:`\ln f` each time the histogram is flat over the levels found so far; once
:math:`\ln f < 1/t`, with :math:`t` the number of trials per known level, stage 1 sets
:math:`\ln f = 1/t` (Belardinelli and Pereyra). A walker stops (stage 2) when
:math:`\ln f` falls to ``log_f_final``.

A walker keeps, for every node, what flipping it would do: on a lattice the change of
level, :math:`(c_n + c_m a_i)(1 - 2 S_i)` with :math:`a_i` the active neighbours of
:math:`i` (rebuilt from the spins at each call: it is an exact integer), and on binned
energies the local field :math:`h_i` (kept in the caller's array, since sums of real
weights depend on their order). An accepted flip updates the node and its neighbours;
a trial is then one random word, one load and the accept test.

Every piece of a walker's state lives in the arrays passed in, so a run cut into any
number of calls is bit-for-bit the same as one call, and the result does not depend on
how walkers are spread over threads.

References
----------
.. [1] F. Wang and D. P. Landau, Phys. Rev. Lett. 86, 2050 (2001),
   doi:10.1103/PhysRevLett.86.2050.
.. [2] R. E. Belardinelli and V. D. Pereyra, Phys. Rev. E 75, 046701 (2007),
   doi:10.1103/PhysRevE.75.046701.
"""

import numpy as np
from numba import njit, prange

from .chains import active_counts
from .energy_walks import node_field
from .rng import next_u64

__all__ = [
    "ACCEPTED",
    "HIGH",
    "LAST_END",
    "LATE_FOUND",
    "LOW",
    "N_COUNTERS",
    "N_KNOWN",
    "N_TRACE",
    "ROUND_TRIPS",
    "STAGE",
    "TRIALS",
    "local_fields",
    "run_binned",
    "run_lattice",
]

# Columns of the per-walker int64 counters.
TRIALS = 0  # trials made so far
STAGE = 1  # 0: halving ln f on flat histograms, 1: ln f = 1/t, 2: finished
N_KNOWN = 2  # levels found so far
N_TRACE = 3  # entries written to the ln f trace
LAST_END = 4  # last extreme level touched: 0 none, 1 lowest, 2 highest
ROUND_TRIPS = 5  # lowest -> highest -> lowest round trips
LATE_FOUND = 6  # levels found after the switch to 1/t
ACCEPTED = 7  # accepted flips
LOW = 8  # lowest known level index
HIGH = 9  # highest known level index
N_COUNTERS = 10
# Trials between two updates of ln f = 1/t in stage 1.
_BLOCK = 1024
_INV_2_32 = 1.0 / 4294967296.0


@njit(cache=True, inline="always")
def _flat(hist, visited, flatness):
    """Return True when every known level has H > 0 and min H >= flatness * mean H."""
    total = 0
    count = 0
    lowest = np.int64(1) << np.int64(62)
    for level in range(hist.shape[0]):
        if visited[level]:
            h = hist[level]
            total += h
            count += 1
            if h < lowest:
                lowest = h
    if count == 0 or lowest == 0:
        return False
    return lowest >= flatness * (total / count)


@njit(cache=True)
def _schedule(counters, log_f, hist, visited, trace, flatness, log_f_final,
              check_every):
    r"""Apply the ln f schedule at an aligned trial count; return the next such count.

    Events happen only when the trial count is a multiple of ``check_every`` (stage
    0: flatness check) or of ``_BLOCK`` (stage 1: :math:`\ln f = 1/t`), so a run cut
    into calls at any trial count makes exactly the same moves.
    """
    trials = counters[TRIALS]
    if trials > 0:
        if counters[STAGE] == 1 and trials % _BLOCK == 0:
            # 1/t stage: t counts trials per known level.
            log_f[0] = counters[N_KNOWN] / trials
            if log_f[0] <= log_f_final:
                counters[STAGE] = 2
        elif (counters[STAGE] == 0 and trials % check_every == 0
              and _flat(hist, visited, flatness)):
            log_f[0] *= 0.5
            hist[:] = 0
            inv_t = counters[N_KNOWN] / trials
            if log_f[0] < inv_t:
                counters[STAGE] = 1
                log_f[0] = inv_t
            k = counters[N_TRACE]
            if k < trace.shape[0]:
                trace[k, 0] = trials
                trace[k, 1] = log_f[0]
                counters[N_TRACE] = k + 1
            if log_f[0] <= log_f_final:
                counters[STAGE] = 2
    step = check_every if counters[STAGE] == 0 else _BLOCK
    return (trials // step + 1) * step


@njit(cache=True, inline="always")
def _node(word, n_nodes):
    """Uniform node in [0, n_nodes) from the high 32 bits of ``word`` (Lemire)."""
    return np.int64(((word >> np.uint64(32)) * np.uint64(n_nodes)) >> np.uint64(32))


@njit(cache=True, inline="always")
def _accept(delta, word):
    r"""Accept with probability :math:`\min(1, e^\delta)`, from the low 32 bits of ``word``.

    The uniform number has 32 random bits (a bias below :math:`2^{-32}`) and is
    independent of the node drawn from the high bits.
    """
    return delta >= 0.0 or (
        np.float64(word & np.uint64(0xFFFFFFFF)) * _INV_2_32 < np.exp(delta))


@njit(cache=True, inline="always")
def _found(level, cur, log_g, visited, counters):
    """Register a level seen for the first time; it starts from the current log g."""
    visited[level] = 1
    log_g[level] = log_g[cur]
    counters[N_KNOWN] += 1
    if counters[STAGE] >= 1:
        counters[LATE_FOUND] += 1
    if level < counters[LOW]:
        counters[LOW] = level
    if level > counters[HIGH]:
        counters[HIGH] = level


@njit(cache=True, inline="always")
def _visit(cur, counters, last_end, low, high):
    """Return the new last extreme touched, counting lowest-highest-lowest trips."""
    if cur == low:
        if last_end == 2:
            counters[ROUND_TRIPS] += 1
        return 1
    if cur == high:
        return 2
    return last_end


@njit(cache=True, inline="always")
def _end_segment(cur, g_cur, h_cur, accepted, last_end, seg_end, log_g, hist,
                 counters):
    """Write the current level and the segment's counts back into the arrays."""
    log_g[cur] = g_cur
    hist[cur] = h_cur
    counters[ACCEPTED] += accepted
    counters[LAST_END] = last_end
    counters[TRIALS] = seg_end


@njit(cache=True)
def _level_steps(indptr, indices, c_n, c_m, spins):
    """Level change of flipping each node: (c_n + c_m * active neighbours) * (1 - 2 S)."""
    step = np.empty(spins.shape[0], dtype=np.int64)
    active_counts(indptr, indices, spins, step)
    for i in range(spins.shape[0]):
        step[i] = (c_n + c_m * step[i]) * (1 - 2 * np.int64(spins[i]))
    return step


@njit(cache=True, inline="always")
def _flip_steps(indptr, indices, c_m, node, spins, step):
    """Flip ``node`` and update the level steps of it and its neighbours."""
    now = 1 - spins[node]
    spins[node] = now
    step[node] = -step[node]
    change = c_m * (2 * np.int64(now) - 1)
    for p in range(indptr[node], indptr[node + 1]):
        j = indices[p]
        step[j] += change * (1 - 2 * np.int64(spins[j]))


@njit(cache=True)
def local_fields(indptr, indices, data, theta_half, w, spins, field):
    r"""Write :math:`W \sum_j C_{ij} S_j - \theta_i / 2` of every walker into ``field``.

    Flipping node i changes the energy by :math:`-h_i` (0 to 1) or :math:`+h_i`
    (1 to 0). ``spins`` is int8[K, N] and ``field`` float64[K, N].
    """
    for k in range(spins.shape[0]):
        for i in range(spins.shape[1]):
            field[k, i] = node_field(indptr, indices, data, theta_half, w, spins[k], i)


@njit(cache=True, inline="always")
def _flip_field(indptr, indices, data, w, node, spins, field):
    """Flip ``node`` and update its neighbours' local fields."""
    now = 1 - spins[node]
    spins[node] = now
    sign = w * (2.0 * now - 1.0)
    for p in range(indptr[node], indptr[node + 1]):
        field[indices[p]] += sign * data[p]


@njit(cache=True)
def _walk_lattice(indptr, indices, c_n, c_m, spins, level, log_g, hist, visited,
                  counters, log_f, trace, rng, n_trials, flatness, log_f_final,
                  check_every, lo, hi):
    n_nodes = spins.shape[0]
    cur = level[0]
    # A private copy of the random state: walkers' rows share cache lines.
    state = rng.copy()
    step = _level_steps(indptr, indices, c_n, c_m, spins)
    end = counters[TRIALS] + n_trials
    while counters[TRIALS] < end:
        seg_end = min(_schedule(counters, log_f, hist, visited, trace, flatness,
                                log_f_final, check_every), end)
        if counters[STAGE] == 2:
            break

        # A segment of trials with a constant ln f: the hot loop. The level change of
        # flipping each node is kept in ``step`` and updated on acceptance (one load
        # per trial instead of a pass over the neighbours). The current level's
        # log g and count live in locals and are written back when the walker leaves
        # it. (A move within the level compares g_cur with an older stored value of
        # the same level: delta >= 0, accepted, as it must be.)
        lf = log_f[0]
        accepted = 0
        last_end = counters[LAST_END]
        g_cur = log_g[cur]
        h_cur = hist[cur]
        for _ in range(counters[TRIALS], seg_end):
            word = next_u64(state)
            node = _node(word, n_nodes)
            new = cur + step[node]
            # Levels outside the walker's window are refused. (The move is written
            # out here and in _walk_binned: through a shared helper returning the new
            # state, the walk ran about 30% slower.)
            if lo <= new <= hi:
                if not visited[new]:
                    log_g[cur] = g_cur
                    _found(new, cur, log_g, visited, counters)
                if _accept(g_cur - log_g[new], word):
                    _flip_steps(indptr, indices, c_m, node, spins, step)
                    log_g[cur] = g_cur
                    hist[cur] = h_cur
                    cur = new
                    g_cur = log_g[cur]
                    h_cur = hist[cur]
                    accepted += 1
                    last_end = _visit(cur, counters, last_end, counters[LOW],
                                      counters[HIGH])
            g_cur += lf
            h_cur += 1
        _end_segment(cur, g_cur, h_cur, accepted, last_end, seg_end, log_g, hist,
                     counters)
    rng[:] = state
    level[0] = cur


@njit(cache=True, parallel=True)
def run_lattice(indptr, indices, c_n, c_m, spins, level, log_g, hist, visited,
                counters, log_f, trace, rng, n_trials, flatness, log_f_final,
                check_every, bounds):
    r"""Advance every walker by up to ``n_trials`` trials on a lattice of levels.

    Parameters
    ----------
    indptr, indices : int64[N + 1], int32[2M]
        CSR adjacency of a unit-weight graph.
    c_n, c_m : int64
        Level steps per active node and per active edge.
    spins : int8[K, N]
        Walker states (updated).
    level : int64[K, 1]
        Current level of each walker (updated).
    log_g : float64[K, L]
        Running :math:`\log g` estimates (updated; arbitrary offset per walker).
    hist : int64[K, L]
        Visit histograms since the last reduction of ``ln f`` (updated).
    visited : uint8[K, L]
        1 for the levels each walker has found (updated).
    counters : int64[K, N_COUNTERS]
        See the column constants of this module (updated).
    log_f : float64[K, 1]
        Current modification factor :math:`\ln f` (updated).
    trace : float64[K, T, 2]
        (trials, ln f) at each reduction in stage 0 and at the switch to 1/t.
    rng : uint64[K, 4]
        xoshiro256** states (updated).
    n_trials : int
        Trials per walker in this call (fewer if the walker finishes).
    flatness : float
        Stage-0 flatness criterion on min H / mean H.
    log_f_final : float
        The walker stops when :math:`\ln f` reaches this.
    check_every : int
        Trials between flatness checks.
    bounds : int64[K, 2]
        Lowest and highest level of each walker's window (inclusive); moves that
        leave the window are refused.
    """
    for k in prange(spins.shape[0]):
        _walk_lattice(indptr, indices, c_n, c_m, spins[k], level[k], log_g[k], hist[k],
                      visited[k], counters[k], log_f[k], trace[k], rng[k], n_trials,
                      flatness, log_f_final, check_every, bounds[k, 0], bounds[k, 1])


@njit(cache=True)
def _walk_binned(indptr, indices, data, w, e_min, inv_width, spins, field, energy,
                 level, log_g, hist, visited, counters, log_f, trace, rng, n_trials,
                 flatness, log_f_final, check_every, lo, hi):
    n_nodes = spins.shape[0]
    cur = level[0]
    e_cur = energy[0]
    # A private copy of the random state: walkers' rows share cache lines.
    state = rng.copy()
    end = counters[TRIALS] + n_trials
    while counters[TRIALS] < end:
        seg_end = min(_schedule(counters, log_f, hist, visited, trace, flatness,
                                log_f_final, check_every), end)
        if counters[STAGE] == 2:
            break

        lf = log_f[0]
        accepted = 0
        last_end = counters[LAST_END]
        g_cur = log_g[cur]
        h_cur = hist[cur]
        for _ in range(counters[TRIALS], seg_end):
            word = next_u64(state)
            node = _node(word, n_nodes)
            e_new = e_cur - field[node] if spins[node] == 0 else e_cur + field[node]
            new = np.int64(np.floor((e_new - e_min) * inv_width))
            # Levels outside the window are refused (the range is found beforehand).
            if lo <= new <= hi:
                if not visited[new]:
                    log_g[cur] = g_cur
                    _found(new, cur, log_g, visited, counters)
                if _accept(g_cur - log_g[new], word):
                    _flip_field(indptr, indices, data, w, node, spins, field)
                    log_g[cur] = g_cur
                    hist[cur] = h_cur
                    cur = new
                    e_cur = e_new
                    g_cur = log_g[cur]
                    h_cur = hist[cur]
                    accepted += 1
                    last_end = _visit(cur, counters, last_end, counters[LOW],
                                      counters[HIGH])
            g_cur += lf
            h_cur += 1
        _end_segment(cur, g_cur, h_cur, accepted, last_end, seg_end, log_g, hist,
                     counters)
    rng[:] = state
    level[0] = cur
    energy[0] = e_cur


@njit(cache=True, parallel=True)
def run_binned(indptr, indices, data, w, e_min, inv_width, spins, field, energy, level,
               log_g, hist, visited, counters, log_f, trace, rng, n_trials, flatness,
               log_f_final, check_every, bounds):
    r"""Advance every walker by up to ``n_trials`` trials on binned real energies.

    Parameters are those of :func:`run_lattice`, except: ``data`` (float64[2M], the
    weights), ``w`` (the coupling), ``e_min`` and ``inv_width`` (the level of energy E
    is ``floor((E - e_min) * inv_width)``), ``field`` (float64[K, N], each walker's
    local fields from :func:`local_fields`, updated on every accepted flip) and
    ``energy`` (float64[K, 1], each walker's current energy, updated).
    """
    for k in prange(spins.shape[0]):
        _walk_binned(indptr, indices, data, w, e_min, inv_width, spins[k], field[k],
                     energy[k], level[k], log_g[k], hist[k], visited[k], counters[k],
                     log_f[k], trace[k], rng[k], n_trials, flatness, log_f_final,
                     check_every, bounds[k, 0], bounds[k, 1])

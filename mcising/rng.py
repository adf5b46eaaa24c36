"""One place that turns a user's ``seed`` into independent random streams.

Every sampler asks :func:`spawn_seeds` for one stream per chain, walker or replica, so
the numbers depend only on the seed and the stream's index, never on the number of
threads or workers that run them.
"""

import numpy as np

from .errors import InvalidInputError

__all__ = ["as_seed_sequence", "spawn_seeds"]


def as_seed_sequence(seed):
    """Return a :class:`numpy.random.SeedSequence` for ``seed``.

    Parameters
    ----------
    seed : None, int, sequence of int or numpy.random.SeedSequence
        ``None`` draws fresh entropy from the operating system (not reproducible).

    Returns
    -------
    numpy.random.SeedSequence

    Raises
    ------
    InvalidInputError
        If ``seed`` is a negative integer or of a type numpy cannot seed from.
    """
    if isinstance(seed, np.random.SeedSequence):
        return seed
    if isinstance(seed, np.random.Generator):
        raise InvalidInputError(
            "seed must be an int or a numpy SeedSequence, not a Generator: pass "
            "an integer so that every chain gets its own reproducible stream"
        )
    try:
        return np.random.SeedSequence(seed)
    except (TypeError, ValueError) as exc:
        raise InvalidInputError(
            f"seed must be None, a non-negative int or a sequence of them; got {seed!r}"
        ) from exc


def spawn_seeds(seed, n_streams):
    """Derive ``n_streams`` independent 64-bit kernel seeds from ``seed``.

    Parameters
    ----------
    seed : None, int or numpy.random.SeedSequence
        The user's seed.
    n_streams : int
        Number of independent streams (chains, walkers or replicas).

    Returns
    -------
    numpy.ndarray of uint64, shape (n_streams, 4)
        Four words of state per stream, for the kernels' xoshiro256** generators.
        Never all zero.
    """
    children = as_seed_sequence(seed).spawn(int(n_streams))
    states = np.empty((int(n_streams), 4), dtype=np.uint64)
    for k, child in enumerate(children):
        words = child.generate_state(4, dtype=np.uint64)
        if not words.any():
            words[0] = np.uint64(0x9E3779B97F4A7C15)
        states[k] = words
    return states

"""xoshiro256** random numbers inside numba kernels, one state array per stream.

Each chain, walker or replica owns a ``uint64[4]`` state (from
:func:`mcising.rng.spawn_seeds`) and advances it in place, so results never depend on
how streams are spread over threads. Reference: D. Blackman and S. Vigna, "Scrambled
linear pseudorandom number generators", ACM Trans. Math. Softw. 47, 36 (2021),
doi:10.1145/3460772.
"""

import numpy as np
from numba import njit

__all__ = ["next_u64", "uniform", "below"]

_INV_2_53 = 1.0 / 9007199254740992.0


@njit(cache=True, inline="always")
def _rotl(x, k):
    return (x << np.uint64(k)) | (x >> np.uint64(64 - k))


@njit(cache=True, inline="always")
def next_u64(s):
    """Advance the state ``s`` (uint64[4]) and return 64 random bits."""
    result = _rotl(s[1] * np.uint64(5), 7) * np.uint64(9)
    t = s[1] << np.uint64(17)
    s[2] ^= s[0]
    s[3] ^= s[1]
    s[1] ^= s[2]
    s[0] ^= s[3]
    s[2] ^= t
    s[3] = _rotl(s[3], 45)
    return result


@njit(cache=True, inline="always")
def uniform(s):
    """Return a uniform double in [0, 1) with 53 random bits."""
    return np.float64(next_u64(s) >> np.uint64(11)) * _INV_2_53


@njit(cache=True, inline="always")
def below(s, n):
    """Return a uniform integer in [0, n) (Lemire's multiply-shift, bias below 2^-32 n)."""
    return np.int64(((next_u64(s) >> np.uint64(32)) * np.uint64(n)) >> np.uint64(32))

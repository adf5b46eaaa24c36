r"""Quadrature for thermodynamic integration: weights, error indicators, ladders.

The integrand :math:`f(x)` is known at the ladder points :math:`x_0 < \dots < x_{L-1}`
together with its derivative :math:`f'(x)` (a variance, measured by the same chains).
Each interval uses the two-point Hermite rule (the corrected trapezoid),

.. math::

    \int_{x_j}^{x_{j+1}} f \, dx \approx \frac{h_j}{2} (f_j + f_{j+1})
        + \frac{h_j^2}{12} (f'_j - f'_{j+1}), \qquad h_j = x_{j+1} - x_j,

whose error is :math:`-f^{(4)}(\xi) h_j^5 / 720`: fourth order, so a sharp
heat-capacity peak costs few extra points.

The integral from an anchor point :math:`x_a` to a target :math:`x_k` is linear in the
measured values, :math:`\sum_j u_{kj} f_j + v_{kj} f'_j`; :func:`cumulative_weights`
returns :math:`u` and :math:`v`, so statistical errors can be propagated through the
same weights.

Discretization error is measured by comparing two grids: for three neighbouring
points :math:`a < b < c` the rule on the fine grid (two intervals) and on the coarse
grid (one interval) differ by :math:`D = C[(h_1 + h_2)^5 - h_1^5 - h_2^5]` when
:math:`f^{(4)}` is locally constant, which gives :math:`C` and the signed error
estimate :math:`C h_j^5` of each fine interval (averaged over the triples that
contain it). The error of a cumulative integral is the magnitude of the signed sum
over its intervals (as in Richardson's comparison of a grid with its every-other-point
subgrid). :math:`D` is linear in the measured values, so its statistical noise is
known too, and an interval is refined only when its error stands out of that noise.

References
----------
.. [1] J. Stoer and R. Bulirsch, *Introduction to Numerical Analysis*, 3rd ed.,
   Springer (2002), section 3.3 (Euler-Maclaurin and the corrected trapezoidal rule),
   doi:10.1007/978-0-387-21738-3.
"""

import math

import numpy as np

__all__ = [
    "cumulative_weights",
    "hermite",
    "initial_ladder",
    "interval_errors",
    "path_errors",
    "refine",
    "triple_weights",
]

# An interval error within this many standard errors of zero is noise, not signal.
NOISE_SIGMAS = 2.0


def hermite(x, f, df):
    """Hermite (corrected trapezoid) integral over each interval, shape (L - 1,).

    Parameters
    ----------
    x : numpy.ndarray, shape (L,)
        Increasing abscissae.
    f, df : numpy.ndarray, shape (L,)
        Integrand and its derivative at ``x``.
    """
    h = np.diff(x)
    return h / 2 * (f[:-1] + f[1:]) + h**2 / 12 * (df[:-1] - df[1:])


def cumulative_weights(x, anchor, targets):
    r"""Weights of the signed integrals from ``x[anchor]`` to each ``x[target]``.

    Parameters
    ----------
    x : numpy.ndarray, shape (L,)
        Increasing ladder.
    anchor : int
        Index of the lower limit of integration.
    targets : sequence of int, length T
        Indices of the upper limits (on either side of the anchor).

    Returns
    -------
    u, v : numpy.ndarray, shape (T, L)
        :math:`\int_{x_a}^{x_k} f \approx \sum_j u_{kj} f_j + v_{kj} f'_j`.
    """
    n = len(x)
    h = np.diff(x)
    # Per-interval weights on (f_j, f_{j+1}) and (f'_j, f'_{j+1}).
    u_int = np.zeros((n - 1, n))
    v_int = np.zeros((n - 1, n))
    for j in range(n - 1):
        u_int[j, j] = u_int[j, j + 1] = h[j] / 2
        v_int[j, j] = h[j] ** 2 / 12
        v_int[j, j + 1] = -(h[j] ** 2) / 12
    u = np.zeros((len(targets), n))
    v = np.zeros((len(targets), n))
    for row, k in enumerate(targets):
        lo, hi = sorted((anchor, k))
        sign = 1.0 if k >= anchor else -1.0
        u[row] = sign * u_int[lo:hi].sum(axis=0)
        v[row] = sign * v_int[lo:hi].sum(axis=0)
    return u, v


def triple_weights(x):
    r"""Linear maps from the data to the two-grid differences of neighbouring triples.

    Parameters
    ----------
    x : numpy.ndarray, shape (L,)
        Increasing ladder.

    Returns
    -------
    p, q : numpy.ndarray, shape (L - 2, L)
        :math:`D_a = \sum_j p_{aj} f_j + q_{aj} f'_j` is the fine-grid minus the
        coarse-grid integral over :math:`[x_a, x_{a+2}]`.
    """
    n = len(x)
    p = np.zeros((max(n - 2, 0), n))
    q = np.zeros_like(p)
    for a in range(n - 2):
        h1, h2 = x[a + 1] - x[a], x[a + 2] - x[a + 1]
        h = h1 + h2
        # Fine grid: two intervals; coarse grid: one interval of width h.
        p[a, a] += h1 / 2 - h / 2
        p[a, a + 1] += h1 / 2 + h2 / 2
        p[a, a + 2] += h2 / 2 - h / 2
        q[a, a] += h1**2 / 12 - h**2 / 12
        q[a, a + 1] += -(h1**2) / 12 + h2**2 / 12
        q[a, a + 2] += -(h2**2) / 12 + h**2 / 12
    return p, q


def interval_errors(x, differences, differences_stderr):
    r"""Signed discretization error of the Hermite rule on each interval.

    Parameters
    ----------
    x : numpy.ndarray, shape (L,)
        Increasing ladder, at least three points.
    differences, differences_stderr : numpy.ndarray, shape (L - 2,)
        Two-grid differences :math:`D_a` of :func:`triple_weights` and their
        statistical standard errors.

    Returns
    -------
    errors, errors_stderr : numpy.ndarray, shape (L - 1,)
        :math:`C h_j^5` with :math:`C = D / [(h_1 + h_2)^5 - h_1^5 - h_2^5]`
        averaged over the (one or two) triples that contain interval :math:`j`, the
        amount to add to the fine-grid integral; and its standard error.
    """
    n = len(x)
    if n < 3:
        return np.full(max(n - 1, 0), np.inf), np.zeros(max(n - 1, 0))
    h = np.diff(x)
    denominator = (h[:-1] + h[1:]) ** 5 - h[:-1] ** 5 - h[1:] ** 5
    c = differences / denominator
    c_err = differences_stderr / denominator
    total = np.zeros(n - 1)
    total_err = np.zeros(n - 1)
    count = np.zeros(n - 1)
    for offset in (0, 1):
        total[offset:n - 2 + offset] += c
        total_err[offset:n - 2 + offset] += c_err
        count[offset:n - 2 + offset] += 1
    return total / count * h**5, total_err / count * h**5


def path_errors(errors, anchor, targets):
    """Discretization error of each cumulative integral: the signed sum, in magnitude.

    Parameters
    ----------
    errors : numpy.ndarray, shape (L - 1,)
        Signed interval errors from :func:`interval_errors`.
    anchor : int
        Index of the lower limit.
    targets : sequence of int, length T

    Returns
    -------
    numpy.ndarray, shape (T,)
    """
    out = np.empty(len(targets))
    for row, k in enumerate(targets):
        lo, hi = sorted((anchor, k))
        out[row] = abs(errors[lo:hi].sum())
    return out


def initial_ladder(anchor, targets, n_intervals):
    """Ladder through the anchor and every target, with gaps at most span / n_intervals.

    Parameters
    ----------
    anchor : float
        Where the integral starts (W = 0 or eps = 0).
    targets : array_like
        Values where results are wanted.
    n_intervals : int
        Number of equal intervals the whole span would be cut into; larger gaps
        between required points are subdivided evenly.

    Returns
    -------
    numpy.ndarray
        Increasing, with at least three points.
    """
    required = np.unique(np.concatenate([[anchor], np.asarray(targets, float)]))
    span = required[-1] - required[0]
    if span == 0:
        return required
    max_gap = span / max(int(n_intervals), 2)
    pieces = [required[:1]]
    for lo, hi in zip(required[:-1], required[1:]):
        parts = max(1, math.ceil((hi - lo) / max_gap * (1 - 1e-9)))
        pieces.append(np.linspace(lo, hi, parts + 1)[1:])
    ladder = np.concatenate(pieces)
    if len(ladder) == 2:
        ladder = np.array([ladder[0], ladder.mean(), ladder[1]])
    return ladder


def refine(x, errors, errors_stderr, budget, *, max_points, min_gap):
    """Split the intervals whose error exceeds their share of the budget and its noise.

    Parameters
    ----------
    x : numpy.ndarray, shape (L,)
        Current ladder.
    errors, errors_stderr : numpy.ndarray, shape (L - 1,)
        Interval error estimates and their statistical standard errors; an interval
        whose error is within :data:`NOISE_SIGMAS` standard errors of zero is not
        split, since more points there would not measure anything better.
    budget : float
        Allowed total error along the ladder; each interval may use its share in
        proportion to its width.
    max_points : int
        Refinement stops adding points at this ladder size.
    min_gap : float
        Intervals narrower than twice this are not split.

    Returns
    -------
    numpy.ndarray
        The new ladder (``x`` itself when nothing was split).
    """
    h = np.diff(x)
    share = budget * h / (x[-1] - x[0])
    size = np.abs(errors)
    over = np.flatnonzero((size > share) & (size > NOISE_SIGMAS * errors_stderr)
                          & (h > 2 * min_gap))
    room = max_points - len(x)
    if room <= 0 or over.size == 0:
        return x
    # Worst intervals first, relative to their share.
    over = over[np.argsort(-(size[over] / share[over]))][:room]
    midpoints = (x[over] + x[over + 1]) / 2
    return np.sort(np.concatenate([x, midpoints]))

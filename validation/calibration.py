"""Calibration statistics: z-scores, interval coverage and the pass/fail rules.

For a run with estimate :math:`\\hat x`, reported standard error :math:`\\sigma` and
exact value :math:`x`, the z-score is :math:`z = (\\hat x - x)/\\sigma`. If the error
bars are honest, :math:`z` is close to standard normal and the nominal 95% interval
:math:`\\hat x \\pm 1.96\\,\\sigma` contains :math:`x` in 95% of independent runs.
Over :math:`n` runs with :math:`k` hits the coverage :math:`k/n` comes with a
Clopper-Pearson interval (:meth:`scipy.stats.binomtest` ``proportion_ci``).

Rules (module constants):

* target: coverage between :data:`TARGET_LOW` and :data:`TARGET_HIGH`;
* CI failure: any :math:`|z| >` :data:`Z_FAIL`, or a hit count below the
  :data:`ALPHA` quantile of Binomial(n, 0.95) (:func:`lower_bound_count`), i.e.
  coverage so low that honest 95% intervals would produce it less than 1% of the time.
"""

import dataclasses
import math

import numpy as np
from scipy import stats

__all__ = ["ALPHA", "NOMINAL", "TARGET_HIGH", "TARGET_LOW", "Z_FAIL", "Z_NOMINAL", "Coverage",
           "coverage", "lower_bound_count", "z_score"]

# Nominal level of the intervals and its normal quantile.
NOMINAL = 0.95
Z_NOMINAL = stats.norm.ppf(0.5 + NOMINAL / 2)
# Target band for the measured coverage (from the project's specification).
TARGET_LOW, TARGET_HIGH = 0.90, 0.98
# A run further than this many reported standard errors from the truth fails CI.
Z_FAIL = 5.0
# Significance of the one-sided binomial check on coverage.
ALPHA = 0.01


def z_score(estimate, stderr, exact):
    """Error in units of the reported standard error (inf for a zero error bar)."""
    error = estimate - exact
    if not math.isfinite(estimate) or not math.isfinite(stderr):
        return math.nan
    if stderr <= 0:
        return 0.0 if error == 0 else math.copysign(math.inf, error)
    return error / stderr


def lower_bound_count(n, nominal=NOMINAL, alpha=ALPHA):
    """Smallest hit count out of ``n`` that honest ``nominal`` intervals make likely.

    Honest intervals give fewer hits than this with probability below ``alpha``.
    """
    if n == 0:
        return 0
    k = int(stats.binom.ppf(alpha, n, nominal))
    # ppf gives the smallest k with CDF(k) >= alpha, so P(X < k) < alpha.
    return k


@dataclasses.dataclass(frozen=True)
class Coverage:
    """Share of nominal intervals that contain the exact value.

    Attributes
    ----------
    hits, n : int
        Intervals containing the truth, and runs with a usable estimate.
    share : float
    low, high : float
        95% Clopper-Pearson interval of the share.
    lower_bound : int
        :func:`lower_bound_count` for ``n``.
    """

    hits: int
    n: int
    share: float
    low: float
    high: float
    lower_bound: int

    @property
    def in_target(self):
        """True when the measured share lies in the target band."""
        return TARGET_LOW <= self.share <= TARGET_HIGH

    @property
    def consistent_with_target(self):
        """True when the binomial interval overlaps the target band."""
        return self.high >= TARGET_LOW and self.low <= TARGET_HIGH

    @property
    def below_bound(self):
        """True when the hit count is below the binomial lower bound (a CI failure)."""
        return self.hits < self.lower_bound

    def __str__(self):
        if self.n == 0:
            return "n/a"
        return (f"{100 * self.share:.1f}% [{100 * self.low:.0f}, {100 * self.high:.0f}]"
                f" ({self.hits}/{self.n})")


def coverage(z_values, nominal=NOMINAL):
    """Coverage of the nominal intervals from z-scores (NaN entries are skipped).

    Parameters
    ----------
    z_values : array_like of float
    nominal : float

    Returns
    -------
    Coverage
    """
    z = np.asarray(z_values, dtype=float)
    z = z[~np.isnan(z)]
    n = int(z.size)
    if n == 0:
        return Coverage(0, 0, math.nan, math.nan, math.nan, 0)
    hits = int(np.sum(np.abs(z) <= stats.norm.ppf(0.5 + nominal / 2)))
    ci = stats.binomtest(hits, n, nominal).proportion_ci(confidence_level=0.95)
    return Coverage(hits, n, hits / n, float(ci.low), float(ci.high),
                    lower_bound_count(n, nominal))

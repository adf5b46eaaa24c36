"""Finished thermodynamic-integration ladders: their record and bookkeeping.

Private helper of :mod:`mcising.ti` (and :mod:`mcising.mbar`, which reuses the ladders):
the :class:`LadderRun` record, the targets whose stretch of the ladder failed the
R-hat check, and the return of every estimate to the caller's point order.
"""

import dataclasses

import numpy as np

from .diagnostics import RHAT_MAX
from .results import Results

__all__ = ["LadderRun", "collect", "drop_targets", "unmixed_targets"]


@dataclasses.dataclass(frozen=True)
class LadderRun:
    """One integration ladder, its samples and the estimates at its targets.

    Attributes
    ----------
    path : {"w", "eps"}
        The parameter that varies along the ladder.
    theta : numpy.ndarray, shape (N,)
    fixed : float
        The parameter held fixed (eps on a W path, W on an eps path).
    ladder : numpy.ndarray, shape (L,)
        Final ladder values, increasing; it contains 0 (the anchor) and every target.
    anchor : int
        Index of 0 in ``ladder``.
    target_index : numpy.ndarray of int, shape (T,)
        Index in ``ladder`` of each target.
    point_index : list of int, length T
        Position of each target in the caller's list of points.
    samples : TemperingSamples or None
        The production run (None when every target is the anchor).
    estimates : list of Estimate, length T
    rounds : int
        Sampling runs made (pilots plus production).
    """

    path: str
    theta: np.ndarray
    fixed: float
    ladder: np.ndarray
    anchor: int
    target_index: np.ndarray
    point_index: list
    samples: object
    estimates: list
    rounds: int


def unmixed_targets(run):
    """Rows of the targets whose integral crosses a ladder point that failed R-hat."""
    if run.samples is None:
        return []
    report = run.samples.diagnostics()
    bad = np.array([report.rhat_at(k) > RHAT_MAX for k in range(len(run.ladder))])
    stuck = []
    for row, k in enumerate(run.target_index):
        lo, hi = sorted((run.anchor, int(k)))
        if k != run.anchor and bad[lo:hi + 1].any():
            stuck.append(row)
    return stuck


def drop_targets(run, rows):
    """Return the run without the given target rows.

    The targets kept report the worst R-hat and lowest ESS of their own stretch of
    the ladder (from the anchor to the target), which passed the check.
    """
    report = run.samples.diagnostics()
    keep = [r for r in range(len(run.point_index)) if r not in set(rows)]
    estimates = []
    for r in keep:
        lo, hi = sorted((run.anchor, int(run.target_index[r])))
        details = dict(run.estimates[r].details)
        details["rhat_max"] = max(report.rhat_at(k) for k in range(lo, hi + 1))
        details["ess_min"] = min(report.ess_at(k) for k in range(lo, hi + 1))
        estimates.append(dataclasses.replace(run.estimates[r], details=details))
    return dataclasses.replace(
        run, target_index=run.target_index[keep],
        point_index=[run.point_index[r] for r in keep], estimates=estimates)


def collect(runs, n_points):
    """Put the estimates of every ladder back in the caller's point order."""
    out = [None] * n_points
    for run in runs:
        for index, estimate in zip(run.point_index, run.estimates):
            out[index] = estimate
    return Results(out)

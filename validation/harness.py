"""Run estimators on cases over independent seeds; one row per (case, point, seed).

Rows are plain dicts (JSON-ready), so a report can be rebuilt from a saved run.
"""

import contextlib
import logging
import math
import signal
import threading
import time
import warnings
import zlib

import numpy as np

from .calibration import Z_NOMINAL, z_score

__all__ = ["RunTimeout", "run_case", "run_suite", "seed_for", "time_limit"]

logger = logging.getLogger(__name__)


def seed_for(base_seed, case, estimator, replicate, budget=1.0):
    """A reproducible, independent integer seed for one run."""
    words = [int(base_seed), zlib.crc32(case.encode()), zlib.crc32(estimator.encode()),
             int(replicate), int(round(1000 * budget))]
    return int(np.random.SeedSequence(words).generate_state(1, np.uint64)[0] >> 1)


class RunTimeout(Exception):
    """An estimator call ran past the harness's time limit."""


@contextlib.contextmanager
def time_limit(seconds):
    """Raise :class:`RunTimeout` in the block once ``seconds`` of wall time have passed.

    Uses ``SIGALRM``, so it acts only in the main thread on POSIX systems (elsewhere,
    or with ``seconds`` None, the block runs unlimited). The exception arrives when
    control returns to Python, so a compiled kernel finishes its current call first.
    """
    usable = (seconds is not None and hasattr(signal, "setitimer")
              and threading.current_thread() is threading.main_thread())
    if not usable:
        yield
        return

    def _alarm(signum, frame):
        raise RunTimeout(f"no result within the time limit of {seconds:g} s")

    previous = signal.signal(signal.SIGALRM, _alarm)
    signal.setitimer(signal.ITIMER_REAL, float(seconds))
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0.0)
        signal.signal(signal.SIGALRM, previous)


def _float(value):
    try:
        value = float(value)
    except (TypeError, ValueError):
        return math.nan
    return value


def run_case(case, estimator, seed, *, budget=1.0, max_seconds=None):
    """Run one estimator once on every point of a case.

    Parameters
    ----------
    case : Case
    estimator : Estimator
    seed : int
    budget : float
    max_seconds : float, optional
        Time limit of the call (see :func:`time_limit`); a call past it counts as
        failed.

    Returns
    -------
    list of dict
        One row per point, with the estimate, its error against the exact value,
        z-score, coverage hit, cost and diagnostics. A failed run gives rows with
        NaN estimates and the exception text in ``failure``.
    """
    points = list(case.points)
    start = time.perf_counter()
    failure, outcome = "", None
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            with time_limit(max_seconds):
                outcome = estimator.run(case.model, points, seed, budget)
        except Exception as exc:  # a crash is a finding, not the end of the suite
            failure = f"{type(exc).__name__}: {exc}"
            logger.warning("%s on %s (seed %d) failed: %s", estimator.name, case.name,
                           seed, failure)
    seconds = time.perf_counter() - start
    messages = sorted({f"{type(w.message).__name__}: {str(w.message)[:160]}"
                       for w in caught})
    rows = []
    for k, (regime, point) in enumerate(zip(case.regimes, points)):
        truth = case.truth[k]
        exact = _float(getattr(truth, estimator.quantity))
        if outcome is not None:
            est = outcome.results[k]
            value = _float(getattr(est, estimator.quantity))
            stderr = _float(getattr(est, f"{estimator.quantity}_stderr"))
            details = est.details
        else:
            value, stderr, details = math.nan, math.nan, {}
        z = z_score(value, stderr, exact)
        rows.append({
            "case": case.name, "n_nodes": case.n_nodes, "reference": case.reference,
            "regime": regime, "theta": float(np.mean(point.theta)), "w": point.w,
            "eps": point.eps, "estimator": estimator.name,
            "quantity": estimator.quantity, "seed": seed, "budget": budget,
            "exact": exact, "estimate": value, "stderr": stderr,
            "error": value - exact, "z": z,
            "covered": bool(abs(z) <= Z_NOMINAL) if not math.isnan(z) else None,
            "seconds": seconds / len(points),
            "spin_updates": (outcome.spin_updates / len(points) if outcome is not None
                             else math.nan),
            "rhat_max": _float(details.get("rhat_max")),
            "ess_min": _float(details.get("ess_min")),
            "warnings": messages, "failure": failure,
        })
    return rows


def run_suite(cases, estimators, *, n_seeds, base_seed=0, budget=1.0, max_seconds=None,
              log=None):
    """Every estimator on every case it applies to, ``n_seeds`` times.

    Parameters
    ----------
    cases : list of Case
    estimators : list of Estimator
    n_seeds : int
        Independent replicates per (case, estimator).
    base_seed : int
    budget : float
    max_seconds : float, optional
        Time limit of each estimator call.
    log : callable, optional
        Called with a progress line after each (case, estimator).

    Returns
    -------
    list of dict
    """
    rows = []
    for case in cases:
        for estimator in estimators:
            if estimator.max_nodes is not None and case.n_nodes > estimator.max_nodes:
                continue
            start = time.perf_counter()
            for r in range(n_seeds):
                seed = seed_for(base_seed, case.name, estimator.name, r, budget)
                rows.extend(run_case(case, estimator, seed, budget=budget,
                                     max_seconds=max_seconds))
            if log is not None:
                recent = [row for row in rows[-n_seeds * len(case.points):]]
                z = np.array([row["z"] for row in recent], dtype=float)
                log(f"{case.name:18s} {estimator.name:12s} {n_seeds} seeds "
                    f"{time.perf_counter() - start:7.1f} s   max|z| "
                    f"{np.nanmax(np.abs(z)) if np.any(~np.isnan(z)) else math.nan:.2f}")
    return rows

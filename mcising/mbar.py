r"""Entropy by MBAR over the samples of the thermodynamic-integration ladder.

The multistate Bennett acceptance ratio (MBAR) estimator [1]_ combines the samples of
every ladder point into free energies :math:`f_k = -\log Z_k` and reduced entropies
:math:`s_k = \langle u_k \rangle_k - f_k`, with reduced potentials

.. math::

    u_k(S) = \epsilon (\tfrac12 \theta \cdot S - W_k q(S))
    \quad\text{(W ladder)}, \qquad
    u_k(S) = \epsilon_k H(S) \quad\text{(eps ladder)},

so that :math:`s_k = \epsilon\langle H\rangle_k + \log Z_k` is the Gibbs entropy. The
anchor (W = 0 or eps = 0) has exact values (independent nodes), so
:math:`S_k = S_{\mathrm{anchor}} + \Delta s_{\mathrm{anchor}, k}` and
:math:`\log Z_k = \log Z_{\mathrm{anchor}} - \Delta f_{\mathrm{anchor}, k}`.

pymbar [2]_, the field's standard implementation, does the work; its asymptotic
covariance gives the error bar. MBAR assumes uncorrelated samples, so each ladder
point's draws are thinned to about one per integrated autocorrelation time (from the
arviz ESS). The same ladder is integrated by TI (:mod:`mcising.ti`); the two use the
same samples, and when they differ by more than :data:`AGREEMENT_SIGMAS` combined
standard errors a :class:`~mcising.errors.ConvergenceWarning` says so.

pymbar announces itself on import (a banner when JAX is missing, and a caution about
its ``timeseries`` module), through its loggers; it is imported only here, when MBAR
runs, with those loggers raised to ERROR for the import and the computation.

References
----------
.. [1] M. R. Shirts and J. D. Chodera, "Statistically optimal analysis of samples
   from multiple equilibrium states", J. Chem. Phys. 129, 124105 (2008),
   doi:10.1063/1.2978177.
.. [2] pymbar, https://github.com/choderalab/pymbar (version 4).
"""

import contextlib
import dataclasses
import logging
import math
import warnings

import numpy as np

from .diagnostics import mcse_mean
from .errors import ConvergenceWarning, InvalidInputError
from .params import points_for
from .ti import independent_nodes, integrate_ladders
from .ti_runs import collect

__all__ = ["AGREEMENT_SIGMAS", "mbar"]

logger = logging.getLogger(__name__)

# TI and MBAR disagree when they differ by more than this many combined errors.
AGREEMENT_SIGMAS = 4.0
# At most this many (thinned) samples per ladder point enter MBAR.
MAX_SAMPLES_PER_STATE = 2000


@contextlib.contextmanager
def _quiet_pymbar():
    """Raise pymbar's loggers to ERROR and silence its warnings, then restore."""
    pymbar_logger = logging.getLogger("pymbar")
    level = pymbar_logger.level
    pymbar_logger.setLevel(logging.ERROR)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            yield
    finally:
        pymbar_logger.setLevel(level)


def _thinned(samples, max_per_state):
    """Per ladder point, draws thinned to about one per autocorrelation time.

    Returns
    -------
    energy, coupling : list of numpy.ndarray, one per ladder point
    """
    report = samples.diagnostics()
    total = samples.n_chains * samples.n_draws
    ess = np.minimum(report.ess_bulk["energy"], report.ess_bulk["coupling"])
    energy_out, coupling_out = [], []
    for k in range(len(samples.ladder_w)):
        stride = max(1, math.ceil(total / max(ess[k], 1.0)))
        stride = max(stride, math.ceil(total / max_per_state))
        energy = samples.series("energy")[:, ::stride, k].ravel()
        coupling = samples.series("coupling")[:, ::stride, k].ravel()
        energy_out.append(energy)
        coupling_out.append(coupling)
    return energy_out, coupling_out


def _reduced_potentials(run, energy, coupling):
    """u_kn for every ladder state k and every kept sample n, with N_k."""
    ladder = run.ladder
    n_k = np.array([len(e) for e in energy])
    energy_n = np.concatenate(energy)
    coupling_n = np.concatenate(coupling)
    if run.path == "w":
        own_w = np.repeat(ladder, n_k)
        threshold_part = energy_n + own_w * coupling_n
        u_kn = run.fixed * (threshold_part[None, :] - ladder[:, None] * coupling_n[None, :])
    else:
        u_kn = ladder[:, None] * energy_n[None, :]
    return u_kn, n_k


def _mbar_ladder(run, max_per_state):
    """Entropy, log Z and their errors at each target of one ladder."""
    energy, coupling = _thinned(run.samples, max_per_state)
    u_kn, n_k = _reduced_potentials(run, energy, coupling)
    anchor = run.anchor
    eps_anchor = run.fixed if run.path == "w" else 0.0
    exact = independent_nodes(run.theta, eps_anchor)
    targets = run.target_index
    with _quiet_pymbar():
        from pymbar import MBAR

        solver = MBAR(u_kn, n_k, initialize="BAR")
        if run.path == "w":
            result = solver.compute_entropy_and_enthalpy()
            delta_s = result["Delta_s"][anchor, targets]
            delta_s_stderr = result["dDelta_s"][anchor, targets]
        else:
            # On an eps ladder the anchor's reduced potential is identically zero,
            # which leaves pymbar's entropy covariance singular; the entropy comes
            # from the free energies and the chains' <H> instead.
            result = solver.compute_free_energy_differences()
    log_z = exact["log_z"] - result["Delta_f"][anchor, targets]
    log_z_stderr = result["dDelta_f"][anchor, targets]
    if run.path == "eps":
        energy = run.samples.series("energy")[..., targets]
        mean_energy = energy.mean(axis=(0, 1))
        eps_t = run.ladder[targets]
        entropy = eps_t * mean_energy + log_z
        entropy_stderr = np.hypot(eps_t * mcse_mean(energy), log_z_stderr)
    else:
        entropy = exact["entropy"] + delta_s
        entropy_stderr = delta_s_stderr
    return {"entropy": entropy, "entropy_stderr": entropy_stderr, "log_z": log_z,
            "log_z_stderr": log_z_stderr, "n_samples": int(n_k.sum())}


def _combine(ti_estimate, values, row, agreement_sigmas):
    """Return the MBAR estimate at one target, with the TI comparison in its details."""
    entropy = float(values["entropy"][row])
    stderr = float(values["entropy_stderr"][row])
    difference = entropy - ti_estimate.entropy
    combined = math.hypot(stderr, ti_estimate.entropy_stderr)
    sigmas = abs(difference) / combined if combined > 0 else math.inf
    details = dict(ti_estimate.details, mbar_entropy_stderr=stderr,
                   mbar_samples=values["n_samples"], ti_entropy=ti_estimate.entropy,
                   ti_entropy_stderr=ti_estimate.entropy_stderr,
                   ti_mbar_difference=difference, ti_mbar_sigmas=sigmas)
    if sigmas > agreement_sigmas:
        warnings.warn(ConvergenceWarning(
            f"TI and MBAR disagree at W={ti_estimate.w:g}, eps={ti_estimate.eps:g}: "
            f"entropy {ti_estimate.entropy:.6g} +- {ti_estimate.entropy_stderr:.2g} "
            f"(TI) vs {entropy:.6g} +- {stderr:.2g} (MBAR), {sigmas:.1f} combined "
            "errors apart; to fix: run more sweeps, use tempering, or refine the "
            "ladder (smaller tolerance)"), stacklevel=4)
    # MBAR has no quadrature: its error is its asymptotic statistical error.
    return dataclasses.replace(
        ti_estimate, method="mbar", entropy=entropy, entropy_stderr=stderr,
        log_z=float(values["log_z"][row]),
        log_z_stderr=float(values["log_z_stderr"][row]), details=details)


def mbar(model, points=None, *, agreement_sigmas=AGREEMENT_SIGMAS,
         max_samples_per_state=MAX_SAMPLES_PER_STATE, **options):
    r"""Entropy, log Z, mean energy and heat capacity by MBAR over a TI ladder.

    Parameters
    ----------
    model : IsingModel
    points : sequence of Point or (theta, w, eps), optional
        Targets (default: the model's own parameters).
    agreement_sigmas : float
        Warn when TI and MBAR differ by more than this many combined standard
        errors.
    max_samples_per_state : int
        Cap on the thinned samples per ladder point passed to MBAR (its cost grows
        as ladder size times total samples).
    **options
        Everything :func:`mcising.ti.thermodynamic_integration` takes (``path``,
        ``tempering``, ``tolerance``, ``n_chains``, ``n_sweeps``, ``seed``...): the
        ladder, its refinement and its samples are the same.

    Returns
    -------
    Results
        ``method="mbar"``; ``entropy_stderr`` and ``log_z_stderr`` are MBAR's
        asymptotic errors; mean energy, heat capacity and activity are the chains'
        (as in TI). ``details`` holds everything TI reports plus
        ``mbar_entropy_stderr``, ``mbar_samples``, ``ti_entropy``,
        ``ti_entropy_stderr``, ``ti_mbar_difference`` and ``ti_mbar_sigmas``.

    Raises
    ------
    InvalidInputError
        For a bad option.

    Warns
    -----
    ConvergenceWarning
        When TI and MBAR disagree (see ``agreement_sigmas``), or the chains or the
        ladder fail their checks (as in TI).

    Notes
    -----
    The MBAR error assumes independent samples; thinning to one draw per
    autocorrelation time makes that approximately true within each ladder point,
    but samples at neighbouring points of a tempering run stay correlated, which
    the asymptotic covariance ignores.

    Examples
    --------
    >>> import mcising
    >>> from mcising.mbar import mbar
    >>> model = mcising.load_model("cycle:200", theta=1, w=1, eps=1)
    >>> est = mbar(model, n_sweeps=1000, seed=1)[0]
    >>> bool(abs(est.entropy - 133.9) < 1)
    True
    """
    if not (isinstance(agreement_sigmas, (int, float)) and agreement_sigmas > 0):
        raise InvalidInputError(
            f"agreement_sigmas must be a positive number, got {agreement_sigmas!r}")
    if (isinstance(max_samples_per_state, bool)
            or not isinstance(max_samples_per_state, int) or max_samples_per_state < 2):
        raise InvalidInputError(
            f"max_samples_per_state must be an integer >= 2, got "
            f"{max_samples_per_state!r}")
    options.pop("max_nodes", None)
    points = points_for(model, points)
    runs = integrate_ladders(model, points, **options)
    for index, run in enumerate(runs):
        if run.samples is None:
            estimates = [dataclasses.replace(e, method="mbar") for e in run.estimates]
        else:
            values = _mbar_ladder(run, max_samples_per_state)
            estimates = [
                dataclasses.replace(e, method="mbar") if e.details.get("exact_anchor")
                else _combine(e, values, row, agreement_sigmas)
                for row, e in enumerate(run.estimates)
            ]
        runs[index] = dataclasses.replace(run, estimates=estimates)
    return collect(runs, len(points))

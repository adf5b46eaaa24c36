r"""Entropy of large networks by thermodynamic integration over W or over eps.

Two integration paths start where the nodes are independent and :math:`\log Z` is
known in closed form, :math:`\log Z_0 = \sum_i \log(1 + e^{-\epsilon\theta_i/2})`:

* **over W** at fixed :math:`(\theta, \epsilon)`, from :math:`W = 0`:

  .. math::

      \log Z(W) = \log Z_0 + \int_0^W \epsilon \langle q \rangle_{W'} \, dW',
      \qquad \frac{d}{dW} \epsilon \langle q \rangle = \epsilon^2 \operatorname{Var}(q);

* **over eps** at fixed :math:`(\theta, W)`, from :math:`\epsilon = 0`
  (:math:`\log Z = N \log 2`):

  .. math::

      \log Z(\epsilon) = N \log 2 - \int_0^\epsilon \langle H \rangle_{e} \, de,
      \qquad \frac{d}{d\epsilon} \langle H \rangle = -\operatorname{Var}(H).

Then :math:`S = \epsilon \langle H \rangle + \log Z` at every ladder point, so one
ladder gives a whole entropy curve. The ladder is sampled by parallel tempering
(:func:`mcising.tempering.sample_tempering`, which samples the bimodal region
correctly) or by independent chains at each point.

Accuracy is measured, not assumed. The integral uses the fourth-order Hermite rule of
:mod:`mcising.ti_quadrature` with the measured variances as derivatives; the ladder
starts with the targets plus evenly spread points and is refined in short pilot runs,
splitting the intervals whose estimated discretization error (from comparing two
grids; it peaks where the heat capacity or :math:`\operatorname{Var}(q)` does) exceeds
their share of the tolerance. The reported error is

.. math::

    \sigma_S = \sqrt{\sigma_{\mathrm{stat}}^2 + \sigma_{\mathrm{disc}}^2},

where :math:`\sigma_{\mathrm{stat}}` is the Monte Carlo standard error (arviz, with
autocorrelation) of the single per-draw series
:math:`Y_t = \epsilon H_k(t) + \sum_j u_{kj} f_j(t) + v_{kj} g_j(t)` whose mean is the
entropy: the quadrature weights are applied draw by draw across the ladder, so the
correlations that tempering creates between ladder points are carried into the error
exactly (:math:`g_j(t)` is the influence function of the variance), and
:math:`\sigma_{\mathrm{disc}}` is the sum of the interval error estimates between the
anchor and the target. Both parts are reported in ``details``.

References
----------
.. [1] J. G. Kirkwood, "Statistical mechanics of fluid mixtures",
   J. Chem. Phys. 3, 300 (1935), doi:10.1063/1.1749657.
.. [2] D. Frenkel and B. Smit, *Understanding Molecular Simulation*, 2nd ed.,
   Academic Press (2002), chapter 7, doi:10.1016/B978-0-12-267351-1.X5000-7.
"""

import dataclasses
import logging
import math
import time
import warnings

import numpy as np
from scipy.special import expit

from . import ti_quadrature as quad
from .diagnostics import mcse_mean
from .errors import ConvergenceWarning, InvalidInputError
from .params import points_for
from .results import Estimate
from .rng import as_seed_sequence
from .tempering import sample_tempering
from .ti_runs import LadderRun, collect, drop_targets, unmixed_targets

__all__ = ["PATHS", "LadderRun", "integrate_ladders", "thermodynamic_integration"]

logger = logging.getLogger(__name__)

PATHS = ("auto", "w", "eps")

# Pilot runs of the ladder refinement use this fraction of the production sweeps.
PILOT_FRACTION = 0.25
# Ladders are not refined beyond this many points.
MAX_LADDER_POINTS = 129
# Intervals narrower than this fraction of the ladder's span are never split.
MIN_GAP_FRACTION = 1e-3


def independent_nodes(theta, eps):
    r"""Exact thermodynamics of independent nodes (W = 0 or eps = 0).

    Parameters
    ----------
    theta : numpy.ndarray, shape (N,)
    eps : float

    Returns
    -------
    dict
        ``log_z``, ``mean_energy``, ``heat_capacity``, ``entropy`` (nats) and
        ``mean_activity`` (per node), with
        :math:`p_i = 1 / (1 + e^{\epsilon\theta_i/2})` and
        :math:`\log Z_0 = \sum_i \log(1 + e^{-\epsilon\theta_i/2})`.
    """
    x = eps * np.asarray(theta, float) / 2
    p = expit(-x)
    log_z = float(np.logaddexp(0.0, -x).sum())
    mean_energy = float(np.sum(theta / 2 * p))
    variance = float(np.sum((theta / 2) ** 2 * p * (1 - p)))
    return {"log_z": log_z, "mean_energy": mean_energy,
            "heat_capacity": eps**2 * variance, "entropy": eps * mean_energy + log_z,
            "mean_activity": float(p.mean())}


def _choose_path(points, path):
    if path not in PATHS:
        raise InvalidInputError(f"path must be one of {', '.join(PATHS)}, got {path!r}")
    if path != "auto":
        return path
    same_theta = all(np.array_equal(p.theta, points[0].theta) for p in points)
    same_eps = len({p.eps for p in points}) == 1
    same_w = len({p.w for p in points}) == 1
    if same_theta and not same_eps and same_w:
        return "eps"
    return "w"


def _groups(points, path):
    """Group the points by the parameters held fixed: (theta, fixed) -> targets."""
    groups = {}
    for index, point in enumerate(points):
        fixed = point.eps if path == "w" else point.w
        key = (point.theta.tobytes(), fixed)
        entry = groups.setdefault(key, (point.theta, fixed, [], []))
        entry[2].append(point.w if path == "w" else point.eps)
        entry[3].append(index)
    return list(groups.values())


def _integrand(samples, path, eps):
    """Per-draw integrand pieces: (X, a, b) with f = a <X> and f' = b Var(X)."""
    if path == "w":
        return samples.series("coupling"), eps, eps**2
    return samples.series("energy"), -1.0, 1.0


def _sample(model, path, ladder, options, seed, *, pilot):
    n_sweeps = options["n_sweeps"]
    burn_in = options["burn_in"]
    if pilot:
        n_sweeps = max(int(n_sweeps * PILOT_FRACTION), 200)
        burn_in = None if burn_in is None else max(int(burn_in * PILOT_FRACTION), 1)
    samples = sample_tempering(
        model, ladder=path, values=ladder, swap_every=1 if options["tempering"] else 0,
        sampler=options["sampler"], n_chains=options["n_chains"], n_sweeps=n_sweeps,
        burn_in=burn_in, seed=seed, check=False, progress=options["progress"],
        record_node_activity=options["node_activity"] and not pilot,
    )
    if samples.interrupted:
        raise KeyboardInterrupt
    return samples


def _quadrature_data(samples, path, eps):
    """Integrand means, derivatives and centred squares at every ladder point."""
    x_series, a, b = _integrand(samples, path, eps)
    centred2 = (x_series - x_series.mean(axis=(0, 1))) ** 2
    f = a * x_series.mean(axis=(0, 1))
    df = b * centred2.mean(axis=(0, 1))
    return x_series, centred2, a, b, f, df


def _interval_errors(samples, path, eps, ladder):
    """Signed discretization errors per interval and their standard errors."""
    x_series, centred2, a, b, *_ = _quadrature_data(samples, path, eps)
    p, q = quad.triple_weights(ladder)
    d_series = a * (x_series @ p.T) + b * (centred2 @ q.T)
    return quad.interval_errors(ladder, d_series.mean(axis=(0, 1)),
                                mcse_mean(d_series))


def _run_group(model, path, theta, fixed, targets, options, seeds):
    """Refine the ladder, run production and integrate; return LadderRun fields."""
    base = model.with_params(theta=theta, eps=fixed if path == "w" else None,
                             w=fixed if path == "eps" else None)
    ladder = quad.initial_ladder(0.0, targets, options["n_intervals"])
    tolerance = options["tolerance"]
    budget = None if tolerance is None else tolerance * model.n_nodes
    span = ladder[-1] - ladder[0]
    rounds = 0
    if len(ladder) > 1 and budget is not None:
        for _ in range(options["max_rounds"]):
            pilot = _sample(base, path, ladder, options, next(seeds), pilot=True)
            rounds += 1
            errors, errors_stderr = _interval_errors(pilot, path, fixed, ladder)
            new = quad.refine(ladder, errors, errors_stderr, budget,
                              max_points=MAX_LADDER_POINTS,
                              min_gap=MIN_GAP_FRACTION * span)
            logger.debug("ladder round %d: %d points, discretization %.3g (budget %.3g)",
                         rounds, len(ladder), abs(errors.sum()), budget)
            if len(new) == len(ladder):
                break
            ladder = new
    if len(ladder) == 1:
        return ladder, 0, np.zeros(len(targets), int), None, None, rounds
    samples = _sample(base, path, ladder, options, next(seeds), pilot=False)
    rounds += 1
    # The production run measures the interval errors more precisely than the pilots;
    # where it still finds the ladder too coarse, refine and sample again.
    for _ in range(options["max_rounds"] if budget is not None else 0):
        errors, errors_stderr = _interval_errors(samples, path, fixed, ladder)
        anchor = int(np.flatnonzero(ladder == 0.0)[0])
        disc = quad.path_errors(errors, anchor, np.searchsorted(ladder, targets))
        if np.max(disc) <= budget:
            break
        new = quad.refine(ladder, errors, errors_stderr, budget,
                          max_points=MAX_LADDER_POINTS, min_gap=MIN_GAP_FRACTION * span)
        if len(new) == len(ladder):
            break
        ladder = new
        samples = _sample(base, path, ladder, options, next(seeds), pilot=False)
        rounds += 1
    anchor = int(np.flatnonzero(ladder == 0.0)[0])
    target_index = np.searchsorted(ladder, targets)
    return ladder, anchor, target_index, samples, budget, rounds


def _estimates(model, path, theta, fixed, ladder, anchor, target_index, samples,
               budget, options, seconds):
    """Integrate the production samples into one Estimate per target."""
    targets = ladder[target_index]
    n_targets = len(targets)
    if samples is None:
        return [_anchor_estimate(model, path, theta, fixed, seconds / n_targets)
                for _ in targets]

    x_series, centred2, a, b, *_ = _quadrature_data(samples, path, fixed)
    u, v = quad.cumulative_weights(ladder, anchor, target_index)
    integral = a * (x_series @ u.T) + b * (centred2 @ v.T)
    eps_t = np.full(n_targets, fixed) if path == "w" else targets
    entropy_series = eps_t * samples.series("energy")[..., target_index] + integral
    stat = mcse_mean(np.concatenate([integral, entropy_series], axis=2))
    log_z_stat, entropy_stat = stat[:n_targets], stat[n_targets:]
    errors, _ = _interval_errors(samples, path, fixed, ladder)
    disc = quad.path_errors(errors, anchor, target_index)
    log_z0 = independent_nodes(theta, fixed if path == "w" else 0.0)["log_z"]
    log_z = log_z0 + integral.mean(axis=(0, 1))
    entropy = log_z0 + entropy_series.mean(axis=(0, 1))

    report = samples.diagnostics()
    if options["check"]:
        report.warn(stacklevel=5)
    if budget is not None and np.max(disc) > budget:
        warnings.warn(ConvergenceWarning(
            f"the estimated discretization error of the entropy, {np.max(disc):.3g} "
            f"nats, exceeds the tolerance {budget:.3g} after refining the ladder to "
            f"{len(ladder)} points; to fix: raise max_rounds or tolerance, or give "
            "more target points where the heat capacity peaks"), stacklevel=5)
    chain_estimates = samples.estimates(report)
    common = {"path": path, "tempering": bool(options["tempering"]),
              "ladder_size": len(ladder), "n_chains": samples.n_chains,
              "n_sweeps": int(samples.attrs["n_sweeps"]),
              "sampler": options["sampler"], "rhat_max": report.worst_rhat,
              "ess_min": report.smallest_ess}
    if options["tempering"]:
        acceptance = samples.swap_acceptance
        common["swap_acceptance_min"] = float(np.nanmin(acceptance))
    out = []
    for row, k in enumerate(target_index):
        if k == anchor:
            out.append(_anchor_estimate(model, path, theta, fixed, seconds / n_targets))
            continue
        total = math.hypot(entropy_stat[row], disc[row])
        details = dict(common, entropy_stderr_stat=float(entropy_stat[row]),
                       entropy_stderr_disc=float(disc[row]),
                       log_z_stderr_stat=float(log_z_stat[row]))
        out.append(dataclasses.replace(
            chain_estimates[k], method="ti", entropy=float(entropy[row]),
            entropy_stderr=total, log_z=float(log_z[row]),
            log_z_stderr=math.hypot(log_z_stat[row], disc[row]),
            seconds=seconds / n_targets, details=details))
    return out


def _anchor_estimate(model, path, theta, fixed, seconds):
    """Exact estimate at W = 0 (W path) or eps = 0 (eps path)."""
    w, eps = (0.0, fixed) if path == "w" else (fixed, 0.0)
    exact = independent_nodes(theta, eps)
    fields = {name: exact[name] for name in ("log_z", "mean_energy", "heat_capacity",
                                              "entropy", "mean_activity")}
    theta_value = float(theta[0]) if np.all(theta == theta[0]) else tuple(theta)
    return Estimate(
        method="ti", n_nodes=model.n_nodes, n_edges=model.n_edges, theta=theta_value,
        w=w, eps=eps, mean_coupling=math.nan, seconds=seconds,
        details={"path": path, "entropy_stderr_stat": 0.0, "entropy_stderr_disc": 0.0,
                 "exact_anchor": True},
        **fields, **{f"{name}_stderr": 0.0 for name in fields},
    )


def _check_options(options):
    tolerance = options["tolerance"]
    if tolerance is not None and not (isinstance(tolerance, (int, float))
                                      and math.isfinite(tolerance) and tolerance > 0):
        raise InvalidInputError(
            f"tolerance must be a positive number of nats per node or None, got "
            f"{tolerance!r}")
    for name, minimum in (("n_intervals", 2), ("max_rounds", 0)):
        value = options[name]
        if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
            raise InvalidInputError(f"{name} must be an integer >= {minimum}, got "
                                    f"{value!r}")


def integrate_ladders(model, points=None, *, path="auto", tempering=True,
                      tolerance=1e-4, n_intervals=16, max_rounds=4, n_chains=4,
                      n_sweeps=4000, burn_in=None, sampler="glauber", seed=None,
                      node_activity=False, check=True, progress=None):
    """Run every integration ladder the points need; see :func:`thermodynamic_integration`.

    Returns
    -------
    list of LadderRun
        One per group of points sharing theta and the fixed parameter.
    """
    points = points_for(model, points)
    automatic = path == "auto"
    path = _choose_path(points, path)
    options = {"tempering": bool(tempering), "tolerance": tolerance,
               "n_intervals": n_intervals, "max_rounds": max_rounds,
               "n_chains": n_chains, "n_sweeps": n_sweeps, "burn_in": burn_in,
               "sampler": sampler, "node_activity": bool(node_activity),
               "check": bool(check), "progress": progress}
    _check_options(options)
    root = as_seed_sequence(seed)
    # One child per sampling run, spawned in order: same seed, same runs.
    seeds = (root.spawn(1)[0] for _ in iter(int, 1))
    runs = []
    for theta, fixed, targets, indices in _groups(points, path):
        if automatic and path == "w" and len(targets) == 1 and fixed > 0 and targets[0]:
            # A lone W target gains nothing from a W ladder; an eps ladder costs the
            # same and, tempering from the disordered eps = 0, crosses the barriers of
            # a bimodal network that a W ladder can hide.
            runs.append(_ladder_run(model, "eps", theta, targets[0], [fixed], indices,
                                    options, seeds))
            continue
        if not automatic or path != "w":
            runs.append(_ladder_run(model, path, theta, fixed, targets, indices,
                                    options, seeds))
            continue
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            run = _ladder_run(model, path, theta, fixed, targets, indices, options,
                              seeds)
        stuck = unmixed_targets(run)
        for message in caught:
            if not stuck or not issubclass(message.category, ConvergenceWarning):
                warnings.warn(message.message, message.category, stacklevel=3)
        if stuck:
            stuck_w = ", ".join(f"{run.ladder[run.target_index[r]]:g}" for r in stuck)
            logger.info("the W ladder at eps=%g did not mix for W=%s; integrating "
                        "over eps at each of them instead", fixed, stuck_w)
            run = drop_targets(run, stuck)
            if run.point_index:
                runs.append(run)
            for r in stuck:
                runs.append(_ladder_run(model, "eps", theta, targets[r], [fixed],
                                        [indices[r]], options, seeds))
        else:
            runs.append(run)
    return runs


def _ladder_run(model, path, theta, fixed, targets, indices, options, seeds):
    """Sample, refine and integrate one ladder; return its LadderRun."""
    start = time.perf_counter()
    targets = np.asarray(targets, float)
    ladder, anchor, target_index, samples, budget, rounds = _run_group(
        model, path, theta, fixed, targets, options, seeds)
    seconds = time.perf_counter() - start
    estimates = _estimates(model, path, theta, fixed, ladder, anchor, target_index,
                           samples, budget, options, seconds)
    return LadderRun(path=path, theta=theta, fixed=fixed, ladder=ladder, anchor=anchor,
                     target_index=target_index, point_index=list(indices),
                     samples=samples, estimates=estimates, rounds=rounds)


def thermodynamic_integration(model, points=None, *, path="auto", tempering=True,
                              tolerance=1e-4, n_intervals=16, max_rounds=4, n_chains=4,
                              n_sweeps=4000, burn_in=None, sampler="glauber",
                              seed=None, node_activity=False, check=True,
                              progress=None, max_nodes=None):
    r"""Entropy, log Z, mean energy and heat capacity by thermodynamic integration.

    Parameters
    ----------
    model : IsingModel
    points : sequence of Point or (theta, w, eps), optional
        Targets (default: the model's own parameters). Points that share theta and
        the fixed parameter share one ladder.
    path : {"auto", "w", "eps"}
        Integrate over W from W = 0 at fixed eps, or over eps from eps = 0 at fixed
        W. ``"auto"`` integrates over eps when only eps varies between the points
        or a (theta, eps) pair has a single W target, over W otherwise; a target
        whose W ladder fails R-hat between W = 0 and the target (a first-order
        transition on the way) is then integrated over eps at its own W instead.
    tempering : bool
        Parallel tempering along the ladder (default), or independent chains at
        every ladder point.
    tolerance : float or None
        Target discretization error of the entropy, in nats **per node**. The
        ladder is refined in pilot runs (a quarter of ``n_sweeps`` each) until the
        estimated error of every target is below it, or ``max_rounds`` pilots were
        run. ``None``: no refinement, one run on the initial ladder.
    n_intervals : int
        The initial ladder contains 0 and the targets, with gaps at most
        1/``n_intervals`` of its span.
    max_rounds : int
        Most pilot runs of the refinement; as many production runs again may follow
        when the production samples, which measure the interval errors more
        precisely, still find the ladder too coarse.
    n_chains, n_sweeps, burn_in, sampler, seed, progress
        As in :func:`mcising.tempering.sample_tempering`; ``n_sweeps`` is per chain
        and ladder point in the production run.
    node_activity : bool
        Also estimate the per-node activity at each target.
    check : bool
        Warn (:class:`~mcising.diagnostics.NotConvergedWarning`) when R-hat or ESS
        fails its threshold anywhere on the ladder.
    max_nodes : int, optional
        Ignored (the exact solver's option, accepted so that
        :func:`mcising.entropy.entropy` can pass its options through).

    Returns
    -------
    Results
        ``method="ti"``. ``entropy_stderr`` and ``log_z_stderr`` are the total
        errors; ``details`` holds ``entropy_stderr_stat``,
        ``entropy_stderr_disc``, ``log_z_stderr_stat``, the worst ``rhat_max`` and
        lowest ``ess_min`` over the ladder, ``path``, ``ladder_size``, ``n_chains``,
        ``n_sweeps`` and, with tempering, ``swap_acceptance_min``. A target at the
        anchor (W = 0 or eps = 0) is exact.

    Raises
    ------
    InvalidInputError
        For a bad path, tolerance, ladder option or chain option.

    Warns
    -----
    NotConvergedWarning
        When ``check`` and the chains fail R-hat or ESS.
    ConvergenceWarning
        When the discretization error stays above ``tolerance``.

    Notes
    -----
    The error bar is honest only if the chains have mixed: a network with a
    first-order transition inside the ladder needs tempering, and the R-hat and
    ESS in ``details`` should be read. Past a first-order transition the two modes
    stay separated by a barrier at every W, so tempering along a W ladder cannot carry
    a replica between them; R-hat then flags the ladder, and ``path="eps"`` (one eps
    ladder per W, starting from the disordered eps = 0) is the remedy. The
    discretization error assumes a locally constant fourth derivative of
    :math:`\log Z`; it is summed (not added in quadrature) over intervals, a
    conservative choice.

    Examples
    --------
    >>> import mcising
    >>> from mcising.ti import thermodynamic_integration
    >>> model = mcising.load_model("cycle:200", theta=1, w=1, eps=1)
    >>> est = thermodynamic_integration(model, n_sweeps=1000, seed=1)[0]
    >>> bool(abs(est.entropy - 133.9) < 1)
    True
    """
    del max_nodes
    points = points_for(model, points)
    runs = integrate_ladders(
        model, points, path=path, tempering=tempering, tolerance=tolerance,
        n_intervals=n_intervals, max_rounds=max_rounds, n_chains=n_chains,
        n_sweeps=n_sweeps, burn_in=burn_in, sampler=sampler, seed=seed,
        node_activity=node_activity, check=check, progress=progress)
    return collect(runs, len(points))

r"""Convergence diagnostics of chain samples, computed by arviz.

For each recorded quantity (``energy``, ``activity``, ``coupling``) at each ladder
point: the rank-normalized split :math:`\hat R`, the bulk and tail effective sample
sizes, the Monte Carlo standard error of the mean, and the integrated
autocorrelation time in sweeps,

.. math::

    \tau_{\mathrm{int}} = \text{thin} \cdot \frac{K D}{\mathrm{ESS}_{\mathrm{mean}}},

for ``K`` chains of ``D`` draws, so that one chain of ``n`` sweeps carries about
:math:`n / \tau_{\mathrm{int}}` independent draws. arviz computes every ingredient
(Geyer's initial monotone sequence for the ESS); nothing here re-implements them.

A run passes when every :math:`\hat R \le` :data:`RHAT_MAX` and every bulk and tail
ESS is at least :data:`ESS_MIN`; otherwise :meth:`ConvergenceReport.warn` raises a
:class:`NotConvergedWarning` that carries the report.

References
----------
.. [1] A. Vehtari, A. Gelman, D. Simpson, B. Carpenter and P.-C. Buerkner,
   "Rank-normalization, folding, and localization: an improved R-hat for assessing
   convergence of MCMC", Bayesian Analysis 16, 667 (2021), doi:10.1214/20-BA1221.
"""

import dataclasses
import logging
import math
import warnings

import numpy as np

from .errors import ConvergenceWarning
from .samples import POSTERIOR_VARIABLES, _arviz

__all__ = [
    "ESS_MIN",
    "RHAT_MAX",
    "ConvergenceReport",
    "NotConvergedWarning",
    "convergence_report",
    "mcse_mean",
    "plot_diagnostics",
    "variance_with_stderr",
]

logger = logging.getLogger(__name__)

# Largest acceptable rank-normalized split R-hat, as recommended in [1].
RHAT_MAX = 1.01
# Smallest acceptable bulk and tail ESS: 100 per chain for four chains, as in [1].
ESS_MIN = 400

_ADVICE = (
    "run more sweeps (--sweeps), use parallel tempering (sample_tempering, "
    "--tempering eps) or, for a bimodal network, the Wang-Landau estimator"
)


class NotConvergedWarning(ConvergenceWarning):
    """Chains whose R-hat or effective sample size fails the thresholds.

    Attributes
    ----------
    report : ConvergenceReport
        The full diagnostics of the run.
    """

    def __init__(self, message, report=None):
        super().__init__(message)
        self.report = report


def _arviz_call(name, values, **kwargs):
    """Apply arviz's ``name`` to a (chain, draw, ladder) array; return shape (ladder,)."""
    import xarray as xr

    az = _arviz()
    data = xr.Dataset({"x": (("chain", "draw", "ladder"), values)})
    with warnings.catch_warnings():
        # Constant series give 0/0 inside arviz; they are handled by the caller.
        warnings.filterwarnings("ignore", category=RuntimeWarning,
                                message=".*(invalid value|divide by zero|Degrees of "
                                        "freedom).*")
        out = getattr(az, name)(data, **kwargs)
    return np.asarray(out["x"].values, dtype=float).reshape(values.shape[2])


def _constant(values):
    """Flag ladder points where every chain and draw holds the same value."""
    flat = values.reshape(-1, values.shape[2])
    return np.all(flat == flat[:1], axis=0)


def mcse_mean(values):
    """Monte Carlo standard error of the mean, accounting for autocorrelation.

    Parameters
    ----------
    values : numpy.ndarray, shape (chain, draw, ladder)

    Returns
    -------
    numpy.ndarray, shape (ladder,)
        arviz's MCSE of the mean; zero for a constant series.
    """
    values = np.asarray(values, dtype=float)
    out = _arviz_call("mcse", values, method="mean")
    return np.where(_constant(values), 0.0, out)


def variance_with_stderr(values):
    r"""Variance over all chains and draws, with its standard error.

    Parameters
    ----------
    values : numpy.ndarray, shape (chain, draw, ladder)

    Returns
    -------
    variance, stderr : numpy.ndarray, shape (ladder,)

    Notes
    -----
    The influence function of :math:`\sigma^2 = E[(X - \mu)^2]` is
    :math:`(X - \mu)^2 - \sigma^2` (the derivative with respect to :math:`\mu`
    vanishes), so to first order (delta method) the standard error of
    :math:`\hat\sigma^2` is the MCSE of the mean of the series
    :math:`(X_t - \bar X)^2`, which arviz computes with that series' own
    autocorrelation.
    """
    values = np.asarray(values, dtype=float)
    centred = (values - values.mean(axis=(0, 1))) ** 2
    return centred.mean(axis=(0, 1)), mcse_mean(centred)


@dataclasses.dataclass(frozen=True)
class ConvergenceReport:
    """Diagnostics of every quantity at every ladder point.

    Attributes
    ----------
    quantities : tuple of str
        ``("energy", "activity", "coupling")``.
    ladder_w, ladder_eps : numpy.ndarray, shape (ladder,)
    rhat, ess_bulk, ess_tail, mcse, tau_int : dict of str to numpy.ndarray
        Per quantity, shape (ladder,). ``tau_int`` is in sweeps.
    n_chains, n_draws, thin : int
    rhat_max, ess_min : float
        Thresholds this report was judged against.
    """

    quantities: tuple
    ladder_w: np.ndarray
    ladder_eps: np.ndarray
    rhat: dict
    ess_bulk: dict
    ess_tail: dict
    mcse: dict
    tau_int: dict
    n_chains: int
    n_draws: int
    thin: int
    rhat_max: float = RHAT_MAX
    ess_min: float = ESS_MIN

    @property
    def worst_rhat(self):
        """Largest R-hat over quantities and ladder points (NaN counts as infinite)."""
        values = np.concatenate([self.rhat[q] for q in self.quantities])
        return float(np.max(np.nan_to_num(values, nan=np.inf)))

    @property
    def smallest_ess(self):
        """Smallest bulk or tail ESS over quantities and ladder points."""
        values = np.concatenate([np.concatenate([self.ess_bulk[q], self.ess_tail[q]])
                                 for q in self.quantities])
        return float(np.min(np.nan_to_num(values, nan=0.0)))

    def rhat_at(self, k):
        """Largest R-hat over quantities at ladder point ``k`` (NaN as infinite)."""
        return float(max(np.nan_to_num(self.rhat[q][k], nan=np.inf)
                         for q in self.quantities))

    def ess_at(self, k):
        """Smallest bulk or tail ESS over quantities at ladder point ``k``."""
        return float(min(np.nan_to_num(min(self.ess_bulk[q][k], self.ess_tail[q][k]),
                                       nan=0.0) for q in self.quantities))

    @property
    def problems(self):
        """One line per failing (quantity, ladder point)."""
        lines = []
        for q in self.quantities:
            for k in range(len(self.ladder_w)):
                rhat = self.rhat[q][k]
                ess = min(self.ess_bulk[q][k], self.ess_tail[q][k])
                where = f"W={self.ladder_w[k]:g}, eps={self.ladder_eps[k]:g}"
                if not rhat <= self.rhat_max:
                    lines.append(f"R-hat of {q} is {rhat:.3g} > {self.rhat_max:g} "
                                 f"({where})")
                if not ess >= self.ess_min:
                    lines.append(f"ESS of {q} is {ess:.0f} < {self.ess_min:g} ({where})")
        return lines

    @property
    def ok(self):
        """True when every R-hat and ESS passes its threshold."""
        return not self.problems

    def to_dict(self):
        """Plain-Python dict (JSON-friendly; NaN becomes None)."""
        def plain(array):
            return [None if not math.isfinite(v) else float(v) for v in array]

        out = {"ok": self.ok, "rhat_max": self.rhat_max, "ess_min": self.ess_min,
               "n_chains": self.n_chains, "n_draws": self.n_draws, "thin": self.thin,
               "ladder_w": plain(self.ladder_w), "ladder_eps": plain(self.ladder_eps),
               "problems": self.problems}
        for name in ("rhat", "ess_bulk", "ess_tail", "mcse", "tau_int"):
            out[name] = {q: plain(getattr(self, name)[q]) for q in self.quantities}
        return out

    def __str__(self):
        header = (f"{'W':>8} {'eps':>8} {'quantity':>9} {'R-hat':>7} {'ESS bulk':>9} "
                  f"{'ESS tail':>9} {'MCSE':>10} {'tau (sweeps)':>12}")
        lines = [f"convergence: {self.n_chains} chains x {self.n_draws} draws "
                 f"(thin {self.thin}); thresholds R-hat <= {self.rhat_max:g}, "
                 f"ESS >= {self.ess_min:g}", header]
        for k in range(len(self.ladder_w)):
            for q in self.quantities:
                lines.append(
                    f"{self.ladder_w[k]:8.4g} {self.ladder_eps[k]:8.4g} {q:>9} "
                    f"{self.rhat[q][k]:7.4f} {self.ess_bulk[q][k]:9.0f} "
                    f"{self.ess_tail[q][k]:9.0f} {self.mcse[q][k]:10.3g} "
                    f"{self.tau_int[q][k]:12.3g}"
                )
        lines.append("converged" if self.ok else "NOT CONVERGED: " + "; ".join(
            self.problems[:5]) + (" ..." if len(self.problems) > 5 else ""))
        return "\n".join(lines)

    def warn(self, stacklevel=2):
        """Issue a :class:`NotConvergedWarning` if any diagnostic fails.

        Returns
        -------
        bool
            True if a warning was issued.
        """
        if self.ok:
            return False
        problems = self.problems
        shown = "; ".join(problems[:3]) + (
            f" (and {len(problems) - 3} more)" if len(problems) > 3 else "")
        warnings.warn(NotConvergedWarning(
            f"chains have not converged: {shown}. To fix: {_ADVICE}", self),
            stacklevel=stacklevel + 1)
        return True


def convergence_report(series, ladder_w, ladder_eps, *, thin=1, rhat_max=RHAT_MAX,
                       ess_min=ESS_MIN):
    r"""Diagnose recorded chains.

    Parameters
    ----------
    series : dict of str to numpy.ndarray, shape (chain, draw, ladder)
        ``energy``, ``activity`` and ``coupling``.
    ladder_w, ladder_eps : array_like, shape (ladder,)
    thin : int
        Sweeps between draws (for ``tau_int`` in sweeps).
    rhat_max, ess_min : float
        Thresholds.

    Returns
    -------
    ConvergenceReport

    Notes
    -----
    A quantity that is constant over every chain and draw (a frozen network) gets
    :math:`\hat R = 1`, ESS equal to the number of draws and zero MCSE. Fewer than
    two chains or four draws give NaN R-hat, which fails the check.
    """
    n_chains, n_draws, _ = series["energy"].shape
    total = n_chains * n_draws
    stats = {name: {} for name in ("rhat", "ess_bulk", "ess_tail", "mcse", "tau_int")}
    for q in POSTERIOR_VARIABLES:
        values = np.asarray(series[q], dtype=float)
        constant = _constant(values) if total else np.ones(values.shape[2], bool)
        if n_chains >= 2 and n_draws >= 4:
            rhat = _arviz_call("rhat", values)
            bulk = _arviz_call("ess", values, method="bulk")
            tail = _arviz_call("ess", values, method="tail")
            ess_mean = _arviz_call("ess", values, method="mean")
            mcse = _arviz_call("mcse", values, method="mean")
        else:
            rhat = bulk = tail = ess_mean = mcse = np.full(values.shape[2], np.nan)
        stats["rhat"][q] = np.where(constant, 1.0, rhat)
        stats["ess_bulk"][q] = np.where(constant, total, bulk)
        stats["ess_tail"][q] = np.where(constant, total, tail)
        stats["mcse"][q] = np.where(constant, 0.0, mcse)
        with np.errstate(divide="ignore", invalid="ignore"):
            stats["tau_int"][q] = np.where(constant, float(thin),
                                           thin * total / ess_mean)
    return ConvergenceReport(
        quantities=POSTERIOR_VARIABLES, ladder_w=np.asarray(ladder_w, float),
        ladder_eps=np.asarray(ladder_eps, float), n_chains=n_chains, n_draws=n_draws,
        thin=int(thin), rhat_max=float(rhat_max), ess_min=float(ess_min), **stats,
    )


def plot_diagnostics(idata, path=None, *, kind="trace"):
    """Trace or rank plots of energy, activity and coupling, drawn by arviz.

    Parameters
    ----------
    idata : arviz.InferenceData
        From :attr:`mcising.chains.ChainSamples.idata`.
    path : str or os.PathLike, optional
        Write the figure here (format from the suffix).
    kind : {"trace", "rank"}

    Returns
    -------
    matplotlib.figure.Figure
    """
    import matplotlib

    matplotlib.use("Agg")
    az = _arviz()
    if kind not in ("trace", "rank"):
        from .errors import InvalidInputError

        raise InvalidInputError(f"kind must be 'trace' or 'rank', got {kind!r}")
    plot = az.plot_trace if kind == "trace" else az.plot_rank
    with warnings.catch_warnings():
        # arviz 0.23's trace plot uses a matplotlib 3.11 deprecated call.
        warnings.filterwarnings("ignore", message=".*alias_mapping.*")
        # A frozen ladder point has nothing to smooth; its flat trace says enough.
        warnings.filterwarnings("ignore", message=".*appears to have a single value.*")
        axes = plot(idata, var_names=list(POSTERIOR_VARIABLES))
    fig = np.asarray(axes).ravel()[0].figure
    if path is not None:
        fig.savefig(path, dpi=100)
        logger.info("wrote %s plot to %s", kind, path)
    return fig

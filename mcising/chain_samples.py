"""Recorded Markov chains as an object: estimates, diagnostics and netCDF files.

:class:`ChainSamples` wraps the arviz ``InferenceData`` that :mod:`mcising.chains`
records; :class:`mcising.tempering.TemperingSamples` extends it with a ladder.
"""

import numpy as np

from . import samples as _samples
from .diagnostics import ESS_MIN, RHAT_MAX, convergence_report
from .results import Estimate, Results

__all__ = ["ChainSamples", "wrap"]


def wrap(idata):
    """Return the samples object for ``idata``: plain chains or a tempering ladder."""
    kind = idata.posterior.attrs.get("mcising_kind", "chains")
    if kind == "tempering":
        from .tempering import TemperingSamples

        return TemperingSamples(idata)
    return ChainSamples(idata)


class ChainSamples:
    """Recorded chains, with estimates, diagnostics and netCDF input/output.

    Parameters
    ----------
    idata : arviz.InferenceData
        In the layout of :mod:`mcising.samples`.

    Attributes
    ----------
    idata : arviz.InferenceData
        ``posterior`` holds ``energy``, ``activity`` and ``coupling`` with dims
        ``(chain, draw)`` (plus ``ladder`` for tempering); attributes hold the run's
        settings; ``constant_data`` holds the ladder, theta and optional extras.
    """

    def __init__(self, idata):
        self.idata = idata
        self._series, self._constants, self.attrs = _samples.from_inference_data(idata)

    # -- access -----------------------------------------------------------------

    def series(self, name):
        """Return recorded ``energy``, ``activity`` or ``coupling``, (chain, draw, ladder)."""
        return self._series[name]

    @property
    def ladder_w(self):
        """Coupling W at each ladder point, shape (ladder,)."""
        return self._constants["ladder_w"]

    @property
    def ladder_eps(self):
        """Inverse temperature at each ladder point, shape (ladder,)."""
        return self._constants["ladder_eps"]

    @property
    def theta(self):
        """Thresholds, shape (N,)."""
        return self._constants["theta"]

    @property
    def n_chains(self):
        """Number of chains K."""
        return int(self._series["energy"].shape[0])

    @property
    def n_draws(self):
        """Recorded draws per chain."""
        return int(self._series["energy"].shape[1])

    @property
    def interrupted(self):
        """True when Ctrl-C stopped the run early (the completed sweeps are kept)."""
        return bool(self.attrs.get("interrupted", 0))

    @property
    def node_activity(self):
        r"""Per-node :math:`\langle S_i \rangle`, shape (ladder, N), or None."""
        return self._constants.get("node_activity")

    @property
    def final_states(self):
        """Last configuration of each chain, shape (chain, ladder, N) int8, or None."""
        return self._constants.get("final_states")

    # -- results -----------------------------------------------------------------

    def diagnostics(self, *, rhat_max=RHAT_MAX, ess_min=ESS_MIN):
        """Convergence report (see :mod:`mcising.diagnostics`)."""
        return convergence_report(self._series, self.ladder_w, self.ladder_eps,
                                  thin=int(self.attrs.get("thin", 1)),
                                  rhat_max=rhat_max, ess_min=ess_min)

    def estimates(self, report=None):
        r"""One :class:`~mcising.results.Estimate` per ladder point.

        :math:`\langle H \rangle`, :math:`\langle n \rangle / N` and
        :math:`\langle q \rangle` with arviz's MCSE; the heat capacity
        :math:`\epsilon^2 \operatorname{Var} H` with the delta-method error of
        :func:`mcising.diagnostics.variance_with_stderr`. Entropy and log Z are NaN:
        chains alone do not give them.

        Returns
        -------
        Results
        """
        from .diagnostics import variance_with_stderr

        report = report or self.diagnostics()
        n_nodes = int(self.attrs["n_nodes"])
        theta = self.theta
        theta = float(theta[0]) if np.all(theta == theta[0]) else tuple(theta.tolist())
        energy = self._series["energy"]
        if self.n_draws == 0:
            nan = np.full(len(self.ladder_w), np.nan)
            means = {q: nan for q in ("energy", "activity", "coupling")}
            errors, variance, variance_err = means, nan, nan
        else:
            means = {q: self._series[q].mean(axis=(0, 1)) for q in self._series}
            errors = report.mcse
            variance, variance_err = variance_with_stderr(energy)
        out = []
        seconds = float(self.attrs.get("seconds", 0.0)) / len(self.ladder_w)
        for k, (w, eps) in enumerate(zip(self.ladder_w, self.ladder_eps)):
            out.append(Estimate(
                method=str(self.attrs["sampler"]), n_nodes=n_nodes,
                n_edges=int(self.attrs["n_edges"]), theta=theta, w=float(w),
                eps=float(eps),
                mean_energy=float(means["energy"][k]),
                mean_energy_stderr=float(errors["energy"][k]),
                heat_capacity=float(eps**2 * variance[k]),
                heat_capacity_stderr=float(eps**2 * variance_err[k]),
                mean_activity=float(means["activity"][k] / n_nodes),
                mean_activity_stderr=float(errors["activity"][k] / n_nodes),
                mean_coupling=float(means["coupling"][k]),
                mean_coupling_stderr=float(errors["coupling"][k]),
                node_activity=None if self.node_activity is None
                else self.node_activity[k],
                node_activity_stderr=None if self.node_activity is None
                else self._constants["node_activity_stderr"][k],
                seconds=seconds, details=self._details(report, k),
            ))
        return Results(out)

    def _details(self, report, k):
        return {"sampler": str(self.attrs["sampler"]), "n_chains": self.n_chains,
                "n_sweeps": int(self.attrs["n_sweeps"]),
                "rhat_max": report.rhat_at(k), "ess_min": report.ess_at(k),
                "interrupted": self.interrupted}

    # -- files and plots -------------------------------------------------------------

    def to_netcdf(self, path):
        """Save to a netCDF file; :meth:`from_netcdf` reads it back."""
        return _samples.save(self.idata, path)

    @staticmethod
    def from_netcdf(path):
        """Load samples saved by :meth:`to_netcdf` (a tempering run comes back as one)."""
        return wrap(_samples.load(path))

    def plot(self, path=None, *, kind="trace"):
        """Trace or rank plot through arviz (see :func:`mcising.diagnostics.plot_diagnostics`)."""
        from .diagnostics import plot_diagnostics

        return plot_diagnostics(self.idata, path, kind=kind)

    def __repr__(self):
        flag = ", interrupted" if self.interrupted else ""
        return (f"{type(self).__name__}(sampler={self.attrs.get('sampler')}, "
                f"n_chains={self.n_chains}, n_draws={self.n_draws}, "
                f"ladder={len(self.ladder_w)}{flag})")

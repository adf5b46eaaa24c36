r"""Densities of states estimated by Wang-Landau walkers, with errors from their spread.

Two shapes of result:

* :class:`WangLandauDensityOfStates`: :math:`\log g(n, m)` on the joint lattice of
  active nodes and active edges (unit weights, uniform threshold); it answers every
  parameter point :math:`(\theta, W, \epsilon)`.
* :class:`EnergyDensityOfStates`: :math:`\log g(E)` at one :math:`(\theta, W)`, on an
  exact energy lattice or in bins of real energy. With the samples of a
  multicanonical production run it reweights each sample by its exact energy,

  .. math::

      Z(\epsilon) = 2^N\,\frac{\sum_s g(b_s)\, e^{-\epsilon E_s}}{\sum_s g(b_s)},

  (samples :math:`s` drawn with weight :math:`1/g(b)` of their bin :math:`b`), so the
  binning leaves no bias.

Every walker's table is normalised to :math:`\sum g = 2^N`. Each quantity is computed
per walker; the reported value is the mean over walkers and its standard error is the
spread between walkers divided by :math:`\sqrt{K}`.
"""

import json

import numpy as np
from scipy import stats
from scipy.special import logsumexp

from .dos import DensityOfStates
from .errors import InvalidInputError
from .results import QUANTITIES, Estimate

__all__ = ["EnergyDensityOfStates", "WangLandauDensityOfStates", "load_dos",
           "normalise_log_g"]

# Tolerance when matching a query's (theta, W) to those of an energy table.
_PARAM_RTOL = 1e-9
# Fallback thresholds for tables without explicit parameters.
_LOG2 = np.log(2.0)


def normalise_log_g(log_g, n_nodes):
    r"""Shift each walker's table so that :math:`\sum g = 2^N`; ``-inf`` stays.

    Parameters
    ----------
    log_g : numpy.ndarray, shape (K, ...)
        One table per walker, ``-inf`` where the walker found no state.
    n_nodes : int

    Returns
    -------
    numpy.ndarray, same shape
    """
    flat = log_g.reshape(log_g.shape[0], -1)
    shift = n_nodes * _LOG2 - logsumexp(flat, axis=1)
    return log_g + shift.reshape((-1,) + (1,) * (log_g.ndim - 1))


def _widening(count):
    r"""Factor :math:`t_{K-1, 0.975} / z_{0.975}` for a standard error from K walkers.

    The spread of K walkers estimates the error with only K - 1 degrees of freedom;
    scaled by this factor, std / sqrt(K) makes the usual interval of 1.96 standard
    errors a Student-t 95% interval (for 8 walkers the factor is 1.21).
    """
    return stats.t.ppf(0.975, np.maximum(count - 1, 1)) / stats.norm.ppf(0.975)


def _mean_and_stderr(walker_values):
    """Mean over axis 0 of the finite values, and its standard error (NaN below 2).

    The standard error is std / sqrt(count), widened by :func:`_widening`.
    """
    finite = np.isfinite(walker_values)
    count = finite.sum(axis=0)
    filled = np.where(finite, walker_values, 0.0)
    with np.errstate(invalid="ignore", divide="ignore"):
        mean = filled.sum(axis=0) / count
        dev = np.where(finite, walker_values - mean, 0.0)
        var = (dev**2).sum(axis=0) / (count - 1)
        stderr = np.sqrt(var / count) * _widening(count)
    mean = np.where(count > 0, mean, -np.inf)
    stderr = np.where(count > 1, stderr, np.nan)
    return mean, stderr


def _estimates_from_walkers(values, walker_values, *, method, n_nodes, n_edges, thetas,
                            points, seconds, details):
    """Build one Estimate per point from dicts of arrays (value and per walker)."""
    out = []
    n_walkers = len(walker_values)
    for k, point in enumerate(points):
        fields = {}
        for name in QUANTITIES:
            fields[name] = float(values[name][k])
            per_walker = np.array([wv[name][k] for wv in walker_values])
            if n_walkers > 1 and np.all(np.isfinite(per_walker)):
                err = float(np.std(per_walker, ddof=1) / np.sqrt(n_walkers)
                            * _widening(n_walkers))
            else:
                err = np.nan
            fields[f"{name}_stderr"] = err
        out.append(Estimate(
            method=method, n_nodes=n_nodes, n_edges=n_edges, theta=float(thetas[k]),
            w=float(point.w), eps=float(point.eps), seconds=seconds / len(points),
            details=dict(details or {}), **fields,
        ))
    return out


class WangLandauDensityOfStates(DensityOfStates):
    r"""Estimated :math:`\log g(n, m)` with one table per walker.

    Parameters
    ----------
    walker_log_g : array_like, shape (K, N + 1, M + 1)
        Each walker's :math:`\log g`, normalised to :math:`\sum g = 2^N`, ``-inf``
        where it found no state.
    structure_hash : str, optional
        :attr:`IsingModel.structure_hash` of the network it was made for.
    diagnostics : dict, optional
        Facts about the run (walkers, flips, final ln f...), copied into each
        estimate's ``details``.

    Notes
    -----
    ``log_g`` is the mean over the walkers that found a cell and ``log_g_stderr`` the
    standard error of that mean. Quantities at a parameter point are the mean of the
    walkers' values and their standard error the spread between walkers over
    :math:`\sqrt{K}`.
    """

    def __init__(self, walker_log_g, *, structure_hash=None, diagnostics=None):
        self.walker_log_g = np.asarray(walker_log_g, dtype=np.float64)
        if self.walker_log_g.ndim != 3:
            raise InvalidInputError(
                f"walker_log_g must have shape (K, N + 1, M + 1), got "
                f"{self.walker_log_g.shape}"
            )
        mean, stderr = _mean_and_stderr(self.walker_log_g)
        super().__init__(mean, log_g_stderr=stderr, method="wang-landau")
        self.structure_hash = structure_hash
        self.diagnostics = dict(diagnostics or {})

    @property
    def n_walkers(self):
        """Number of walkers K."""
        return self.walker_log_g.shape[0]

    def estimates(self, points, *, seconds=0.0, details=None):
        """Return one :class:`Estimate` per point, errors from the walkers' spread.

        Parameters
        ----------
        points : sequence of Point
            Points with a uniform ``theta``.
        seconds : float
            Wall time to split evenly over the points.
        details : dict, optional
            Extra facts recorded in each estimate (added to :attr:`diagnostics`).
        """
        thetas = np.array([float(np.mean(p.theta)) for p in points])
        ws = [p.w for p in points]
        epss = [p.eps for p in points]
        walkers = [DensityOfStates(t).thermodynamics(thetas, ws, epss)
                   for t in self.walker_log_g]
        per_point = [
            {name: np.mean([wv[name][k] for wv in walkers]) for name in QUANTITIES}
            for k in range(len(points))
        ]
        values = {name: np.array([p[name] for p in per_point]) for name in QUANTITIES}
        return _estimates_from_walkers(
            values, walkers, method=self.method, n_nodes=self.n_nodes,
            n_edges=self.n_edges, thetas=thetas, points=points, seconds=seconds,
            details={**self.diagnostics, **(details or {})},
        )

    def to_netcdf(self, path):
        """Write the tables to a netCDF file (engine h5netcdf)."""
        import xarray as xr

        k, n, m = self.walker_log_g.shape
        ds = xr.Dataset(
            {"walker_log_g": (("walker", "n", "m"), self.walker_log_g),
             "log_g": (("n", "m"), self.log_g),
             "log_g_stderr": (("n", "m"), self.log_g_stderr)},
            coords={"n": np.arange(n), "m": np.arange(m)},
            attrs={"kind": "nm", "method": self.method,
                   "structure_hash": self.structure_hash or "",
                   "diagnostics": json.dumps(self.diagnostics)},
        )
        ds.to_netcdf(path, engine="h5netcdf")


class EnergyDensityOfStates:
    r"""Estimated :math:`\log g(E)` at one :math:`(\theta, W)`, one table per walker.

    Parameters
    ----------
    energies : array_like, shape (L,)
        Energy of each level (exact lattice) or lower edge of each bin.
    walker_log_g : array_like, shape (K, L)
        Each walker's table, normalised to :math:`\sum g = 2^N`.
    theta : float or numpy.ndarray, shape (N,)
        Thresholds the table was made for.
    w : float
        Coupling the table was made for.
    n_nodes, n_edges : int
    exact_levels : bool
        True when every state's energy equals its level's energy exactly.
    samples : dict of numpy.ndarray, shape (K, S), optional
        ``energy``, ``n`` and ``q`` of multicanonical samples drawn with each walker's
        frozen table; when given, every quantity comes from exact reweighting.
    bin_width : float
        Width of a level in energy.
    structure_hash : str, optional
    diagnostics : dict, optional
    """

    def __init__(self, energies, walker_log_g, *, theta, w, n_nodes, n_edges,
                 exact_levels, samples=None, bin_width=1.0, structure_hash=None,
                 diagnostics=None):
        self.energies = np.asarray(energies, dtype=np.float64)
        self.walker_log_g = np.asarray(walker_log_g, dtype=np.float64)
        self.theta = np.broadcast_to(np.asarray(theta, float), (n_nodes,)).copy()
        self.w = float(w)
        self.n_nodes = int(n_nodes)
        self.n_edges = int(n_edges)
        self.exact_levels = bool(exact_levels)
        self.samples = samples
        self.bin_width = float(bin_width)
        self.structure_hash = structure_hash
        self.diagnostics = dict(diagnostics or {})
        self.log_g, self.log_g_stderr = _mean_and_stderr(self.walker_log_g)
        self.method = "wang-landau"

    @property
    def n_walkers(self):
        """Number of walkers K."""
        return self.walker_log_g.shape[0]

    def _check_point(self, point):
        theta = np.broadcast_to(np.asarray(point.theta, float), (self.n_nodes,))
        if not (np.allclose(theta, self.theta, rtol=_PARAM_RTOL, atol=0)
                and np.isclose(point.w, self.w, rtol=_PARAM_RTOL, atol=0)):
            raise InvalidInputError(
                f"this density of states was built at theta={np.mean(self.theta):g}, "
                f"W={self.w:g} and answers only that (theta, W) (any eps); got "
                f"theta={np.mean(theta):g}, W={point.w:g}. Build one per (theta, W), "
                "or use the (n, m) lattice for unit weights and a uniform theta"
            )

    def _walker_thermo(self, k, eps):
        """Quantities of walker ``k`` at inverse temperatures ``eps`` (array)."""
        eps = np.asarray(eps, float)[:, None]
        if self.samples is not None:
            e = self.samples["energy"][k][None, :]
            log_g_s = self.walker_log_g[k][self._bins(self.samples["energy"][k])]
            log_w = log_g_s[None, :] - eps * e
            norm = logsumexp(log_w, axis=1)
            prob = np.exp(log_w - norm[:, None])
            log_z = self.n_nodes * _LOG2 + norm - logsumexp(log_g_s)
            n_mean = prob @ self.samples["n"][k]
            q_mean = prob @ self.samples["q"][k]
        else:
            finite = np.isfinite(self.walker_log_g[k])
            e = self.energies[finite][None, :]
            log_w = self.walker_log_g[k][finite][None, :] - eps * e
            log_z = logsumexp(log_w, axis=1)
            prob = np.exp(log_w - log_z[:, None])
            n_mean = np.full(eps.shape[0], np.nan)
            q_mean = np.full(eps.shape[0], np.nan)
        mean_e = np.sum(prob * e, axis=1)
        var_e = np.sum(prob * (e - mean_e[:, None]) ** 2, axis=1)
        eps = eps[:, 0]
        return {"log_z": log_z, "mean_energy": mean_e, "heat_capacity": eps**2 * var_e,
                "entropy": eps * mean_e + log_z, "mean_activity": n_mean / self.n_nodes,
                "mean_coupling": q_mean}

    def _bins(self, energy):
        if self.exact_levels:
            return np.searchsorted(self.energies, energy - 0.5 * self.bin_width)
        index = np.floor((energy - self.energies[0]) / self.bin_width).astype(np.int64)
        return np.clip(index, 0, self.energies.shape[0] - 1)

    def thermodynamics(self, eps):
        """Mean over walkers of every quantity at inverse temperatures ``eps``."""
        eps = np.atleast_1d(np.asarray(eps, float))
        walkers = [self._walker_thermo(k, eps) for k in range(self.n_walkers)]
        return {name: np.mean([wv[name] for wv in walkers], axis=0)
                for name in QUANTITIES}

    def estimates(self, points, *, seconds=0.0, details=None):
        """Return one :class:`Estimate` per point; ``theta`` and ``w`` must match.

        Raises
        ------
        InvalidInputError
            For a point whose (theta, W) differs from the table's.
        """
        for point in points:
            self._check_point(point)
        eps = np.array([p.eps for p in points])
        walkers = [self._walker_thermo(k, eps) for k in range(self.n_walkers)]
        values = {name: np.mean([wv[name] for wv in walkers], axis=0)
                  for name in QUANTITIES}
        thetas = np.full(len(points), float(np.mean(self.theta)))
        return _estimates_from_walkers(
            values, walkers, method=self.method, n_nodes=self.n_nodes,
            n_edges=self.n_edges, thetas=thetas, points=points, seconds=seconds,
            details={**self.diagnostics, **(details or {})},
        )

    def to_netcdf(self, path):
        """Write the tables (and samples, if any) to a netCDF file (engine h5netcdf)."""
        import xarray as xr

        data = {"walker_log_g": (("walker", "level"), self.walker_log_g),
                "log_g": (("level",), self.log_g),
                "log_g_stderr": (("level",), self.log_g_stderr),
                "theta": (("node",), self.theta)}
        if self.samples is not None:
            for key, value in self.samples.items():
                data[f"sample_{key}"] = (("walker", "sample"), value)
        ds = xr.Dataset(
            data, coords={"energy": ("level", self.energies)},
            attrs={"kind": "energy", "method": self.method, "w": self.w,
                   "n_edges": self.n_edges, "exact_levels": int(self.exact_levels),
                   "bin_width": self.bin_width,
                   "structure_hash": self.structure_hash or "",
                   "diagnostics": json.dumps(self.diagnostics)},
        )
        ds.to_netcdf(path, engine="h5netcdf")


def load_dos(path):
    """Read a density of states written by ``to_netcdf`` (either kind).

    Parameters
    ----------
    path : str or os.PathLike

    Returns
    -------
    WangLandauDensityOfStates or EnergyDensityOfStates

    Raises
    ------
    InvalidInputError
        If the file is not a density of states written by mcising.
    """
    import xarray as xr

    with xr.open_dataset(path, engine="h5netcdf") as ds:
        ds = ds.load()
    kind = ds.attrs.get("kind")
    hash_ = ds.attrs.get("structure_hash") or None
    diagnostics = json.loads(ds.attrs.get("diagnostics", "{}"))
    if kind == "nm":
        return WangLandauDensityOfStates(ds["walker_log_g"].values, structure_hash=hash_,
                                         diagnostics=diagnostics)
    if kind == "energy":
        samples = None
        if "sample_energy" in ds:
            samples = {key: ds[f"sample_{key}"].values for key in ("energy", "n", "q")}
        theta = ds["theta"].values
        return EnergyDensityOfStates(
            ds["energy"].values, ds["walker_log_g"].values, theta=theta,
            w=float(ds.attrs["w"]), n_nodes=theta.shape[0],
            n_edges=int(ds.attrs["n_edges"]),
            exact_levels=bool(ds.attrs["exact_levels"]), samples=samples,
            bin_width=float(ds.attrs["bin_width"]), structure_hash=hash_,
            diagnostics=diagnostics,
        )
    raise InvalidInputError(
        f"{path} is not a density of states written by mcising (kind={kind!r}); "
        "make one with `mcising dos --save`"
    )

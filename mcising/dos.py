r"""Joint density of states :math:`g(n, m)` of unit-weight, uniform-threshold models.

With unit weights and one threshold for every node the energy depends on a state only
through its number of active nodes :math:`n` and active edges :math:`m`:
:math:`H = \tfrac{\theta}{2} n - W m`. So

.. math::

    \log Z(\theta, W, \epsilon) = \log \sum_{n,m} g(n, m)\,
        e^{-\epsilon (\theta n / 2 - W m)},

and one table answers every parameter point. The exact solver counts :math:`g`; the
Wang-Landau estimator estimates :math:`\log g` with errors. Both are held here.
"""

import numpy as np
from scipy.special import logsumexp

from .errors import InvalidInputError
from .results import Estimate

__all__ = ["DensityOfStates"]


class DensityOfStates:
    r"""Natural log of the number of states per (n active nodes, m active edges).

    Parameters
    ----------
    log_g : array_like, shape (N + 1, M + 1)
        :math:`\log g(n, m)`, ``-inf`` where no state exists.
    n_edges : int
        Number of edges M (the table may be narrower only if it is given explicitly).
    log_g_stderr : array_like or None
        Standard error of each entry (``None`` for an exact count).
    counts : numpy.ndarray of int64 or None
        The exact integer counts, when known.
    method : str
        How the table was made (``"exact"``, ``"wang-landau"``).
    """

    def __init__(self, log_g, *, log_g_stderr=None, counts=None, method="exact"):
        self.log_g = np.asarray(log_g, dtype=np.float64)
        if self.log_g.ndim != 2:
            raise InvalidInputError(f"log_g must be 2-D (n, m), got {self.log_g.shape}")
        self.log_g_stderr = (
            None if log_g_stderr is None else np.asarray(log_g_stderr, dtype=float)
        )
        self.counts = counts
        self.method = method

    @classmethod
    def from_counts(cls, counts):
        """Build from exact integer counts ``g[n, m]``."""
        counts = np.asarray(counts, dtype=np.int64)
        with np.errstate(divide="ignore"):
            log_g = np.log(counts.astype(np.float64))
        return cls(log_g, counts=counts, method="exact")

    @property
    def n_nodes(self):
        """Number of nodes N."""
        return self.log_g.shape[0] - 1

    @property
    def n_edges(self):
        """Number of edges M."""
        return self.log_g.shape[1] - 1

    @property
    def reachable(self):
        """Boolean mask of the (n, m) cells that hold at least one state."""
        return np.isfinite(self.log_g)

    def thermodynamics(self, theta, w, eps):
        r"""Exact thermodynamics at arrays of parameter points.

        Parameters
        ----------
        theta, w, eps : array_like, broadcastable to a common shape
            Threshold (uniform), coupling and inverse temperature.

        Returns
        -------
        dict of numpy.ndarray
            ``log_z``, ``mean_energy``, ``heat_capacity`` (:math:`\epsilon^2
            \mathrm{Var}\,H`), ``entropy``, ``mean_activity`` and ``mean_coupling``.
        """
        theta, w, eps = np.broadcast_arrays(*(np.asarray(v, float) for v in
                                              (theta, w, eps)))
        n = np.arange(self.n_nodes + 1, dtype=float)[:, None]
        m = np.arange(self.n_edges + 1, dtype=float)[None, :]
        mask = self.reachable
        log_g = self.log_g[mask]
        n_cells = np.broadcast_to(n, mask.shape)[mask]
        m_cells = np.broadcast_to(m, mask.shape)[mask]

        energy = (theta[..., None] / 2) * n_cells - w[..., None] * m_cells
        log_weight = log_g - eps[..., None] * energy
        log_z = logsumexp(log_weight, axis=-1)
        prob = np.exp(log_weight - log_z[..., None])
        mean_e = np.sum(prob * energy, axis=-1)
        var_e = np.sum(prob * (energy - mean_e[..., None]) ** 2, axis=-1)
        return {
            "log_z": log_z,
            "mean_energy": mean_e,
            "heat_capacity": eps**2 * var_e,
            "entropy": eps * mean_e + log_z,
            "mean_activity": np.sum(prob * n_cells, axis=-1) / self.n_nodes,
            "mean_coupling": np.sum(prob * m_cells, axis=-1),
        }

    def estimates(self, points, *, seconds=0.0, details=None):
        """Return one :class:`Estimate` per point (exact: zero standard errors).

        Parameters
        ----------
        points : sequence of Point
            Points with a uniform ``theta`` (scalar or constant array).
        seconds : float
            Wall time to split evenly over the points.
        details : dict, optional
            Extra facts recorded in each estimate.
        """
        thetas = np.array([float(np.mean(p.theta)) for p in points])
        values = self.thermodynamics(
            thetas, [p.w for p in points], [p.eps for p in points]
        )
        zero = 0.0 if self.method == "exact" else np.nan
        out = []
        for k, point in enumerate(points):
            fields = {name: float(v[k]) for name, v in values.items()}
            fields.update({f"{name}_stderr": zero for name in values})
            out.append(Estimate(
                method=self.method, n_nodes=self.n_nodes, n_edges=self.n_edges,
                theta=float(thetas[k]), w=float(point.w), eps=float(point.eps),
                seconds=seconds / len(points), details=dict(details or {}), **fields,
            ))
        return out

    def to_dataarray(self):
        r"""Return :math:`\log g` as an :class:`xarray.DataArray` with dims (n, m)."""
        import xarray as xr

        return xr.DataArray(
            self.log_g,
            dims=("n", "m"),
            coords={"n": np.arange(self.n_nodes + 1), "m": np.arange(self.n_edges + 1)},
            name="log_g",
            attrs={"method": self.method},
        )

"""One result type for every method: :class:`Estimate`, collected in :class:`Results`.

An exact answer is an :class:`Estimate` whose standard errors are zero. Each estimate
records how it was made (method, seconds, and method-specific ``details`` such as the
exact backend or chain diagnostics), so tables, JSON lines, plots and sweeps never need
to know which method produced a number.
"""

import dataclasses
import math

import numpy as np

__all__ = ["Estimate", "Results", "JSON_KEYS", "QUANTITIES"]

# Quantities that every method reports, each with a ``_stderr`` twin.
QUANTITIES = (
    "entropy",
    "log_z",
    "mean_energy",
    "heat_capacity",
    "mean_activity",
    "mean_coupling",
)

# The stable keys of one JSON line, in order; ``details`` are appended after them.
JSON_KEYS = (
    "method",
    "n_nodes",
    "n_edges",
    "theta",
    "w",
    "eps",
    "entropy",
    "entropy_stderr",
    "log_z",
    "mean_energy",
    "heat_capacity",
    "mean_activity",
    "seconds",
)


def _plain(value):
    """Convert numpy scalars and arrays to JSON-friendly Python values."""
    if isinstance(value, np.ndarray):
        return [_plain(v) for v in value.tolist()]
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


@dataclasses.dataclass(frozen=True, eq=False)
class Estimate:
    r"""Thermodynamic quantities at one parameter point, with standard errors.

    Attributes
    ----------
    method : str
        ``"exact"``, ``"ti"``, ``"mbar"``, ``"wang-landau"``, ``"glauber"``...
    n_nodes, n_edges : int
        Size of the network.
    theta : float or tuple of float
        The threshold; a tuple when it differs between nodes.
    w, eps : float
        Coupling and inverse temperature.
    entropy : float
        Gibbs entropy :math:`S = \epsilon \langle H \rangle + \log Z`, in nats.
    log_z : float
        Natural logarithm of the partition function.
    mean_energy : float
        :math:`\langle H \rangle`.
    heat_capacity : float
        :math:`\epsilon^2 \operatorname{Var}(H)`.
    mean_activity : float
        :math:`\langle \sum_i S_i \rangle / N`.
    mean_coupling : float
        :math:`\langle q \rangle`, :math:`q = \sum_{i<j} C_{ij} S_i S_j`.
    *_stderr : float
        Standard error of each quantity (0 for exact methods, NaN where unknown).
    node_activity : numpy.ndarray or None
        Per-node :math:`\langle S_i \rangle`, shape (N,), when requested.
    seconds : float
        Wall time spent on this point (a shared computation is split evenly).
    details : dict
        Method-specific facts (e.g. ``exact_backend``, ``rhat_max``), added to JSON.
    """

    method: str
    n_nodes: int
    n_edges: int
    theta: float | tuple
    w: float
    eps: float
    entropy: float = math.nan
    log_z: float = math.nan
    mean_energy: float = math.nan
    heat_capacity: float = math.nan
    mean_activity: float = math.nan
    mean_coupling: float = math.nan
    entropy_stderr: float = math.nan
    log_z_stderr: float = math.nan
    mean_energy_stderr: float = math.nan
    heat_capacity_stderr: float = math.nan
    mean_activity_stderr: float = math.nan
    mean_coupling_stderr: float = math.nan
    node_activity: np.ndarray | None = None
    node_activity_stderr: np.ndarray | None = None
    seconds: float = 0.0
    details: dict = dataclasses.field(default_factory=dict)

    @property
    def entropy_bits(self):
        """Entropy in bits."""
        return self.entropy / math.log(2)

    @property
    def entropy_stderr_bits(self):
        """Standard error of the entropy in bits."""
        return self.entropy_stderr / math.log(2)

    def to_dict(self, *, bits=False):
        """Return the JSON record: the stable keys, then every other field that is set.

        Parameters
        ----------
        bits : bool
            Report the entropy and its errors in bits instead of nats.

        Returns
        -------
        dict
        """
        record = {}
        for key in JSON_KEYS:
            record[key] = getattr(self, key)
        for name in QUANTITIES:
            record.setdefault(name, getattr(self, name))
            record[f"{name}_stderr"] = getattr(self, f"{name}_stderr")
        if self.node_activity is not None:
            record["node_activity"] = self.node_activity
            if self.node_activity_stderr is not None:
                record["node_activity_stderr"] = self.node_activity_stderr
        record.update(self.details)
        if bits:
            for key in [k for k in record if k.startswith("entropy")]:
                if isinstance(record[key], float):
                    record[key] = record[key] / math.log(2)
            record["entropy_units"] = "bits"
        return {k: _plain(v) for k, v in record.items()}


class Results(tuple):
    """An immutable sequence of :class:`Estimate` with array views and conversions.

    ``results.entropy`` (and every other scalar field) is a numpy array over points.
    """

    def __new__(cls, estimates=()):
        """Collect estimates, in the order given."""
        return super().__new__(cls, estimates)

    def __getattr__(self, name):
        """Return a scalar field of every estimate as an array."""
        fields = {f.name for f in dataclasses.fields(Estimate)}
        if name in fields and name not in ("details", "node_activity",
                                            "node_activity_stderr", "theta"):
            return np.array([getattr(e, name) for e in self])
        raise AttributeError(name)

    @property
    def theta(self):
        """Thresholds as an array over points (the mean where theta varies by node)."""
        return np.array([np.mean(e.theta) for e in self], dtype=float)

    def to_records(self, *, bits=False):
        """List of JSON records, one per point (see :meth:`Estimate.to_dict`)."""
        return [e.to_dict(bits=bits) for e in self]

    def to_dataset(self):
        """Return an :class:`xarray.Dataset` with one ``point`` dimension.

        Coordinates are ``theta``, ``w`` and ``eps``; data variables are every
        quantity and its standard error.
        """
        import xarray as xr

        coords = {"theta": ("point", self.theta), "w": ("point", self.w),
                  "eps": ("point", self.eps)}
        data = {}
        for name in QUANTITIES:
            data[name] = ("point", getattr(self, name))
            data[f"{name}_stderr"] = ("point", getattr(self, f"{name}_stderr"))
        data["seconds"] = ("point", self.seconds)
        methods = sorted({e.method for e in self})
        return xr.Dataset(data, coords=coords, attrs={"method": ",".join(methods)})

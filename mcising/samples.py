r"""The one bridge between chain samples and arviz: InferenceData and netCDF files.

Everything else in mcising sees chain output as plain numpy arrays with the axes
``(chain, draw, ladder)``. This module turns them into an
:class:`arviz.InferenceData` and back, and reads and writes netCDF, so that moving to
arviz 1.x (built on xarray's DataTree) later changes this file only.

Layout of the InferenceData:

- ``posterior``: ``energy`` (:math:`H`), ``activity`` (:math:`n = \sum_i S_i`) and
  ``coupling`` (:math:`q = \sum_{i<j} C_{ij} S_i S_j`) with dims ``(chain, draw)``,
  plus a trailing ``ladder`` dim for tempering runs. Attributes hold the model's
  parameters and the run's settings (``sampler``, ``n_sweeps``, ``seed_entropy``...).
- ``constant_data``: ``ladder_w`` and ``ladder_eps`` (dim ``ladder``), ``theta``
  (dim ``node``) and, when recorded, ``node_activity`` and its standard error,
  ``final_states`` (``chain, ladder, node``), ``swap_attempts``, ``swap_accepts``
  (``chain, pair``) and ``round_trips`` (``chain``).

For runs without a ladder the ``ladder`` dim (of length one) is dropped everywhere.
"""

import warnings

import numpy as np

__all__ = ["POSTERIOR_VARIABLES", "from_inference_data", "load", "save",
           "to_inference_data"]

# Per-draw variables, in the posterior group.
POSTERIOR_VARIABLES = ("energy", "activity", "coupling")

# Dims of the constant_data variables, with the ladder dim included.
_CONSTANT_DIMS = {
    "ladder_w": ("ladder",),
    "ladder_eps": ("ladder",),
    "theta": ("node",),
    "node_activity": ("ladder", "node"),
    "node_activity_stderr": ("ladder", "node"),
    "final_states": ("chain", "ladder", "node"),
    "swap_attempts": ("chain", "pair"),
    "swap_accepts": ("chain", "pair"),
    "round_trips": ("chain",),
}


def _arviz():
    """Import arviz, silencing only its import-time announcement of version 1.x."""
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", category=FutureWarning,
                                message=r"(?s).*ArviZ is undergoing a major refactor")
        import arviz

    return arviz


def _netcdf_attr(value):
    if isinstance(value, (bool, np.bool_)):
        return int(value)
    if isinstance(value, (list, tuple)):
        return np.asarray(value)
    return value


def to_inference_data(series, constants, attrs, *, keep_ladder):
    """Build an InferenceData from arrays with the ladder axis last.

    Parameters
    ----------
    series : dict of str to numpy.ndarray, shape (chain, draw, ladder)
        ``energy``, ``activity`` and ``coupling``.
    constants : dict of str to numpy.ndarray
        Variables of ``constant_data`` named in the module docstring, ladder dim
        included; ``None`` values are skipped.
    attrs : dict
        Run attributes (``None`` values are skipped; booleans become 0 or 1).
    keep_ladder : bool
        Keep the ladder dim (tempering) or drop it (a single parameter point).

    Returns
    -------
    arviz.InferenceData
    """
    import xarray as xr

    az = _arviz()
    n_chains, n_draws, n_ladder = series["energy"].shape
    coords = {"chain": np.arange(n_chains), "draw": np.arange(n_draws)}
    if keep_ladder:
        coords["ladder"] = np.arange(n_ladder)

    def variable(dims, values):
        values = np.asarray(values)
        if not keep_ladder and "ladder" in dims:
            axis = dims.index("ladder")
            values = values.take(0, axis=axis)
            dims = tuple(d for d in dims if d != "ladder")
        return (dims, values)

    posterior = xr.Dataset(
        {name: variable(("chain", "draw", "ladder"), series[name])
         for name in POSTERIOR_VARIABLES},
        coords=coords,
        attrs={k: _netcdf_attr(v) for k, v in attrs.items() if v is not None},
    )
    constant = xr.Dataset(
        {name: variable(_CONSTANT_DIMS[name], value)
         for name, value in constants.items() if value is not None},
        coords={k: v for k, v in coords.items() if k != "draw"},
    )
    return az.InferenceData(posterior=posterior, constant_data=constant)


def from_inference_data(idata):
    """Arrays and attributes back from :func:`to_inference_data`'s layout.

    Parameters
    ----------
    idata : arviz.InferenceData

    Returns
    -------
    series : dict of str to numpy.ndarray, shape (chain, draw, ladder)
    constants : dict of str to numpy.ndarray, ladder dim included
    attrs : dict
    """
    posterior = idata.posterior
    has_ladder = "ladder" in posterior.dims

    def restore(array, dims):
        values = np.asarray(array.values)
        if not has_ladder and "ladder" in dims:
            values = np.expand_dims(values, dims.index("ladder"))
        return values

    series = {name: restore(posterior[name], ("chain", "draw", "ladder"))
              for name in POSTERIOR_VARIABLES}
    constants = {}
    if "constant_data" in idata.groups():
        for name, array in idata.constant_data.data_vars.items():
            if name in _CONSTANT_DIMS:
                constants[name] = restore(array, _CONSTANT_DIMS[name])
    return series, constants, dict(posterior.attrs)


def save(idata, path):
    """Write an InferenceData to a netCDF file (h5netcdf engine)."""
    idata.to_netcdf(str(path), engine="h5netcdf")
    return path


def load(path):
    """Read an InferenceData written by :func:`save`; data are loaded into memory."""
    az = _arviz()
    return az.from_netcdf(str(path), engine="h5netcdf").load()

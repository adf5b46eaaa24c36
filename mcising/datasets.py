"""Real networks from optional data packages.

The Virtual Brain's data package (``pip install tvb-data``, GPL-3; not a dependency of
mcising and not redistributed with it) ships the structural connectivity of a human
brain parcellated into 66 regions, the graph used in the literature on this model.
"""

import io
import zipfile

import numpy as np

from .errors import InvalidInputError

__all__ = ["tvb_connectome"]


def tvb_connectome():
    """Weights and region labels of the 66-region human connectome of tvb-data.

    Returns
    -------
    weights : numpy.ndarray of float64, shape (66, 66)
        Tract strengths, zero diagonal. The matrix is mildly asymmetric: build a model
        with ``IsingModel.from_matrix(weights, ..., symmetrize="mean")``.
    labels : list of str
        Region names (``r``/``l`` prefix for the hemisphere).

    Raises
    ------
    InvalidInputError
        If the optional tvb-data package is not installed.

    Examples
    --------
    >>> weights, labels = tvb_connectome()  # doctest: +SKIP
    >>> model = IsingModel.from_matrix(weights, theta=5, symmetrize="mean",
    ...                                labels=labels)  # doctest: +SKIP
    """
    try:
        from importlib import resources

        import tvb_data.connectivity
    except ImportError:
        raise InvalidInputError(
            "the 66-region connectome comes from the optional tvb-data package; "
            "install it with: pip install tvb-data"
        ) from None
    archive = resources.files(tvb_data.connectivity) / "connectivity_66.zip"
    with zipfile.ZipFile(io.BytesIO(archive.read_bytes())) as bundle:
        weights = np.loadtxt(io.StringIO(bundle.read("weights.txt").decode()))
        centres = bundle.read("centres.txt").decode().split("\n")
    labels = [line.split()[0] for line in centres if line.strip()]
    np.fill_diagonal(weights, 0.0)
    return weights, labels

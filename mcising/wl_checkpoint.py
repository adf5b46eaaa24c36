r"""Checkpoints of Wang-Landau walkers: every array of their state, in one npz file.

A checkpoint holds the walkers' spins, local fields, levels, energies, :math:`\log g`, histograms,
counters, random states, windows and exchange counters, plus the settings as JSON (no
pickle). Restoring it and running on gives the same result, bit for bit, as a run that
was never interrupted.
"""

import json
import os
import tempfile

import numpy as np

from .errors import InvalidInputError

__all__ = ["ARRAYS", "VERSION", "restore", "save"]

# Format version; a file of another version is refused.
VERSION = 3
# The walker arrays saved, by attribute name.
ARRAYS = ("spins", "field", "level", "energy", "log_g", "hist", "visited", "counters",
          "log_f", "trace", "rng", "bounds", "exchanges")


def save(wl, path):
    """Write the walkers' full state to ``path`` atomically (a temporary file, renamed)."""
    meta = {"version": VERSION, "settings": wl.settings,
            "structure_hash": wl.model.structure_hash,
            "theta": wl.model.theta.tolist(), "w": wl.model.w, "seconds": wl.seconds}
    arrays = {name: getattr(wl, name) for name in ARRAYS}
    folder = os.path.dirname(os.path.abspath(path))
    fd, tmp = tempfile.mkstemp(dir=folder, suffix=".npz.tmp")
    try:
        with os.fdopen(fd, "wb") as handle:
            np.savez(handle, meta=np.array(json.dumps(meta)), **arrays)
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise


def restore(wl, path, model):
    """Fill the bare WangLandau ``wl`` from the checkpoint at ``path``.

    Raises
    ------
    InvalidInputError
        If the file is no checkpoint of this version, or was written for another
        network or other parameters.
    """
    try:
        with np.load(path, allow_pickle=False) as data:
            meta = json.loads(str(data["meta"]))
            arrays = {name: data[name].copy() for name in ARRAYS}
    except (KeyError, ValueError) as exc:
        raise InvalidInputError(
            f"{path} is not a Wang-Landau checkpoint of this version of mcising"
        ) from exc
    if meta.get("version") != VERSION:
        raise InvalidInputError(
            f"{path} is not a Wang-Landau checkpoint of this version of mcising")
    if meta["structure_hash"] != model.structure_hash:
        raise InvalidInputError(
            f"{path} was written for another network; pass the same graph"
        )
    settings = meta["settings"]
    if settings["levels"] != "nm" and not (
        np.allclose(meta["theta"], model.theta) and meta["w"] == model.w
    ):
        raise InvalidInputError(
            f"{path} was written at other theta or W; pass the same parameters"
        )
    wl.model, wl.levels, wl.settings = model, settings["levels"], settings
    wl.seconds = float(meta["seconds"])
    wl.samples = None
    for name, value in arrays.items():
        setattr(wl, name, value)

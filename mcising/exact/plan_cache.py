r"""On-disk cache of contraction plans, keyed by the graph's structure.

A contraction plan depends only on which pairs of nodes are coupled, not on the
weights or on :math:`(\theta, W, \epsilon)`, so a plan found once for a graph serves
every later run on it. Plans are stored as plain JSON (the contraction path and the
sliced indices, never pickle) in the user's cache directory, one file per
:attr:`~mcising.model.IsingModel.structure_hash`:

``$MCISING_CACHE_DIR/plans/<hash>.json`` when the environment variable
``MCISING_CACHE_DIR`` is set, otherwise ``<user cache dir>/mcising/plans/<hash>.json``
(``platformdirs.user_cache_dir``).

A file that cannot be read or does not hold a valid plan is ignored with an
:class:`~mcising.errors.InputWarning`; the caller then plans again and overwrites it.
"""

import json
import logging
import os
import pathlib
import tempfile
import warnings

import platformdirs

from ..errors import InputWarning

__all__ = ["CACHE_ENV", "PLAN_FORMAT", "cache_dir", "load_record", "save_record"]

logger = logging.getLogger(__name__)

# Environment variable that overrides the cache directory (used by tests).
CACHE_ENV = "MCISING_CACHE_DIR"
# Version of the JSON layout; files with another version are replanned.
PLAN_FORMAT = 1
# Keys every stored plan must carry, with their JSON types.
_REQUIRED = {
    "format": int,
    "structure_hash": str,
    "n_nodes": int,
    "n_edges": int,
    "ssa_path": list,
    "sliced": list,
    "search_seconds": (int, float),
}


def cache_dir():
    """Directory holding the cached plans (created on first write).

    Returns
    -------
    pathlib.Path
        ``$MCISING_CACHE_DIR/plans`` or ``<user cache dir>/mcising/plans``.
    """
    root = os.environ.get(CACHE_ENV)
    if not root:
        root = platformdirs.user_cache_dir("mcising", appauthor=False)
    return pathlib.Path(root) / "plans"


def _path(structure_hash):
    return cache_dir() / f"{structure_hash}.json"


def _valid(record, structure_hash):
    """Return the reason a record is unusable, or None when it is well formed."""
    if not isinstance(record, dict):
        return "not a JSON object"
    for key, kind in _REQUIRED.items():
        if not isinstance(record.get(key), kind) or isinstance(record.get(key), bool):
            return f"missing or malformed {key!r}"
    if record["format"] != PLAN_FORMAT:
        return f"format {record['format']} (expected {PLAN_FORMAT})"
    if record["structure_hash"] != structure_hash:
        return "stored for a different graph"
    pairs_ok = all(
        isinstance(p, list) and len(p) == 2
        and all(isinstance(k, int) and not isinstance(k, bool) and k >= 0 for k in p)
        for p in record["ssa_path"]
    )
    if not pairs_ok:
        return "the contraction path is not a list of index pairs"
    if not all(isinstance(k, int) and not isinstance(k, bool) and k >= 0
               for k in record["sliced"]):
        return "the sliced indices are not node numbers"
    return None


def load_record(structure_hash):
    """Read the stored plan of a graph structure.

    Parameters
    ----------
    structure_hash : str
        :attr:`~mcising.model.IsingModel.structure_hash` of the model.

    Returns
    -------
    dict or None
        The JSON record, or ``None`` when there is none or it is damaged.

    Warns
    -----
    InputWarning
        When a stored file is damaged; it is ignored (and replaced by the next save).
    """
    path = _path(structure_hash)
    if not path.is_file():
        return None
    try:
        record = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        reason = f"unreadable ({exc.__class__.__name__})"
    else:
        reason = _valid(record, structure_hash)
        if reason is None:
            return record
    warnings.warn(
        f"ignoring damaged contraction plan {path.name} in the plan cache: {reason}; "
        "planning again (delete the file or set MCISING_CACHE_DIR to silence this)",
        InputWarning,
        stacklevel=3,
    )
    return None


def save_record(record):
    """Write a plan record atomically; failures are logged, never raised.

    Parameters
    ----------
    record : dict
        A JSON-serialisable plan with the keys listed in ``_REQUIRED``.

    Returns
    -------
    pathlib.Path or None
        Where the plan was written, or ``None`` if the cache is not writable.
    """
    path = _path(record["structure_hash"])
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".plan-", suffix=".json")
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            json.dump(record, handle)
        os.replace(tmp, path)
    except OSError as exc:
        logger.warning("could not write the contraction plan cache %s: %s", path, exc)
        return None
    return path

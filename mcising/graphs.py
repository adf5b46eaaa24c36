"""Graph input: networkx generator specs, edge lists, adjacency matrices and GraphML.

Everything here turns a source into a square weight matrix and a list of node labels;
:mod:`mcising.model` validates the matrix. User text is parsed, never evaluated, and
no loader accepts pickled data.

Spec strings name a networkx generator followed by its arguments, for example
``grid_2d:4,4``, ``grid_2d:8,8,periodic=true``, ``cycle:1000``, ``complete:12``,
``erdos_renyi:100,0.05,seed=1``, ``watts_strogatz:100,4,0.1,seed=2``,
``barabasi_albert:200,3,seed=3`` or ``random_regular:3,100,seed=4``.
"""

import os

import networkx as nx
import numpy as np
import scipy.io
import scipy.sparse as sp

from .errors import InvalidInputError

__all__ = ["GENERATORS", "load_graph", "parse_spec", "spec_graph"]

# name -> (networkx generator, positional parameter names, keyword parameters allowed)
GENERATORS = {
    "grid_2d": (nx.grid_2d_graph, ("m", "n"), ("periodic",)),
    "grid": (nx.grid_graph, (), ("periodic",)),
    "cycle": (nx.cycle_graph, ("n",), ()),
    "path": (nx.path_graph, ("n",), ()),
    "complete": (nx.complete_graph, ("n",), ()),
    "star": (nx.star_graph, ("n",), ()),
    "balanced_tree": (nx.balanced_tree, ("r", "h"), ()),
    "erdos_renyi": (nx.gnp_random_graph, ("n", "p"), ("seed",)),
    "gnm": (nx.gnm_random_graph, ("n", "m"), ("seed",)),
    "watts_strogatz": (nx.watts_strogatz_graph, ("n", "k", "p"), ("seed",)),
    "barabasi_albert": (nx.barabasi_albert_graph, ("n", "m"), ("seed",)),
    "random_regular": (nx.random_regular_graph, ("d", "n"), ("seed",)),
    "random_tree": (nx.random_labeled_tree, ("n",), ("seed",)),
    "karate": (nx.karate_club_graph, (), ()),
}

_EDGE_LIST_SUFFIXES = (".txt", ".edges", ".edgelist", ".el", ".tsv", ".dat")


def _parse_value(text):
    """Parse one spec argument as int, float or bool, without evaluating it."""
    low = text.strip().lower()
    if low in ("true", "false"):
        return low == "true"
    for convert in (int, float):
        try:
            return convert(low)
        except ValueError:
            pass
    raise InvalidInputError(
        f"graph spec argument {text!r} is not a number or true/false"
    )


def parse_spec(spec):
    """Split a spec string into generator name, positional and keyword arguments.

    Parameters
    ----------
    spec : str
        ``name:arg1,arg2,key=value``.

    Returns
    -------
    name : str
    args : list
    kwargs : dict

    Raises
    ------
    InvalidInputError
        If the generator is unknown or an argument cannot be parsed.
    """
    name, _, rest = spec.partition(":")
    name = name.strip().lower()
    if name not in GENERATORS:
        choices = ", ".join(sorted(GENERATORS))
        raise InvalidInputError(
            f"unknown graph spec {spec!r}: not an existing file and {name!r} is not a "
            f"known generator; choose one of {choices} (e.g. grid_2d:4,4)"
        )
    _, positional, keywords = GENERATORS[name]
    args, kwargs = [], {}
    for token in filter(None, (t.strip() for t in rest.split(","))):
        key, eq, value = token.partition("=")
        if eq:
            if key.strip() not in keywords:
                raise InvalidInputError(
                    f"graph spec {spec!r}: {name} takes no keyword {key.strip()!r}; "
                    f"allowed: {', '.join(keywords) or 'none'}"
                )
            kwargs[key.strip()] = _parse_value(value)
        else:
            if kwargs:
                raise InvalidInputError(
                    f"graph spec {spec!r}: positional argument after a keyword"
                )
            args.append(_parse_value(token))
    if positional and len(args) != len(positional):
        raise InvalidInputError(
            f"graph spec {spec!r}: {name} needs {len(positional)} arguments "
            f"({', '.join(positional)}), got {len(args)}"
        )
    return name, args, kwargs


def spec_graph(spec):
    """Build the networkx graph that a spec string describes.

    Parameters
    ----------
    spec : str
        See the module docstring for the format.

    Returns
    -------
    networkx.Graph
    """
    name, args, kwargs = parse_spec(spec)
    generator = GENERATORS[name][0]
    if name == "grid":
        if not args:
            raise InvalidInputError(
                f"graph spec {spec!r}: grid needs its side lengths, e.g. grid:4,4,4"
            )
        args = [list(args)]
    try:
        return generator(*args, **kwargs)
    except (nx.NetworkXError, ValueError, TypeError) as exc:
        raise InvalidInputError(f"graph spec {spec!r} is invalid: {exc}") from exc


def _read_edge_list(path):
    """Read ``u v [weight]`` lines; ``#`` starts a comment."""
    graph = nx.Graph()
    with open(path, encoding="utf-8") as handle:
        for lineno, line in enumerate(handle, start=1):
            fields = line.split("#", 1)[0].replace(",", " ").split()
            if not fields:
                continue
            if len(fields) not in (2, 3):
                raise InvalidInputError(
                    f"{path}, line {lineno}: expected 'u v [weight]', got {line.strip()!r}"
                )
            weight = 1.0
            if len(fields) == 3:
                try:
                    weight = float(fields[2])
                except ValueError:
                    raise InvalidInputError(
                        f"{path}, line {lineno}: weight {fields[2]!r} is not a number"
                    ) from None
            u, v = (_node_label(f) for f in fields[:2])
            if graph.has_edge(u, v):
                raise InvalidInputError(
                    f"{path}, line {lineno}: edge {u}-{v} appears twice; list each "
                    "undirected edge once"
                )
            graph.add_edge(u, v, weight=weight)
    return graph


def _node_label(text):
    """Integer labels stay integers so that node order follows the numbers."""
    try:
        return int(text)
    except ValueError:
        return text


def _read_matrix(path, key):
    suffix = os.path.splitext(path)[1].lower()
    if suffix == ".npy":
        try:
            matrix = np.load(path, allow_pickle=False)
        except ValueError as exc:
            raise InvalidInputError(
                f"{path} holds Python objects, which mcising refuses to unpickle; "
                "save a plain numeric array"
            ) from exc
    elif suffix == ".csv":
        try:
            matrix = np.loadtxt(path, delimiter=",", ndmin=2)
        except ValueError as exc:
            raise InvalidInputError(
                f"{path} is not a numeric comma-separated matrix: {exc}"
            ) from exc
    else:
        contents = {
            k: v for k, v in scipy.io.loadmat(path).items() if not k.startswith("__")
        }
        matrices = {
            k: v
            for k, v in contents.items()
            if (sp.issparse(v) or (isinstance(v, np.ndarray) and v.ndim == 2))
            and v.shape[0] == v.shape[1]
            and v.shape[0] > 1
        }
        if key is not None:
            if key not in matrices:
                raise InvalidInputError(
                    f"{path} has no square matrix named {key!r}; it has: "
                    f"{', '.join(sorted(matrices)) or 'none'}"
                )
            matrix = matrices[key]
        elif len(matrices) == 1:
            matrix = next(iter(matrices.values()))
        else:
            raise InvalidInputError(
                f"{path} holds {len(matrices)} square matrices "
                f"({', '.join(sorted(matrices))}); choose one with {path}:NAME"
            )
    if sp.issparse(matrix):
        return sp.csr_array(matrix, dtype=np.float64)
    matrix = np.asarray(matrix)
    if matrix.dtype.kind not in "biuf":
        raise InvalidInputError(f"{path} does not hold a numeric matrix")
    return matrix.astype(np.float64)


def load_graph(source):
    """Load a graph from a spec string or a file.

    Parameters
    ----------
    source : str or os.PathLike
        A generator spec (``grid_2d:4,4``), an edge-list text file (``u v [weight]``
        per line), an adjacency matrix (``.npy``, ``.csv``, ``.mat``; a ``.mat`` file
        with several matrices takes ``file.mat:NAME``) or a GraphML file.

    Returns
    -------
    networkx.Graph or numpy.ndarray or scipy.sparse.csr_array
        A graph for spec, edge-list and GraphML sources, a matrix otherwise.

    Raises
    ------
    InvalidInputError
        If the file is missing or malformed or the spec is invalid.
    """
    text = os.fspath(source)
    path, key = text, None
    if text.lower().endswith(".mat") is False and ".mat:" in text.lower():
        path, _, key = text.rpartition(":")
    if os.path.isfile(path):
        suffix = os.path.splitext(path)[1].lower()
        try:
            if suffix in (".npy", ".csv", ".mat"):
                return _read_matrix(path, key)
            if suffix in (".graphml", ".xml"):
                return nx.read_graphml(path)
            if suffix in _EDGE_LIST_SUFFIXES or suffix == "":
                return _read_edge_list(path)
        except (OSError, UnicodeDecodeError) as exc:
            raise InvalidInputError(f"cannot read {path}: {exc}") from exc
        raise InvalidInputError(
            f"{path}: unknown file type {suffix!r}; use an edge list (.txt, .edges), "
            "an adjacency matrix (.npy, .csv, .mat) or GraphML (.graphml)"
        )
    if ":" not in text and (os.sep in text or "." in text):
        raise InvalidInputError(f"graph file {text!r} does not exist")
    return spec_graph(text)

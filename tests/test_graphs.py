import networkx as nx
import numpy as np
import pytest
import scipy.io

from mcising import InvalidInputError, load_model
from mcising.graphs import load_graph, parse_spec


@pytest.mark.parametrize(
    ("spec", "n_nodes", "n_edges"),
    [
        ("grid_2d:4,4", 16, 24),
        ("grid_2d:4,4,periodic=true", 16, 32),
        ("cycle:1000", 1000, 1000),
        ("complete:12", 12, 66),
        ("path:5", 5, 4),
        ("star:4", 5, 4),
        ("random_regular:3,10,seed=1", 10, 15),
        ("barabasi_albert:20,2,seed=3", 20, 36),
        ("grid:2,2,2", 8, 12),
        ("karate", 34, 78),
    ],
)
def test_specs(spec, n_nodes, n_edges):
    model = load_model(spec)
    assert (model.n_nodes, model.n_edges) == (n_nodes, n_edges)


def test_seeded_specs_are_reproducible():
    a = load_model("erdos_renyi:30,0.2,seed=1")
    b = load_model("erdos_renyi:30,0.2,seed=1")
    c = load_model("watts_strogatz:30,4,0.3,seed=2")
    assert a.structure_hash == b.structure_hash != c.structure_hash


@pytest.mark.parametrize(
    ("spec", "match"),
    [
        ("nosuch:3", "not a known generator"),
        ("cycle:3,4", "needs 1 arguments"),
        ("cycle:x", "not a number"),
        ("cycle:__import__('os')", "not a number"),
        ("erdos_renyi:10,0.1,colour=1", "takes no keyword"),
        ("random_regular:3,5", "invalid"),
        ("missing_file.txt", "does not exist"),
    ],
)
def test_bad_specs(spec, match):
    with pytest.raises(InvalidInputError, match=match):
        load_graph(spec)


def test_parse_spec():
    assert parse_spec("erdos_renyi:100,0.05,seed=1") == (
        "erdos_renyi", [100, 0.05], {"seed": 1})


def test_edge_list(tmp_path):
    path = tmp_path / "net.txt"
    path.write_text("# a comment\n0 1 2.5\n1 2\n\n2 3 -1  # trailing\n")
    model = load_model(path, theta=1)
    assert model.labels == (0, 1, 2, 3)
    assert model.weights[0, 1] == 2.5 and model.weights[2, 3] == -1
    bad = tmp_path / "bad.txt"
    bad.write_text("0 1 x\n")
    with pytest.raises(InvalidInputError, match="line 1.*not a number"):
        load_model(bad)
    bad.write_text("0 1 2 3\n")
    with pytest.raises(InvalidInputError, match="u v \\[weight\\]"):
        load_model(bad)
    bad.write_text("0 1\n1 0\n")
    with pytest.raises(InvalidInputError, match="appears twice"):
        load_model(bad)


def test_matrix_files(tmp_path):
    c = np.array([[0, 1, 2], [1, 0, 0], [2, 0, 0]], dtype=float)
    np.save(tmp_path / "c.npy", c)
    np.savetxt(tmp_path / "c.csv", c, delimiter=",")
    scipy.io.savemat(tmp_path / "c.mat", {"conn": c})
    scipy.io.savemat(tmp_path / "two.mat", {"a": c, "b": c * 2})
    for name in ("c.npy", "c.csv", "c.mat", "two.mat:b"):
        model = load_model(tmp_path / name if ":" not in name else f"{tmp_path}/{name}")
        scale = 2 if name.endswith(":b") else 1
        np.testing.assert_array_equal(model.weights.toarray(), c * scale)
    with pytest.raises(InvalidInputError, match="choose one with"):
        load_model(tmp_path / "two.mat")
    with pytest.raises(InvalidInputError, match="no square matrix named 'x'"):
        load_model(f"{tmp_path}/two.mat:x")


def test_npy_pickle_refused(tmp_path):
    np.save(tmp_path / "obj.npy", np.array([{"a": 1}], dtype=object), allow_pickle=True)
    with pytest.raises(InvalidInputError, match="refuses to unpickle"):
        load_model(tmp_path / "obj.npy")


def test_graphml_and_unknown_suffix(tmp_path):
    graph = nx.Graph()
    graph.add_edge("x", "y", weight=0.5)
    nx.write_graphml(graph, tmp_path / "g.graphml")
    model = load_model(tmp_path / "g.graphml")
    assert model.labels == ("x", "y") and model.weights[0, 1] == 0.5
    (tmp_path / "g.json").write_text("{}")
    with pytest.raises(InvalidInputError, match="unknown file type"):
        load_model(tmp_path / "g.json")

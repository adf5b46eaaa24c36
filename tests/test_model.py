import networkx as nx
import numpy as np
import pytest
import scipy.sparse as sp
from conftest import random_couplings
from reference import all_states

from mcising import InputWarning, InvalidInputError, IsingModel, load_model


def test_from_graph_keeps_labels_and_weights():
    graph = nx.Graph()
    graph.add_edge("a", "b", weight=2.5)
    graph.add_edge("b", "c")
    model = IsingModel.from_graph(graph, theta=1, w=2, eps=0.5)
    assert model.labels == ("a", "b", "c")
    assert model.weights.toarray().tolist() == [[0, 2.5, 0], [2.5, 0, 1], [0, 1, 0]]
    assert model.n_edges == 2 and model.n_nodes == 3
    assert model.theta.tolist() == [1, 1, 1]
    back = model.to_networkx()
    assert back["a"]["b"]["weight"] == 2.5 and back["b"]["c"]["weight"] == 1.0


def test_model_is_immutable_and_with_params_shares_weights():
    model = load_model("cycle:5", theta=1)
    with pytest.raises(AttributeError):
        model.w = 3
    with pytest.raises(ValueError, match="read-only"):
        model.weights.data[0] = 7
    other = model.with_params(w=2.0)
    assert other.weights is model.weights and other.w == 2.0 and model.w == 1.0


def test_energy_matches_definition(rng):
    c = random_couplings(rng, 7)
    theta = rng.normal(size=7)
    model = IsingModel.from_matrix(c, theta, w=1.3, eps=2)
    s = all_states(7)
    expected = 0.5 * s @ theta - 1.3 * np.einsum("si,ij,sj->s", s, c, s) / 2
    np.testing.assert_allclose(model.energies(s), expected, atol=1e-12)
    assert model.energy(s[5]) == pytest.approx(expected[5])
    assert model.energies(s.reshape(4, 32, 7)).shape == (4, 32)


def test_flip_delta_and_local_field_agree_with_energy(rng):
    c = random_couplings(rng, 6)
    model = IsingModel.from_matrix(c, rng.normal(size=6), w=-0.7, eps=1)
    for state in all_states(6)[::5]:
        h = model.local_field(state)
        for i in range(6):
            flipped = state.copy()
            flipped[i] = 1 - flipped[i]
            delta = model.energy(flipped) - model.energy(state)
            assert model.flip_delta(state, i) == pytest.approx(delta, abs=1e-12)
            assert (2 * state[i] - 1) * h[i] == pytest.approx(delta, abs=1e-12)


def test_heat_bath_rule_has_boltzmann_stationary_law(rng):
    """P(on | rest) / P(off | rest) must equal exp(-eps (H_on - H_off)), with theta/2."""
    c = random_couplings(rng, 5)
    model = IsingModel.from_matrix(c, theta=3.0, w=1.1, eps=1.7)
    for state in all_states(5):
        h = model.local_field(state)[2]
        p_on = 1 / (1 + np.exp(-model.eps * h))
        on, off = state.copy(), state.copy()
        on[2], off[2] = 1, 0
        ratio = np.exp(-model.eps * (model.energy(on) - model.energy(off)))
        assert p_on / (1 - p_on) == pytest.approx(ratio, rel=1e-12)


def test_asymmetric_matrix_refused_unless_symmetrized():
    c = np.array([[0, 1.0], [2.0, 0]])
    with pytest.raises(InvalidInputError, match="not symmetric.*symmetrize"):
        IsingModel.from_matrix(c)
    assert IsingModel.from_matrix(c, symmetrize="mean").weights[0, 1] == 1.5
    assert IsingModel.from_matrix(c, symmetrize="max").weights[0, 1] == 2.0
    assert IsingModel.from_matrix(c, symmetrize="upper").weights[1, 0] == 1.0
    with pytest.raises(InvalidInputError, match="symmetrize must be"):
        IsingModel.from_matrix(c, symmetrize="average")


def test_directed_graph_needs_symmetrize():
    graph = nx.DiGraph([(0, 1), (1, 2)])
    with pytest.raises(InvalidInputError, match="directed"):
        IsingModel.from_graph(graph)
    model = IsingModel.from_graph(graph, symmetrize="max")
    assert model.n_edges == 2


@pytest.mark.parametrize("bad", [np.nan, np.inf, -np.inf])
def test_non_finite_weights_refused(bad):
    c = np.array([[0, bad], [bad, 0]])
    with pytest.raises(InvalidInputError, match="NaN or infinite"):
        IsingModel.from_matrix(c)
    graph = nx.Graph()
    graph.add_edge(0, 1, weight=bad)
    with pytest.raises(InvalidInputError, match="finite"):
        IsingModel.from_graph(graph)


def test_self_loops_dropped_with_warning():
    c = np.array([[1.0, 2.0], [2.0, 0.5]])
    with pytest.warns(InputWarning, match="dropped 2 self-loops"):
        model = IsingModel.from_matrix(c)
    assert model.weights.diagonal().tolist() == [0, 0]
    graph = nx.Graph([(0, 0), (0, 1)])
    with pytest.warns(InputWarning, match="self-loops"):
        assert IsingModel.from_graph(graph).n_edges == 1


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"eps": -1.0}, "eps must be >= 0"),
        ({"eps": np.nan}, "eps must be finite"),
        ({"w": np.inf}, "w must be finite"),
        ({"w": "1"}, "w must be a real number"),
        ({"theta": [1.0, 2.0]}, "one value per node"),
        ({"theta": [1.0, np.nan, 0.0]}, "theta contains NaN"),
    ],
)
def test_bad_parameters_refused(kwargs, match):
    with pytest.raises(InvalidInputError, match=match):
        IsingModel.from_matrix(np.ones((3, 3)) - np.eye(3), **kwargs)


def test_empty_and_malformed_inputs_refused():
    with pytest.raises(InvalidInputError, match="no nodes"):
        IsingModel.from_graph(nx.Graph())
    with pytest.raises(InvalidInputError, match="square"):
        IsingModel.from_matrix(np.zeros((2, 3)))
    with pytest.raises(InvalidInputError, match="numeric"):
        IsingModel.from_matrix(np.array([["a", "b"], ["b", "a"]]))
    with pytest.raises(InvalidInputError, match="multigraph"):
        IsingModel.from_graph(nx.MultiGraph([(0, 1), (0, 1)]))
    with pytest.raises(InvalidInputError, match="only 0 and 1"):
        load_model("cycle:3").energy([0, 2, 1])
    with pytest.raises(InvalidInputError, match="3 entries"):
        load_model("cycle:3").energy([0, 1])


def test_edgeless_graph_is_accepted():
    model = IsingModel.from_graph(nx.empty_graph(4), theta=1)
    assert model.n_edges == 0 and model.n_nodes == 4


def test_sparse_input_and_structure_hash():
    c = sp.random(8, 8, density=0.4, random_state=1)
    c = c + c.T
    c.setdiag(0)
    a = IsingModel.from_matrix(sp.csr_matrix(c))
    b = IsingModel.from_matrix(c.toarray() * 3.0, theta=2)
    assert a.structure_hash == b.structure_hash
    assert a.structure_hash != load_model("cycle:8").structure_hash
    assert "n_nodes=8" in repr(a)

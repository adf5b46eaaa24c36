import networkx as nx
import numpy as np
import pytest
from reference import brute_force

import mcising
from mcising import InvalidInputError, IsingModel
from mcising.closed_forms import closed_form, complete_graph, ring, tree

QUANTITIES = ("log_z", "mean_energy", "heat_capacity", "entropy", "mean_activity",
              "mean_coupling")


def check(estimate, model):
    expected = brute_force(model.weights.toarray(), model.theta, model.w, model.eps)
    for name in QUANTITIES:
        assert getattr(estimate, name) == pytest.approx(expected[name], rel=1e-11,
                                                        abs=1e-11), name


def weighted(graph, rng):
    for u, v in graph.edges:
        graph[u][v]["weight"] = rng.normal()
    return graph


@pytest.mark.parametrize("seed", range(4))
def test_tree_and_forest_match_brute_force(seed):
    rng = np.random.default_rng(seed)
    graph = weighted(nx.random_labeled_tree(11, seed=seed), rng)
    graph.add_nodes_from([11, 12])
    graph.add_edge(11, 12, weight=2.0)
    model = IsingModel.from_graph(graph, theta=rng.normal(scale=2, size=13),
                                  w=rng.uniform(-2, 2), eps=rng.uniform(0.1, 3))
    check(tree(model), model)


@pytest.mark.parametrize("seed", range(4))
def test_ring_matches_brute_force(seed):
    rng = np.random.default_rng(seed)
    graph = weighted(nx.cycle_graph(10), rng)
    model = IsingModel.from_graph(graph, theta=rng.normal(scale=2, size=10),
                                  w=rng.uniform(-2, 2), eps=rng.uniform(0.1, 3))
    check(ring(model), model)
    uniform = mcising.load_model("cycle:12", theta=3, w=rng.uniform(0, 3), eps=1.3)
    check(ring(uniform), uniform)


def test_complete_graph_matches_brute_force():
    for theta, w, eps in [(5, 1.2, 1), (-1, -0.5, 2), (9, 1.0, 0.3)]:
        model = mcising.load_model("complete:10", theta=theta, w=w, eps=eps)
        check(complete_graph(10, theta, w, eps), model)
    model = IsingModel.from_matrix(2.5 * (np.ones((8, 8)) - np.eye(8)), 1, 0.4, 1)
    check(closed_form(model)[0], model)


def test_long_ring_against_transfer_matrix_eigenvalues():
    """log Z of a uniform ring is log(l1^N + l2^N); <H> is -d log Z / d eps."""
    n, theta, w = 20_000, 5.0, 1.5

    def log_z(eps):
        t = np.array([[1.0, np.exp(-eps * theta / 4)],
                      [np.exp(-eps * theta / 4), np.exp(-eps * theta / 2 + eps * w)]])
        lam = np.linalg.eigvalsh(t)
        return n * np.log(lam[-1]) + np.log1p((lam[0] / lam[-1]) ** n)

    model = mcising.load_model(f"cycle:{n}", theta=theta, w=w, eps=1.0)
    estimate = ring(model)
    assert estimate.log_z == pytest.approx(log_z(1.0), rel=1e-12)
    h = 1e-5
    derivative = (log_z(1 + h) - log_z(1 - h)) / (2 * h)
    assert estimate.mean_energy == pytest.approx(-derivative, rel=1e-7)
    second = (log_z(1 + h) - 2 * log_z(1) + log_z(1 - h)) / h**2
    assert estimate.heat_capacity == pytest.approx(second, rel=1e-3)


def test_path_is_a_ring_without_its_closing_edge():
    path = mcising.load_model("path:2000", theta=4, w=1.7, eps=1)
    estimate = closed_form(path)[0]
    per_node = closed_form(mcising.load_model("cycle:2000", theta=4, w=1.7, eps=1))
    assert estimate.entropy / 2000 == pytest.approx(per_node[0].entropy / 2000, rel=1e-3)
    assert estimate.method == "closed-form" and estimate.entropy_stderr == 0


def test_refusals():
    with pytest.raises(InvalidInputError, match="without cycles"):
        tree(mcising.load_model("cycle:5"))
    with pytest.raises(InvalidInputError, match="single cycle"):
        ring(mcising.load_model("path:5"))
    two_rings = nx.disjoint_union(nx.cycle_graph(4), nx.cycle_graph(5))
    with pytest.raises(InvalidInputError, match="single cycle"):
        ring(IsingModel.from_graph(two_rings))
    with pytest.raises(InvalidInputError, match="closed forms exist"):
        closed_form(mcising.load_model("grid_2d:3,3"))

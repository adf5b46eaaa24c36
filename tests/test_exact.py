import itertools

import networkx as nx
import numpy as np
import pytest
from conftest import random_couplings
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from reference import all_states, brute_force

import mcising
from mcising import InvalidInputError, IsingModel, TooExpensiveError
from mcising.exact import density_of_states, enumerate_points, solve

QUANTITIES = ("log_z", "mean_energy", "heat_capacity", "entropy", "mean_activity",
              "mean_coupling")


def assert_matches(estimate, expected, rtol=1e-10, atol=1e-9):
    for name in QUANTITIES:
        assert getattr(estimate, name) == pytest.approx(expected[name], rel=rtol,
                                                        abs=atol), name


@st.composite
def small_models(draw):
    n = draw(st.integers(2, 9))
    seed = draw(st.integers(0, 2**32 - 1))
    rng = np.random.default_rng(seed)
    c = random_couplings(rng, n, density=draw(st.floats(0.1, 1.0)),
                         signed=draw(st.booleans()))
    theta = rng.normal(scale=3, size=n) if draw(st.booleans()) else 2.0
    w = draw(st.floats(-3, 3))
    eps = draw(st.floats(0, 5))
    return c, theta, w, eps


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(small_models())
def test_solve_matches_brute_force(case):
    c, theta, w, eps = case
    model = IsingModel.from_matrix(c, theta, w, eps)
    estimate = solve(model, node_activity=True)[0]
    expected = brute_force(c, theta, w, eps)
    assert_matches(estimate, expected)
    np.testing.assert_allclose(estimate.node_activity, expected["node_activity"],
                               rtol=1e-10, atol=1e-12)
    assert estimate.entropy_stderr == 0 and estimate.details["exact_backend"] == \
        "enumerate"


@pytest.mark.parametrize("n_nodes", [17, 19])
def test_many_chunks_weighted(rng, n_nodes):
    """Sizes that run over several chunks and kernel blocks."""
    c = random_couplings(rng, n_nodes, density=0.3, signed=True)
    theta = rng.normal(size=n_nodes)
    model = IsingModel.from_matrix(c, theta, w=0.8, eps=1.3)
    expected = brute_force(c, theta, 0.8, 1.3)
    estimate = solve(model, node_activity=True)[0]
    assert_matches(estimate, expected)
    np.testing.assert_allclose(estimate.node_activity, expected["node_activity"],
                               rtol=1e-10)


def test_many_points_in_one_enumeration(rng):
    c = random_couplings(rng, 8, signed=False)
    model = IsingModel.from_matrix(c)
    points = [(t, w, e) for t, w, e in itertools.product([0.5, 4], [-1, 0.5, 2], [0.3, 2])]
    results = solve(model, points)
    for estimate, (t, w, e) in zip(results, points):
        assert (estimate.theta, estimate.w, estimate.eps) == (t, w, e)
        assert_matches(estimate, brute_force(c, t, w, e))


def test_eps_zero_gives_n_log_2(rng):
    c = random_couplings(rng, 10)
    for model in (IsingModel.from_matrix(c, theta=3, w=2, eps=0),
                  mcising.load_model("grid_2d:3,4", theta=3, w=2, eps=0)):
        estimate = solve(model)[0]
        assert estimate.log_z == pytest.approx(model.n_nodes * np.log(2), rel=1e-13)
        assert estimate.entropy == pytest.approx(model.n_nodes * np.log(2), rel=1e-13)
        assert estimate.heat_capacity == 0 and estimate.mean_activity == \
            pytest.approx(0.5)


def test_density_of_states_counts(grid4):
    model = IsingModel.from_graph(grid4)
    dos = density_of_states(model)
    assert dos.counts.sum() == 2**16
    assert dos.counts[0, 0] == 1 and dos.counts[16, 24] == 1
    assert dos.counts[1].tolist()[0] == 16  # single active nodes touch no edge
    assert dos.counts[2, 1] == 24  # pairs of neighbours
    s = all_states(16)
    a = nx.to_numpy_array(grid4)
    n = s.sum(axis=1).astype(int)
    m = (np.einsum("si,ij,sj->s", s, a, s) / 2).astype(int)
    direct = np.zeros_like(dos.counts)
    np.add.at(direct, (n, m), 1)
    np.testing.assert_array_equal(dos.counts, direct)
    assert not dos.reachable[1, 1]


def test_density_of_states_reproduces_enumeration(rng, grid4):
    model = IsingModel.from_graph(grid4)
    dos = density_of_states(model)
    a = nx.to_numpy_array(grid4)
    for _ in range(8):
        theta, w, eps = rng.uniform(-6, 6), rng.uniform(-3, 3), rng.uniform(0, 4)
        values = dos.thermodynamics(theta, w, eps)
        expected = brute_force(a, theta, w, eps)
        for name in QUANTITIES:
            assert values[name] == pytest.approx(expected[name], rel=1e-10, abs=1e-9)
    weighted = enumerate_points(model.with_params(theta=1.5, w=0.7, eps=2))[0]
    assert dos.thermodynamics(1.5, 0.7, 2)["heat_capacity"] == pytest.approx(
        weighted.heat_capacity, rel=1e-10)


def test_density_of_states_needs_unit_weights():
    model = IsingModel.from_matrix(np.array([[0, 2.0], [2.0, 0]]))
    with pytest.raises(InvalidInputError, match="unit edge weights"):
        density_of_states(model)


def test_grid_curve_peaks_at_w_one_and_a_half():
    model = mcising.load_model("grid_2d:4,4", theta=5, eps=1)
    results = solve(model, mcising.grid(theta=5, w="0.5:3.5:0.5", eps=1))
    assert results.w[np.argmax(results.entropy)] == 1.5
    assert results.entropy.max() == pytest.approx(8.31447311548841, rel=1e-12)


@pytest.mark.parametrize("scale", [1e2, 1e4, 1e6])
def test_huge_energies_stay_finite(rng, scale):
    """eps*|H| up to 1e4 and beyond: no overflow, no underflow, still exact."""
    c = random_couplings(rng, 12, signed=True)
    theta = rng.normal(size=12)
    model = IsingModel.from_matrix(c, theta, w=1.0, eps=scale)
    estimate = solve(model)[0]
    expected = brute_force(c, theta, 1.0, scale)
    assert estimate.log_z == pytest.approx(expected["log_z"], rel=1e-12)
    assert estimate.mean_energy == pytest.approx(expected["mean_energy"], rel=1e-10)
    assert estimate.entropy == pytest.approx(expected["entropy"], abs=1e-8)
    assert estimate.heat_capacity == pytest.approx(expected["heat_capacity"],
                                                   rel=1e-6, abs=1e-8)
    unit = mcising.load_model("complete:10", theta=1, w=1, eps=scale)
    assert solve(unit)[0].log_z == pytest.approx(scale * (45 - 5), rel=1e-12)


def test_size_limit_names_the_scalable_methods(monkeypatch):
    model = mcising.load_model("cycle:40")
    with pytest.raises(TooExpensiveError, match="contract.*ti.*mbar.*wang-landau"):
        solve(model, backend="enumerate")
    with pytest.raises(TooExpensiveError, match="limit of 12 nodes"):
        solve(mcising.load_model("cycle:13"), max_nodes=12,
              backend="enumerate")
    monkeypatch.setenv("MCISING_MAX_EXACT_NODES", "10")
    with pytest.raises(TooExpensiveError, match="limit of 10 nodes"):
        solve(mcising.load_model("cycle:11"), backend="enumerate")
    with pytest.raises(InvalidInputError, match="max_nodes must lie"):
        solve(model, max_nodes=80)


def test_bad_points_and_backend():
    model = mcising.load_model("cycle:4")
    with pytest.raises(InvalidInputError, match="backend must be one of"):
        solve(model, backend="magic")
    with pytest.raises(InvalidInputError, match="eps must be >= 0"):
        solve(model, [(1, 1, -1)])
    with pytest.raises(InvalidInputError, match="theta"):
        solve(model, [(np.ones(3), 1, 1)])
    with pytest.raises(InvalidInputError, match="no parameter points"):
        solve(model, [])


def test_results_containers():
    model = mcising.load_model("cycle:6", theta=1)
    results = solve(model, mcising.grid(1, [0.5, 1.0], [1, 2]))
    ds = results.to_dataset()
    assert ds.sizes["point"] == 4 and "entropy_stderr" in ds
    record = results[0].to_dict(bits=True)
    assert record["entropy"] == pytest.approx(results[0].entropy / np.log(2))
    assert results[0].entropy_bits == pytest.approx(record["entropy"])


def test_long_enumerations_announce_their_duration(monkeypatch, caplog):
    monkeypatch.setattr("mcising.exact.enumerate._ANNOUNCE_SECONDS", 0.0)
    with caplog.at_level("WARNING", logger="mcising.exact.enumerate"):
        solve(mcising.load_model("cycle:10"))
    assert "exact enumeration of 2^10 states: about" in caplog.text

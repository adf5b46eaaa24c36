"""The contraction engine's kernels against plain numpy, and its paths against each other."""

import networkx as nx
import numpy as np
import pytest

from mcising import IsingModel
from mcising.exact import _jets, _slices
from mcising.exact.contract import contract_points, plan
from mcising.kernels.jets import jet_absorb, jet_absorb_serial


def jet_reference(x, y):
    """The jet product of ``x`` (5, ..., K) and ``y`` (5, ..., K, R) by its definition."""
    def mm(a, b):
        return np.matmul(a, b)
    return np.stack([
        mm(x[0], y[0]),
        mm(x[0], y[1]) + mm(x[1], y[0]),
        mm(x[0], y[2]) + mm(x[1], y[1]) + mm(x[2], y[0]),
        mm(x[0], y[3]) + mm(x[3], y[0]),
        mm(x[0], y[4]) + mm(x[4], y[0]),
    ])


@pytest.mark.parametrize("shape", [
    (3, 40, 1, 1), (2, 33, 4, 2), (1, 50, 8, 8),   # fused kernel, one thread
    (4, 5001, 2, 4),                                # fused kernel, all threads
    (3, 20, 32, 8), (1, 37, 16, 64), (5, 7, 64, 3),  # BLAS, split over batch or rows
])
def test_jet_products_match_the_definition(shape):
    b, rows, k, r = shape
    rng = np.random.default_rng(sum(shape))
    x = rng.normal(size=(5, b, rows, k))
    y = rng.normal(size=(5, b, k, r))
    out = np.full((5, b, rows, r), np.nan)
    low, top = _slices._jet_matmul(x, y, out, _slices._Pool())
    expected = jet_reference(x, y)
    np.testing.assert_allclose(out, expected, rtol=1e-12, atol=1e-12 * k)
    assert low == pytest.approx(expected[0].min(), rel=1e-12, abs=1e-12)
    assert top == pytest.approx(expected[0].max(), rel=1e-12, abs=1e-12)


@pytest.mark.parametrize("in_place, n_bits", [(False, 7), (True, 7), (True, 15)])
def test_absorption_matches_an_indexed_product(in_place, n_bits):
    rng = np.random.default_rng(7)
    big = rng.normal(size=(5, 2**n_bits))
    small = rng.normal(size=(5, 2**3))
    bits = np.array([1, 5, 3], dtype=np.int64)  # small's axes, most significant first
    entry = np.arange(2**n_bits)
    index = sum(((entry >> b) & 1) << (2 - a) for a, b in enumerate(bits))
    expected = jet_reference(big[..., None, None], small[:, index, None, None])[..., 0, 0]
    out = big.copy() if in_place else np.empty_like(big)
    kernel = jet_absorb if big.size >= _slices._PARALLEL_MIN_SIZE else jet_absorb_serial
    low, top = kernel(out if in_place else big, small, bits, out)
    np.testing.assert_allclose(out, expected, rtol=1e-13, atol=1e-14)
    assert top == expected[0].max() and low == expected[0].min()


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_tiled_transposition_matches_numpy(seed):
    rng = np.random.default_rng(seed)
    n = 16
    array = rng.normal(size=(5,) + (2,) * n)
    perm = (0, *(1 + rng.permutation(n)))
    got, fresh = _slices._arranged(array, perm, (5, 2**6, 2**10), _slices._Pool())
    assert fresh
    expected = np.ascontiguousarray(array.transpose(perm)).reshape(5, 2**6, 2**10)
    np.testing.assert_array_equal(got, expected)


def test_engine_paths_agree_where_enumeration_cannot_reach(monkeypatch):
    """Fused, absorbing and tiled steps against plain numpy steps on N = 100."""
    graph = nx.random_regular_graph(3, 100, seed=3)
    rng = np.random.default_rng(3)
    for u, v in graph.edges:
        graph[u][v]["weight"] = rng.lognormal(0.0, 0.5)
    model = IsingModel.from_graph(graph, theta=2.0, w=0.8, eps=1.3)
    the_plan = plan(model, cache=False)
    assert the_plan.width >= 12  # large enough for tiled transpositions
    fast = contract_points(model, plan=the_plan)[0]
    monkeypatch.setattr(_jets, "_ABSORB", False)
    monkeypatch.setattr(_slices, "_TILE_MIN_SIZE", 2**62)
    monkeypatch.setattr(_slices, "_FUSED_MAX_SUM", 0)
    monkeypatch.setattr(_slices, "_FUSED_MAX_BLOCK", 0)
    the_plan._program = None
    assert not any(step.absorb for step in _jets.compile_program(
        the_plan.tree, list(the_plan.tree.inputs), model.n_nodes).steps)
    plain = contract_points(model, plan=the_plan)[0]
    for name in ("log_z", "entropy", "mean_energy", "heat_capacity", "mean_activity",
                 "mean_coupling"):
        assert getattr(fast, name) == pytest.approx(getattr(plain, name), rel=1e-11)

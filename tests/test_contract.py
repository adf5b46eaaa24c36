"""Exact thermodynamics by tensor-network contraction, against independent answers."""

import json
import math

import networkx as nx
import numpy as np
import pytest
from conftest import random_couplings

import mcising
from mcising import InvalidInputError, IsingModel, TooExpensiveError
from mcising.cli import main
from mcising.exact import _slices, enumerate_points, solve
from mcising.exact.contract import contract_points, plan

QUANTITIES = ("log_z", "mean_energy", "heat_capacity", "entropy", "mean_activity",
              "mean_coupling")
# Targets: 1e-10 relative for every quantity, 1e-8 for the heat capacity.
RTOL = 1e-10
RTOL_HEAT = 1e-8
# A ring contracts with width 2 at best; greedy trial trees may carry a few more indices.
MAX_RING_WIDTH = 6


def scales(model, point):
    """Natural absolute scales of each quantity, for values that cancel to ~0."""
    theta, w, eps = point
    energy = np.sum(np.abs(np.broadcast_to(theta, model.n_nodes))) / 2 + abs(w) * np.sum(
        np.abs(model.edges[2]))
    return {"log_z": 1 + eps * energy, "entropy": 1 + eps * energy,
            "mean_energy": energy, "mean_activity": 1.0,
            "mean_coupling": np.sum(np.abs(model.edges[2])),
            "heat_capacity": 1.0}


def assert_agree(model, points, got, expected, rtol=RTOL, floor=1e-12):
    for point, g, e in zip(points, got, expected):
        scale = scales(model, point)
        for name in QUANTITIES:
            tol = RTOL_HEAT if name == "heat_capacity" else rtol
            a, b = getattr(g, name), getattr(e, name)
            assert abs(a - b) <= tol * abs(b) + floor * scale[name], (name, point, a, b)


def random_model(seed, n, density=0.4, disconnected=False):
    rng = np.random.default_rng(seed)
    c = random_couplings(rng, n, density=density, signed=True)
    if disconnected:
        half = n // 2
        c[:half, half:] = c[half:, :half] = 0.0
        c[-1, :] = c[:, -1] = 0.0
    return IsingModel.from_matrix(c, theta=rng.normal(size=n))


@pytest.mark.parametrize("seed, n, disconnected", [
    (1, 6, False), (2, 13, False), (3, 13, True), (4, 22, False), (5, 22, True),
])
def test_matches_enumeration_on_random_graphs(seed, n, disconnected):
    model = random_model(seed, n, density=0.25 if n == 22 else 0.4,
                         disconnected=disconnected)
    rng = np.random.default_rng(seed)
    points = [(model.theta, 1.0, 1.0), (model.theta * 0.3, -2.0, 0.5),
              (rng.normal(size=n), 0.7, 3.0), (0.0, 0.0, 0.0)]
    got = contract_points(model, points)
    assert_agree(model, points, got, enumerate_points(model, points))
    assert all(e.details["exact_backend"] == "contract" for e in got)


@pytest.mark.parametrize("seed", [11, 12, 13])
def test_extreme_couplings_match_enumeration(seed):
    """eps*|W C| and eps*|theta| up to 1e3, where naive scaling under- or overflows."""
    rng = np.random.default_rng(seed)
    n = 14
    c = random_couplings(rng, n, density=0.35, signed=True)
    c = np.clip(c, -1.0, 1.0)
    model = IsingModel.from_matrix(c)
    degree = np.abs(c).sum(axis=1)
    theta = rng.uniform(-1, 1, size=n)
    points = [(theta, 1.0, 1000.0), (theta, -1.0, 700.0), (theta * 1000, 1e-3, 1.0),
              (theta, 1000.0, 1.0), (degree / 2, 1.0, 1000.0)]
    got = contract_points(model, points)
    # Near zero temperature the heat capacity is ~0; compare it on an absolute scale.
    assert_agree(model, points, got, enumerate_points(model, points), floor=1e-9)


def test_balanced_extreme_point_needs_and_uses_the_log_domain_path(caplog):
    """All-on and all-off tie at eps*W = 1e3: per-tensor scaling alone gives 0/0."""
    model = mcising.load_model("grid_2d:3,4")
    degree = np.asarray(model.weights.sum(axis=1)).ravel()
    point = (degree * 1.0, 1.0, 1000.0)
    with caplog.at_level("INFO", logger="mcising.exact._jets"):
        got = contract_points(model, [point])
    assert "log-domain" in caplog.text
    assert_agree(model, [point], got, enumerate_points(model, [point]), floor=1e-9)
    # Two degenerate ground states: log Z = log 2, entropy log 2, half the nodes on.
    assert got[0].log_z == pytest.approx(math.log(2), rel=1e-12)
    assert got[0].mean_activity == pytest.approx(0.5, rel=1e-12)


def test_sliced_equals_unsliced():
    model = random_model(7, 20, density=0.35)
    points = [(model.theta, 0.8, 1.5), (model.theta, -0.5, 4.0)]
    whole = plan(model, cache=False)
    sliced = plan(model, max_memory=4000, cache=False)
    assert whole.n_slices == 1 and sliced.n_slices >= 8
    assert sliced.peak_memory <= 4000
    a = contract_points(model, points, plan=whole)
    b = contract_points(model, points, plan=sliced)
    for x, y in zip(a, b):
        for name in QUANTITIES:
            assert getattr(x, name) == pytest.approx(getattr(y, name), rel=1e-12,
                                                     abs=1e-12)


def test_sliced_extreme_point_with_all_zero_slices():
    """Slices fixing a strongly disfavoured spin underflow to zero; none may give 0/0."""
    model = random_model(8, 12, density=0.5)
    sliced = plan(model, max_memory=2000, cache=False)
    assert sliced.n_slices > 1
    points = [(np.full(12, 1.5), 1.0, 600.0), (np.full(12, -1.0), 0.5, 800.0)]
    got = contract_points(model, points, plan=sliced)
    assert_agree(model, points, got, enumerate_points(model, points), floor=1e-9)


def test_rescale_of_a_subnormal_maximum_is_exact_and_silent():
    z = np.zeros((5, 2, 2))
    z[0] = [[3e-310, 1e-310], [2e-310, 3e-310]]
    z[1] = 1e-309
    scaled = z.copy()
    # filterwarnings=error: no overflow warning
    exponent = _slices._rescale(scaled, float(z[0].min()), float(z[0].max()))
    assert 0.5 <= scaled[0].max() < 1.0
    np.testing.assert_array_equal(np.ldexp(scaled, exponent), z)


def transfer_matrix_log_z(rows, cols, theta, w, eps):
    """log Z of the rows x cols grid (open boundaries) by a row-to-row transfer matrix."""
    states = (np.arange(2**cols)[:, None] >> np.arange(cols)) & 1
    inside = -eps * (theta / 2 * states.sum(1)
                     - w * (states[:, 1:] * states[:, :-1]).sum(1))
    between = eps * w * (states @ states.T)
    log_v = inside.copy()
    for _ in range(rows - 1):
        terms = log_v[:, None] + between
        top = terms.max(axis=0)
        log_v = top + np.log(np.exp(terms - top).sum(axis=0)) + inside
    top = log_v.max()
    return top + math.log(np.exp(log_v - top).sum())


@pytest.mark.parametrize("rows, cols", [(10, 6), (12, 12)])
def test_grid_against_transfer_matrix(rows, cols):
    model = mcising.load_model(f"grid_2d:{rows},{cols}")
    points = [(2.0, 1.0, 1.0), (5.0, 2.5, 2.0), (-1.0, -0.7, 0.8)]
    got = contract_points(model, points)
    h = 1e-5
    for (theta, w, eps), est in zip(points, got):
        log_z = transfer_matrix_log_z(rows, cols, theta, w, eps)
        assert est.log_z == pytest.approx(log_z, rel=1e-12)
        slope = (transfer_matrix_log_z(rows, cols, theta, w, eps + h)
                 - transfer_matrix_log_z(rows, cols, theta, w, eps - h)) / (2 * h)
        assert est.mean_energy == pytest.approx(-slope, rel=1e-7)


def ring_log_z_and_energy(n, theta, w, eps):
    """Closed form on the ring: Z = sum_k lambda_k^N of the symmetric transfer matrix."""
    s = np.array([0.0, 1.0])

    def matrix(e):
        return np.exp(e * w * np.outer(s, s) - e * theta / 4 * (s[:, None] + s[None, :]))

    lam, vec = np.linalg.eigh(matrix(eps))
    d_matrix = matrix(eps) * (w * np.outer(s, s) - theta / 4 * (s[:, None] + s[None, :]))
    d_lam = np.einsum("ik,ij,jk->k", vec, d_matrix, vec)
    top = np.argmax(np.abs(lam))
    ratio = lam / lam[top]
    z_rel = np.sum(ratio**n)
    log_z = n * math.log(abs(lam[top])) + math.log(z_rel)
    d_log_z = n * np.sum(ratio ** (n - 1) * d_lam / lam[top]) / z_rel
    return log_z, -d_log_z


@pytest.mark.parametrize("theta, w, eps", [(1.0, 0.7, 1.0), (3.0, 2.0, 2.5),
                                           (0.5, -1.0, 1.5)])
def test_long_ring_against_closed_form(theta, w, eps):
    n = 1000
    model = mcising.load_model(f"cycle:{n}")
    got = contract_points(model, [(theta, w, eps)])[0]
    log_z, energy = ring_log_z_and_energy(n, theta, w, eps)
    assert got.log_z == pytest.approx(log_z, rel=1e-11)
    assert got.mean_energy == pytest.approx(energy, rel=1e-9)
    # The tree search is randomised: demand a width independent of N, not the optimum.
    assert got.details["contraction_width"] <= MAX_RING_WIDTH


def tree_log_z(graph, theta, w, eps, root=0):
    """log Z of a weighted tree by leaf-to-root dynamic programming in log space."""
    order = list(nx.dfs_postorder_nodes(graph, root))
    parent = dict(nx.bfs_predecessors(graph, root))
    message = {u: np.array([0.0, -eps * theta[u] / 2]) for u in graph}
    for u in order:
        if u == root:
            break
        p = parent[u]
        c = graph[u][p]["weight"]
        for t in (0, 1):
            terms = message[u] + eps * w * c * np.array([0.0, 1.0]) * t
            top = terms.max()
            message[p][t] += top + math.log(np.exp(terms - top).sum())
    top = message[root].max()
    return top + math.log(np.exp(message[root] - top).sum())


def test_random_tree_against_dynamic_programming():
    rng = np.random.default_rng(5)
    graph = nx.random_labeled_tree(300, seed=5)
    for u, v in graph.edges:
        graph[u][v]["weight"] = rng.normal()
    theta = rng.normal(size=300)
    model = IsingModel.from_graph(graph, theta=theta)
    for w, eps in [(1.0, 1.0), (2.0, 3.0)]:
        got = contract_points(model, [(theta, w, eps)])[0]
        assert got.log_z == pytest.approx(tree_log_z(graph, theta, w, eps), rel=1e-12)


def test_solve_backends_and_details():
    model = mcising.load_model("grid_2d:3,3", theta=1.0, w=0.5, eps=1.0)
    enum = solve(model, backend="enumerate")[0]
    cont = solve(model, backend="contract")[0]
    assert enum.details == {"exact_backend": "enumerate", "contraction_width": None,
                            "log10_flops": None}
    assert cont.details["exact_backend"] == "contract"
    assert cont.details["contraction_width"] >= 2
    assert cont.log_z == pytest.approx(enum.log_z, rel=1e-13)
    # Small graphs enumerate; graphs above the enumeration limit contract.
    assert solve(model)[0].details["exact_backend"] == "enumerate"
    ring = mcising.load_model("cycle:60", theta=1.0, w=0.5, eps=1.0)
    assert solve(ring)[0].details["exact_backend"] == "contract"


def test_plan_object_is_reusable_and_refuses_another_graph():
    model = mcising.load_model("grid_2d:4,5")
    p = plan(model)
    assert p.width >= 4 and p.n_slices == 1 and p.predicted_seconds(3) > 0
    summary = p.summary()
    assert {"contraction_width", "log10_flops", "log10_cost", "peak_memory_bytes",
            "predicted_seconds"} <= set(summary)
    first = contract_points(model, [(1.0, 1.0, 1.0)], plan=p)
    again = contract_points(model.with_params(w=2.0), [(1.0, 1.0, 1.0)], plan=p)
    assert first[0].log_z == again[0].log_z
    with pytest.raises(InvalidInputError, match="different graph structure"):
        contract_points(mcising.load_model("grid_2d:5,4"), plan=p)


def test_refuses_predicted_time_over_the_limit_naming_estimators():
    model = mcising.load_model("grid_2d:6,6")
    with pytest.raises(TooExpensiveError, match="ti.*mbar.*wang-landau"):
        contract_points(model, [(1.0, 1.0, 1.0)] * 3, max_seconds=1e-9)
    with pytest.raises(TooExpensiveError, match="above the limit"):
        solve(model, backend="contract", max_seconds=1e-9)


def test_refuses_memory_below_what_any_slicing_reaches():
    model = mcising.load_model("grid_2d:4,4")
    with pytest.raises(TooExpensiveError, match="memory limit.*estimator"):
        plan(model, max_memory=10, cache=False)


@pytest.mark.parametrize("options, match", [
    ({"max_memory": -1}, "max_memory must be a positive number"),
    ({"search_time": 0}, "search_time must be a positive number"),
    ({"max_seconds": "soon"}, "max_seconds must be a positive number"),
])
def test_rejects_bad_limits(options, match):
    model = mcising.load_model("cycle:5")
    with pytest.raises(InvalidInputError, match=match):
        contract_points(model, **options)


def test_node_activity_needs_enumeration():
    model = mcising.load_model("cycle:8")
    with pytest.raises(InvalidInputError, match="node_activity needs"):
        solve(model, backend="contract", node_activity=True)


def test_search_time_budget_is_used():
    model = mcising.load_model("random_regular:3,40,seed=2")
    p = plan(model, search_time=0.5, cache=False)
    assert 0.3 < p.search_seconds < 5


def test_cli_plan_and_entropy_json(capsys):
    assert main(["plan", "--graph", "cycle:40", "--json"]) == 0
    summary = json.loads(capsys.readouterr().out)
    assert summary["n_nodes"] == 40 and summary["contraction_width"] <= MAX_RING_WIDTH
    assert main(["plan", "--graph", "grid_2d:4,4"]) == 0
    assert "contraction width" in capsys.readouterr().out
    assert main(["entropy", "--graph", "cycle:50", "--w", "0.5,1", "--method", "exact",
                 "--exact-backend", "contract", "--max-memory", "1G", "--json",
                 "--no-progress"]) == 0
    lines = [json.loads(x) for x in capsys.readouterr().out.splitlines()]
    assert len(lines) == 2
    assert all(r["exact_backend"] == "contract" and r["contraction_width"] > 0
               and r["log10_flops"] > 0 for r in lines)
    assert main(["plan", "--graph", "cycle:5", "--max-memory", "lots"]) == 2
    assert "not a size" in capsys.readouterr().err


def test_cli_auto_contracts_beyond_the_enumeration_limit(capsys):
    assert main(["entropy", "--graph", "cycle:60", "--w", "0.5,1", "--json",
                 "--no-progress"]) == 0
    lines = [json.loads(x) for x in capsys.readouterr().out.splitlines()]
    assert [r["method"] for r in lines] == ["exact", "exact"]
    assert all(r["exact_backend"] == "contract" for r in lines)
    exact = contract_points(mcising.load_model("cycle:60"), [(0.0, 0.5, 1.0)])[0]
    assert lines[0]["entropy"] == pytest.approx(exact.entropy, rel=1e-12)


def test_cli_time_limit_refuses_or_hands_over(capsys):
    assert main(["entropy", "--graph", "grid_2d:10,10", "--method", "exact",
                 "--exact-backend", "contract", "--max-seconds", "1e-9"]) == 2
    assert "above the limit" in capsys.readouterr().err
    # auto hands a network whose exact cost is above the limit to an estimator.
    assert main(["-q", "entropy", "--graph", "cycle:40", "--max-seconds", "1e-9",
                 "--sweeps", "300", "--seed", "1", "--json", "--no-progress"]) == 0
    assert json.loads(capsys.readouterr().out)["method"] == "ti"
    assert main(["entropy", "--graph", "cycle:5", "--method", "ti", "--max-seconds",
                 "5"]) == 2
    assert "apply to --method exact or auto" in capsys.readouterr().err

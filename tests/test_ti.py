"""Thermodynamic integration: quadrature, agreement with exact answers in easy, bimodal,
ordered, antiferromagnetic and weighted regimes, large networks against closed forms,
honest error bars (coverage), options and the command line."""

import json
import math

import numpy as np
import pytest
from conftest import random_couplings

import mcising
from mcising import ti_quadrature as quad
from mcising.closed_forms import closed_form
from mcising.entropy import entropy
from mcising.errors import ConvergenceWarning, InvalidInputError
from mcising.exact import solve
from mcising.ti import independent_nodes, thermodynamic_integration

# |estimate - exact| must stay below this many reported standard errors.
Z_MAX = 4.0


def _check_against(results, reference, z_max=Z_MAX):
    for est, ref in zip(results, reference):
        assert est.entropy_stderr > 0
        assert abs(est.entropy - ref.entropy) < z_max * est.entropy_stderr, (
            est.w, est.eps, est.entropy, ref.entropy, est.entropy_stderr)
        assert abs(est.log_z - ref.log_z) < z_max * est.log_z_stderr
        assert abs(est.mean_energy - ref.mean_energy) < z_max * est.mean_energy_stderr
        details = est.details
        assert math.isclose(est.entropy_stderr, math.hypot(
            details["entropy_stderr_stat"], details["entropy_stderr_disc"]))
        assert details["rhat_max"] < 1.05 and details["ess_min"] > 100


# -- quadrature -------------------------------------------------------------------------


def test_hermite_weights_are_exact_for_cubics():
    x = np.array([-1.0, -0.3, 0.0, 0.4, 1.1, 2.0])
    f = 1 + 2 * x - x**2 + 0.5 * x**3
    df = 2 - 2 * x + 1.5 * x**2
    antiderivative = x + x**2 - x**3 / 3 + x**4 / 8
    u, v = quad.cumulative_weights(x, 2, [0, 1, 2, 3, 5])
    expected = antiderivative[[0, 1, 2, 3, 5]] - antiderivative[2]
    np.testing.assert_allclose(u @ f + v @ df, expected, atol=1e-12)


def test_two_grid_error_estimates_the_true_error():
    x = np.linspace(0, 2, 9)
    f, df = np.exp(2 * x), 2 * np.exp(2 * x)
    p, q = quad.triple_weights(x)
    errors, _ = quad.interval_errors(x, p @ f + q @ df, np.zeros(len(x) - 2))
    u, v = quad.cumulative_weights(x, 0, [8])
    true_error = (np.exp(4) - 1) / 2 - (u @ f + v @ df)[0]
    estimate = errors.sum()
    assert np.sign(estimate) == np.sign(true_error)
    assert 0.5 < estimate / true_error < 2
    assert quad.path_errors(errors, 0, [8])[0] == pytest.approx(abs(estimate))


def test_initial_ladder_and_refinement():
    ladder = quad.initial_ladder(0.0, [1.0, -0.5, 0.25], 6)
    assert ladder[0] == -0.5 and ladder[-1] == 1.0
    assert {0.0, 0.25, 1.0, -0.5} <= set(ladder.tolist())
    assert np.max(np.diff(ladder)) <= 1.5 / 6 + 1e-12
    errors = np.zeros(len(ladder) - 1)
    errors[2] = 1.0
    refined = quad.refine(ladder, errors, np.zeros_like(errors), 0.1, max_points=50,
                          min_gap=1e-6)
    assert len(refined) == len(ladder) + 1
    noisy = quad.refine(ladder, errors, np.ones_like(errors), 0.1, max_points=50,
                        min_gap=1e-6)
    assert len(noisy) == len(ladder)


def test_independent_nodes_match_exact_solver():
    theta = np.array([1.0, -2.0, 0.5, 3.0, 0.0])
    model = mcising.load_model("cycle:5", theta=theta, w=0.0, eps=1.3)
    exact = solve(model)[0]
    got = independent_nodes(theta, 1.3)
    for name in ("log_z", "mean_energy", "heat_capacity", "entropy", "mean_activity"):
        assert got[name] == pytest.approx(getattr(exact, name), rel=1e-12)


# -- small graphs against the exact solver ------------------------------------------------


CASES = {
    # name: (graph, theta, W values, eps values, options)
    "easy-w": ("grid_2d:3,3", 1.0, "0.25:1:0.25", 1.0, {}),
    "easy-eps": ("grid_2d:3,3", 2.0, 1.0, "0.5:2:0.5", {}),
    "independent-chains": ("grid_2d:3,3", 1.0, "0.5,1", 1.0, {"tempering": False}),
    # K8 with theta = 7W: all-off and all-on have equal energy, a two-peaked law. The
    # barrier persists at every W past the transition, so only an eps ladder (from the
    # disordered eps = 0) crosses it.
    "bimodal": ("complete:8", 7.0, "0.6,0.8,1,1.2", 2.0, {"path": "eps"}),
    "ordered": ("grid_2d:3,3", 1.0, "1,2,3", 2.0, {}),
    "antiferromagnetic": ("grid_2d:3,3", -1.0, "-2,-1,-0.5", 1.5, {}),
}


@pytest.mark.parametrize("name", list(CASES))
def test_matches_exact_solver(name):
    graph, theta, w, eps, options = CASES[name]
    points = mcising.grid(theta, w, eps)
    model = mcising.load_model(graph, theta=theta, w=1.0, eps=1.0)
    results = thermodynamic_integration(model, points, n_sweeps=2000, seed=11,
                                        progress=False, **options)
    assert all(e.method == "ti" for e in results)
    _check_against(results, solve(model, points))
    expected = options.get("path", "eps" if name == "easy-eps" else "w")
    assert results[0].details["path"] == expected


def test_weighted_signed_couplings_and_node_thresholds(rng):
    weights = random_couplings(rng, 8, density=0.6, signed=True)
    theta = rng.normal(size=8)
    model = mcising.load_model(weights, theta=theta, w=1.0, eps=1.0)
    points = [(theta, w, 1.0) for w in (0.5, 1.0, 1.5)]
    results = thermodynamic_integration(model, points, n_sweeps=2000, seed=3,
                                        progress=False)
    _check_against(results, solve(model, points))
    assert isinstance(results[0].theta, tuple)


def test_target_at_the_anchor_is_exact():
    model = mcising.load_model("grid_2d:3,3", theta=1.0, w=1.0, eps=1.0)
    points = mcising.grid(1.0, "0,0.5", 1.0)
    results = thermodynamic_integration(model, points, n_sweeps=500, seed=1,
                                        progress=False, check=False)
    exact = solve(model, points)
    assert results[0].entropy == pytest.approx(exact[0].entropy, rel=1e-12)
    assert results[0].entropy_stderr == 0
    only_anchor = thermodynamic_integration(model, [(1.0, 0.0, 1.0)], seed=1)
    assert only_anchor[0].log_z == pytest.approx(exact[0].log_z, rel=1e-12)


def test_same_seed_same_numbers_and_seeds_differ():
    model = mcising.load_model("cycle:12", theta=1.0, w=1.0, eps=1.0)
    first = thermodynamic_integration(model, n_sweeps=400, seed=5, progress=False,
                                      check=False)
    again = thermodynamic_integration(model, n_sweeps=400, seed=5, progress=False,
                                      check=False)
    other = thermodynamic_integration(model, n_sweeps=400, seed=6, progress=False,
                                      check=False)
    assert first.entropy[0] == again.entropy[0]
    assert first.entropy[0] != other.entropy[0]


def test_refinement_meets_the_tolerance_and_reports_both_parts():
    # A ring of 8 at low temperature: <q> changes fast near W = theta / 2.
    model = mcising.load_model("cycle:8", theta=2.0, w=1.0, eps=2.0)
    points = mcising.grid(2.0, "2", 2.0)
    coarse = thermodynamic_integration(model, points, path="w", n_sweeps=1000, seed=2,
                                       tolerance=None, n_intervals=2, progress=False,
                                       check=False)
    fine = thermodynamic_integration(model, points, path="w", n_sweeps=1000, seed=2,
                                     tolerance=1e-4, n_intervals=2, progress=False,
                                     check=False)
    assert coarse[0].details["ladder_size"] == 3
    assert fine[0].details["ladder_size"] > 3
    assert fine[0].details["entropy_stderr_disc"] < 8e-4
    assert coarse[0].details["entropy_stderr_disc"] > fine[0].details[
        "entropy_stderr_disc"]


def test_unmet_tolerance_warns():
    model = mcising.load_model("complete:8", theta=7.0, w=1.0, eps=2.0)
    with pytest.warns(ConvergenceWarning, match="discretization error"):
        thermodynamic_integration(model, n_sweeps=1000, seed=2, tolerance=1e-9,
                                  n_intervals=2, max_rounds=1, progress=False,
                                  check=False)


# -- large networks against closed forms -------------------------------------------------


def test_ring_w_sweep_against_transfer_matrix():
    model = mcising.load_model("cycle:2000", theta=1.0, w=1.0, eps=1.0)
    points = mcising.grid(1.0, "0.5:2:0.5", 1.0)
    results = thermodynamic_integration(model, points, n_sweeps=4000, seed=4,
                                        tolerance=1e-4, progress=False)
    _check_against(results, closed_form(model, points))
    per_node = results.entropy_stderr / model.n_nodes
    assert np.all(per_node < 3e-4)


def test_complete_graph_eps_sweep_against_sum_over_active_nodes():
    model = mcising.load_model("complete:60", theta=2.0, w=0.02, eps=1.0)
    points = mcising.grid(2.0, 0.02, "0.5:2:0.5")
    results = thermodynamic_integration(model, points, n_sweeps=1500, seed=8,
                                        progress=False)
    _check_against(results, closed_form(model, points))


def test_random_tree_against_message_passing():
    model = mcising.load_model("random_tree:400,seed=2", theta=0.5, w=1.5, eps=1.0)
    results = thermodynamic_integration(model, n_sweeps=1000, seed=9, progress=False)
    _check_against(results, closed_form(model))


# -- honest error bars ---------------------------------------------------------------------


@pytest.mark.slow
def test_coverage_of_the_95_percent_interval():
    """Over many seeds, the nominal 95% interval contains the exact entropy 90-99%."""
    model = mcising.load_model("grid_2d:3,3", theta=2.0, w=1.0, eps=1.5)
    exact = solve(model)[0].entropy
    n_runs = 120
    inside = 0
    for seed in range(n_runs):
        est = thermodynamic_integration(model, n_sweeps=1000, seed=1000 + seed,
                                        tolerance=None, n_intervals=8,
                                        progress=False, check=False)[0]
        inside += abs(est.entropy - exact) < 1.96 * est.entropy_stderr
    assert 0.90 <= inside / n_runs <= 0.99, inside


# -- options, dispatch and command line ------------------------------------------------


@pytest.mark.parametrize("options, match", [
    ({"path": "theta"}, "path must be one of"),
    ({"tolerance": -1.0}, "tolerance must be a positive"),
    ({"n_intervals": 1}, "n_intervals must be an integer"),
    ({"max_rounds": 1.5}, "max_rounds must be an integer"),
    ({"n_chains": 1}, "n_chains must be >= 2"),
])
def test_bad_options_are_refused(options, match):
    model = mcising.load_model("cycle:6", theta=1.0, w=1.0, eps=1.0)
    with pytest.raises(InvalidInputError, match=match):
        thermodynamic_integration(model, progress=False, **options)


def test_auto_picks_ti_where_no_exact_method_is_affordable():
    # K40: beyond enumeration, and its contraction has width 40.
    model = mcising.load_model("complete:40", theta=2.0, w=0.02, eps=1.0)
    results = entropy(model, method="auto", n_sweeps=500, seed=1, max_memory=1e9,
                      progress=False, check=False)
    assert results[0].method == "ti"
    ring = mcising.load_model("cycle:12", theta=1.0, w=1.0, eps=1.0)
    assert entropy(ring, method="auto")[0].method == "exact"
    # Above the enumeration limit a cheap contraction is still exact.
    contracted = entropy(ring, method="auto", max_nodes=8)[0]
    assert contracted.method == "exact"
    assert contracted.details["exact_backend"] == "contract"


def test_command_line_json_keys(capsys):
    from mcising.cli import main

    status = main(["entropy", "--graph", "cycle:10", "--theta", "1", "--w", "0.5,1",
                   "--method", "ti", "--seed", "3", "--sweeps", "1000",
                   "--no-tempering", "--tolerance", "1e-3", "--json", "--no-progress"])
    assert status == 0
    lines = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert len(lines) == 2
    for key in ("entropy", "entropy_stderr", "entropy_stderr_stat",
                "entropy_stderr_disc", "rhat_max", "ess_min", "log_z", "mean_energy",
                "heat_capacity"):
        assert key in lines[0]
    assert lines[0]["tempering"] is False
    assert main(["entropy", "--graph", "cycle:10", "--method", "exact",
                 "--sweeps", "10"]) == 0
    assert main(["entropy", "--graph", "cycle:10", "--method", "wang-landau",
                 "--tolerance", "1e-3"]) == 2


def test_auto_path_falls_back_to_eps_where_the_w_ladder_cannot_mix():
    # K8 at theta = 7W and eps = 2: past W = 1 a barrier separates all-off from all-on
    # at every W, so the W ladder hides the ordered mode of the targets beyond it.
    model = mcising.load_model("complete:8", theta=7.0, w=1.0, eps=2.0)
    points = mcising.grid(7.0, "0.6,1.2", 2.0)
    results = thermodynamic_integration(model, points, n_sweeps=2000, seed=5,
                                        progress=False)
    assert results[0].details["path"] == "w"
    assert results[1].details["path"] == "eps"
    _check_against(results, solve(model, points))
    forced = thermodynamic_integration(model, points, path="w", n_sweeps=2000, seed=5,
                                       progress=False, check=False)
    assert forced[1].details["rhat_max"] > 1.01

"""Parallel tempering: the bimodal regime, ladders over eps and W, swap statistics."""

import numpy as np
import pytest

import mcising
from mcising.chains import ChainSamples, sample
from mcising.diagnostics import NotConvergedWarning
from mcising.errors import InvalidInputError
from mcising.exact import solve
from mcising.tempering import TemperingSamples, make_ladder, sample_tempering

# 4x4 grid at the coexistence point: all-off and all-on both have H = 0.
HARD = {"theta": 5.0, "w": 5 / 3, "eps": 3.0}


def _assert_matches(est, exact, z=4.0):
    for key in ("mean_energy", "mean_activity", "mean_coupling", "heat_capacity"):
        value, err, truth = (getattr(est, key), getattr(est, f"{key}_stderr"),
                             getattr(exact, key))
        assert abs(value - truth) <= z * err, (key, est.w, est.eps, value, truth, err)


def test_hard_regime_flagged_without_tempering_and_fixed_with_it():
    model = mcising.load_model("grid_2d:4,4", **HARD)
    exact = solve(model)[0]

    with pytest.warns(NotConvergedWarning):
        plain = sample(model, n_sweeps=20_000, seed=1)
    assert plain.diagnostics().worst_rhat > 1.01

    run = sample_tempering(model, n_replicas=12, n_sweeps=20_000, seed=1)
    report = run.diagnostics()
    assert report.ok and report.rhat_at(-1) <= 1.01
    target = run.estimates()[-1]
    assert target.eps == pytest.approx(HARD["eps"])
    _assert_matches(target, exact)
    assert run.round_trips > 100
    assert np.all(run.swap_acceptance > 0.3)


def test_eps_ladder_matches_exact_at_every_point():
    model = mcising.load_model("grid_2d:3,3", theta=4.0, w=1.5, eps=2.5)
    values = [0.5, 1.0, 1.5, 2.0, 2.5]
    run = sample_tempering(model, values=values, n_sweeps=20_000, seed=3,
                           record_node_activity=True)
    exact = solve(model, [(4.0, 1.5, e) for e in values], node_activity=True)
    for est, truth in zip(run.estimates(), exact):
        _assert_matches(est, truth)
        dev = np.abs(est.node_activity - truth.node_activity)
        assert np.all(dev <= 4 * est.node_activity_stderr)


@pytest.mark.parametrize("sampler", ["glauber", "metropolis"])
def test_w_ladder_on_weighted_graph_matches_exact(sampler):
    rng = np.random.default_rng(9)
    c = np.triu(rng.uniform(0.2, 1.5, (7, 7)) * (rng.random((7, 7)) < 0.6), 1)
    model = mcising.IsingModel.from_matrix(c + c.T, theta=3.0, w=2.0, eps=1.5)
    values = [0.4, 1.0, 1.6, 2.2]
    run = sample_tempering(model, ladder="w", values=values, sampler=sampler,
                           n_sweeps=20_000, seed=5)
    np.testing.assert_allclose(run.ladder_w, values)
    np.testing.assert_allclose(run.ladder_eps, 1.5)
    for est, truth in zip(run.estimates(), solve(model, [(3.0, w, 1.5) for w in values])):
        _assert_matches(est, truth)


def test_series_layout_for_integration():
    model = mcising.load_model("cycle:12", theta=2.0, w=1.0, eps=2.0)
    run = sample_tempering(model, n_replicas=5, n_sweeps=400, thin=2, seed=1,
                           check=False)
    assert run.series("energy").shape == (4, 200, 5)
    assert run.idata.posterior["energy"].dims == ("chain", "draw", "ladder")
    np.testing.assert_allclose(run.ladder_eps, make_ladder(2.0, 5))
    # Energies recorded per ladder point use that point's parameters.
    n, q = run.series("activity"), run.series("coupling")
    np.testing.assert_allclose(run.series("energy"), 0.5 * 2.0 * n - 1.0 * q)
    details = run.estimates()[0].details
    assert {"rhat_max", "ess_min", "swap_acceptance_min", "round_trips"} <= set(details)


def test_independent_points_without_swaps():
    model = mcising.load_model("path:5", theta=1.0, w=1.0, eps=1.0)
    run = sample_tempering(model, values=[0.5, 1.0], swap_every=0, n_sweeps=200,
                           seed=1, check=False)
    assert np.all(np.isnan(run.swap_acceptance))  # no swap was attempted
    assert run.round_trips == 0


def test_adaptation_evens_out_acceptance():
    model = mcising.load_model("grid_2d:4,4", **HARD)
    fixed = sample_tempering(model, n_replicas=8, n_sweeps=4000, burn_in=6000,
                             seed=2, check=False)
    adapted = sample_tempering(model, n_replicas=8, n_sweeps=4000, burn_in=6000,
                               seed=2, adapt=True, check=False)
    assert adapted.ladder_eps[0] == pytest.approx(fixed.ladder_eps[0])
    assert adapted.ladder_eps[-1] == pytest.approx(HARD["eps"])
    assert np.all(np.diff(adapted.ladder_eps) > 0)
    assert np.ptp(adapted.swap_acceptance) < np.ptp(fixed.swap_acceptance)


def test_tempering_round_trip_and_reproducibility(tmp_path):
    model = mcising.load_model("grid_2d:3,3", theta=2.0, w=1.0, eps=2.0)
    kwargs = dict(n_replicas=4, n_sweeps=300, seed=7, keep_states=True, check=False)
    run = sample_tempering(model, **kwargs)
    again = sample_tempering(model, **kwargs)
    np.testing.assert_array_equal(run.series("energy"), again.series("energy"))
    loaded = ChainSamples.from_netcdf(run.to_netcdf(tmp_path / "pt.nc"))
    assert isinstance(loaded, TemperingSamples) and loaded.ladder == "eps"
    np.testing.assert_array_equal(loaded.series("coupling"), run.series("coupling"))
    np.testing.assert_array_equal(loaded.swap_acceptance, run.swap_acceptance)
    assert loaded.round_trips == run.round_trips
    assert loaded.final_states.shape == (4, 4, 9)
    np.testing.assert_allclose(
        run.series("energy")[:, -1, :],
        [[model.with_params(eps=e).energies(run.final_states[c, k])
          for k, e in enumerate(run.ladder_eps)] for c in range(4)])


@pytest.mark.parametrize(("kwargs", "match"), [
    ({"ladder": "theta"}, "ladder must be one of eps, w"),
    ({"values": [1.0, 0.5]}, "strictly increasing"),
    ({"values": [1.0]}, "at least 2"),
    ({"values": [-1.0, 1.0]}, "eps ladder values must be >= 0"),
    ({"n_replicas": 1}, "n_replicas must be >= 2"),
    ({"low": 5.0}, "low < high"),
    ({"low": 0.0}, "geometric ladder needs positive ends"),
    ({"spacing": "cubic"}, "spacing must be one of"),
    ({"swap_every": -1}, "swap_every must be >= 0"),
])
def test_bad_ladders_are_refused(kwargs, match):
    model = mcising.load_model("cycle:5", theta=1.0, w=1.0, eps=1.0)
    with pytest.raises(InvalidInputError, match=match):
        sample_tempering(model, n_sweeps=100, check=False, **kwargs)


def test_linear_ladder_from_zero():
    np.testing.assert_allclose(make_ladder(2.0, 5, low=0.0, spacing="linear"),
                               [0, 0.5, 1, 1.5, 2])

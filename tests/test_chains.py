"""Glauber and Metropolis chains: exact transition laws, agreement with the exact solver,
reproducibility, interruption and netCDF round trips."""

import itertools

import numba
import numpy as np
import pytest

import mcising
from mcising import chains
from mcising.chains import _Run, sample
from mcising.diagnostics import NotConvergedWarning, mcse_mean
from mcising.errors import InvalidInputError
from mcising.exact import solve
from mcising.kernels.chains import probability_on, walker_totals

TWO64 = 2.0**64


def _all_states(n):
    return np.array(list(itertools.product([0, 1], repeat=n)), dtype=np.int8)


def _boltzmann(model):
    states = _all_states(model.n_nodes)
    log_w = -model.eps * model.energies(states)
    p = np.exp(log_w - log_w.max())
    return states, p / p.sum()


def _site_matrices(run, model):
    """Single-site update matrices T_i built from the kernel's own probabilities."""
    states = _all_states(model.n_nodes)
    index = {tuple(s): k for k, s in enumerate(states)}
    code = chains.SAMPLERS.index(run.sampler)
    mats = []
    for i in range(model.n_nodes):
        t = np.zeros((len(states), len(states)))
        for a, s in enumerate(states):
            nbr = slice(run.indptr[i], run.indptr[i + 1])
            if run.use_table:
                m = int(s[run.indices[nbr]].sum())
                p_on = float(run.table[0, s[i], m]) / TWO64
            else:
                field = float(run.data[nbr] @ s[run.indices[nbr]])
                h = model.w * field - run.theta[i] / 2
                p_on = probability_on(code, int(s[i]), h, model.eps)
            for new, p in ((1, p_on), (0, 1 - p_on)):
                t2 = s.copy()
                t2[i] = new
                t[a, index[tuple(t2)]] += p
        mats.append(t)
    return mats


SMALL_MODELS = {
    "path3-unit": lambda: mcising.load_model("path:3", theta=1.0, w=1.3, eps=0.8),
    "cycle4-unit": lambda: mcising.load_model("cycle:4", theta=3.0, w=1.5, eps=2.0),
    "triangle-weighted": lambda: mcising.IsingModel.from_matrix(
        [[0, 0.7, -1.2], [0.7, 0, 2.0], [-1.2, 2.0, 0]], theta=[0.5, -1.0, 2.0],
        w=1.1, eps=1.3),
    "star4-theta": lambda: mcising.load_model("star:3", theta=[2.0, 0.5, 1.0, 3.0],
                                              w=2.0, eps=0.7),
}


@pytest.mark.parametrize("sampler", chains.SAMPLERS)
@pytest.mark.parametrize("name", SMALL_MODELS)
def test_site_updates_satisfy_detailed_balance(name, sampler):
    model = SMALL_MODELS[name]()
    run = _Run(model, [model.w], [model.eps], sampler=sampler, order="sweep",
               n_chains=2, init="off", seed=0, reorder=False)
    assert run.use_table == (name.endswith("unit"))
    _, pi = _boltzmann(model)
    for t in _site_matrices(run, model):
        flow = pi[:, None] * t
        np.testing.assert_allclose(flow, flow.T, atol=1e-14)
        np.testing.assert_allclose(t.sum(axis=1), 1.0, atol=1e-14)


def test_theta_slip_would_break_detailed_balance():
    # The check above can fail: a rule with theta instead of theta/2 is caught.
    model = SMALL_MODELS["path3-unit"]()
    slipped = model.with_params(theta=2 * model.theta)
    run = _Run(slipped, [model.w], [model.eps], sampler="glauber", order="sweep",
               n_chains=2, init="off", seed=0, reorder=False)
    _, pi = _boltzmann(model)
    flow = pi[:, None] * _site_matrices(run, model)[0]
    assert np.abs(flow - flow.T).max() > 1e-3


@pytest.mark.parametrize(("name", "sampler", "order"), [
    ("path3-unit", "glauber", "sweep"), ("path3-unit", "metropolis", "random"),
    ("triangle-weighted", "metropolis", "sweep"), ("star4-theta", "glauber", "random"),
])
def test_kernel_sweep_follows_its_transition_matrix(name, sampler, order):
    """One kernel sweep from a fixed state, over many chains, has the exact law."""
    model = SMALL_MODELS[name]()
    n_chains = 20_000
    start = np.zeros(model.n_nodes, dtype=np.int8)
    start[0] = 1
    run = _Run(model, [model.w], [model.eps], sampler=sampler, order=order,
               n_chains=n_chains, init=start, seed=3, reorder=False)
    run.advance(1, sweep_offset=0, swap_every=0, thin=1)

    mats = _site_matrices(run, model)
    if order == "sweep":
        sweep = np.linalg.multi_dot(mats) if len(mats) > 1 else mats[0]
    else:
        sweep = np.linalg.matrix_power(sum(mats) / len(mats), model.n_nodes)
    states = _all_states(model.n_nodes)
    row = sweep[int(np.flatnonzero((states == start).all(axis=1))[0])]
    codes = run.spins[:, 0, :].astype(int) @ (2 ** np.arange(model.n_nodes)[::-1])
    freq = np.bincount(codes, minlength=len(states)) / n_chains
    bound = 5 * np.sqrt(row * (1 - row) / n_chains) + 1e-9
    assert np.all(np.abs(freq - row) <= bound)

    # The stationary law of the whole sweep is the Boltzmann law.
    _, pi = _boltzmann(model)
    np.testing.assert_allclose(pi @ sweep, pi, atol=1e-12)
    # Incrementally tracked n, q and sum theta S equal a recomputation.
    for c in range(0, n_chains, 997):
        n_on, q, t = walker_totals(run.indptr, run.indices, run.data, run.theta,
                                   run.spins[c, 0])
        assert run.n_on[c, 0] == n_on
        assert run.coupling[c, 0] == pytest.approx(q, abs=1e-12)
        assert run.theta_on[c, 0] == pytest.approx(t, abs=1e-12)


@pytest.mark.parametrize("order", ["sweep", "random"])
def test_tracked_totals_stay_exact_over_many_sweeps_and_swaps(order):
    # Unit weights: updates read neighbour counts that the kernel keeps up to date.
    model = mcising.load_model("erdos_renyi:30,0.2,seed=4", theta=3.0)
    run = _Run(model, [0.4, 0.8, 1.2], [1.0, 1.0, 1.0], sampler="glauber", order=order,
               n_chains=3, init="dispersed", seed=5, reorder=True)
    for offset in range(0, 300, 100):
        run.advance(100, sweep_offset=offset, swap_every=1, thin=1)
    assert run.swap_accepts.sum() > 0
    for c in range(3):
        for x in range(3):
            n_on, q, _ = walker_totals(run.indptr, run.indices, run.data, run.theta,
                                       run.spins[c, x])
            assert run.n_on[c, x] == n_on and run.coupling[c, x] == q


def _assert_matches_exact(est, exact, *, z=4.0, nodes=False):
    for key in ("mean_energy", "mean_activity", "mean_coupling", "heat_capacity"):
        value, err, truth = getattr(est, key), getattr(est, f"{key}_stderr"), getattr(
            exact, key)
        assert err > 0
        assert abs(value - truth) <= z * err, (key, value, truth, err)
    if nodes:
        dev = np.abs(est.node_activity - exact.node_activity)
        assert np.all(dev <= z * est.node_activity_stderr)


@pytest.mark.parametrize("sampler", chains.SAMPLERS)
def test_easy_regime_matches_exact_unit_weights(sampler):
    model = mcising.load_model("grid_2d:3,3", theta=1.0, w=0.8, eps=1.0)
    run = sample(model, sampler=sampler, n_sweeps=20_000, seed=11,
                 record_node_activity=True)
    _assert_matches_exact(run.estimates()[0], solve(model, node_activity=True)[0],
                          nodes=True)


@pytest.mark.parametrize("order", chains.ORDERS)
def test_weighted_graph_with_varying_theta_matches_exact(order):
    rng = np.random.default_rng(5)
    c = np.triu(rng.normal(0.5, 0.6, (8, 8)) * (rng.random((8, 8)) < 0.5), 1)
    model = mcising.IsingModel.from_matrix(c + c.T, theta=rng.uniform(0, 2, 8),
                                           w=1.2, eps=1.1)
    run = sample(model, sampler="metropolis", order=order, n_sweeps=20_000, seed=2,
                 record_node_activity=True, keep_states=True)
    assert run.attrs["kernel"] == "field"
    est = run.estimates()[0]
    _assert_matches_exact(est, solve(model, node_activity=True)[0], nodes=True)
    # The last recorded energy is the energy of the kept final state.
    np.testing.assert_allclose(run.series("energy")[:, -1, 0],
                               model.energies(run.final_states[:, 0, :]), atol=1e-9)


def test_error_bars_are_honest():
    """Across independent runs, errors / reported MCSE have unit spread."""
    model = mcising.load_model("grid_2d:3,3", theta=2.0, w=1.2, eps=1.5)
    exact = solve(model)[0]
    z = []
    for seed in range(40):
        run = sample(model, n_sweeps=1500, burn_in=100, seed=seed, check=False)
        energy = run.series("energy")
        z.append((energy.mean() - exact.mean_energy) / mcse_mean(energy)[0])
    z = np.asarray(z)
    assert abs(z.mean()) < 0.6
    assert 0.6 < z.std() < 1.5


def test_same_seed_same_numbers_for_any_thread_count():
    model = mcising.load_model("random_regular:3,200,seed=1", theta=2.0, w=1.0, eps=1)
    kwargs = dict(n_chains=4, n_sweeps=200, seed=42, keep_states=True, check=False)
    before = numba.get_num_threads()
    try:
        numba.set_num_threads(1)
        one = sample(model, **kwargs)
        numba.set_num_threads(min(2, numba.config.NUMBA_NUM_THREADS))
        two = sample(model, **kwargs)
    finally:
        numba.set_num_threads(before)
    for name in ("energy", "activity", "coupling"):
        np.testing.assert_array_equal(one.series(name), two.series(name))
    np.testing.assert_array_equal(one.final_states, two.final_states)
    other = sample(model, **{**kwargs, "seed": 43})
    assert not np.array_equal(one.series("energy"), other.series("energy"))


def test_seeded_run_leaves_global_rng_alone():
    model = mcising.load_model("cycle:10", theta=1.0, w=1.0, eps=1.0)
    state = np.random.get_state()[1].copy()  # noqa: NPY002 (the legacy global RNG)
    sample(model, n_sweeps=100, seed=1, check=False)
    np.testing.assert_array_equal(np.random.get_state()[1], state)  # noqa: NPY002


def test_dispersed_starts_and_explicit_init():
    model = mcising.load_model("cycle:30", theta=1.0, w=1.0, eps=1.0)
    run = _Run(model, [1.0], [1.0], sampler="glauber", order="sweep", n_chains=3,
               init="dispersed", seed=0, reorder=True)
    starts = run.slot_states()[:, 0, :]
    assert starts[0].sum() == 0 and starts[1].sum() == 30 and 0 < starts[2].sum() < 30
    given = np.arange(30) % 2
    run = _Run(model, [1.0], [1.0], sampler="glauber", order="sweep", n_chains=2,
               init=given, seed=0, reorder=True)
    np.testing.assert_array_equal(run.slot_states()[:, 0, :], [given, given])


def test_thinning_and_records():
    model = mcising.load_model("grid_2d:4,4", theta=1.0, w=0.5, eps=1.0)
    run = sample(model, n_sweeps=1000, thin=10, burn_in=0, seed=1, check=False)
    assert run.n_draws == 100 and run.n_chains == 4
    assert run.idata.posterior["energy"].dims == ("chain", "draw")
    n, q = run.series("activity"), run.series("coupling")
    np.testing.assert_allclose(run.series("energy"), 0.5 * 1.0 * n - 0.5 * q)


def test_unconverged_run_warns_with_report():
    model = mcising.load_model("grid_2d:4,4", theta=5.0, w=5 / 3, eps=3.0)
    with pytest.warns(NotConvergedWarning, match="tempering") as record:
        sample(model, n_sweeps=400, seed=1)
    report = record[0].message.report
    assert not report.ok and report.worst_rhat > 1.01


@pytest.mark.parametrize(("kwargs", "match"), [
    ({"sampler": "gibbs"}, "sampler must be one of glauber, metropolis"),
    ({"order": "zigzag"}, "order must be one of"),
    ({"n_chains": 1}, "n_chains must be >= 2"),
    ({"n_sweeps": 3}, "n_sweeps must be >= 4"),
    ({"n_sweeps": 10, "thin": 5}, "n_sweeps must be >= 20"),
    ({"thin": 0}, "thin must be >= 1"),
    ({"burn_in": -1}, "burn_in must be >= 0"),
    ({"n_chains": 2.5}, "n_chains must be an integer"),
    ({"init": "hot"}, "init must be one of"),
    ({"init": np.ones(3)}, "init must be"),
    ({"init": np.full(5, 2)}, "only 0 and 1"),
    ({"seed": -1}, "seed must be"),
])
def test_bad_input_is_refused_clearly(kwargs, match):
    model = mcising.load_model("cycle:5", theta=1.0, w=1.0, eps=1.0)
    with pytest.raises(InvalidInputError, match=match):
        sample(model, **{"n_sweeps": 100, "check": False, **kwargs})
    with pytest.raises(InvalidInputError, match="IsingModel"):
        sample("cycle:5")


def _interrupt_after(monkeypatch, calls):
    original = _Run.advance
    count = {"n": 0}

    def advance(self, *args, **kwargs):
        count["n"] += 1
        if count["n"] > calls:
            raise KeyboardInterrupt
        return original(self, *args, **kwargs)

    monkeypatch.setattr(_Run, "advance", advance)
    monkeypatch.setattr(chains, "SEGMENT_SECONDS", 1e-9)


def test_ctrl_c_keeps_completed_sweeps(monkeypatch, tmp_path):
    model = mcising.load_model("cycle:8", theta=1.0, w=1.0, eps=1.0)
    # burn-in of 5 one-sweep segments, then 6 two-sweep recorded segments
    _interrupt_after(monkeypatch, 5 + 6)
    run = sample(model, n_sweeps=1000, burn_in=5, thin=2, seed=1, check=False)
    assert run.interrupted
    assert run.n_draws == 6 and int(run.attrs["n_sweeps"]) == 12
    loaded = chains.ChainSamples.from_netcdf(run.to_netcdf(tmp_path / "cut.nc"))
    assert loaded.interrupted and loaded.n_draws == 6


def test_ctrl_c_during_burn_in_gives_empty_flagged_result(monkeypatch):
    model = mcising.load_model("cycle:8", theta=1.0, w=1.0, eps=1.0)
    _interrupt_after(monkeypatch, 2)
    run = sample(model, n_sweeps=100, burn_in=50, seed=1)
    assert run.interrupted and run.n_draws == 0
    assert np.isnan(run.estimates()[0].mean_energy)


def test_netcdf_round_trip(tmp_path):
    model = mcising.load_model("grid_2d:3,3", theta=1.0, w=0.8, eps=1.0)
    run = sample(model, n_sweeps=500, seed=4, record_node_activity=True,
                 keep_states=True, check=False)
    loaded = chains.ChainSamples.from_netcdf(run.to_netcdf(tmp_path / "run.nc"))
    assert type(loaded) is chains.ChainSamples
    for name in ("energy", "activity", "coupling"):
        np.testing.assert_array_equal(loaded.series(name), run.series(name))
    np.testing.assert_array_equal(loaded.final_states, run.final_states)
    np.testing.assert_array_equal(loaded.node_activity, run.node_activity)
    assert loaded.attrs["sampler"] == "glauber" and loaded.attrs["n_nodes"] == 9
    a, b = run.estimates()[0], loaded.estimates()[0]
    assert a.to_dict() | {"seconds": 0} == b.to_dict() | {"seconds": 0}

"""Wang-Landau density of states: exact agreement, honest errors, checkpoints, CLI."""

import json

import networkx as nx
import numba
import numpy as np
import pytest

import mcising
from mcising import wl_binned, wl_checkpoint
from mcising.cli import main
from mcising.entropy import entropy
from mcising.errors import ConvergenceWarning, InvalidInputError
from mcising.exact import density_of_states, solve
from mcising.kernels import wang_landau as kern
from mcising.params import Point, grid
from mcising.wang_landau import WangLandau
from mcising.wl_results import load_dos

# Error budgets, in reported standard errors. With K walkers the standard error is a
# t-statistic with K - 1 degrees of freedom; Z_POINT is the 4 errors per point.
Z_POINT = 4.0
# Largest cell error over the table, in units of the largest cell standard error.
MAX_ERR_OVER_MAX_SE = 4.0
# Mean squared z over cells; a t with 7 degrees of freedom has E z^2 = 7/5.
MEAN_Z2_MAX = 3.5


def _weighted_model(seed, n_nodes=10):
    rng = np.random.default_rng(seed)
    graph = nx.random_regular_graph(3, n_nodes, seed=seed)
    for u, v in graph.edges:
        graph[u][v]["weight"] = float(rng.uniform(0.3, 1.7))
    return mcising.IsingModel.from_graph(graph, theta=2.0, w=1.0)


@pytest.fixture(scope="module")
def grid_run():
    model = mcising.load_model("grid_2d:3,4")
    wl = WangLandau(model, n_walkers=8, log_f_final=1e-5, seed=11).run()
    return model, wl


@pytest.mark.parametrize("spec", ["grid_2d:3,4", "random_regular:3,10,seed=1",
                                  "cycle:9"])
def test_log_g_matches_exact_counts(spec):
    model = mcising.load_model(spec)
    wl = WangLandau(model, n_walkers=8, log_f_final=1e-5, seed=3).run()
    dos = wl.density_of_states()
    exact = density_of_states(model)

    # Unreachable cells are recognised: the walkers finish and find exactly the rest.
    assert wl.finished
    np.testing.assert_array_equal(np.isfinite(dos.log_g), exact.reachable)

    mask = exact.reachable
    err = dos.log_g[mask] - exact.log_g[mask]
    se = dos.log_g_stderr[mask]
    assert np.abs(err).max() <= MAX_ERR_OVER_MAX_SE * se.max()
    assert np.mean((err / se) ** 2) <= MEAN_Z2_MAX
    # Normalisation: sum g = 2^N for every walker.
    total = np.logaddexp.reduce(dos.walker_log_g.reshape(8, -1), axis=1)
    np.testing.assert_allclose(total, model.n_nodes * np.log(2), rtol=1e-12)


def test_entropy_at_random_points_within_reported_errors(grid_run):
    model, wl = grid_run
    dos = wl.density_of_states()
    rng = np.random.default_rng(5)
    points = [Point(float(t), float(w), float(e)) for t, w, e in
              zip(rng.uniform(-2, 6, 12), rng.uniform(-1, 3, 12), rng.uniform(0.1, 3, 12))]
    estimates = mcising.Results(dos.estimates(points))
    exact = solve(model, points)
    for name in ("entropy", "log_z", "mean_energy", "mean_activity"):
        z = (getattr(estimates, name) - getattr(exact, name)) / getattr(
            estimates, f"{name}_stderr")
        assert np.all(np.abs(z) < Z_POINT), (name, z)
    # The errors are not absurdly wide either: below 1e-2 nats here.
    assert estimates.entropy_stderr.max() < 1e-2


def test_level_bookkeeping_matches_the_spins(grid_run):
    model, wl = grid_run
    i, j, _ = model.edges
    for spins, level in zip(wl.spins, wl.level[:, 0]):
        n = int(spins.sum())
        m = int(np.sum(spins[i] * spins[j]))
        assert level == n * (model.n_edges + 1) + m


def test_diagnostics(grid_run):
    _, wl = grid_run
    d = wl.diagnostics()
    assert d["walkers"] == 8 and d["flips"] == wl.flips
    assert all(s == 2 for s in d["stage"])
    assert all(f <= 1e-5 for f in d["log_f"])
    assert all(r > 10 for r in d["round_trips"])
    # The ln f history starts at 1/2 and halves until the switch to 1/t.
    history = np.array(d["log_f_history"][0])
    assert history[0, 1] == 0.5 and np.all(np.diff(history[:, 1]) < 0)
    assert 0.0 < min(d["acceptance"]) < 1.0


@pytest.mark.parametrize("levels", ["nm", "binned"])
def test_checkpoint_resume_is_bit_for_bit(tmp_path, levels):
    if levels == "nm":
        model = mcising.load_model("grid_2d:3,3", theta=2, w=1)
    else:
        model = _weighted_model(3, n_nodes=10)
    options = {"levels": levels, "n_walkers": 3, "log_f_final": 1e-4, "seed": 5}
    straight = WangLandau(model, **options).run()
    path = tmp_path / "wl.npz"
    cut = WangLandau(model, **options)
    cut.run(max_flips=123_457, checkpoint=path)
    for budget in (7_777, 1_000_003, None):
        cut = WangLandau.from_checkpoint(path, model)
        cut.run(max_flips=budget, checkpoint=path)
    for name in wl_checkpoint.ARRAYS:
        np.testing.assert_array_equal(getattr(straight, name), getattr(cut, name))


@pytest.mark.parametrize("windows", [1, 2])
def test_binned_walk_keeps_fields_and_energies_of_its_states(windows):
    model = _weighted_model(4, n_nodes=12)
    wl = WangLandau(model, levels="binned", n_walkers=2, log_f_final=1e-3, seed=1,
                    windows=windows)
    wl.run(max_flips=300_000)
    # Production leaves the walkers' states as they were: the walk goes on from them.
    wl.produce(100)
    wl.run(max_flips=50_000)
    for spins, field, energy in zip(wl.spins, wl.field, wl.energy[:, 0]):
        np.testing.assert_allclose(field, model.local_field(spins), atol=1e-12)
        assert energy == pytest.approx(model.energy(spins), abs=1e-12)
    level = np.floor((wl.energy[:, 0] - wl.settings["e_min"]) / wl.settings["width"])
    np.testing.assert_array_equal(wl.level[:, 0], level)


def test_result_does_not_depend_on_thread_count():
    model = mcising.load_model("cycle:8")
    arrays = []
    threads = numba.get_num_threads()
    try:
        for n_threads in (1, threads):
            numba.set_num_threads(n_threads)
            wl = WangLandau(model, n_walkers=3, log_f_final=1e-3, seed=9).run()
            arrays.append(wl.log_g.copy())
    finally:
        numba.set_num_threads(threads)
    np.testing.assert_array_equal(arrays[0], arrays[1])


def test_energy_lattice_matches_exact_energy_counts():
    model = mcising.load_model("grid_2d:4,4,periodic=true", theta=4, w=1)
    wl = WangLandau(model, levels="energy", n_walkers=8, log_f_final=1e-6, seed=2).run()
    dos = wl.density_of_states()
    exact = density_of_states(model)
    n, m = np.nonzero(exact.reachable)
    energy = 2 * n - m
    log_g_exact = np.full(dos.energies.shape, -np.inf)
    for e in np.unique(energy):
        index = np.searchsorted(dos.energies, e)
        log_g_exact[index] = np.logaddexp.reduce(exact.log_g[n[energy == e],
                                                             m[energy == e]])
    np.testing.assert_array_equal(np.isfinite(dos.log_g), np.isfinite(log_g_exact))
    mask = np.isfinite(log_g_exact)
    err = dos.log_g[mask] - log_g_exact[mask]
    assert np.abs(err).max() <= MAX_ERR_OVER_MAX_SE * dos.log_g_stderr[mask].max()


@pytest.mark.parametrize("seed", [1, 2])
def test_binned_mode_matches_exact_on_weighted_graphs(seed):
    model = _weighted_model(seed)
    points = grid(2.0, 1.0, [0.3, 1.0, 2.5])
    exact = solve(model, points)
    wl = WangLandau(model, levels="binned", n_walkers=8, log_f_final=1e-5, seed=seed,
                    n_bins=12).run()
    binned_only = mcising.Results(wl.density_of_states().estimates(points))
    wl.produce(4000)
    reweighted = mcising.Results(wl.density_of_states().estimates(points))

    for name in ("entropy", "log_z", "mean_energy", "mean_activity", "mean_coupling"):
        z = (getattr(reweighted, name) - getattr(exact, name)) / getattr(
            reweighted, f"{name}_stderr")
        assert np.all(np.abs(z) < Z_POINT), (name, z)
    # Coarse bins alone are biased well beyond their error; reweighting removes it.
    z_binned = (binned_only.mean_energy - exact.mean_energy) / np.maximum(
        binned_only.mean_energy_stderr, 1e-12)
    assert np.max(np.abs(z_binned)) > 10


def test_binned_walk_finds_energies_beyond_the_annealed_range(monkeypatch):
    # Greedy descent from one random state (no annealing) misses both extremes here;
    # the bins reach the bounds of H, so the walkers find the rest online.
    monkeypatch.setattr(wl_binned, "_ANNEAL_SWEEPS", 0)
    monkeypatch.setattr(wl_binned, "_RESTARTS", 1)
    model = _weighted_model(3, n_nodes=14)
    states = ((np.arange(2**14)[:, None] >> np.arange(14)) & 1).astype(np.int8)
    energies = model.energies(states)
    wl = WangLandau(model, levels="binned", n_walkers=8, log_f_final=1e-5, seed=3,
                    n_bins=16)
    s = wl.settings
    bins = np.floor((energies - s["e_min"]) / s["width"]).astype(int)
    first, last = s["annealed"]
    assert bins.min() < first and bins.max() > last
    assert bins.min() >= 0 and bins.max() < s["n_levels"]
    wl.run()
    levels = np.arange(s["n_levels"])
    np.testing.assert_array_equal(wl.visited.any(axis=0), np.isin(levels, bins))
    wl.produce(4000)
    points = grid(2.0, 1.0, [0.3, 1.0, 2.5])
    got = mcising.Results(wl.density_of_states().estimates(points))
    exact = solve(model, points)
    z = (got.entropy - exact.entropy) / got.entropy_stderr
    assert np.all(np.abs(z) < Z_POINT), z


def test_entropy_method_and_netcdf_round_trip(tmp_path):
    model = mcising.load_model("grid_2d:3,3", theta=3, w=1)
    points = grid([1.0, 3.0], [0.5, 1.5], 1.0)
    res = entropy(model, points, method="wang-landau", seed=1, n_walkers=4,
                  log_f_final=1e-4)
    assert set(res.method) == {"wang-landau"}
    assert res[0].details["walkers"] == 4 and res[0].details["flips"] > 0
    dos = WangLandau(model, n_walkers=4, log_f_final=1e-4, seed=1).run()\
        .density_of_states()
    path = tmp_path / "dos.nc"
    dos.to_netcdf(path)
    again = entropy(model, points, method="wang-landau", dos=str(path))
    np.testing.assert_allclose(again.entropy, res.entropy, rtol=1e-12)
    np.testing.assert_allclose(again.entropy_stderr, res.entropy_stderr, rtol=1e-12)
    assert isinstance(load_dos(path), type(dos))


def test_entropy_method_groups_real_weight_points():
    model = _weighted_model(4, n_nodes=8)
    points = grid(2.0, [1.0, 2.0], [0.5, 1.5])
    res = entropy(model, points, method="wang-landau", seed=2, n_walkers=4,
                  log_f_final=1e-4, n_samples=3000)
    exact = solve(model, points)
    z = (res.entropy - exact.entropy) / res.entropy_stderr
    assert np.all(np.abs(z) < Z_POINT), z


def test_bad_input():
    weighted = _weighted_model(1, n_nodes=6)
    with pytest.raises(InvalidInputError, match="unit edge weights"):
        WangLandau(weighted, levels="nm")
    with pytest.raises(InvalidInputError, match="do not fit"):
        WangLandau(mcising.load_model("cycle:5"), windows=4)
    with pytest.raises(InvalidInputError, match="windows must be a positive int"):
        WangLandau(mcising.load_model("cycle:5"), windows=0)
    with pytest.raises(InvalidInputError, match="overlap must lie"):
        WangLandau(mcising.load_model("cycle:5"), windows=2, overlap=1.0)
    with pytest.raises(InvalidInputError, match="flatness"):
        WangLandau(mcising.load_model("cycle:5"), flatness=1.5)
    with pytest.raises(InvalidInputError, match="levels"):
        WangLandau(mcising.load_model("cycle:5"), levels="bogus")
    model = mcising.load_model("cycle:6")
    with pytest.raises(InvalidInputError, match="per-node"):
        entropy(model, method="wang-landau", node_activity=True)


def test_saved_tables_refuse_other_networks_and_parameters(tmp_path):
    model = mcising.load_model("cycle:6")
    wl = WangLandau(model, n_walkers=2, log_f_final=1e-3, seed=1).run()
    path = tmp_path / "dos.nc"
    wl.density_of_states().to_netcdf(path)
    with pytest.raises(InvalidInputError, match="another network"):
        entropy(mcising.load_model("cycle:7"), method="wang-landau", dos=str(path))
    wl.save_checkpoint(tmp_path / "ck.npz")
    with pytest.raises(InvalidInputError, match="another network"):
        WangLandau.from_checkpoint(tmp_path / "ck.npz", mcising.load_model("cycle:7"))

    energy = WangLandau(model, levels="energy", n_walkers=2, log_f_final=1e-3,
                        seed=1).run().density_of_states()
    with pytest.raises(InvalidInputError, match="answers only that"):
        energy.estimates([Point(0.0, 2.0, 1.0)])


def test_unfinished_run_warns():
    model = mcising.load_model("grid_2d:4,4")
    wl = WangLandau(model, n_walkers=2, seed=1).run(max_flips=2000)
    with pytest.warns(ConvergenceWarning, match="1/t stage"):
        wl.density_of_states()


def test_cli_dos_then_entropy(tmp_path, capsys):
    path = tmp_path / "dos.nc"
    ck = tmp_path / "ck.npz"
    args = ["dos", "--graph", "grid_2d:3,3", "--walkers", "4", "--log-f-final", "1e-4",
            "--seed", "3", "--save", str(path), "--json", "--no-progress"]
    assert main([*args, "--max-flips", "50000", "--checkpoint", str(ck)]) == 0
    # An unfinished run is reported to the user as one warning line, not a traceback.
    assert "mcising: warning: " in capsys.readouterr().err
    assert main([*args, "--checkpoint", str(ck), "--resume"]) == 0
    resumed = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert main(args) == 0
    straight = json.loads(capsys.readouterr().out.strip())
    assert resumed["flips"] == straight["flips"] and resumed["finished"]

    assert main(["entropy", "--graph", "grid_2d:3,3", "--theta", "3", "--w", "1,2",
                 "--dos", str(path), "--json", "--no-progress"]) == 0
    records = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert [r["method"] for r in records] == ["wang-landau"] * 2
    assert all(r["entropy_stderr"] > 0 for r in records)
    assert main(["entropy", "--graph", "cycle:5", "--dos", str(path)]) == 2


def test_kernel_counters_layout():
    assert len({kern.TRIALS, kern.STAGE, kern.N_KNOWN, kern.N_TRACE, kern.LAST_END,
                kern.ROUND_TRIPS, kern.LATE_FOUND, kern.ACCEPTED, kern.LOW,
                kern.HIGH}) == kern.N_COUNTERS


# -- replica exchange over windows ----------------------------------------------------


def test_windows_join_to_the_exact_counts():
    model = mcising.load_model("grid_2d:4,4")
    wl = WangLandau(model, n_walkers=4, log_f_final=1e-5, seed=3, windows=3).run()
    assert wl.spins.shape[0] == 12
    # Windows over n overlap, and every walker stayed inside its own.
    lows, highs = wl.bounds[:3, 0], wl.bounds[:3, 1]
    assert np.all(lows[1:] <= highs[:-1]) and lows[0] == 0
    assert highs[-1] == wl.settings["n_levels"] - 1
    assert np.all((wl.level[:, 0] >= wl.bounds[:, 0])
                  & (wl.level[:, 0] <= wl.bounds[:, 1]))
    dos = wl.density_of_states()
    exact = density_of_states(model)
    mask = exact.reachable
    np.testing.assert_array_equal(np.isfinite(dos.log_g), mask)
    err = dos.log_g[mask] - exact.log_g[mask]
    assert np.abs(err).max() <= MAX_ERR_OVER_MAX_SE * dos.log_g_stderr[mask].max()
    assert 0 < wl.diagnostics()["exchange_acceptance"] <= 1


@pytest.mark.parametrize("levels", ["energy", "binned"])
def test_windows_on_energy_levels_match_exact(levels):
    if levels == "energy":
        model = mcising.load_model("grid_2d:4,4", theta=4, w=1)
        points = grid(4.0, 1.0, [0.5, 1.0, 2.0])
    else:
        model = _weighted_model(1, n_nodes=12)
        points = grid(2.0, 1.0, [0.3, 1.0, 2.5])
    exact = solve(model, points)
    wl = WangLandau(model, levels=levels, n_walkers=4, log_f_final=1e-5, seed=2,
                    windows=3, n_bins=24)
    assert wl.levels == levels
    wl.run()
    if levels == "binned":
        wl.produce(4000)
    got = mcising.Results(wl.density_of_states().estimates(points))
    z = (got.entropy - exact.entropy) / got.entropy_stderr
    assert np.all(np.abs(z) < Z_POINT), z


def test_windows_checkpoint_resume_is_bit_for_bit(tmp_path):
    model = mcising.load_model("grid_2d:3,4")
    options = {"n_walkers": 2, "log_f_final": 1e-4, "seed": 5, "windows": 2,
               "exchange_every": 2000}
    straight = WangLandau(model, **options).run()
    ck = tmp_path / "ck.npz"
    first = WangLandau(model, **options)
    first.run(max_flips=40_000, checkpoint=ck)
    resumed = WangLandau.from_checkpoint(ck, model).run()
    np.testing.assert_array_equal(resumed.log_g, straight.log_g)
    np.testing.assert_array_equal(resumed.exchanges, straight.exchanges)


def test_cli_dos_with_windows(tmp_path, capsys):
    path = tmp_path / "dos.nc"
    assert main(["dos", "--graph", "grid_2d:3,4", "--walkers", "2", "--windows", "2",
                 "--log-f-final", "1e-4", "--seed", "1", "--save", str(path), "--json",
                 "--no-progress"]) == 0
    record = json.loads(capsys.readouterr().out)
    assert record["finished"] and record["walkers"] == 2
    assert main(["dos", "--graph", "cycle:5", "--windows", "9", "--save",
                 str(path)]) == 2
    assert "use fewer windows" in capsys.readouterr().err

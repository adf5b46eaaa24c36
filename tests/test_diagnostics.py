"""Convergence diagnostics on synthetic series with known answers, and the CLI."""

import json

import numpy as np
import pytest

import mcising
from mcising.chains import ChainSamples
from mcising.cli import main
from mcising.diagnostics import (
    ESS_MIN,
    RHAT_MAX,
    NotConvergedWarning,
    convergence_report,
    mcse_mean,
    variance_with_stderr,
)
from mcising.errors import ConvergenceWarning


def _ar1(rng, rho, shape):
    """AR(1) series with unit stationary variance, axis 1 is time."""
    out = np.empty(shape)
    out[:, 0] = rng.normal(size=(shape[0],) + shape[2:])
    scale = np.sqrt(1 - rho**2)
    for t in range(1, shape[1]):
        out[:, t] = rho * out[:, t - 1] + scale * rng.normal(size=out[:, t].shape)
    return out


def _series(x):
    return {"energy": x, "activity": x, "coupling": x}


def test_mixed_chains_pass():
    rng = np.random.default_rng(0)
    report = convergence_report(_series(rng.normal(size=(4, 1000, 2))), [1, 1], [1, 2])
    assert report.ok and report.problems == []
    assert report.worst_rhat < RHAT_MAX and report.smallest_ess > ESS_MIN
    assert report.to_dict()["ok"] is True
    assert "converged" in str(report)


def test_separated_chains_fail_rhat_and_warn():
    rng = np.random.default_rng(1)
    x = rng.normal(size=(4, 1000, 1)) + np.array([0, 0, 3, 3])[:, None, None]
    report = convergence_report(_series(x), [1.0], [2.0])
    assert not report.ok and report.worst_rhat > 1.5
    assert any("R-hat of energy" in p for p in report.problems)
    with pytest.warns(NotConvergedWarning, match="Wang-Landau") as record:
        assert report.warn()
    assert isinstance(record[0].message, ConvergenceWarning)
    assert record[0].message.report is report


def test_short_correlated_chains_fail_ess():
    rng = np.random.default_rng(2)
    report = convergence_report(_series(_ar1(rng, 0.99, (4, 500, 1))), [1.0], [1.0])
    assert report.smallest_ess < ESS_MIN
    assert any("ESS" in p for p in report.problems)


def test_integrated_autocorrelation_time_of_ar1():
    rng = np.random.default_rng(3)
    rho = 0.8
    x = _ar1(rng, rho, (4, 20_000, 1))
    report = convergence_report(_series(x), [1.0], [1.0], thin=3)
    expected = 3 * (1 + rho) / (1 - rho)  # in sweeps, three sweeps per draw
    assert report.tau_int["energy"][0] == pytest.approx(expected, rel=0.15)


def test_constant_series_is_converged():
    x = np.full((4, 100, 2), 7.0)
    report = convergence_report(_series(x), [1, 1], [1, 2])
    assert report.ok
    np.testing.assert_array_equal(mcse_mean(x), [0.0, 0.0])


def test_single_chain_cannot_pass():
    rng = np.random.default_rng(4)
    report = convergence_report(_series(rng.normal(size=(1, 1000, 1))), [1.0], [1.0])
    assert not report.ok


def test_mcse_and_variance_error_are_honest_for_ar1():
    """z-scores of the mean and variance against the truth have unit spread."""
    rng = np.random.default_rng(5)
    x = _ar1(rng, 0.7, (800, 2000)).reshape(200, 4, 2000)  # 200 runs of 4 chains
    z_mean, z_var = [], []
    for run in x:
        values = run[:, :, None]
        z_mean.append(values.mean() / mcse_mean(values)[0])
        var, err = variance_with_stderr(values)
        z_var.append((var[0] - 1.0) / err[0])
    for z in (np.asarray(z_mean), np.asarray(z_var)):
        assert abs(z.mean()) < 0.3
        assert 0.8 < z.std() < 1.25


def _cli(capsys, *args):
    code = main(["-q", "sample", "--graph", "grid_2d:3,3", "--no-progress", *args])
    return code, capsys.readouterr()


def test_cli_json_keys(capsys):
    code, out = _cli(capsys, "--theta", "1", "--w", "0.8", "--eps", "1", "--sweeps",
                     "2000", "--seed", "1", "--json")
    assert code == 0
    record = json.loads(out.out.strip())
    for key in ("n_nodes", "theta", "w", "eps", "mean_energy", "heat_capacity",
                "mean_activity", "seconds", "sampler", "n_chains", "n_sweeps",
                "rhat_max", "ess_min"):
        assert key in record
    for key in ("mean_energy", "heat_capacity", "mean_activity"):
        assert record[f"{key}_stderr"] > 0
    assert record["n_chains"] == 4 and record["n_sweeps"] == 2000


def test_cli_tempering_table_save_and_plot(capsys, tmp_path):
    path, plot = tmp_path / "run.nc", tmp_path / "trace.png"
    code, out = _cli(capsys, "--theta", "5", "--w", "1.6667", "--eps", "1,2,3",
                     "--tempering", "eps", "--sweeps", "1000", "--seed", "2",
                     "--save", str(path), "--plot", str(plot))
    assert code == 0
    assert "R-hat" in out.out and "convergence:" in out.out
    assert len(out.out.splitlines()) > 3
    loaded = ChainSamples.from_netcdf(path)
    np.testing.assert_allclose(loaded.ladder_eps, [1, 2, 3])
    assert plot.stat().st_size > 0


def test_cli_bad_input_is_one_line(capsys):
    code, out = _cli(capsys, "--chains", "1")
    assert code == 2
    assert out.err.strip().startswith("mcising: error: n_chains must be >= 2")
    assert len(out.err.strip().splitlines()) == 1


def test_cli_grid_runs_each_point(capsys):
    code, out = _cli(capsys, "--theta", "1", "--w", "0.5,1", "--sweeps", "200",
                     "--seed", "1", "--json")
    assert code == 0
    records = [json.loads(line) for line in out.out.splitlines()]
    assert [r["w"] for r in records] == [0.5, 1.0]


def test_plot_kinds(tmp_path):
    model = mcising.load_model("cycle:6", theta=1.0, w=1.0, eps=1.0)
    run = mcising.chains.sample(model, n_sweeps=100, seed=1, check=False)
    fig = run.plot(tmp_path / "rank.png", kind="rank")
    assert fig is not None and (tmp_path / "rank.png").exists()
    with pytest.raises(mcising.InvalidInputError, match="trace"):
        run.plot(kind="violin")

"""MBAR over the thermodynamic-integration ladder: agreement with exact answers on both
paths, the TI comparison and its warning, bad options, and a quiet pymbar."""

import subprocess
import sys

import numpy as np
import pytest

import mcising
from mcising.errors import ConvergenceWarning, InvalidInputError
from mcising.exact import solve
from mcising.mbar import mbar

# |estimate - exact| must stay below this many reported standard errors.
Z_MAX = 4.0


@pytest.mark.parametrize("path, w, eps", [("w", "0.5,1,1.5", 1.0),
                                          ("eps", 1.0, "0.5,1.5")])
def test_matches_exact_solver_on_both_paths(path, w, eps):
    model = mcising.load_model("grid_2d:3,3", theta=2.0, w=1.0, eps=1.0)
    points = mcising.grid(2.0, w, eps)
    results = mbar(model, points, path=path, n_sweeps=2000, seed=4, progress=False)
    exact = solve(model, points)
    assert set(results.method) == {"mbar"}
    for est, ref in zip(results, exact):
        assert est.details["path"] == path
        assert est.entropy_stderr > 0 and est.log_z_stderr > 0
        assert abs(est.entropy - ref.entropy) < Z_MAX * est.entropy_stderr
        assert abs(est.log_z - ref.log_z) < Z_MAX * est.log_z_stderr
        # The TI estimate from the same samples travels along for comparison.
        assert abs(est.details["ti_entropy"] - ref.entropy) < (
            Z_MAX * est.details["ti_entropy_stderr"])
        assert est.details["mbar_samples"] > 0


def test_weighted_signed_couplings(rng):
    from conftest import random_couplings

    weights = random_couplings(rng, 8, density=0.6, signed=True)
    theta = rng.normal(size=8)
    model = mcising.load_model(weights, theta=theta, w=1.0, eps=1.0)
    points = [(theta, w, 1.0) for w in (0.5, 1.5)]
    results = mbar(model, points, n_sweeps=2000, seed=3, progress=False)
    exact = solve(model, points)
    z = (results.entropy - exact.entropy) / results.entropy_stderr
    assert np.all(np.abs(z) < Z_MAX), z


def test_disagreement_with_ti_warns():
    model = mcising.load_model("cycle:10", theta=1.0, w=1.0, eps=1.0)
    with pytest.warns(ConvergenceWarning, match="TI and MBAR disagree"):
        mbar(model, agreement_sigmas=1e-12, n_sweeps=500, seed=1, progress=False)


@pytest.mark.parametrize("options, match", [
    ({"agreement_sigmas": 0}, "agreement_sigmas must be a positive"),
    ({"max_samples_per_state": 1}, "max_samples_per_state must be an integer"),
    ({"path": "theta"}, "path must be one of"),
])
def test_bad_options(options, match):
    model = mcising.load_model("cycle:6", theta=1.0, w=1.0, eps=1.0)
    with pytest.raises(InvalidInputError, match=match):
        mbar(model, progress=False, **options)


def test_command_line_is_quiet_about_pymbar():
    proc = subprocess.run(
        [sys.executable, "-m", "mcising", "entropy", "--graph", "cycle:8", "--theta",
         "1", "--w", "1", "--method", "mbar", "--sweeps", "500", "--seed", "2",
         "--json", "--no-progress"],
        capture_output=True, text=True, check=False,
    )
    assert proc.returncode == 0, proc.stderr
    assert "pymbar" not in proc.stderr.lower() and "jax" not in proc.stderr.lower()
    assert '"method": "mbar"' in proc.stdout

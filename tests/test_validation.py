"""The validation suite's CI subset, and unit tests of its statistics and report.

The CI subset runs every estimator on four small networks in the off and peak regimes
over a few fixed seeds and fails when an estimate lies more than
``calibration.Z_FAIL`` reported standard errors from the exact value, or when an
estimator's coverage of its nominal 95% intervals falls below the binomial lower bound.
"""

import json
import math
import sys
import time
import warnings
from pathlib import Path

import numpy as np
import pytest
from scipy import stats

import mcising

# ``validation`` lives at the repository root, next to ``tests``; ``python -m pytest``
# puts the root on sys.path, a bare ``pytest`` does not.
_ROOT = str(Path(__file__).resolve().parents[1])
if _ROOT not in sys.path:
    sys.path.insert(0, _ROOT)

from validation import calibration, report  # noqa: E402
from validation import cases as case_table  # noqa: E402
from validation import estimators as estimator_table  # noqa: E402
from validation import run as run_cli  # noqa: E402
from validation.harness import run_case, run_suite  # noqa: E402

CI_CASES = ("grid4x4", "ring12", "lognormal20", "frustrated16")
CI_REGIMES = ("off", "peak")
CI_ESTIMATORS = ("glauber", "tempering", "ti", "mbar", "wang-landau")
CI_SEEDS = 6
CI_BUDGET = 0.5
CI_BASE_SEED = 20240611


# --- the CI subset ------------------------------------------------------------------


@pytest.fixture(scope="module")
def ci_rows():
    """Rows of every estimator on the CI cases (computed once, shared by the tests)."""
    cases = case_table.build_cases(CI_CASES, regimes=CI_REGIMES)
    estimators = estimator_table.available(CI_ESTIMATORS)
    rows = run_suite(cases, estimators, n_seeds=CI_SEEDS, base_seed=CI_BASE_SEED,
                     budget=CI_BUDGET)
    for row in rows:
        row["study"] = "suite"
    return rows


def _describe(row):
    return (f"{row['estimator']} on {row['case']} ({row['regime']}, seed {row['seed']}): "
            f"{row['estimate']:.6g} ± {row['stderr']:.2g}, exact {row['exact']:.6g}, "
            f"z = {row['z']:.2f}")


def test_ci_subset_ran_everything(ci_rows):
    assert {c.name for c in case_table.build_cases(CI_CASES)} == set(CI_CASES)
    for name in CI_ESTIMATORS:
        mine = [r for r in ci_rows if r["estimator"] == name]
        assert len(mine) == len(CI_CASES) * len(CI_REGIMES) * CI_SEEDS, name
        failed = [f"{r['case']}: {r['failure']}" for r in mine if r["failure"]]
        assert not failed, failed
        assert all(math.isfinite(r["z"]) for r in mine), name


@pytest.mark.parametrize("name", CI_ESTIMATORS)
def test_ci_subset_errors_within_five_stderr(ci_rows, name):
    bad = [_describe(r) for r in ci_rows if r["estimator"] == name
           and not abs(r["z"]) <= calibration.Z_FAIL]
    assert not bad, "\n".join(bad)


@pytest.mark.parametrize("name", CI_ESTIMATORS)
def test_ci_subset_coverage_not_below_bound(ci_rows, name):
    cov = calibration.coverage([r["z"] for r in ci_rows if r["estimator"] == name])
    assert cov.n == len(CI_CASES) * len(CI_REGIMES) * CI_SEEDS
    assert not cov.below_bound, f"{name}: coverage {cov}, lower bound {cov.lower_bound}"


def test_ci_subset_passes_the_report_rules(ci_rows):
    assert report.ci_failures(ci_rows) == []


def test_ci_rules_catch_a_planted_miss(ci_rows):
    rows = [dict(r) for r in ci_rows[:8]]
    rows[3]["z"] = calibration.Z_FAIL + 0.5
    failures = report.ci_failures(rows)
    assert len(failures) == 1 and rows[3]["estimator"] in failures[0]


# --- harness ------------------------------------------------------------------------


def _fake(run):
    return estimator_table.Estimator("fake", "entropy", run, None, "test double")


def test_harness_records_crashes_timeouts_and_warnings():
    case = case_table.build_cases(["ring12"], regimes=["off", "peak"])[0]

    def crash(model, points, seed, budget):
        raise RuntimeError("boom")

    def slow(model, points, seed, budget):
        time.sleep(5)

    def noisy(model, points, seed, budget):
        warnings.warn("chains look stuck", RuntimeWarning, stacklevel=1)
        return estimator_table.Outcome(case.truth, 10.0)

    rows = run_case(case, _fake(crash), 1)
    assert [r["failure"] for r in rows] == ["RuntimeError: boom"] * 2
    assert all(math.isnan(r["z"]) and r["covered"] is None for r in rows)
    start = time.perf_counter()
    rows = run_case(case, _fake(slow), 1, max_seconds=0.2)
    assert time.perf_counter() - start < 2
    assert rows[0]["failure"].startswith("RunTimeout")
    rows = run_case(case, _fake(noisy), 1)
    assert rows[0]["warnings"] == ["RuntimeWarning: chains look stuck"]
    # The exact answer with a zero error bar: z = 0, covered, half the updates per point.
    assert [(r["z"], r["covered"], r["spin_updates"]) for r in rows] == [(0.0, True, 5.0)] * 2


def test_cost_counts_each_walk_and_ladder_once():
    from types import SimpleNamespace as Est

    cost = estimator_table._cost_from_details
    # Wang-Landau over (n, m): one walk for all points.
    nm = [Est(theta=5.0, w=w, eps=1.0, details={"flips": 100, "levels": "nm"})
          for w in (1.0, 2.0, 2.0)]
    assert cost(nm, 16) == 100
    # Binned: one walk per (theta, W), even when two walks made as many flips.
    binned = [Est(theta=5.0, w=w, eps=e, details={"flips": f, "levels": "binned"})
              for w, e, f in ((1.0, 1.0, 100), (2.0, 1.0, 100), (2.0, 2.5, 100))]
    assert cost(binned, 16) == 200
    # TI: one ladder per (theta, eps) on a W path.
    ladder = {"ladder_size": 10, "n_chains": 4, "n_sweeps": 50, "path": "w"}
    ti = [Est(theta=5.0, w=w, eps=e, details=ladder)
          for w, e in ((1.0, 1.0), (2.0, 1.0), (2.0, 0.3))]
    assert cost(ti, 16) == 2 * 10 * 4 * 50 * 16
    assert math.isnan(cost([Est(theta=5.0, w=1.0, eps=1.0, details={})], 16))


# --- calibration --------------------------------------------------------------------


def test_z_score_ordinary_and_edge_cases():
    assert calibration.z_score(1.5, 0.25, 1.0) == pytest.approx(2.0)
    assert calibration.z_score(0.5, 0.25, 1.0) == pytest.approx(-2.0)
    assert calibration.z_score(1.0, 0.0, 1.0) == 0.0
    assert calibration.z_score(1.1, 0.0, 1.0) == math.inf
    assert calibration.z_score(0.9, 0.0, 1.0) == -math.inf
    assert math.isnan(calibration.z_score(math.nan, 0.1, 1.0))
    assert math.isnan(calibration.z_score(1.0, math.nan, 1.0))
    assert math.isnan(calibration.z_score(1.0, math.inf, 1.0))
    assert math.isnan(calibration.z_score(math.inf, 0.1, 1.0))
    assert math.isnan(calibration.z_score(1.0, 0.1, math.nan))


def _clopper_pearson(k, n, level=0.95):
    tail = (1 - level) / 2
    low = stats.beta.ppf(tail, k, n - k + 1) if k > 0 else 0.0
    high = stats.beta.ppf(1 - tail, k + 1, n - k) if k < n else 1.0
    return low, high


@pytest.mark.parametrize("hits,n", [(0, 7), (3, 10), (19, 20), (20, 20), (180, 200)])
def test_coverage_matches_clopper_pearson_by_hand(hits, n):
    z = np.r_[np.full(hits, 0.5), np.full(n - hits, 3.0)]
    cov = calibration.coverage(z)
    low, high = _clopper_pearson(hits, n)
    assert (cov.hits, cov.n) == (hits, n)
    assert cov.share == pytest.approx(hits / n)
    assert cov.low == pytest.approx(low, abs=1e-9)
    assert cov.high == pytest.approx(high, abs=1e-9)
    assert cov.lower_bound == calibration.lower_bound_count(n)


def test_coverage_counts_boundary_skips_nan_and_misses_infinity():
    z = [1.9599, -1.9599, -1.9601, math.inf, -math.inf, math.nan, 0.0]
    cov = calibration.coverage(z)
    # |z| <= 1.959964 is a hit: +-1.9599 and 0; -1.9601 and the infinities miss.
    assert (cov.hits, cov.n) == (3, 6)
    empty = calibration.coverage([math.nan])
    assert empty.n == 0 and math.isnan(empty.share) and str(empty) == "n/a"
    assert not empty.below_bound


@pytest.mark.parametrize("n", [1, 5, 20, 40, 100, 1000])
def test_lower_bound_count_is_the_alpha_quantile(n):
    k = calibration.lower_bound_count(n)
    # Fewer than k hits is rarer than alpha for honest intervals; k hits or fewer is not.
    assert stats.binom.cdf(k - 1, n, 0.95) < calibration.ALPHA
    assert stats.binom.cdf(k, n, 0.95) >= calibration.ALPHA
    assert calibration.lower_bound_count(0) == 0


def test_lower_bound_count_known_values():
    # Binomial(100, 0.95): P(X <= 88) = 0.0043 < 0.01 <= P(X <= 89) = 0.0115.
    assert calibration.lower_bound_count(100) == 89
    # Binomial(20, 0.95): P(X <= 15) = 0.0026 < 0.01 <= P(X <= 16) = 0.0159.
    assert calibration.lower_bound_count(20) == 16
    assert calibration.lower_bound_count(1) == 0
    n = 40
    cdf = stats.binom.cdf(np.arange(n + 1), n, 0.95)
    assert calibration.lower_bound_count(n) == int(np.argmax(cdf >= calibration.ALPHA))


def test_coverage_flags():
    good = calibration.coverage(np.r_[np.zeros(95), np.full(5, 9.0)])
    assert good.in_target and good.consistent_with_target and not good.below_bound
    assert str(good).startswith("95.0% [") and str(good).endswith("(95/100)")
    bad = calibration.coverage(np.r_[np.zeros(70), np.full(30, 9.0)])
    assert not bad.in_target and not bad.consistent_with_target and bad.below_bound
    wide = calibration.coverage(np.r_[np.zeros(85), np.full(15, 9.0)])
    assert not wide.in_target and wide.consistent_with_target


# --- report -------------------------------------------------------------------------


def _synthetic_rows(z_fail=None):
    """Rows of two estimators on two cases at two budgets, z-scores from a fixed rng."""
    rng = np.random.default_rng(5)
    rows = []
    for study, budgets in (("suite", (1.0,)), ("cost", (0.5, 1.0, 2.0))):
        for budget in budgets:
            for case, n_nodes in (("grid4x4", 16), ("ring12", 12)):
                for name, quantity in (("glauber", "mean_energy"), ("ti", "entropy")):
                    for seed in range(6):
                        stderr = 0.05 / math.sqrt(budget)
                        z = float(rng.normal())
                        rows.append({
                            "case": case, "n_nodes": n_nodes, "reference": "enumeration",
                            "regime": "peak", "theta": 5.0, "w": 1.5, "eps": 1.0,
                            "estimator": name, "quantity": quantity, "seed": seed,
                            "budget": budget, "exact": 3.0, "estimate": 3.0 + z * stderr,
                            "stderr": stderr, "error": z * stderr, "z": z,
                            "covered": abs(z) <= calibration.Z_NOMINAL,
                            "seconds": 0.01 * budget, "spin_updates": 1e5 * budget,
                            "rhat_max": 1.001 if name == "glauber" else 1.02,
                            "ess_min": 900.0 if name == "glauber" else math.nan,
                            "warnings": ["ConvergenceWarning: example | message"]
                            if seed == 0 and name == "ti" else [],
                            "failure": "", "study": study})
    if z_fail is not None:
        rows[0].update(z=z_fail, error=z_fail * rows[0]["stderr"],
                       estimate=3.0 + z_fail * rows[0]["stderr"])
    return rows


def test_write_report_writes_summary_figures_and_rows(tmp_path):
    rows = _synthetic_rows()
    summary, failures = report.write_report(rows, tmp_path / "out",
                                            {"command": "python -m validation.run"})
    assert failures == []
    out = tmp_path / "out"
    text = summary.read_text()
    assert summary == out / "summary.md"
    for heading in ("## Verdict", "## Estimators", "## Cases", "## Error against cost",
                    "## Warnings and failures seen", "## Figures"):
        assert heading in text
    assert "All CI rules pass" in text
    assert "(zscores.png)" in text and "(error_vs_cost.png)" in text
    assert "| glauber | mean_energy | 12 |" in text
    assert "`ConvergenceWarning: example | message`" in text
    assert "ti (suite runs): R-hat > 1.01" in text
    for name in report.FIGURES:
        data = (out / name).read_bytes()
        assert data[:8] == b"\x89PNG\r\n\x1a\n" and len(data) < 300_000
    back = report.load_rows(out / "rows.jsonl")
    assert len(back) == len(rows)
    ti = next(k for k, r in enumerate(rows) if r["estimator"] == "ti")
    assert back[ti]["z"] == rows[ti]["z"] and math.isnan(back[ti]["ess_min"])
    assert back[0] == rows[0]
    assert json.loads((out / "settings.json").read_text())["command"].startswith("python")


def test_report_lists_broken_rules(tmp_path):
    rows = _synthetic_rows(z_fail=-7.5)
    rows[1]["failure"] = "RuntimeError: boom"
    rows[1].update(estimate=math.nan, error=math.nan, z=math.nan, stderr=math.nan)
    summary, failures = report.write_report(rows, tmp_path)
    assert len(failures) == 2
    assert "|z| = 7.50 > 5" in failures[0] and "RuntimeError: boom" in failures[1]
    text = summary.read_text()
    assert "CI rules broken (2)" in text and "**FAIL**" in text
    assert "failed: glauber on grid4x4" in text


def test_report_flags_low_coverage():
    rows = [r for r in _synthetic_rows() if r["study"] == "suite"]
    for r in rows:
        if r["estimator"] == "ti":
            r["z"] = 3.0
    failures = report.ci_failures(rows)
    assert len(failures) == 1 and failures[0].startswith("ti: coverage 0.0%")
    assert "**FAIL** (below bound)" in report.summary_markdown(rows)


def test_command_line_rebuilds_a_report_and_sets_the_exit_status(tmp_path, capsys):
    report.write_report(_synthetic_rows(), tmp_path / "a", {"command": "x"})
    status = run_cli.main(["--rows", str(tmp_path / "a" / "rows.jsonl"),
                           "--out", str(tmp_path / "b"), "--quiet"])
    assert status == 0
    assert "report written to" in capsys.readouterr().out
    assert (tmp_path / "b" / "summary.md").read_text().startswith(
        "# Validation summary\n\nCommand: `x`")
    report.save_rows(_synthetic_rows(z_fail=8.0), tmp_path / "bad.jsonl")
    status = run_cli.main(["--rows", str(tmp_path / "bad.jsonl"),
                           "--out", str(tmp_path / "c"), "--quiet"])
    assert status == 1


def test_command_line_refuses_unknown_names(tmp_path):
    with pytest.raises(SystemExit) as exc:
        run_cli.main(["--out", str(tmp_path), "--estimators", "nope", "--quiet"])
    assert exc.value.code == 2
    with pytest.raises(SystemExit) as exc:
        run_cli.main(["--out", str(tmp_path), "--cases", "nope", "--quiet"])
    assert exc.value.code == 2


def test_golden_section_peak_agrees_with_the_grid():
    model = mcising.load_model("erdos_renyi:14,0.3,seed=4", 5.0)
    grid_peak = case_table._entropy_peak(model)
    golden_peak = case_table._entropy_peak(model, golden=True)
    w_scale = 5.0 / np.abs(model.weights).sum(axis=1).mean()
    # Golden section narrows the bracket to 0.618^6 of 2.95 w_scale after 8 points.
    assert abs(golden_peak - grid_peak) <= 0.1 * w_scale

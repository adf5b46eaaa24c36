"""Thermodynamic integration: error of the entropy against its cost in wall time.

Part 1, error against cost: a W sweep of 20 points (W = 0.25, 0.5, ..., 5; theta = 1,
eps = 1) on a ring of 10^4 nodes, integrated by ``mcising.ti.thermodynamic_integration``
(tolerance 1e-4 nats per node, 4 chains, parallel tempering, seed 1) for several values
of ``n_sweeps``, and compared with the exact entropy of the ring
(``mcising.closed_forms.closed_form``, transfer matrices). Each row gives the wall time,
the largest and the root-mean-square error of the entropy per node over the 20 points,
the largest reported error per node (``entropy_stderr / N``), the worst
|z| = |error| / reported error, the ladder size, the worst R-hat and the smallest ESS of
the ladder, and the number of convergence warnings.

Target: the ring sweep to an entropy error of 1e-4 per node in under a minute on 2 cores
(read on the row with the fewest sweeps whose largest error is below 1e-4).

Part 2, networks without a closed form: a 64x64 periodic lattice and a random 3-regular
graph of 10^5 nodes at theta = 5, eps = 1, W = 0.5, 1, 1.5, 2: wall time, and per point
the entropy per node, the reported error per node (statistical and discretization parts)
and the R-hat / ESS from ``details``.

``--quick`` uses a ring of 10^3 nodes and skips part 2.

Usage: python benchmarks/bench_ti.py [--quick] [--sweeps 500,1000,2000,4000,8000,16000]
"""

import argparse
import os
import time
import warnings

import numba
import numpy as np

import mcising
from mcising.closed_forms import closed_form
from mcising.ti import thermodynamic_integration

TOLERANCE = 1e-4
RING_POINTS = {"theta": 1.0, "w": "0.25:5:0.25", "eps": 1.0}
BIG_POINTS = {"theta": 5.0, "w": [0.5, 1.0, 1.5, 2.0], "eps": 1.0}


def run_ti(model, points, n_sweeps):
    """TI with warnings recorded: (results, wall seconds, warning messages)."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        start = time.perf_counter()
        results = thermodynamic_integration(model, points, tolerance=TOLERANCE,
                                            n_sweeps=n_sweeps, seed=1, progress=False)
        seconds = time.perf_counter() - start
    return results, seconds, [str(w.message) for w in caught]


def ring_curve(n_nodes, sweeps):
    model = mcising.load_model(f"cycle:{n_nodes}", theta=1, w=1, eps=1)
    points = mcising.grid(**RING_POINTS)
    exact = closed_form(model, points)
    print(f"\n== ring of {n_nodes} nodes, theta=1, eps=1, W = 0.25:5:0.25 (20 points), "
          f"tolerance {TOLERANCE:g} per node ==")
    print(f"{'sweeps':>7} {'wall s':>8} {'max err':>9} {'rms err':>9} {'max rep':>9} "
          f"{'worst|z|':>8} {'ladder':>6} {'R-hat':>7} {'ESS min':>8} {'warn':>4}")
    rows = []
    for n_sweeps in sweeps:
        results, seconds, messages = run_ti(model, points, n_sweeps)
        error = (np.array(results.entropy) - np.array(exact.entropy)) / n_nodes
        reported = np.array([e.entropy_stderr for e in results]) / n_nodes
        z = np.abs(error) / reported
        details = results[0].details
        rows.append((n_sweeps, seconds, np.abs(error).max(), reported.max()))
        print(f"{n_sweeps:7d} {seconds:8.1f} {np.abs(error).max():9.2e} "
              f"{np.sqrt(np.mean(error**2)):9.2e} {reported.max():9.2e} {z.max():8.2f} "
              f"{details['ladder_size']:6d} {details['rhat_max']:7.4f} "
              f"{details['ess_min']:8.0f} {len(messages):4d}", flush=True)
        for message in sorted(set(messages)):
            print(f"        warning: {message[:150]}")
    scope = "" if n_nodes == 10_000 else " (the target is set for N = 10^4)"
    met = [r for r in rows if r[2] <= TOLERANCE]
    if met:
        n_sweeps, seconds, worst, _ = met[0]
        status = "met" if seconds < 60 else "missed"
        print(f"target (N = {n_nodes}): fewest sweeps with max error <= {TOLERANCE:g} per "
              f"node: {n_sweeps} ({worst:.2e}), {seconds:.1f} s (target < 60 s): {status}"
              f"{scope}")
    else:
        print(f"target (N = {n_nodes}): no row reached max error <= {TOLERANCE:g} per "
              f"node: missed{scope}")
    reported_met = [r for r in rows if r[3] <= TOLERANCE]
    if reported_met:
        n_sweeps, seconds, _, worst = reported_met[0]
        print(f"  fewest sweeps with reported error <= {TOLERANCE:g} per node: {n_sweeps} "
              f"({worst:.2e}), {seconds:.1f} s")


def big_graph(spec, n_sweeps):
    model = mcising.load_model(spec, theta=5, w=1, eps=1)
    points = mcising.grid(**BIG_POINTS)
    results, seconds, messages = run_ti(model, points, n_sweeps)
    n = model.n_nodes
    details = results[0].details
    print(f"\n== {spec}: N = {n}, M = {model.n_edges}, theta=5, eps=1, {n_sweeps} sweeps: "
          f"{seconds:.1f} s wall, ladder {details['ladder_size']} points, R-hat max "
          f"{details['rhat_max']:.4f}, ESS min {details['ess_min']:.0f} ==")
    print(f"{'W':>5} {'S / N':>10} {'err / N':>9} {'stat / N':>9} {'disc / N':>9}")
    for e in results:
        print(f"{e.w:5.2f} {e.entropy / n:10.6f} {e.entropy_stderr / n:9.2e} "
              f"{e.details['entropy_stderr_stat'] / n:9.2e} "
              f"{e.details['entropy_stderr_disc'] / n:9.2e}")
    for message in sorted(set(messages)):
        print(f"  warning: {message[:150]}")


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true",
                        help="ring of 10^3 nodes, no large graphs")
    parser.add_argument("--sweeps", default=None,
                        help="comma-separated n_sweeps of the ring curve")
    args = parser.parse_args()
    if args.sweeps:
        sweeps = [int(s) for s in args.sweeps.split(",")]
    else:
        sweeps = [250, 1000, 4000] if args.quick else [500, 1000, 2000, 4000, 8000, 16000]

    # Compile the kernels outside the timings.
    run_ti(mcising.load_model("cycle:50", theta=1, w=1, eps=1),
           mcising.grid(theta=1, w=[0.5, 1.0], eps=1), 200)
    print(f"numba threads: {numba.get_num_threads()}; seed 1; errors in nats per node; "
          f"load average at start {os.getloadavg()[0]:.2f}; timings on a shared machine "
          "are noisy")
    ring_curve(1000 if args.quick else 10_000, sweeps)
    if not args.quick:
        big_graph("grid_2d:64,64,periodic=true", 4000)
        big_graph("random_regular:3,100000,seed=1", 1000)
    print(f"\nload average at the end {os.getloadavg()[0]:.2f}")


if __name__ == "__main__":
    main()

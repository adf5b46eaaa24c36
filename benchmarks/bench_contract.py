"""Exact thermodynamics by tensor contraction: plan, cost and time per point.

For every graph, ``mcising.exact.contract.plan`` is run afresh (``cache=False``) and the
table shows its search time, the contraction width (log2 of the largest intermediate),
log10 of the value-only multiply-adds over all slices, the number of slices and the
predicted peak memory. Then ``contract_points`` evaluates points (theta = 5, eps = 1,
W = 0.5, 1.0, 1.5, ...) with that plan: the first call also compiles the contraction
program; the time per point is the fastest of the following points (up to five, about
10 s in all), next to the plan's prediction (``ContractionPlan.predicted_seconds``) and
the ratio measured / predicted.

Graphs:

- 2D grids 8x8, 12x12, 16x16, 20x20 and random 3-regular graphs N = 100, 150, 200, unit
  weights;
- a graph with the density of a connectome, G(66, 0.3) with lognormal weights: its plan
  (searched for ``--search-time`` seconds) and predicted time are printed, and it is
  contracted only when the prediction is below ``--max-seconds``;
- the real 66-region connectome of the optional tvb-data package (mean-symmetrised),
  planned and contracted like the G(66, 0.3) graph, when that package is installed;
- side by side with enumeration (``solve(..., backend="enumerate")``), a 4x7 grid with
  lognormal weights (N = 28): wall time of one point for each backend and the agreement of
  their log Z.

Targets: a 12x12 grid point in under 0.1 s after planning; one point of a 66-node
connectome-density graph in at most 100 s on 2 cores.

The contraction's matrix products run in numpy's OpenBLAS, with one thread per core by
default; these threads wait on each other when another job holds a core, so on a shared
machine run it also with ``OPENBLAS_NUM_THREADS=1`` (the header says which was used).

Any graph whose predicted time for one point exceeds ``--max-seconds`` is planned but not
contracted. ``--quick`` uses the 8x8 and 12x12 grids, the 3-regular graph with N = 100, the
4x7 side by side and the plan of the 66-node graph (5 s search), in under a minute.

Usage: python benchmarks/bench_contract.py [--quick] [--max-seconds 120]
                                          [--search-time 30] [--max-memory 4e9]
"""

import argparse
import math
import os
import time

import networkx as nx
import numba
import numpy as np

import mcising
from mcising.datasets import tvb_connectome as tvb_connectome_weights
from mcising.exact import contract, solve

THETA, EPS = 5.0, 1.0
W_VALUES = (0.5, 1.0, 1.5, 0.75, 1.25, 2.0)
# Seconds of measured points per graph after the first (more points when they are fast).
MEASURE_SECONDS = 10.0


def lognormal(graph, seed=1):
    """Give every edge a lognormal weight (mu = 0, sigma = 1)."""
    rng = np.random.default_rng(seed)
    for u, v in graph.edges:
        graph[u][v]["weight"] = rng.lognormal(0, 1)
    return graph


def graphs(quick):
    """(name, graph) in the order of the table."""
    out = [(f"grid {n}x{n}", nx.grid_2d_graph(n, n))
           for n in ((8, 12) if quick else (8, 12, 16, 20))]
    out += [(f"3-regular {n}", nx.random_regular_graph(3, n, seed=1))
            for n in ((100,) if quick else (100, 150, 200))]
    return out


def tvb_connectome():
    """The 66-region human connectome of the optional tvb-data package, or None.

    The weight matrix is mildly asymmetric; it is made symmetric by the mean.
    """
    try:
        weights, labels = tvb_connectome_weights()
    except mcising.InvalidInputError:
        return None
    return mcising.IsingModel.from_matrix(weights, theta=THETA, w=0.5, eps=EPS,
                                          labels=labels, symmetrize="mean")


def points(n_points):
    return [(THETA, w, EPS) for w in W_VALUES[:n_points]]


def measure(model, plan, max_seconds):
    """(first point s, fastest later point s or None, points measured)."""
    predicted = plan.predicted_seconds()
    if predicted > max_seconds:
        return None, None, 0
    first = _timed(lambda: contract.contract_points(model, points(1), plan=plan,
                                                    progress=False))
    if first > max_seconds / 2:
        return first, None, 1
    n_more = int(min(max(MEASURE_SECONDS / max(predicted, first, 1e-6), 1),
                     len(W_VALUES) - 1))
    estimates = contract.contract_points(model, points(n_more + 1)[1:], plan=plan,
                                         progress=False)
    return first, min(e.seconds for e in estimates), n_more + 1


def plan_row(name, model, search_time, max_memory, max_seconds):
    start = time.perf_counter()
    plan = contract.plan(model, search_time=search_time, max_memory=max_memory,
                         cache=False)
    plan_seconds = time.perf_counter() - start
    first, per_point, count = measure(model, plan, max_seconds)
    predicted = plan.predicted_seconds()
    mark = " "
    if per_point is None and first is not None:
        per_point, mark = first, "*"
    if first is None:
        first_cell, point_cell, ratio = (f"{'skipped':>9}", f"{'skipped':>10}",
                                         f"{'-':>7}")
    else:
        first_cell, point_cell = f"{first:9.3f}", f"{per_point:9.4f}{mark}"
        ratio = f"{per_point / predicted:7.2f}"
    print(f"{name:<18} {model.n_nodes:>4} {model.n_edges:>5} {plan_seconds:8.2f} "
          f"{plan.width:6.0f} {plan.log10_flops:7.2f} {math.log10(plan.cost):6.2f} "
          f"{plan.n_slices:>8} "
          f"{plan.peak_memory / 1e6:9.1f} {first_cell} {point_cell} {predicted:10.4g} "
          f"{ratio} {count:>3}", flush=True)
    return plan, per_point


def side_by_side(rows, cols):
    """Enumeration against contraction at N = rows * cols, lognormal weights."""
    graph = lognormal(nx.grid_2d_graph(rows, cols))
    model = mcising.IsingModel.from_graph(graph, theta=THETA, w=1.0, eps=EPS)
    point = [(THETA, 1.0, EPS)]
    start = time.perf_counter()
    plan = contract.plan(model, cache=False)
    plan_seconds = time.perf_counter() - start
    contract.contract_points(model, point, plan=plan, progress=False)
    t_contract = min(_timed(lambda: contract.contract_points(model, point, plan=plan,
                                                             progress=False))
                     for _ in range(3))
    t_enum = min(_timed(lambda: solve(model, point, backend="enumerate", progress=False))
                 for _ in range(2))
    exact = solve(model, point, backend="enumerate", progress=False)[0]
    by_contract = contract.contract_points(model, point, plan=plan, progress=False)[0]
    diff = abs(exact.log_z - by_contract.log_z)
    print(f"\n== N = {model.n_nodes} ({rows}x{cols} grid, lognormal weights, theta={THETA:g}, "
          f"W=1, eps={EPS:g}): one point ==")
    print(f"enumeration  {t_enum:10.4f} s   ({2**model.n_nodes / t_enum:.3g} states/s)")
    print(f"contraction  {t_contract:10.4f} s   (plan {plan_seconds:.3f} s, width "
          f"{plan.width:g}, predicted {plan.predicted_seconds():.3g} s)   "
          f"enumeration / contraction {t_enum / t_contract:.0f}x")
    print(f"log Z  enumeration {exact.log_z:.15g}  contraction {by_contract.log_z:.15g}  "
          f"|diff| {diff:.2e}  relative {diff / abs(exact.log_z):.2e}")
    print(f"entropy |diff| {abs(exact.entropy - by_contract.entropy):.2e}, "
          f"heat capacity |diff| {abs(exact.heat_capacity - by_contract.heat_capacity):.2e}")


def _timed(fn):
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true",
                        help="small graphs only, under a minute")
    parser.add_argument("--max-seconds", type=float, default=120.0,
                        help="contract a graph only when one point is predicted below this")
    parser.add_argument("--search-time", type=float, default=None,
                        help="plan search time for the 66-node graph (default 30 s, "
                             "quick 5 s); the others use mcising's default search")
    parser.add_argument("--max-memory", type=float, default=4e9,
                        help="memory limit of a plan in bytes (default 4e9)")
    args = parser.parse_args()
    connectome_search = args.search_time or (5.0 if args.quick else 30.0)

    # Compile the enumeration kernels and warm the contraction code on a tiny graph.
    warm = mcising.IsingModel.from_graph(lognormal(nx.grid_2d_graph(3, 4)), theta=THETA,
                                         w=1.0, eps=EPS)
    solve(warm, backend="enumerate", progress=False)
    contract.contract_points(warm, plan=contract.plan(warm, cache=False), progress=False)
    print(f"numba threads: {numba.get_num_threads()}; theta={THETA:g}, eps={EPS:g}, "
          f"W from {W_VALUES}; plans searched afresh (cache=False), memory limit "
          f"{args.max_memory:.3g} B; contraction only below {args.max_seconds:g} s "
          "predicted; timings on a shared machine are noisy")
    print("OPENBLAS_NUM_THREADS="
          f"{os.environ.get('OPENBLAS_NUM_THREADS', '(unset: one BLAS thread per core)')}")
    print("columns: plan = search time (s); width = log2 of the largest intermediate; "
          "flops = log10 multiply-adds (value only, all slices); cost = log10 of the "
          "plan's cost (multiply-adds + 64 per entry written); first = first point "
          "(compiles the program); s/point = fastest later point (* = the first point, when "
          "no other was timed); pts = points contracted")
    header = (f"{'graph':<18} {'N':>4} {'M':>5} {'plan s':>8} {'width':>6} {'flops':>7} "
              f"{'cost':>6} "
              f"{'slices':>8} {'peak MB':>9} {'first s':>9} {'s/point':>10} "
              f"{'predicted':>10} {'ratio':>7} {'pts':>3}")
    print(header)
    results = {}
    for name, graph in graphs(args.quick):
        model = mcising.IsingModel.from_graph(graph, theta=THETA, w=1.0, eps=EPS)
        results[name] = plan_row(name, model, None, args.max_memory, args.max_seconds)

    dense = lognormal(nx.gnp_random_graph(66, 0.3, seed=1))
    model = mcising.IsingModel.from_graph(dense, theta=THETA, w=0.5, eps=EPS)
    results["connectome"] = plan_row("G(66,0.3) lognorm", model, connectome_search,
                                     args.max_memory, args.max_seconds)

    real = tvb_connectome()
    if real is not None:
        results["tvb66"] = plan_row("tvb-data 66 regions", real, connectome_search,
                                    args.max_memory, args.max_seconds)
    else:
        print("tvb-data is not installed: pip install tvb-data for the real 66-region "
              "connectome")

    side_by_side(4, 7)

    print("\n== targets (2 cores) ==")
    _, grid12 = results["grid 12x12"]
    status = "met" if grid12 is not None and grid12 < 0.1 else "missed"
    print(f"12x12 grid, one point after planning: {grid12:.4f} s (target < 0.1 s): "
          f"{status}")
    plan, measured = results["connectome"]
    if measured is not None:
        status = "met" if measured <= 100 else "missed"
        print(f"G(66, 0.3), one point: measured {measured:.3g} s (target <= 100 s): "
              f"{status}")
    else:
        predicted = plan.predicted_seconds()
        status = "missed" if predicted > 100 else "not measured"
        print(f"G(66, 0.3), one point: predicted {predicted:.3g} s "
              f"(= {predicted / 86400 / 365.25:.3g} years; width {plan.width:g} over "
              f"{plan.n_slices} slices, 10^{plan.log10_flops:.1f} flops), not contracted "
              f"(above --max-seconds {args.max_seconds:g}); target <= 100 s: {status}")
        if math.isfinite(predicted) and plan.tree is not None:
            unsliced = plan.tree.unslice_all() if plan.tree is not None else None
            if unsliced is not None:
                print(f"  unsliced tree: width {float(unsliced.contraction_width()):g}, "
                      f"10^{float(unsliced.total_flops(log=10)):.1f} flops")


    if "tvb66" in results:
        plan, measured = results["tvb66"]
        value = measured if measured is not None else plan.predicted_seconds()
        kind = "measured" if measured is not None else "predicted"
        status = "met" if value <= 100 else "missed"
        print(f"66-region connectome (tvb-data), one point: {kind} {value:.3g} s "
              f"(width {plan.width:g}, {plan.n_slices} slices, 10^{plan.log10_flops:.1f} "
              f"flops; target <= 100 s): {status}")


if __name__ == "__main__":
    main()


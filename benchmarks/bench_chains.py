"""Spin updates per second of the chain kernels, side by side with their baselines.

Graphs: sparse random graphs (networkx gnm, mean degree 6) with N = 1e4 and 1e5; unit
weights (the tabulated kernel) and lognormal weights (one exponential per update).
Rows, all in the same process:
(a) mcising, one chain on one thread;
(b) mcising, K chains on all of numba's threads (numbers are identical for any
    thread count; this only measures the speed-up);
(c) a straightforward numpy/Python heat-bath loop (one update per Python iteration);
(d) dwave-samplers' simulated annealing at a constant beta, when installed (one read;
    its fixed set-up cost is removed by timing two sweep counts and taking the
    difference).

Usage: python benchmarks/bench_chains.py [--sizes 10000,100000] [--chains 2] [--quick]
"""

import argparse
import time

import networkx as nx
import numba
import numpy as np

import mcising
from mcising.chains import _Run

THETA, W, EPS = 5.0, 1.0, 0.5


def make_model(n_nodes, weighted, seed=1):
    graph = nx.gnm_random_graph(n_nodes, 3 * n_nodes, seed=seed)
    if weighted:
        rng = np.random.default_rng(seed)
        for u, v in graph.edges:
            graph[u][v]["weight"] = rng.lognormal(0, 0.5)
    return mcising.IsingModel.from_graph(graph, theta=THETA, w=W, eps=EPS)


def ratio(a, b):
    """a / b as a table cell, n/a when the baseline is missing."""
    return f"{a / b:9.2f}" if b else f"{'n/a':>9}"


def mcising_rate(model, n_chains, threads, seconds):
    """Updates per second of the kernel (after compilation), best of three."""
    before = numba.get_num_threads()
    numba.set_num_threads(threads)
    try:
        run = _Run(model, [model.w], [model.eps], sampler="glauber", order="sweep",
                   n_chains=n_chains, init="random", seed=1, reorder=True)
        run.advance(2, sweep_offset=0, swap_every=0, thin=1)
        start = time.perf_counter()
        run.advance(2, sweep_offset=0, swap_every=0, thin=1)
        per_sweep = (time.perf_counter() - start) / 2
        sweeps = max(2, int(seconds / 3 / per_sweep))
        best = np.inf
        for _ in range(3):
            start = time.perf_counter()
            run.advance(sweeps, sweep_offset=0, swap_every=0, thin=1)
            best = min(best, time.perf_counter() - start)
    finally:
        numba.set_num_threads(before)
    return sweeps * run.updates_per_sweep() / best


def numpy_rate(model, seconds):
    """A plain heat-bath loop: numpy for the field, Python for the node loop."""
    rng = np.random.default_rng(1)
    indptr, indices, data = model.csr
    s = (rng.random(model.n_nodes) < 0.5).astype(np.float64)
    half_theta = model.theta / 2
    updates = 0
    start = time.perf_counter()
    while time.perf_counter() - start < seconds:
        for i in range(min(model.n_nodes, 2000)):
            lo, hi = indptr[i], indptr[i + 1]
            h = model.w * np.dot(data[lo:hi], s[indices[lo:hi]]) - half_theta[i]
            s[i] = rng.random() < 1.0 / (1.0 + np.exp(-model.eps * h))
        updates += min(model.n_nodes, 2000)
    return updates / (time.perf_counter() - start)


def dwave_rate(model, seconds):
    """dwave-samplers' simulated annealing at constant beta = eps, or None."""
    try:
        import dimod
        from dwave.samplers import SimulatedAnnealingSampler
    except ImportError:
        return None
    i, j, c = model.edges
    bqm = dimod.BinaryQuadraticModel(
        {k: t / 2 for k, t in enumerate(model.theta)},
        {(int(a), int(b)): -model.w * v for a, b, v in zip(i, j, c)}, 0.0,
        dimod.BINARY)
    sampler = SimulatedAnnealingSampler()

    def timed(sweeps):
        start = time.perf_counter()
        sampler.sample(bqm, num_reads=1, beta_schedule_type="custom",
                       beta_schedule=[model.eps], num_sweeps_per_beta=sweeps, seed=1)
        return time.perf_counter() - start

    # Sized for about 3e7 updates/s (the rate measured on this kind of machine).
    sweeps = int(min(max(20, seconds * 3e7 / model.n_nodes), 1e6))
    best = min(timed(sweeps) - timed(2) for _ in range(2))
    return (sweeps - 2) * model.n_nodes / max(best, 1e-9)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="10000,100000")
    parser.add_argument("--chains", type=int, default=numba.config.NUMBA_NUM_THREADS)
    parser.add_argument("--quick", action="store_true", help="shorter timings")
    args = parser.parse_args()
    seconds = 0.6 if args.quick else 2.0
    threads = numba.config.NUMBA_NUM_THREADS
    print(f"numba threads available: {threads}; K = {args.chains} chains; "
          f"theta={THETA}, W={W}, eps={EPS}; timings on a shared machine are noisy")
    header = (f"{'N':>7} {'weights':>9} {'1 chain':>10} {f'{args.chains} chains':>10} "
              f"{'numpy':>9} {'dwave':>9} {'1ch/dwave':>9} {'Kch/dwave':>9} "
              f"{'1ch/numpy':>9}")
    print(header)
    for n_nodes in (int(v) for v in args.sizes.split(",")):
        for weighted in (False, True):
            model = make_model(n_nodes, weighted)
            one = mcising_rate(model, 1, 1, seconds)
            many = mcising_rate(model, args.chains, threads, seconds)
            base = numpy_rate(model, seconds / 2)
            dwave = dwave_rate(model, seconds)
            print(f"{n_nodes:7d} {'lognormal' if weighted else 'unit':>9} "
                  f"{one:10.3g} {many:10.3g} {base:9.3g} "
                  f"{dwave if dwave else float('nan'):9.3g} {ratio(one, dwave)} "
                  f"{ratio(many, dwave)} {ratio(one, base)}")
    if dwave_rate(make_model(100, False), 0.01) is None:
        print("dwave-samplers is not installed: pip install dwave-samplers to compare")


if __name__ == "__main__":
    main()

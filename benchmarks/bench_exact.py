"""States per second of the exact solver, side by side with its baselines.

Baselines, run in the same process on the same graphs:
(a) the textbook approach: list all states with itertools and compute H per state with
    Python loops (only at sizes where it finishes within about a minute);
(b) dimod's ExactSolver, when dimod is installed (the model maps to a BQM with linear
    biases theta_i / 2 and quadratic biases -W C_ij).

Usage: python benchmarks/bench_exact.py [--sizes 20,24,28,30] [--quick]
"""

import argparse
import itertools
import math
import time

import networkx as nx
import numba
import numpy as np

import mcising
from mcising.exact import density_of_states, enumerate_points


def unit_graph(n_nodes, seed=1):
    """A sparse random graph with mean degree about 4."""
    return nx.gnm_random_graph(n_nodes, 2 * n_nodes, seed=seed)


def weighted_model(n_nodes, seed=1):
    """A connectome-like graph: density 0.3, lognormal weights."""
    rng = np.random.default_rng(seed)
    graph = nx.gnp_random_graph(n_nodes, 0.3, seed=seed)
    for u, v in graph.edges:
        graph[u][v]["weight"] = rng.lognormal(0, 1)
    return mcising.IsingModel.from_graph(graph, theta=5, w=0.5, eps=1)


def textbook(model):
    """log Z of one point: list all states, H from its definition with Python loops."""
    c = model.weights.toarray().tolist()
    theta = model.theta.tolist()
    n_nodes = model.n_nodes
    log_terms = []
    for state in itertools.product((0, 1), repeat=n_nodes):
        energy = 0.0
        for i in range(n_nodes):
            energy += 0.5 * theta[i] * state[i]
            for j in range(n_nodes):
                energy -= 0.5 * model.w * c[i][j] * state[i] * state[j]
        log_terms.append(-model.eps * energy)
    top = max(log_terms)
    return top + math.log(sum(math.exp(x - top) for x in log_terms))


def dimod_exact(model):
    """Energies of all states through dimod's ExactSolver."""
    import dimod

    i_idx, j_idx, wts = model.edges
    linear = {i: model.theta[i] / 2 for i in range(model.n_nodes)}
    quadratic = {(int(i), int(j)): -model.w * c for i, j, c in zip(i_idx, j_idx, wts)}
    bqm = dimod.BinaryQuadraticModel(linear, quadratic, 0.0, dimod.BINARY)
    return dimod.ExactSolver().sample(bqm)


def timed(fn, *args, repeat=3):
    best = math.inf
    for _ in range(repeat):
        start = time.perf_counter()
        fn(*args)
        best = min(best, time.perf_counter() - start)
    return best


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="20,24,28,30")
    parser.add_argument("--quick", action="store_true", help="sizes 16,20 only")
    args = parser.parse_args()
    sizes = [16, 20] if args.quick else [int(s) for s in args.sizes.split(",")]
    try:
        import dimod  # noqa: F401

        have_dimod = True
    except ImportError:
        have_dimod = False

    # Compile once outside the timings.
    density_of_states(mcising.IsingModel.from_graph(unit_graph(12)))
    enumerate_points(weighted_model(12), progress=False)
    print(f"numba threads: {numba.get_num_threads()}")

    print("\n== N = 16: mcising against the baselines (one weighted point) ==")
    small = weighted_model(16)
    t_ours = timed(enumerate_points, small, repeat=50)
    t_text = timed(textbook, small, repeat=1)
    print(f"mcising   {2**16 / t_ours:12.3e} states/s")
    print(f"textbook  {2**16 / t_text:12.3e} states/s   ratio {t_text / t_ours:10.0f}x")
    if have_dimod:
        t_dimod = timed(dimod_exact, small, repeat=1)
        print(f"dimod     {2**16 / t_dimod:12.3e} states/s   ratio "
              f"{t_dimod / t_ours:10.0f}x")
    else:
        print("dimod     not installed")

    print("\n== states per second by size ==")
    print(f"{'N':>3} {'g(n,m) count':>14} {'weighted point':>15} {'dimod':>12} "
          f"{'ratio dimod':>12}")
    for n_nodes in sizes:
        unit = mcising.IsingModel.from_graph(unit_graph(n_nodes))
        t_count = timed(lambda m: density_of_states(m, progress=False), unit)
        t_weight = timed(lambda m: enumerate_points(m, progress=False),
                         weighted_model(n_nodes))
        dimod_rate, ratio = "-", "-"
        if have_dimod and n_nodes <= 20:
            t_dimod = timed(dimod_exact, weighted_model(n_nodes), repeat=1)
            dimod_rate = f"{2**n_nodes / t_dimod:.3e}"
            ratio = f"{t_dimod / t_weight:.0f}x"
        print(f"{n_nodes:>3} {2**n_nodes / t_count:14.3e} {2**n_nodes / t_weight:15.3e} "
              f"{dimod_rate:>12} {ratio:>12}")
    print("\ntargets at N = 28 on 2 cores: count >= 5e8 states/s, weighted >= 1.5e8; "
          ">= 500x dimod, >= 1e4x textbook at N = 16")


if __name__ == "__main__":
    main()

"""Contraction trees for the exact solver: the network, the cost model, the search.

The tree comes from cotengra's hyper-optimiser over its greedy path finders
(accelerated by cotengrust), scored by the cost the engine of
:mod:`mcising.exact._slices` actually pays, and refined by subtree reconfiguration
when it is slow.
"""

import time

import cotengra as ctg

__all__ = ["COST_RATE", "DEFAULT_SEARCH_REPEATS", "STEP_SECONDS", "network", "search",
           "tree_cost"]

# Cost of a tree, in cotengra's "combo" measure: multiply-adds plus this many per
# entry written. Nearly every pairwise step sums over a few size-2 indices, so memory
# traffic rather than arithmetic sets its time; the factor is the measured ratio of
# the cost of one jet entry written by the fused kernel to one multiply-add in BLAS.
_WRITE_FACTOR = 64
# Measured on a 2-core machine (benchmarks/bench_contract.py): combo cost per second
# of jet contraction on both cores, and Python overhead per pairwise step.
COST_RATE = 5.0e9
STEP_SECONDS = 2.0e-5
# Default search budget: cotengra's "rate" stop ends the search once it has lasted
# longer than the best tree's multiply-adds divided by this rate; the cost of these
# networks is 10 to 60 times their multiply-adds, so the search lasts about as long
# as the contraction would.
_SEARCH_RATE = 1.0e8
# Path finders tried by the hyper-optimiser (cotengrust accelerates both greedy ones)
# and the number of trial trees when the user sets no search time.
_METHODS = ("random-greedy", "greedy")
DEFAULT_SEARCH_REPEATS = 64
# A user-set search time is spent in this many rounds, each a hyper-optimised search
# refined by subtree reconfiguration; the refinement's gain varies widely between
# trees, so the best of several refined trees beats one long search.
_SEARCH_ROUNDS = 4
# Trees predicted to contract in more than this (seconds) are refined by subtree
# reconfiguration, which costs about a millisecond per tensor.
_RECONFIGURE_SECONDS = 0.5


def network(n_nodes, edges):
    """Index lists of the tensors (nodes first, then edges) and the index sizes."""
    sym = ctg.get_symbol
    inputs = [(sym(k),) for k in range(n_nodes)]
    inputs += [(sym(int(a)), sym(int(b))) for a, b in zip(*edges[:2])]
    return inputs, {sym(k): 2 for k in range(n_nodes)}


def tree_cost(tree):
    """Cost of a contraction tree in the engine's measure (see :data:`_WRITE_FACTOR`)."""
    return tree.combo_cost(factor=_WRITE_FACTOR)


def _search_round(inputs, size_dict, max_time, repeats, seed):
    """One hyper-optimised search, refined by subtree reconfiguration when slow."""
    objective = f"combo-{_WRITE_FACTOR}"
    optimizer = ctg.HyperOptimizer(
        methods=list(_METHODS), minimize=objective, max_repeats=repeats,
        max_time=max_time, parallel=False, on_trial_error="raise", reconf_opts=None,
        slicing_opts=None, slicing_reconf_opts=None, simulated_annealing_opts=None,
        seed=seed,
    )
    tree = optimizer.search(inputs, (), size_dict)
    if tree_cost(tree) / COST_RATE > _RECONFIGURE_SECONDS:
        tree = tree.subtree_reconfigure(minimize=objective)
    return tree


def search(inputs, size_dict, search_time):
    """Hyper-optimised contraction tree without slicing (slicing comes afterwards).

    Trial trees come from cotengra's greedy path finders (accelerated by cotengrust),
    scored by :func:`tree_cost`; the best one is refined by subtree reconfiguration when
    its contraction is predicted to take longer than :data:`_RECONFIGURE_SECONDS`. A
    user-set ``search_time`` is spent in :data:`_SEARCH_ROUNDS` such rounds.
    """
    if search_time is None:
        # Stop once the search has lasted about as long as the contraction would take.
        return _search_round(inputs, size_dict, f"rate:{_SEARCH_RATE:g}",
                             DEFAULT_SEARCH_REPEATS, 0)
    deadline = time.perf_counter() + search_time
    best = None
    for seed in range(_SEARCH_ROUNDS):
        left = deadline - time.perf_counter()
        if best is not None and left <= 0:
            break
        rounds_left = _SEARCH_ROUNDS - seed
        tree = _search_round(inputs, size_dict, max(left / rounds_left, 0.1), 10**9,
                             seed)
        if best is None or tree_cost(tree) < tree_cost(best):
            best = tree
    return best

"""Wang-Landau: flips per second, and the error of ln g against the number of flips.

Walkers: ``mcising.wang_landau.WangLandau`` (1/t schedule), ``--walkers`` walkers
(default 4) running in parallel on numba's threads, seed 1, ``log_f_final`` = 1e-12 so
that no walker stops before the budget; the run is continued budget after budget
(``run(max_flips=...)``), and "flips" counts the trials of all walkers together.

1. Flips per second on periodic L x L lattices: one walker on one thread, and the
   walkers on all of numba's threads (after a warm-up of 2e6 flips; best of three runs of
   1e7 sqrt(K) flips), next to flatwalk's single walker (2e5 flips) and the ratio of the
   all-thread rate to it. Each table of part 3 also ends with its sustained rate.
2. Against exact enumeration, the joint (n, m) lattice (``levels="nm"``) on 4x4 and 5x5
   periodic lattices: mean |ln g_WL(n, m) - ln g(n, m)| over the cells that hold states
   (a relative error is undefined where g = 1), and the mean relative error of ln g after
   summing the cells of equal Ising energy.
3. The 1D energy lattice (``levels="energy"`` at theta = 4, W = 1, where
   H = 2n - m = k / 2 with k the number of bonds joining unequal spins, so that
   E_Ising = -M + 2k) on 8x8, 16x16 and 32x32 periodic lattices (32x32 in the full mode
   only), against the exact density of states g(E) of the periodic Ising model. Budgets
   are flips per walker. Printed per budget: the mean relative error of ln g (over the
   energies that hold states; both tables normalised to sum g = 2^N) of the walkers'
   mean table, and of each walker's own table (mean, min and max over the K
   walkers: K independent one-walker runs), next to the reference figures of a plain
   1/t Wang-Landau in C (one walker, one run): 8x8, 1.0e-3 after 6.3e7 flips and
   1.8e-4 after 6.3e8; 16x16, 6.3e-4 after 2.6e8 and 4.0e-4 after 2.6e9; also the
   error of the entropy per node of the mean table at the entropy peak. Along a theta
   sweep at fixed W and eps the entropy is largest at zero Ising field, theta = 4W
   (spin-flip symmetry: the network is torn evenly between all off and all on), which
   is where the exact g(E) applies: theta = 4, W = 1, at eps = 1 (Ising coupling
   K = eps W / 4 = 1/4) and at eps = 4 K_c (the critical coupling, where the heat
   capacity peaks). "walk s" is the time spent inside the walkers' runs (all K walkers
   on the cores), summed over the budgets so far.

4. Side by side with a plain 1/t Wang-Landau walker written in C
   (``benchmarks/baselines/wl_plain.c``, compiled with gcc -O2 when a C compiler is
   present; full mode only): one walker per seed, levels known in advance, the same
   schedule (flatness 0.8 checked every 1000 trials, ln f = 1/t once ln f < 1/t), as
   many seeds as mcising has walkers, run to the budgets of the C reference figures.
   Printed: the C walkers' errors (mean, min, max), mcising's one-walker errors and the
   ratio of the means, and the C walker's rate alone on one core.

The exact g(E) comes from the Pfaffian solution of the periodic lattice
(``ising_exact.py`` beside this script), checked against mcising's
enumeration on 4x4 and 3x5 lattices before use.

Baseline for pure Python: flatwalk 0.1.0 (``pip install flatwalk==0.1.0``; skipped when
absent), one walker on the same energy levels, timed in the same process (part 1).
Targets: at least 1e8 flips/s on 2 cores; an error that keeps falling; on the 16x16
lattice, an entropy error of 1e-4 per node at the entropy peak within 60 s.

``--quick`` measures the rates on 16x16 only, the (n, m) lattice on 4x4 and budgets up to
6.3e7 (8x8) and 1e8 (16x16) flips per walker.

Usage: python benchmarks/bench_wang_landau.py [--quick] [--walkers 4] [--max-flips 2.6e9]
"""

import argparse
import logging
import math
import os
import shutil
import subprocess
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor

import numba
import numpy as np
from ising_exact import ising_counts
from scipy.special import logsumexp

import mcising
from mcising.exact import density_of_states
from mcising.wang_landau import WangLandau

K_CRITICAL = math.log(1 + math.sqrt(2)) / 2
# The plain 1/t Wang-Landau walker in C run beside mcising (one walker per seed).
PLAIN_C = os.path.join(os.path.dirname(os.path.abspath(__file__)), "baselines",
                       "wl_plain.c")
# Reference figures of a plain 1/t Wang-Landau in C, one walker: {L: {flips: error}}.
C_REFERENCE = {8: {6.3e7: 1.0e-3, 6.3e8: 1.8e-4}, 16: {2.6e8: 6.3e-4, 2.6e9: 4.0e-4}}
# Flips per walker.
BUDGETS = {8: (1e7, 2e7, 6.3e7, 2e8, 6.3e8),
           16: (1e7, 3e7, 1e8, 2.6e8, 1e9, 2.6e9),
           32: (1e8, 2.6e8, 1e9, 2.6e9)}
QUICK_BUDGETS = {8: (1e7, 2e7, 6.3e7), 16: (1e7, 3e7, 1e8)}
NM_BUDGETS = (1e6, 1e7, 1e8)
ENTROPY_TARGET = 1e-4
def ising_from_nm(counts_nm):
    """Collapse g(n, m) of a 4-regular lattice onto k = 4n - 2m (summed counts)."""
    n_idx, m_idx = np.nonzero(counts_nm)
    out = {}
    for n, m in zip(n_idx, m_idx):
        k = 4 * int(n) - 2 * int(m)
        out[k] = out.get(k, 0) + int(counts_nm[n, m])
    return out


def check_exact():
    """Compare the Pfaffian counts with mcising's enumeration on small lattices."""
    for rows, cols in ((4, 4), (3, 5)):
        model = mcising.load_model(f"grid_2d:{rows},{cols},periodic=true")
        enumerated = ising_from_nm(density_of_states(model, progress=False).counts)
        counts = ising_counts(rows, cols)
        exact = {k: g for k, g in enumerate(counts) if g}
        if exact != enumerated:
            raise AssertionError(f"Pfaffian g(E) differs from enumeration at {rows}x{cols}")
    print("exact g(E): Pfaffian counts equal mcising's enumeration on 4x4 and 3x5 periodic "
          "lattices")


def log_counts(counts):
    """Natural logs of big integers, -inf for zero."""
    return np.array([math.log(g) if g else -math.inf for g in counts])


def entropy_from_log_g(energies, log_g, eps):
    """Entropy (nats) of a table log g(H) at inverse temperature eps."""
    finite = np.isfinite(log_g)
    e, lg = energies[finite], log_g[finite]
    log_w = lg - eps * e
    log_z = logsumexp(log_w)
    prob = np.exp(log_w - log_z)
    return eps * float(prob @ e) + float(log_z)


# -- measurements ----------------------------------------------------------------------


def flatwalk_rate(size, trials=200_000):
    """Flips per second of flatwalk's single walker on the same energy levels, or None.

    flatwalk drives a Python walker through callbacks: a proposal flips one node of a
    copy of the spins and returns the energy H = 2n - m updated from the node's active
    neighbours, and the order parameter is that energy (one bin per level).
    """
    try:
        import flatwalk
    except ImportError:
        return None
    logging.getLogger("flatwalk").setLevel(logging.WARNING)
    n = size * size
    index = np.arange(n).reshape(size, size)
    neighbours = np.stack([np.roll(index, shift, axis).ravel()
                           for shift, axis in ((1, 0), (-1, 0), (1, 1), (-1, 1))], 1)

    def propose(state, rng):
        spins, energy = state
        node = int(rng.integers(n))
        active = int(spins[neighbours[node]].sum())
        flipped = spins.copy()
        flipped[node] = 1 - spins[node]
        return (flipped, energy + (2 - active) * (1 - 2 * int(spins[node]))), 0.0

    def energy_of(state):
        return float(state[1])

    config = flatwalk.WLConfig(bin_scheme=flatwalk.Bin1D(-0.5, n + 0.5, n + 1),
                               log_level="WARNING")
    start = time.perf_counter()
    flatwalk.WLDriver(config).run((np.zeros(n, dtype=np.int8), 0), energy_of, energy_of,
                                  propose, max_trials=trials,
                                  rng=np.random.default_rng(1))
    return trials / (time.perf_counter() - start)


def flip_rates(sizes, walkers):
    threads = numba.config.NUMBA_NUM_THREADS
    print("\n== flips per second (theta=4, W=1, energy levels; all walkers together) ==")
    print(f"{'lattice':>9} {'1 walker, 1 thread':>19} "
          f"{f'{walkers} walkers, {threads} threads':>22} {'flatwalk, 1 walker':>19} "
          f"{'ratio':>7}")
    rates = {}
    for size in sizes:
        model = mcising.load_model(f"grid_2d:{size},{size},periodic=true", theta=4, w=1)
        row = []
        for n_walkers, n_threads in ((1, 1), (walkers, threads)):
            numba.set_num_threads(n_threads)
            try:
                wl = WangLandau(model, levels="energy", n_walkers=n_walkers,
                                log_f_final=1e-12, seed=1)
                wl.run(max_flips=2_000_000)
                best = 0.0
                for _ in range(3):
                    before = wl.flips
                    start = time.perf_counter()
                    wl.run(max_flips=int(1e7 * n_walkers ** 0.5))
                    best = max(best, (wl.flips - before) / (time.perf_counter() - start))
                row.append(best)
            finally:
                numba.set_num_threads(threads)
        rates[size] = row[1]
        baseline = flatwalk_rate(size)
        if baseline is None:
            print(f"{f'{size}x{size}':>9} {row[0]:19.3g} {row[1]:22.3g} "
                  f"{'not installed':>19}", flush=True)
        else:
            print(f"{f'{size}x{size}':>9} {row[0]:19.3g} {row[1]:22.3g} "
                  f"{baseline:19.3g} {row[1] / baseline:6.0f}x", flush=True)
    return rates


def nm_lattice(size, budgets, walkers):
    model = mcising.load_model(f"grid_2d:{size},{size},periodic=true")
    counts = density_of_states(model, progress=False).counts
    with np.errstate(divide="ignore"):
        exact = np.log(counts.astype(float))
    cells = counts > 0
    exact_e = ising_from_nm(counts)
    ks = np.array(sorted(exact_e))
    log_exact_e = np.array([math.log(exact_e[k]) for k in ks])
    n_idx, m_idx = np.indices(counts.shape)
    k_of_cell = 4 * n_idx - 2 * m_idx
    print(f"\n== {size}x{size} periodic, (n, m) lattice ({int(cells.sum())} cells with "
          f"states) against enumeration, {walkers} walkers ==")
    print(f"{'flips':>9} {'walk s':>7} {'mean|d ln g(n,m)|':>18} {'1 walker':>9} "
          f"{'rel. err ln g(E)':>17} {'missing':>7} {'stage':>6}")
    wl = WangLandau(model, levels="nm", n_walkers=walkers, log_f_final=1e-12, seed=1)
    for budget in budgets:
        wl.run(max_flips=int(budget) - wl.flips)
        dos = wl.density_of_states(warn=False)
        found = cells & np.isfinite(dos.log_g)
        mean_abs = float(np.mean(np.abs(dos.log_g[found] - exact[found])))
        single = np.mean([np.mean(np.abs(w[cells & np.isfinite(w)]
                                         - exact[cells & np.isfinite(w)]))
                          for w in dos.walker_log_g])
        collapsed = np.array([logsumexp(dos.log_g[found & (k_of_cell == k)])
                              for k in ks])
        rel = np.abs(collapsed - log_exact_e) / log_exact_e
        stage = max(wl.diagnostics()["stage"])
        print(f"{wl.flips:9.2g} {wl.seconds:7.1f} {mean_abs:18.2e} {single:9.2e} "
              f"{float(np.mean(rel)):17.2e} {int(cells.sum() - found.sum()):7d} "
              f"{stage:6d}", flush=True)


def energy_lattice(size, budgets, walkers, max_flips):
    counts = ising_counts(size, size)
    log_exact = log_counts(counts)
    n = size * size
    model = mcising.load_model(f"grid_2d:{size},{size},periodic=true", theta=4, w=1)
    ks = np.arange(len(counts))
    holds = np.isfinite(log_exact)
    eps_points = (1.0, 4 * K_CRITICAL)
    exact_s = [entropy_from_log_g(ks / 2.0, log_exact, e) for e in eps_points]
    reference = C_REFERENCE.get(size, {})
    print(f"\n== {size}x{size} periodic, energy lattice (H = 2n - m = k/2, "
          f"{int(holds.sum())} energies with states) against the exact g(E), {walkers} "
          f"walkers ==")
    print(f"exact entropy per node at theta=4, W=1: eps=1 {exact_s[0] / n:.6f}, "
          f"eps=4K_c={eps_points[1]:.4f} {exact_s[1] / n:.6f}")
    print(f"{'flips/walker':>12} {'walk s':>7} {'mean table':>10} "
          f"{'one walker: mean':>16} {'min':>8} {'max':>8} {'C 1/t':>8} "
          f"{'dS/N eps=1':>11} {'dS/N K_c':>9} {'missing':>7} {'stage':>5}")
    wl = WangLandau(model, levels="energy", n_walkers=walkers, log_f_final=1e-12, seed=1)
    rows = []
    for budget in budgets:
        if budget > max_flips:
            print(f"{budget:12.2g}  skipped (above --max-flips)")
            continue
        wl.run(max_flips=int(budget) * walkers - wl.flips)
        dos = wl.density_of_states(warn=False)
        k = np.round(2 * dos.energies).astype(int)
        inside = (k >= 0) & (k < len(counts))
        ex = np.full(len(k), -np.inf)
        ex[inside] = log_exact[k[inside]]
        target = np.isfinite(ex)
        found = target & np.isfinite(dos.log_g)
        rel = float(np.mean(np.abs(dos.log_g[found] - ex[found]) / ex[found]))
        single = [float(np.mean(np.abs(w[target & np.isfinite(w)]
                                       - ex[target & np.isfinite(w)])
                                / ex[target & np.isfinite(w)]))
                  for w in dos.walker_log_g]
        thermo = dos.thermodynamics(np.array(eps_points))
        ds = [abs(float(thermo["entropy"][i]) - exact_s[i]) / n for i in range(2)]
        ref = reference.get(budget)
        ref_cell = f"{ref:8.1e}" if ref else f"{'':>8}"
        stage = max(wl.diagnostics()["stage"])
        print(f"{budget:12.2g} {wl.seconds:7.1f} {rel:10.2e} {np.mean(single):16.2e} "
              f"{min(single):8.2e} {max(single):8.2e} {ref_cell} {ds[0]:11.2e} "
              f"{ds[1]:9.2e} {int(target.sum() - found.sum()):7d} {stage:5d}", flush=True)
        rows.append((budget, wl.seconds, rel, float(np.mean(single)), ds[0], ds[1],
                     ref, single))
    print(f"sustained rate over the run: {wl.flips / wl.seconds:.3g} flips/s")
    if len(rows) >= 3:
        flips = np.log([r[0] for r in rows[-3:]])
        errors = np.log([r[2] for r in rows[-3:]])
        slope = np.polyfit(flips, errors, 1)[0]
        print(f"error slope d ln(err) / d ln(flips) over the last three budgets: "
              f"{slope:.2f} (1/t Wang-Landau: -0.5); falls at every budget: mean table "
              f"{falling(rows, 2)}, one walker (mean) {falling(rows, 3)}")
    return rows


def build_plain_c(folder):
    """Compile the plain C walker into ``folder``; return its path, or None without gcc."""
    compiler = shutil.which("gcc") or shutil.which("cc")
    if compiler is None:
        return None
    binary = os.path.join(folder, "wl_plain")
    subprocess.run([compiler, "-O2", "-o", binary, PLAIN_C, "-lm"], check=True)
    return binary


def plain_c_errors(binary, size, budgets, seeds):
    """Run the plain C walker with ``seeds`` (two at a time); errors and rates per budget.

    Returns ``{budget: (errors, flips_per_second)}``, errors over the seeds, measured
    like :func:`energy_lattice` (sum g = 2^N, mean relative error of ln g).
    """
    counts = ising_counts(size, size)
    exact = log_counts(counts)[0::2]  # level j holds 2j unequal bonds
    n = size * size

    def run(seed):
        out = subprocess.run([binary, str(size), str(seed)] + [f"{b:.0f}" for b in budgets],
                             capture_output=True, text=True, check=True).stdout
        return [line.split() for line in out.strip().splitlines()]

    with ThreadPoolExecutor(2) as pool:
        runs = list(pool.map(run, seeds))
    result = {}
    for index, budget in enumerate(budgets):
        errors, rates = [], []
        for rows in runs:
            fields = rows[index]
            log_g = np.array([float(x) for x in fields[2:]])
            ok = np.isfinite(log_g) & np.isfinite(exact)
            log_g = log_g - logsumexp(log_g[ok]) + n * math.log(2)
            errors.append(float(np.mean(np.abs(log_g[ok] - exact[ok]) / exact[ok])))
            rates.append(budget / float(fields[1]))
        result[budget] = (errors, float(np.mean(rates)))
    return result


def compare_plain_c(results, walkers, max_flips):
    """One-walker errors of mcising next to the plain C walker's, same seeds count."""
    print(f"\n== plain 1/t Wang-Landau in C ({os.path.relpath(PLAIN_C)}, gcc -O2), "
          f"{walkers} seeds, against mcising's {walkers} walkers ==")
    with tempfile.TemporaryDirectory() as folder:
        binary = build_plain_c(folder)
        if binary is None:
            print("skipped: no C compiler")
            return
        start = time.perf_counter()
        subprocess.run([binary, "16", "1", "2e7"], capture_output=True, check=True)
        alone = 2e7 / (time.perf_counter() - start)
        print(f"plain C, one walker alone, 16x16: {alone:.3g} flips/s")
        print(f"{'lattice':>7} {'flips':>8} {'C mean':>9} {'C min':>9} {'C max':>9} "
              f"{'mcising mean':>12} {'min':>9} {'max':>9} {'ratio':>6}")
        for size, rows in results.items():
            rows = [r for r in rows if r[6] is not None and r[0] <= max_flips]
            if not rows:
                continue
            c = plain_c_errors(binary, size, [r[0] for r in rows],
                               range(1, walkers + 1))
            for row in rows:
                errors = c[row[0]][0]
                print(f"{f'{size}x{size}':>7} {row[0]:8.2g} {np.mean(errors):9.2e} "
                      f"{min(errors):9.2e} {max(errors):9.2e} {row[3]:12.2e} "
                      f"{min(row[7]):9.2e} {max(row[7]):9.2e} "
                      f"{row[3] / np.mean(errors):6.2f}", flush=True)


def falling(rows, column):
    """True when the error in ``column`` falls from each budget to the next."""
    return all(b[column] < a[column] for a, b in zip(rows, rows[1:]))


def first_to_stay_below(rows, column, threshold):
    """The first row from which ``column`` stays at or below ``threshold``, or None."""
    for index in range(len(rows)):
        if all(r[column] <= threshold for r in rows[index:]):
            return rows[index]
    return None


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="small budgets, under a minute")
    parser.add_argument("--walkers", type=int, default=4)
    parser.add_argument("--max-flips", type=float, default=2.6e9,
                        help="largest flip budget per walker on the energy lattices")
    args = parser.parse_args()
    budgets = QUICK_BUDGETS if args.quick else BUDGETS

    # Compile the kernels outside the timings.
    warm = mcising.load_model("grid_2d:3,3,periodic=true", theta=4, w=1)
    for levels in ("nm", "energy"):
        WangLandau(warm, levels=levels, n_walkers=2, seed=1).run(max_flips=10_000)
    density_of_states(warm, progress=False)
    print(f"numba threads: {numba.config.NUMBA_NUM_THREADS}; load average at start "
          f"{os.getloadavg()[0]:.2f}; timings on a shared machine are noisy")
    check_exact()

    rates = flip_rates((16,) if args.quick else (8, 16, 32), args.walkers)
    for size in (4,) if args.quick else (4, 5):
        nm_lattice(size, NM_BUDGETS[:2] if args.quick else NM_BUDGETS, args.walkers)
    results = {}
    for size in (8, 16) if args.quick else (8, 16, 32):
        results[size] = energy_lattice(size, budgets[size], args.walkers, args.max_flips)

    if not args.quick:
        compare_plain_c({size: results[size] for size in (8, 16)}, args.walkers,
                        args.max_flips)

    print(f"\n== targets (2 cores; load average now {os.getloadavg()[0]:.2f}) ==")
    rate = rates[16]
    print(f"flips per second, 16x16, {args.walkers} walkers on 2 threads: {rate:.3g} "
          f"(target >= 1e8): {'met' if rate >= 1e8 else 'missed'}")
    rows = results[16]
    print(f"error of ln g keeps falling (16x16, every budget): mean table "
          f"{'met' if falling(rows, 2) else 'missed'}, one walker (mean) "
          f"{'met' if falling(rows, 3) else 'missed'}")
    for size, table in results.items():
        for row in table:
            if row[6]:
                print(f"{size}x{size}, {row[0]:.2g} flips per walker: one walker "
                      f"{row[3]:.2e} (mean of {args.walkers}), C 1/t {row[6]:.1e}: "
                      f"{'met' if row[3] <= row[6] else 'missed'}")
    for column, label in ((4, "eps = 1"), (5, "eps = 4K_c")):
        reached = first_to_stay_below(rows, column, ENTROPY_TARGET)
        if reached is None:
            print(f"16x16 entropy error <= {ENTROPY_TARGET:g} per node at the entropy peak, "
                  f"{label}: not reached (to stay) within the budgets run: missed")
        else:
            print(f"16x16 entropy error <= {ENTROPY_TARGET:g} per node at the entropy peak, "
                  f"{label}: from {reached[0]:.2g} flips per walker on, after "
                  f"{reached[1]:.1f} s of walking (target within 60 s): "
                  f"{'met' if reached[1] <= 60 else 'missed'}")

if __name__ == "__main__":
    main()

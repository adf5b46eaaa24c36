"""Figures of the validation report: z-scores against N(0, 1), error against cost.

Both functions take the harness rows (dicts) and write one small PNG with matplotlib's
Agg backend; nothing is displayed.
"""

import logging
import math

import numpy as np

__all__ = ["plot_error_vs_cost", "plot_zscores"]

logger = logging.getLogger(__name__)

# |z| beyond this is drawn in the outermost bin (and counted in the panel's note).
Z_CLIP = 6.0
_DPI = 90
# Legend symbol of the judged quantity.
_QUANTITY = {"entropy": "S", "mean_energy": "<H>"}


def _figure(n_rows, n_cols, width, height):
    import matplotlib

    matplotlib.use("Agg", force=True)
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(n_rows, n_cols, figsize=(width * n_cols, height * n_rows),
                             squeeze=False, layout="constrained")
    return plt, fig, axes


def _order(rows, key):
    """Distinct values of ``key`` in order of first appearance."""
    return list(dict.fromkeys(row[key] for row in rows))


def _floats(rows, key):
    return np.array([row[key] for row in rows], dtype=float)


def plot_zscores(rows, path):
    """Histogram of the z-scores of each estimator with the standard normal density.

    Parameters
    ----------
    rows : list of dict
        Harness rows; NaN z-scores (failed runs) are left out.
    path : str or os.PathLike
        Where the PNG goes.
    """
    names = _order(rows, "estimator") or ["(no rows)"]
    n_cols = min(len(names), 3)
    n_rows = math.ceil(len(names) / n_cols)
    plt, fig, axes = _figure(n_rows, n_cols, 3.2, 2.5)
    grid = np.linspace(-Z_CLIP, Z_CLIP, 241)
    density = np.exp(-grid**2 / 2) / math.sqrt(2 * math.pi)
    bins = np.linspace(-Z_CLIP, Z_CLIP, 25)
    for ax, name in zip(axes.flat, names):
        z = _floats([r for r in rows if r["estimator"] == name], "z")
        missing = int(np.sum(np.isnan(z)))
        z = z[~np.isnan(z)]
        outside = int(np.sum(np.abs(z) > Z_CLIP))
        if z.size:
            ax.hist(np.clip(z, -Z_CLIP, Z_CLIP), bins=bins, density=True,
                    color="tab:blue", alpha=0.6, label="runs")
        ax.plot(grid, density, color="black", lw=1.2, label="N(0, 1)")
        for edge in (-1.96, 1.96):
            ax.axvline(edge, color="grey", lw=0.8, ls=":")
        note = f"n = {z.size}"
        if z.size:
            inside = 100 * np.mean(np.abs(z) <= 1.96)
            note += f"\n{inside:.0f}% within ±1.96\nmax |z| = {np.max(np.abs(z)):.2f}"
        if outside:
            note += f"\n{outside} beyond ±{Z_CLIP:g}"
        if missing:
            note += f"\n{missing} without z (failed)"
        ax.text(0.02, 0.97, note, transform=ax.transAxes, va="top", fontsize=7)
        ax.set_title(name, fontsize=9)
        ax.set_xlim(-Z_CLIP, Z_CLIP)
        ax.set_xlabel("z = (estimate - exact) / stderr", fontsize=7)
        ax.tick_params(labelsize=7)
    for ax in list(axes.flat)[len(names):]:
        ax.axis("off")
    axes.flat[0].legend(fontsize=6, loc="upper right")
    fig.savefig(path, dpi=_DPI)
    plt.close(fig)
    logger.info("wrote %s", path)


def _curve(rows, axis):
    """Median cost, RMS error and RMS stderr per budget, sorted by budget."""
    out = []
    for budget in sorted({r["budget"] for r in rows}):
        group = [r for r in rows if r["budget"] == budget]
        cost = _floats(group, axis)
        error = _floats(group, "error")
        stderr = _floats(group, "stderr")
        keep = ~(np.isnan(cost) | np.isnan(error) | np.isnan(stderr))
        if not keep.any():
            continue
        out.append((float(np.median(cost[keep])),
                    float(np.sqrt(np.mean(error[keep] ** 2))),
                    float(np.sqrt(np.mean(stderr[keep] ** 2)))))
    return np.array(out).reshape(-1, 3)


def plot_error_vs_cost(rows, path):
    """Error and reported standard error against cost, one row of panels per case.

    Each case gets two panels (x = spin updates per point, x = seconds per point),
    log-log, with one colour per estimator: solid markers for the root-mean-square
    error over seeds, dashed lines for the root-mean-square reported standard error.
    With honest error bars the two agree.

    Parameters
    ----------
    rows : list of dict
        Harness rows of the cost study (several budgets per case and estimator).
    path : str or os.PathLike
    """
    cases = _order(rows, "case")
    names = _order(rows, "estimator")
    plt, fig, axes = _figure(max(len(cases), 1), 2, 3.6, 2.7)
    colours = dict(zip(names, plt.rcParams["axes.prop_cycle"].by_key()["color"] * 3))
    for i, case in enumerate(cases):
        in_case = [r for r in rows if r["case"] == case]
        regimes = ", ".join(_order(in_case, "regime"))
        for j, axis in enumerate(("spin_updates", "seconds")):
            ax = axes[i, j]
            for name in names:
                mine = [r for r in in_case if r["estimator"] == name]
                curve = _curve(mine, axis)
                curve = curve[np.all(curve > 0, axis=1)]
                if not len(curve):
                    continue
                label = f"{name} ({_QUANTITY.get(mine[0]['quantity'], '?')})"
                ax.plot(curve[:, 0], curve[:, 1], "o-", color=colours[name], ms=3,
                        lw=1, label=label)
                ax.plot(curve[:, 0], curve[:, 2], "--", color=colours[name], lw=1)
            ax.set_xscale("log")
            ax.set_yscale("log")
            ax.set_title(f"{case} ({regimes})", fontsize=8)
            ax.set_xlabel("spin updates per point" if j == 0 else "seconds per point",
                          fontsize=7)
            if j == 0:
                ax.set_ylabel("RMS error (solid), stderr (dashed)", fontsize=7)
            ax.tick_params(which="both", labelsize=6)
    if not cases:
        axes[0, 0].text(0.5, 0.5, "no cost-study rows", ha="center",
                        transform=axes[0, 0].transAxes)
    handles, labels = axes[0, 0].get_legend_handles_labels()
    if handles:
        axes[0, 0].legend(handles, labels, fontsize=6)
    fig.savefig(path, dpi=_DPI)
    plt.close(fig)
    logger.info("wrote %s", path)

"""Plots of entropy curves (matplotlib, written to files or drawn on given axes)."""

import numpy as np

__all__ = ["plot_curve"]

# Half-width of the shaded band in standard errors (a nominal 95% interval).
BAND_Z = 1.96

_LABELS = {
    "w": "coupling $W$",
    "eps": r"inverse temperature $\epsilon$",
    "theta": r"threshold $\theta$",
    "entropy": "entropy (nats)",
    "heat_capacity": r"heat capacity $\epsilon^2\,\mathrm{Var}\,H$",
    "mean_activity": "mean activity",
}


def _x_axis(results):
    for name in ("w", "eps", "theta"):
        if len(np.unique(getattr(results, name))) > 1:
            return name
    return "w"


def plot_curve(results, path=None, *, quantity="entropy", ax=None, title=None):
    r"""Plot a quantity against the parameter that varies, one line per other setting.

    Parameters
    ----------
    results : Results
    path : str or os.PathLike, optional
        Write the figure here (PNG, PDF or SVG, from the suffix).
    quantity : str
        A field of :class:`~mcising.results.Estimate` (default ``"entropy"``).
    ax : matplotlib.axes.Axes, optional
        Draw on these axes instead of a new figure.
    title : str, optional

    Returns
    -------
    matplotlib.figure.Figure

    Notes
    -----
    Where standard errors are positive a band of :math:`\pm 1.96` standard errors
    is shaded around the line.
    """
    import matplotlib

    if ax is None:
        matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    x_name = _x_axis(results)
    others = [n for n in ("theta", "w", "eps") if n != x_name]
    keys = list(zip(*(getattr(results, n) for n in others)))
    if ax is None:
        fig, ax = plt.subplots(figsize=(6, 4), layout="constrained")
    else:
        fig = ax.figure
    for key in dict.fromkeys(keys):
        sel = np.array([k == key for k in keys])
        x = getattr(results, x_name)[sel]
        order = np.argsort(x)
        y = getattr(results, quantity)[sel][order]
        err = getattr(results, f"{quantity}_stderr")[sel][order]
        label = ", ".join(f"{n}={v:g}" for n, v in zip(others, key))
        (line,) = ax.plot(x[order], y, marker="o", ms=3, label=label)
        if np.any(np.nan_to_num(err) > 0):
            ax.fill_between(x[order], y - BAND_Z * err, y + BAND_Z * err,
                            color=line.get_color(), alpha=0.25, lw=0)
    ax.set_xlabel(_LABELS.get(x_name, x_name))
    ax.set_ylabel(_LABELS.get(quantity, quantity))
    n_nodes = results[0].n_nodes if len(results) else 0
    ax.set_title(title or f"{quantity.replace('_', ' ')}, N={n_nodes} "
                 f"({', '.join(sorted({e.method for e in results}))})")
    ax.legend(fontsize="small")
    ax.grid(alpha=0.3)
    if path is not None:
        fig.savefig(path, dpi=120)
    return fig

"""The table of estimators under validation: one entry per method.

Each :class:`Estimator` is a callable ``run(model, points, seed, budget)`` that
returns an :class:`Outcome` (one :class:`~mcising.results.Estimate` per point, and the
number of single-spin updates it cost), plus the quantity it is judged on:

* ``"glauber"`` and ``"tempering"`` (Markov chains, :mod:`mcising.chains` and
  :mod:`mcising.tempering`) estimate :math:`\\langle H \\rangle`; chains alone give no
  entropy, so they are judged on the mean energy and its MCSE.
* every method registered in :data:`mcising.entropy.METHODS` other than ``"exact"``
  (thermodynamic integration, MBAR, Wang-Landau, as they land) is judged on the
  entropy and its ``entropy_stderr``.

``budget`` scales the work: 1 is the suite's default, 2 doubles the sweeps (or
walker trials), and so on. Adding an estimator means adding one entry to
:func:`available` (or registering a method in mcising).
"""

import dataclasses
import inspect
import logging
from collections.abc import Callable

import numpy as np

__all__ = ["Estimator", "Outcome", "available"]

logger = logging.getLogger(__name__)

# Chains per run and recorded sweeps per chain at budget 1.
CHAINS = 4
SWEEPS = 4000
# Tempering: replicas on the eps ladder (from eps/10 up to the target) at budget 1.
REPLICAS = 6
TEMPERING_SWEEPS = 2000
# Wang-Landau: final ln f at budget 1 (a walker makes about levels / ln f trials).
WL_LOG_F_FINAL = 1e-5
# Keys under which a registered method may report its cost in Estimate.details.
_COST_KEYS = ("spin_updates", "n_updates", "updates", "n_flips", "flips", "trials",
              "n_trials")


@dataclasses.dataclass(frozen=True)
class Outcome:
    """What one estimator run returns.

    Attributes
    ----------
    results : Results
        One estimate per requested point.
    spin_updates : float
        Single-spin updates (or flip trials) spent on the whole call; NaN if unknown.
    """

    results: object
    spin_updates: float


@dataclasses.dataclass(frozen=True)
class Estimator:
    """One method under validation.

    Attributes
    ----------
    name : str
    quantity : str
        The Estimate field it is judged on (``"entropy"`` or ``"mean_energy"``).
    run : callable
        ``run(model, points, seed, budget) -> Outcome``; ``points`` is a list of
        :class:`~mcising.params.Point` and ``seed`` an int.
    max_nodes : int or None
        Largest network it is run on (None: any).
    description : str
    """

    name: str
    quantity: str
    run: Callable
    max_nodes: int | None
    description: str


def _seeds(seed, n):
    """``n`` independent integer seeds derived from ``seed``."""
    children = np.random.SeedSequence(seed).spawn(n)
    return [int(c.generate_state(1, np.uint64)[0] >> np.uint64(1)) for c in children]


def _run_glauber(model, points, seed, budget):
    from mcising.chains import sample
    from mcising.results import Results

    n_sweeps = max(int(SWEEPS * budget), 40)
    out, updates = [], 0.0
    for point, s in zip(points, _seeds(seed, len(points))):
        at = model.with_params(theta=point.theta, w=point.w, eps=point.eps)
        run = sample(at, n_chains=CHAINS, n_sweeps=n_sweeps, seed=s, check=False,
                     progress=False)
        out.append(run.estimates()[0])
        updates += CHAINS * (n_sweeps + int(run.attrs["burn_in"])) * model.n_nodes
    return Outcome(Results(out), updates)


def _run_tempering(model, points, seed, budget):
    from mcising.results import Results
    from mcising.tempering import sample_tempering

    n_sweeps = max(int(TEMPERING_SWEEPS * budget), 40)
    out, updates = [], 0.0
    for point, s in zip(points, _seeds(seed, len(points))):
        at = model.with_params(theta=point.theta, w=point.w, eps=point.eps)
        run = sample_tempering(at, ladder="eps", n_replicas=REPLICAS,
                               n_chains=CHAINS, n_sweeps=n_sweeps, seed=s,
                               check=False, progress=False)
        out.append(run.estimates()[-1])
        updates += (CHAINS * REPLICAS * (n_sweeps + int(run.attrs["burn_in"]))
                    * model.n_nodes)
    return Outcome(Results(out), updates)


def _theta_key(estimate):
    return np.round(np.atleast_1d(np.asarray(estimate.theta, float)), 12).tobytes()


def _cost_from_details(results, n_nodes):
    """Spin updates reported by a registered method in its details, else NaN.

    A reported count (Wang-Landau's ``flips``) is taken once per (theta, W) group of
    points, each group having had its own walk, except for Wang-Landau over the
    (n, m) lattice (``levels == "nm"``), where one walk answered every point.

    Thermodynamic integration and MBAR report no count; for them the production
    sweeps of the final ladder are counted (``ladder_size * n_chains * n_sweeps * N``,
    pilot runs and burn-in excluded), once per distinct ladder.
    """
    for key in _COST_KEYS:
        counts = {}
        for e in results:
            value = e.details.get(key)
            if isinstance(value, (int, float, np.number)) and not isinstance(value, bool):
                shared = e.details.get("levels") == "nm"
                group = None if shared else (_theta_key(e), float(e.w))
                counts.setdefault(group, float(value))
        if counts:
            return float(sum(counts.values()))
    ladders = {}
    for e in results:
        d = e.details
        if all(isinstance(d.get(k), (int, np.integer))
               for k in ("ladder_size", "n_chains", "n_sweeps")):
            # Points sharing theta and the fixed parameter share one ladder.
            fixed = e.eps if d.get("path") == "w" else e.w
            ladders[(_theta_key(e), float(fixed))] = float(
                d["ladder_size"] * d["n_chains"] * d["n_sweeps"] * n_nodes)
    return float(sum(ladders.values())) if ladders else float("nan")


# Functions that receive the keyword options of a registered method taking **options.
_FORWARDED = {
    "ti": (("mcising.ti", "thermodynamic_integration"),),
    "mbar": (("mcising.mbar", "mbar"), ("mcising.ti", "thermodynamic_integration")),
    "wang-landau": (("mcising.wl_method", "estimate"),),
}


def _parameters(function):
    try:
        return inspect.signature(function).parameters
    except (TypeError, ValueError):
        return {}


def _accepted(name, method):
    """Keyword options a registered method accepts, looking through ``**options``."""
    import importlib

    parameters = _parameters(method)
    accepted = {p for p, v in parameters.items() if v.kind != v.VAR_KEYWORD}
    if any(v.kind == v.VAR_KEYWORD for v in parameters.values()):
        for module, attribute in _FORWARDED.get(name, ()):
            function = getattr(importlib.import_module(module), attribute)
            accepted |= {p for p, v in _parameters(function).items()
                         if v.kind != v.VAR_KEYWORD}
    return accepted


def _budget_options(budget, accepted):
    """Options of a registered method that scale its work with the budget."""
    options = {}
    if "progress" in accepted:
        options["progress"] = False
    if "check" in accepted:
        options["check"] = False
    if "n_sweeps" in accepted:
        options["n_sweeps"] = max(int(SWEEPS // 2 * budget), 40)
    if "log_f_final" in accepted:
        options["log_f_final"] = WL_LOG_F_FINAL / budget
    return options


def _registered(name, method):
    accepted = _accepted(name, method)

    def run(model, points, seed, budget):
        from mcising.entropy import entropy

        options = _budget_options(budget, accepted)
        results = entropy(model, points, method=name, seed=seed, **options)
        return Outcome(results, _cost_from_details(results, model.n_nodes))

    return run


def available(names=None):
    """The estimators that exist in this installation, in table order.

    Parameters
    ----------
    names : sequence of str, optional
        Keep only these.

    Returns
    -------
    list of Estimator
    """
    from mcising.entropy import METHODS

    table = [
        Estimator("glauber", "mean_energy", _run_glauber, None,
                  f"{CHAINS} Glauber chains x {SWEEPS} sweeps (<H> and its MCSE)"),
        Estimator("tempering", "mean_energy", _run_tempering, 1000,
                  f"parallel tempering, {REPLICAS} eps replicas x {CHAINS} chains x "
                  f"{TEMPERING_SWEEPS} sweeps (<H> at the target)"),
    ]
    for name, method in METHODS.items():
        if name == "exact":
            continue
        doc = (inspect.getdoc(method) or name).splitlines()[0]
        table.append(Estimator(name, "entropy", _registered(name, method),
                               _MAX_NODES.get(name), doc))
    if names is not None:
        unknown = set(names) - {e.name for e in table}
        if unknown:
            raise ValueError(f"unknown or unavailable estimator(s) {sorted(unknown)}; "
                             f"available: {', '.join(e.name for e in table)}")
        table = [e for e in table if e.name in names]
    return table


# Largest network each registered method is run on in the suite (cost, not validity).
_MAX_NODES = {"wang-landau": 64}

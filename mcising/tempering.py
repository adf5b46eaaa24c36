r"""Parallel tempering (replica exchange) over a ladder of eps or W values.

:func:`sample_tempering` runs, in each of ``n_chains`` independent chains, one walker
per ladder point; after every ``swap_every`` sweeps neighbouring points propose to
exchange their configurations (even pairs, then odd pairs), accepted with probability
:math:`\min(1, e^{\Delta})`,

.. math::

    \Delta = \epsilon_a \left[H_a(x) - H_a(y)\right]
           + \epsilon_b \left[H_b(y) - H_b(x)\right],

which keeps the product of the Boltzmann laws at every point stationary. A
configuration stuck in one mode at the target point can travel up the ladder to where
the barrier is low (small eps, or small W) and come back in the other mode: this is
what makes the bimodal regime (the entropy peak) sample correctly. Swap acceptance
per neighbouring pair and walker round trips (bottom to top and back) are reported;
a pair with acceptance near zero cuts the ladder in two and needs more points.

The ladder is geometric between ``low`` and ``high`` by default (``high`` is the
model's own value and ``low`` a tenth of it). With ``adapt=True`` the burn-in is run
in rounds; after each round the gaps are rescaled towards equal swap acceptance
(endpoints fixed), and the production run uses the final ladder unchanged.

For thermodynamic integration: pass the integration grid as ``values`` (any
increasing sequence of eps or W). :meth:`TemperingSamples.series` gives the recorded
:math:`H`, :math:`n` and :math:`q` with shape (chain, draw, ladder);
:meth:`~mcising.chains.ChainSamples.estimates` gives one
:class:`~mcising.results.Estimate` per ladder point whose ``mean_energy``,
``mean_coupling`` and ``mean_activity`` carry MCSEs that account for autocorrelation
(arviz); ``swap_every=0`` runs the points as independent chains instead.

References
----------
.. [1] K. Hukushima and K. Nemoto, "Exchange Monte Carlo method and application to
   spin glass simulations", J. Phys. Soc. Jpn. 65, 1604 (1996),
   doi:10.1143/JPSJ.65.1604.
.. [2] D. J. Earl and M. W. Deem, "Parallel tempering: theory, applications, and new
   perspectives", Phys. Chem. Chem. Phys. 7, 3910 (2005), doi:10.1039/B509983H.
"""

import logging
import math

import numpy as np

from .chains import ChainSamples, _positive_int, run_ladder, run_phase, validate_run
from .errors import InvalidInputError

__all__ = ["LADDERS", "TemperingSamples", "make_ladder", "sample_tempering"]

logger = logging.getLogger(__name__)

LADDERS = ("eps", "w")
SPACINGS = ("geometric", "linear")

# Default lower end of an automatic ladder, as a fraction of the model's value.
LOW_FRACTION = 0.1
# Burn-in rounds used by the ladder adaptation.
ADAPT_ROUNDS = 6
# Acceptance floor in the adaptation, so a gap with no accepted swap still shrinks.
_ADAPT_FLOOR = 0.02


def make_ladder(high, n_replicas, *, low=None, spacing="geometric"):
    """Return an increasing ladder of ``n_replicas`` values from ``low`` to ``high``.

    Parameters
    ----------
    high : float
        Top of the ladder (usually the model's eps or W).
    n_replicas : int
        Number of points, at least 2.
    low : float, optional
        Bottom of the ladder (default ``high / 10``).
    spacing : {"geometric", "linear"}
        Geometric spacing needs ``low`` and ``high`` positive.

    Returns
    -------
    numpy.ndarray, shape (n_replicas,)
    """
    n_replicas = _positive_int("n_replicas", n_replicas, 2)
    low = LOW_FRACTION * high if low is None else float(low)
    if spacing not in SPACINGS:
        raise InvalidInputError(
            f"spacing must be one of {', '.join(SPACINGS)}, got {spacing!r}")
    if not low < high:
        raise InvalidInputError(
            f"the ladder needs low < high, got low={low:g}, high={high:g}; pass "
            "explicit values= for a ladder that does not end at the model's value")
    if spacing == "geometric":
        if low <= 0:
            raise InvalidInputError(
                f"a geometric ladder needs positive ends, got low={low:g}; use "
                "spacing='linear' or explicit values=")
        return np.geomspace(low, high, n_replicas)
    return np.linspace(low, high, n_replicas)


def _check_values(values, ladder):
    values = np.asarray(values, dtype=float)
    if values.ndim != 1 or values.size < 2:
        raise InvalidInputError(
            f"values must be a 1-d sequence of at least 2 {ladder} values, got shape "
            f"{values.shape}")
    if not np.all(np.isfinite(values)):
        raise InvalidInputError(f"ladder values must be finite, got {values}")
    if np.any(np.diff(values) <= 0):
        raise InvalidInputError(
            f"ladder values must be strictly increasing, got {values.tolist()}")
    if ladder == "eps" and values[0] < 0:
        raise InvalidInputError(f"eps ladder values must be >= 0, got {values[0]:g}")
    return values


def _adapt_ladder(values, acceptance, geometric):
    """Rescale the gaps towards equal acceptance, keeping both ends."""
    x = np.log(values) if geometric else values.copy()
    gaps = np.diff(x)
    rate = np.maximum(acceptance, _ADAPT_FLOOR)
    gaps = gaps * rate / rate.mean()
    gaps *= (x[-1] - x[0]) / gaps.sum()
    x = x[0] + np.concatenate([[0.0], np.cumsum(gaps)])
    x[-1] = np.log(values[-1]) if geometric else values[-1]
    return np.exp(x) if geometric else x


class TemperingSamples(ChainSamples):
    """Samples of a tempering run: one series per ladder point, plus swap statistics.

    All of :class:`~mcising.chains.ChainSamples` applies with a ``ladder`` dim.
    """

    @property
    def ladder(self):
        """``"eps"`` or ``"w"``: the parameter that varies along the ladder."""
        return str(self.attrs.get("ladder", "eps"))

    @property
    def swap_acceptance(self):
        """Accepted fraction of swaps per neighbouring pair, shape (ladder - 1,)."""
        attempts = self._constants["swap_attempts"].sum(axis=0)
        accepts = self._constants["swap_accepts"].sum(axis=0)
        with np.errstate(invalid="ignore", divide="ignore"):
            return accepts / attempts

    @property
    def round_trips(self):
        """Walker round trips bottom-top-bottom, summed over chains."""
        return int(self._constants["round_trips"].sum())

    def _details(self, report, k):
        details = super()._details(report, k)
        acceptance = self.swap_acceptance
        details.update(ladder=self.ladder, ladder_index=k,
                       swap_acceptance_min=float(np.nanmin(acceptance))
                       if np.isfinite(acceptance).any() else math.nan,
                       round_trips=self.round_trips)
        return details


def sample_tempering(model, *, ladder="eps", values=None, n_replicas=16, low=None,
                     spacing="geometric", adapt=False, swap_every=1,
                     sampler="glauber", order="sweep", n_chains=4, n_sweeps=10_000,
                     burn_in=None, thin=1, seed=None, init="dispersed",
                     record_node_activity=False, keep_states=False, reorder=True,
                     check=True, progress=None):
    r"""Parallel tempering over a ladder of eps or W values.

    Parameters
    ----------
    model : IsingModel
        Its ``theta`` is used everywhere, and its ``w`` (for an eps ladder) or
        ``eps`` (for a W ladder) along the whole ladder.
    ladder : {"eps", "w"}
        The parameter that varies.
    values : array_like, optional
        An explicit, strictly increasing ladder. Default: :func:`make_ladder` from
        ``low`` to the model's own value with ``n_replicas`` points.
    n_replicas : int
        Number of ladder points when ``values`` is not given.
    low : float, optional
        Bottom of the automatic ladder (default a tenth of the model's value).
    spacing : {"geometric", "linear"}
        Spacing of the automatic ladder (and the scale the adaptation works on).
    adapt : bool
        Adapt the ladder during burn-in towards equal swap acceptance.
    swap_every : int
        Sweeps between swap rounds; 0 runs independent chains at every point.
    sampler, order, n_chains, n_sweeps, burn_in, thin, seed, init,
    record_node_activity, keep_states, reorder, check, progress
        As in :func:`mcising.chains.sample`; ``init`` applies to every walker of a
        chain.

    Returns
    -------
    TemperingSamples

    Raises
    ------
    InvalidInputError
        For a bad ladder (not increasing, negative eps, non-positive ends of a
        geometric ladder) or any bad option of :func:`~mcising.chains.sample`.

    Warns
    -----
    NotConvergedWarning
        When ``check`` and any ladder point fails the R-hat or ESS threshold.

    Examples
    --------
    >>> import mcising
    >>> from mcising.tempering import sample_tempering
    >>> model = mcising.load_model("grid_2d:3,3", theta=5, w=5 / 3, eps=3)
    >>> run = sample_tempering(model, n_replicas=6, n_sweeps=2000, seed=1,
    ...                        check=False)
    >>> run.series("energy").shape
    (4, 2000, 6)
    """
    burn_in = validate_run(model, sampler=sampler, order=order, n_chains=n_chains,
                           n_sweeps=n_sweeps, burn_in=burn_in, thin=thin, init=init)
    if ladder not in LADDERS:
        raise InvalidInputError(
            f"ladder must be one of {', '.join(LADDERS)}, got {ladder!r}")
    swap_every = _positive_int("swap_every", swap_every, 0)
    target = model.eps if ladder == "eps" else model.w
    if values is None:
        values = make_ladder(target, n_replicas, low=low, spacing=spacing)
    values = _check_values(values, ladder)
    other = np.full(values.size, model.w if ladder == "eps" else model.eps)
    ladder_w, ladder_eps = (other, values) if ladder == "eps" else (values, other)
    geometric = spacing == "geometric" and values[0] > 0

    def adapt_burn_in(run, n_sweeps_burn, bar):
        rounds = ADAPT_ROUNDS if adapt and swap_every else 1
        per_round = n_sweeps_burn // rounds
        for r in range(rounds):
            length = per_round if r < rounds - 1 else n_sweeps_burn - per_round * r
            run.swap_attempts[:] = 0
            run.swap_accepts[:] = 0
            _, interrupted = run_phase(run, length, swap_every=swap_every, bar=bar)
            if interrupted:
                return True
            if r < rounds - 1:
                attempts = np.maximum(run.swap_attempts.sum(axis=0), 1)
                acceptance = run.swap_accepts.sum(axis=0) / attempts
                current = run.ladder_eps if ladder == "eps" else run.ladder_w
                new = _adapt_ladder(current, acceptance, geometric)
                logger.debug("ladder round %d: acceptance %s -> %s", r, acceptance, new)
                if ladder == "eps":
                    run.set_ladder(run.ladder_w, new)
                else:
                    run.set_ladder(new, run.ladder_eps)
        return False

    result = run_ladder(
        model, ladder_w, ladder_eps, sampler=sampler, order=order, n_chains=n_chains,
        n_sweeps=n_sweeps, burn_in=burn_in, thin=thin, seed=seed, init=init,
        record_node_activity=record_node_activity, keep_states=keep_states,
        swap_every=swap_every, reorder=reorder, progress=progress, kind="tempering",
        adapt=adapt_burn_in, extra_attrs={"ladder": ladder, "adapted": adapt},
    )
    if check and result.n_draws:
        result.diagnostics().warn(stacklevel=2)
    return result

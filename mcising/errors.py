"""Exception and warning classes shared by every part of mcising.

Bad input raises :class:`InvalidInputError`, a :class:`ValueError` subclass, so callers
can catch either. A computation that would exceed its configured limits raises
:class:`TooExpensiveError`. Statistical trouble (a chain that has not mixed, estimators
that disagree) is reported with :class:`ConvergenceWarning`; input that is accepted
after a documented correction is reported with :class:`InputWarning`.
"""

__all__ = [
    "ConvergenceWarning",
    "InputWarning",
    "InvalidInputError",
    "McisingError",
    "TooExpensiveError",
]


class McisingError(Exception):
    """Base class of every exception raised on purpose by mcising."""


class InvalidInputError(McisingError, ValueError):
    """Input that mcising refuses; the message says what is wrong and how to fix it."""


class TooExpensiveError(McisingError, RuntimeError):
    """A computation predicted to exceed a size, memory or time limit.

    The message names the limit, the predicted cost and the methods that scale.
    """


class InputWarning(UserWarning):
    """Input accepted after a documented correction (for example dropped self-loops)."""


class ConvergenceWarning(RuntimeWarning):
    """An estimate whose diagnostics show it may not be trustworthy.

    The message says which diagnostic failed and what to do about it (more sweeps,
    parallel tempering, or the Wang-Landau estimator).
    """

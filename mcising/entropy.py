"""One entry point for the entropy at many parameter points, whatever the method.

:func:`entropy` validates the request and hands it to the method named by the user;
``"auto"`` picks the exact solver when it is affordable. Every method returns
:class:`~mcising.results.Results`, so callers never ask which method made a number.
"""

from .errors import InvalidInputError, TooExpensiveError
from .exact import DEFAULT_MAX_NODES, solve
from .params import points_for

__all__ = ["METHODS", "entropy"]


def _exact(model, points, **options):
    return solve(model, points, **options)


# name -> callable(model, points, **options) returning Results
METHODS = {"exact": _exact}


def _wang_landau(model, points, **options):
    from .wl_method import estimate

    return estimate(model, points, **options)


METHODS["wang-landau"] = _wang_landau


def _ti(model, points, **options):
    from .ti import thermodynamic_integration

    return thermodynamic_integration(model, points, **options)


def _mbar(model, points, **options):
    from .mbar import mbar

    return mbar(model, points, **options)


METHODS["ti"] = _ti
METHODS["mbar"] = _mbar

# The estimator ``"auto"`` uses above the exact solver's limit.
AUTO_ESTIMATOR = "ti"


def entropy(model, points=None, *, method="auto", **options):
    """Entropy, log Z, mean energy, heat capacity and activity at parameter points.

    Parameters
    ----------
    model : IsingModel
    points : sequence of Point or (theta, w, eps), optional
        Default: the model's own parameters.
    method : str
        ``"auto"`` or one of :data:`METHODS`. ``"auto"`` uses the exact solver when
        the network is small enough and thermodynamic integration (``"ti"``) above.
    **options
        Passed to the method (for example ``progress``, ``max_nodes``).

    Returns
    -------
    Results

    Raises
    ------
    InvalidInputError
        For an unknown method.
    TooExpensiveError
        When ``"auto"`` finds no affordable method.
    """
    points = points_for(model, points)
    if method == "auto":
        max_nodes = options.get("max_nodes") or DEFAULT_MAX_NODES
        if model.n_nodes <= max_nodes:
            method = "exact"
        else:
            estimators = [m for m in METHODS if m != "exact"]
            if not estimators:
                raise TooExpensiveError(
                    f"N={model.n_nodes} is above the exact limit of {max_nodes} nodes "
                    "and no estimator is installed"
                )
            method = AUTO_ESTIMATOR if AUTO_ESTIMATOR in METHODS else estimators[0]
    if method not in METHODS:
        raise InvalidInputError(
            f"unknown method {method!r}; choose auto or one of {', '.join(METHODS)}"
        )
    return METHODS[method](model, points, **options)

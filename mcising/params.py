"""Parameter points (theta, w, eps) and the grids that sweeps run over.

A point is plain data, so a sweep is a list of points plus a model, and any method or
executor can take it unchanged.
"""

import itertools
import math
import typing

import numpy as np

from .errors import InvalidInputError

__all__ = ["Point", "grid", "parse_values", "points_for"]

# Grid values are rounded to this many significant digits to remove float noise
# (0.1 * 3 -> 0.3), far below any physically meaningful difference.
_SIGNIFICANT = 12


class Point(typing.NamedTuple):
    """One parameter point; ``theta`` is a float or an array with one value per node."""

    theta: float | np.ndarray
    w: float
    eps: float


def parse_values(text, name="value"):
    """Parse ``a:b:step`` (inclusive of ``b`` on the grid), ``a,b,c`` or one number.

    Parameters
    ----------
    text : str
        The user's text.
    name : str
        The option's name, for error messages.

    Returns
    -------
    numpy.ndarray of float64

    Raises
    ------
    InvalidInputError
        If the text is not a number, a list or a valid range.

    Examples
    --------
    >>> parse_values("0.5:3.5:0.5").tolist()
    [0.5, 1.0, 1.5, 2.0, 2.5, 3.0, 3.5]
    >>> parse_values("1,2.5").tolist()
    [1.0, 2.5]
    """
    text = str(text).strip()
    malformed = InvalidInputError(
        f"--{name} {text!r} is not a number, a list a,b,c or a range a:b:step"
    )
    try:
        parts = [float(p) for p in text.split(":" if ":" in text else ",")]
    except ValueError:
        raise malformed from None
    if ":" not in text:
        values = np.array(parts)
    elif len(parts) != 3:
        raise malformed
    else:
        start, stop, step = parts
        if step <= 0 or stop < start or not all(map(math.isfinite, parts)):
            raise InvalidInputError(
                f"--{name} range {text!r} needs start <= stop and step > 0"
            )
        count = math.floor((stop - start) / step * (1 + 1e-12) + 1e-9)
        if count > 1_000_000:
            raise InvalidInputError(f"--{name} range {text!r} has over 1e6 points")
        values = start + step * np.arange(count + 1)
    if not np.all(np.isfinite(values)):
        raise InvalidInputError(f"--{name} {text!r} contains a non-finite value")
    return np.array([float(f"{v:.{_SIGNIFICANT}g}") for v in values])


def grid(theta, w, eps):
    """All combinations of the given values as a list of :class:`Point`.

    ``w`` varies fastest, then ``eps``, then ``theta``. Each argument is a number, an
    iterable of numbers or a string understood by :func:`parse_values`.
    """
    axes = []
    for name, values in (("theta", theta), ("w", w), ("eps", eps)):
        if isinstance(values, str):
            values = parse_values(values, name)
        axes.append(np.atleast_1d(np.asarray(values, dtype=float)))
    return [Point(t, ww, e) for t, e, ww in itertools.product(axes[0], axes[2], axes[1])]


def points_for(model, points):
    """Normalise ``points`` for ``model``: default to the model's own parameters.

    Parameters
    ----------
    model : IsingModel
    points : None, Point, tuple or sequence of them

    Returns
    -------
    list of Point
        With ``theta`` as a float64 array of length N, and float ``w`` and ``eps``.
    """
    if points is None:
        points = [Point(model.theta, model.w, model.eps)]
    elif isinstance(points, Point) or (
        isinstance(points, tuple) and len(points) == 3 and np.ndim(points[1]) == 0
        and not isinstance(points[0], Point)
    ):
        points = [points]
    out = []
    for point in points:
        try:
            theta, w, eps = point
        except (TypeError, ValueError):
            raise InvalidInputError(
                f"each point must be (theta, w, eps), got {point!r}"
            ) from None
        checked = model.with_params(theta=theta, w=w, eps=eps)
        out.append(Point(checked.theta, checked.w, checked.eps))
    if not out:
        raise InvalidInputError("no parameter points given")
    return out

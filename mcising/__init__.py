"""mcising: entropy of binary spin models on networks.

The model (:class:`IsingModel`), exact solvers (:mod:`mcising.exact`) and the
estimators for large networks share one result type (:class:`Estimate`).
"""

from .dos import DensityOfStates
from .errors import (
    ConvergenceWarning,
    InputWarning,
    InvalidInputError,
    McisingError,
    TooExpensiveError,
)
from .model import IsingModel, load_model
from .params import Point, grid
from .results import Estimate, Results

__version__ = "0.1.0"

__all__ = [
    "ConvergenceWarning",
    "DensityOfStates",
    "Estimate",
    "InputWarning",
    "InvalidInputError",
    "IsingModel",
    "McisingError",
    "Point",
    "Results",
    "TooExpensiveError",
    "grid",
    "load_model",
]

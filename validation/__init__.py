"""Validation suite: every estimator of mcising against exact answers.

The suite runs each estimator on a table of cases whose thermodynamics is known
exactly (enumeration for small graphs, closed forms for rings, paths, trees and
complete graphs of any size, tensor contraction for large sparse graphs where that
backend exists), over several independent seeds, and reports errors, errors divided
by the reported standard errors, costs, convergence diagnostics and the coverage of
the nominal 95% intervals.

Modules
-------
cases
    The graphs, parameter points (regimes) and their exact values.
estimators
    The table of estimators: one entry per method, each a callable.
calibration
    z-scores, coverage with binomial intervals, pass/fail rules.
harness
    Runs estimators on cases over seeds and collects one row per (case, point,
    estimator, seed).
report
    The Markdown summary, the raw rows and the CI verdict.
plots
    The PNG figures: z-scores against N(0, 1), error against cost.
run
    The command line: ``python -m validation.run --out report/``.
"""

__all__ = []

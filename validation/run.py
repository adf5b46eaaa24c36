"""Command line of the validation suite.

::

    python -m validation.run --out REPORT_DIR [--quick] [--seeds R] [--cases a,b]
        [--estimators x,y] [--regimes off,peak] [--budget B] [--no-large]
        [--base-seed S] [--cost-cases a,b] [--cost-budgets 0.25,0.5,1,2]
        [--cost-seeds R] [--max-seconds T] [--rows rows.jsonl] [--quiet]

Runs every estimator on every case over ``--seeds`` independent seeds (the suite),
then the error-versus-cost study (the peak regime of ``--cost-cases`` at each of
``--cost-budgets`` times ``--budget``), and writes the report into ``--out`` (see
:mod:`validation.report`). ``--rows`` rebuilds a report from a saved ``rows.jsonl`` (and
the ``settings.json`` beside it) without running anything. An estimator call that runs
past ``--max-seconds`` is stopped and counts as failed. Progress is logged on stderr.

Exit status: 0 when every CI rule passes, 1 when one fails (a |z| above
:data:`validation.calibration.Z_FAIL`, a failed run, or an estimator's coverage hit
count below its binomial lower bound), 2 for bad arguments.
"""

import argparse
import json
import logging
import pathlib
import shlex
import sys
import time

from . import cases as case_table
from . import estimators as estimator_table
from .harness import run_suite
from .report import load_rows, write_report

__all__ = ["QUICK", "build_parser", "main", "run"]

# Named explicitly: under "python -m" this module is __main__.
logger = logging.getLogger("validation.run")

# Settings of --quick, used where the option is not given explicitly.
QUICK = {"cases": "grid4x4,ring12,lognormal20", "regimes": "off,peak", "seeds": 3,
         "large": False, "cost_cases": "grid4x4", "cost_budgets": "0.25,1",
         "cost_seeds": 2}
# Settings of a full run, used where neither the option nor --quick gives one.
FULL = {"cases": None, "regimes": None, "seeds": 5, "large": True,
        "cost_cases": "grid4x4,lognormal20", "cost_budgets": "0.25,0.5,1,2",
        "cost_seeds": 4}
# Default time limit of one estimator call (seconds).
MAX_SECONDS = 300.0
# The regime of the cost study.
COST_REGIME = "peak"


def _names(text):
    """Comma-separated names; None for None, [] for an empty string."""
    if text is None:
        return None
    return [t.strip() for t in text.split(",") if t.strip()]


def _budgets(text):
    try:
        values = [float(t) for t in _names(text)]
    except ValueError as exc:
        raise ValueError(f"budgets must be numbers: {exc}") from None
    if any(v <= 0 for v in values):
        raise ValueError("budgets must be positive")
    return values


def build_parser():
    """The argument parser of ``python -m validation.run``."""
    parser = argparse.ArgumentParser(
        prog="python -m validation.run",
        description="Run mcising's estimators against exact answers and write a report.")
    parser.add_argument("--out", required=True, help="report folder (created)")
    parser.add_argument("--quick", action="store_true",
                        help=f"fast subset: cases {QUICK['cases']}, regimes "
                             f"{QUICK['regimes']}, {QUICK['seeds']} seeds, no large cases")
    parser.add_argument("--seeds", type=int, help="independent seeds per case "
                        f"and estimator (default {FULL['seeds']})")
    parser.add_argument("--cases", help="comma-separated case names (default: all)")
    parser.add_argument("--estimators", help="comma-separated estimator names "
                        "(default: all available)")
    parser.add_argument("--regimes", help="comma-separated regimes (default: all)")
    parser.add_argument("--budget", type=float, default=1.0,
                        help="work per run relative to the default (default 1)")
    parser.add_argument("--no-large", action="store_true",
                        help="leave out the large closed-form and contraction cases")
    parser.add_argument("--base-seed", type=int, default=0, help="root of every seed")
    parser.add_argument("--cost-cases", help="cases of the error-versus-cost study "
                        f"(default {FULL['cost_cases']}; empty: no study)")
    parser.add_argument("--cost-budgets", help="budgets of the study, as multiples of "
                        f"--budget (default {FULL['cost_budgets']})")
    parser.add_argument("--cost-seeds", type=int,
                        help=f"seeds per budget in the study (default {FULL['cost_seeds']})")
    parser.add_argument("--max-seconds", type=float, default=MAX_SECONDS,
                        help="time limit of one estimator call; past it the run counts "
                             f"as failed (default {MAX_SECONDS:g})")
    parser.add_argument("--rows", help="rebuild the report from this rows.jsonl; run nothing")
    parser.add_argument("--quiet", action="store_true", help="log warnings only")
    return parser


def _resolve(args):
    """Fill options not given from --quick or the full defaults."""
    base = QUICK if args.quick else FULL
    settings = {}
    for key in ("cases", "regimes", "seeds", "cost_cases", "cost_budgets", "cost_seeds"):
        given = getattr(args, key)
        settings[key] = base[key] if given is None else given
    settings["large"] = base["large"] and not args.no_large
    return settings


def run(args):
    """Run the suite and the cost study for parsed ``args``; return (rows, settings)."""
    settings = _resolve(args)
    if settings["seeds"] < 1 or settings["cost_seeds"] < 1:
        raise ValueError("--seeds and --cost-seeds must be at least 1")
    if args.budget <= 0 or args.max_seconds <= 0:
        raise ValueError("--budget and --max-seconds must be positive")
    settings["max_seconds"] = args.max_seconds
    cost_budgets = _budgets(settings["cost_budgets"])
    estimators = estimator_table.available(_names(args.estimators))
    start = time.perf_counter()
    logger.info("building cases")
    cases = case_table.build_cases(_names(settings["cases"]), large=settings["large"],
                                   regimes=_names(settings["regimes"]))
    logger.info("suite: %d cases x %d estimators x %d seeds, budget %g", len(cases),
                len(estimators), settings["seeds"], args.budget)
    rows = run_suite(cases, estimators, n_seeds=settings["seeds"],
                     base_seed=args.base_seed, budget=args.budget,
                     max_seconds=args.max_seconds, log=logger.info)
    for row in rows:
        row["study"] = "suite"
    cost_names = _names(settings["cost_cases"])
    if cost_names:
        cost_cases = case_table.build_cases(cost_names, regimes=[COST_REGIME])
        for factor in cost_budgets:
            logger.info("cost study: budget %g", factor * args.budget)
            more = run_suite(cost_cases, estimators, n_seeds=settings["cost_seeds"],
                             base_seed=args.base_seed, budget=factor * args.budget,
                             max_seconds=args.max_seconds, log=logger.info)
            for row in more:
                row["study"] = "cost"
            rows.extend(more)
    settings["wall_seconds"] = round(time.perf_counter() - start, 1)
    return rows, settings


def main(argv=None):
    """Entry point; returns the exit status."""
    parser = build_parser()
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.WARNING, stream=sys.stderr,
                        format="%(asctime)s %(name)s %(levelname)s: %(message)s",
                        datefmt="%H:%M:%S")
    logging.getLogger("validation").setLevel(logging.WARNING if args.quiet
                                             else logging.INFO)
    words = sys.argv[1:] if argv is None else list(argv)
    try:
        if args.rows:
            rows = load_rows(args.rows)
            saved = pathlib.Path(args.rows).with_name("settings.json")
            settings = json.loads(saved.read_text()) if saved.exists() else {}
        else:
            rows, settings = run(args)
            settings = {"command": f"{parser.prog} {shlex.join(words)}",
                        "base_seed": args.base_seed, **settings}
    except (ValueError, OSError) as exc:
        parser.exit(2, f"{parser.prog}: error: {exc}\n")
    summary, failures = write_report(rows, args.out, settings)
    for failure in failures:
        logger.error("CI rule broken: %s", failure)
    print(f"report written to {summary}")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())

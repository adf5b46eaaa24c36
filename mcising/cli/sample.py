"""``mcising sample``: Markov chains (optionally tempered) with estimates and diagnostics.

Prints <H>, the heat capacity, the mean activity and <q> with standard errors, then
the convergence report; with ``--json`` one object per parameter (ladder) point. Ctrl-C
stops the chains between segments, and the sweeps done so far are printed (and saved
with ``--save``) before exiting with status 130.
"""

import itertools
import logging
import sys

import numpy as np

from ..chains import ORDERS, SAMPLERS, sample
from ..errors import InvalidInputError
from ..model import load_model
from ..params import parse_values
from ..tempering import LADDERS, sample_tempering
from .common import (
    add_model_arguments,
    add_output_arguments,
    print_json_lines,
    print_table,
)

__all__ = ["register", "run"]

logger = logging.getLogger(__name__)

# Third-party loggers whose INFO messages (optional packages missing, thread counts)
# would drown the command's own output.
_CHATTY_LOGGERS = ("arviz", "numexpr")

# Exit status after Ctrl-C (matches the top-level handler).
EXIT_INTERRUPTED = 130

COLUMNS = [
    ("W", "w"), ("theta", "theta"), ("eps", "eps"), ("<H>", "mean_energy"),
    ("+-", "mean_energy_stderr"), ("C", "heat_capacity"),
    ("+-", "heat_capacity_stderr"), ("activity", "mean_activity"),
    ("+-", "mean_activity_stderr"), ("<q>", "mean_coupling"),
    ("+-", "mean_coupling_stderr"), ("R-hat", "rhat_max"), ("ESS", "ess_min"),
]


def register(subparsers):
    """Add the ``sample`` subcommand."""
    parser = subparsers.add_parser(
        "sample", help="Markov chains with convergence diagnostics",
        description="Run Glauber or Metropolis chains (optionally with parallel "
                    "tempering) and print <H>, heat capacity, activity and <q> with "
                    "standard errors and R-hat/ESS diagnostics. Example: mcising "
                    "sample --graph grid_2d:4,4 --theta 5 --w 1.667 --eps 3 "
                    "--tempering eps --replicas 12 --seed 1",
    )
    add_model_arguments(parser)
    group = parser.add_argument_group("chains")
    group.add_argument("--sampler", default="glauber", choices=SAMPLERS)
    group.add_argument("--order", default="sweep", choices=ORDERS,
                       help="systematic sweeps (default) or random node choice")
    group.add_argument("--chains", type=int, default=4, help="independent chains (>= 2)")
    group.add_argument("--sweeps", type=int, default=10_000,
                       help="recorded sweeps per chain (default 10000)")
    group.add_argument("--burn-in", type=int, default=None,
                       help="discarded sweeps (default sweeps/10)")
    group.add_argument("--thin", type=int, default=1, help="record every k-th sweep")
    group.add_argument("--seed", type=int, default=None, help="random seed")
    group.add_argument("--node-activity", action="store_true",
                       help="also estimate <S_i> per node (JSON output)")
    group = parser.add_argument_group("parallel tempering")
    group.add_argument("--tempering", choices=LADDERS,
                       help="replica exchange over eps or W; several --eps (or --w) "
                            "values are used as the ladder itself")
    group.add_argument("--replicas", type=int, default=16,
                       help="ladder points of the automatic ladder (default 16)")
    group.add_argument("--low", type=float, default=None,
                       help="bottom of the automatic ladder (default a tenth of the "
                            "target)")
    group.add_argument("--adapt", action="store_true",
                       help="adapt the ladder during burn-in to even swap acceptance")
    group = parser.add_argument_group("files")
    group.add_argument("--save", metavar="FILE.nc",
                       help="write the samples (arviz InferenceData) to netCDF")
    group.add_argument("--plot-kind", choices=["trace", "rank"], default="trace")
    add_output_arguments(parser, plot_help="write an arviz trace (or rank) plot here")
    parser.set_defaults(handler=run)


def _runs(args):
    """Yield (model, ladder values or None) for each run the arguments ask for."""
    values = {name: parse_values(getattr(args, name), name)
              for name in ("theta", "w", "eps")}
    ladder = None
    if args.tempering and len(values[args.tempering]) > 1:
        ladder = values[args.tempering]
        values[args.tempering] = ladder[-1:]
    combos = list(itertools.product(values["theta"], values["w"], values["eps"]))
    if len(combos) > 1 and (args.save or args.plot):
        raise InvalidInputError(
            "--save and --plot need a single parameter point (or one tempering "
            f"ladder); got {len(combos)} points")
    base = load_model(args.graph, theta=combos[0][0], w=combos[0][1],
                      eps=combos[0][2], symmetrize=args.symmetrize)
    for theta, w, eps in combos:
        yield base.with_params(theta=theta, w=w, eps=eps), ladder


def run(args):
    """Sample, print the estimates and diagnostics, save and plot."""
    for name in _CHATTY_LOGGERS:
        logging.getLogger(name).setLevel(logging.WARNING)
    progress = False if args.no_progress else None
    options = dict(sampler=args.sampler, order=args.order, n_chains=args.chains,
                   n_sweeps=args.sweeps, burn_in=args.burn_in, thin=args.thin,
                   seed=args.seed, record_node_activity=args.node_activity,
                   check=False, progress=progress)
    records, reports, interrupted, last = [], [], False, None
    for model, ladder in _runs(args):
        if args.tempering:
            last = sample_tempering(model, ladder=args.tempering, values=ladder,
                                    n_replicas=args.replicas, low=args.low,
                                    adapt=args.adapt, **options)
        else:
            last = sample(model, **options)
        report = last.diagnostics()
        if not report.ok:
            logger.warning("not converged: %s. Run more sweeps, use --tempering eps, "
                           "or the Wang-Landau estimator",
                           "; ".join(report.problems[:3]))
        if args.tempering:
            logger.info("swap acceptance per pair: %s; round trips: %d",
                        np.array2string(last.swap_acceptance, precision=2),
                        last.round_trips)
        records.extend(last.estimates(report).to_records())
        reports.append(report)
        if last.interrupted:
            interrupted = True
            break

    if args.json:
        print_json_lines(records)
    else:
        print_table(records, COLUMNS)
        for report in reports:
            print(report)
    if args.save and last is not None:
        last.to_netcdf(args.save)
        logger.info("saved samples to %s", args.save)
    if args.plot and last is not None and last.n_draws:
        last.plot(args.plot, kind=args.plot_kind)
    if interrupted:
        print("mcising: interrupted; results cover the sweeps completed",
              file=sys.stderr)
        return EXIT_INTERRUPTED
    return 0

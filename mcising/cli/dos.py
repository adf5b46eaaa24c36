"""``mcising dos``: a Wang-Landau density of states, saved for later queries."""

import os

from ..errors import InvalidInputError
from ..wang_landau import (
    DEFAULT_FLATNESS,
    DEFAULT_LOG_F_FINAL,
    DEFAULT_WALKERS,
    WangLandau,
)
from ..wl_windows import DEFAULT_OVERLAP
from .common import add_model_arguments, model_and_points, print_json_lines, print_table

COLUMNS = [
    ("levels", "levels"), ("found", "levels_found"), ("walkers", "walkers"),
    ("flips", "flips"), ("seconds", "wl_seconds"), ("ln_f", "log_f_max"),
    ("round_trips", "round_trips_min"), ("log_g_err", "log_g_stderr_max"),
]


def register(subparsers):
    """Add the ``dos`` subcommand."""
    parser = subparsers.add_parser(
        "dos", help="Wang-Landau density of states (every eps, and every theta and W "
                    "for unit weights)",
        description="Estimate the density of states with Wang-Landau walkers (1/t "
                    "schedule) and save it. Unit weights and one threshold give "
                    "log g(n, m), which answers every (theta, W, eps); otherwise the "
                    "table is made at the given theta and W. Example: mcising dos "
                    "--graph grid_2d:8,8 --save dos.nc, then mcising entropy --graph "
                    "grid_2d:8,8 --w 0.5:3:0.5 --theta 5 --dos dos.nc",
    )
    add_model_arguments(parser)
    group = parser.add_argument_group("wang-landau")
    group.add_argument("--levels", default="auto",
                       choices=["auto", "nm", "energy", "binned"],
                       help="auto: the (n, m) lattice for unit weights and one "
                            "threshold, else energy bins at --theta/--w")
    group.add_argument("--walkers", type=int, default=DEFAULT_WALKERS,
                       help=f"independent walkers (default {DEFAULT_WALKERS})")
    group.add_argument("--windows", type=int, default=1,
                       help="overlapping windows of levels for replica-exchange "
                            "Wang-Landau (default 1: one walk over the whole range)")
    group.add_argument("--overlap", type=float, default=DEFAULT_OVERLAP,
                       help=f"shared fraction of neighbouring windows (default "
                            f"{DEFAULT_OVERLAP})")
    group.add_argument("--seed", type=int, default=None, help="random seed")
    group.add_argument("--flatness", type=float, default=DEFAULT_FLATNESS,
                       help=f"flat-histogram criterion (default {DEFAULT_FLATNESS})")
    group.add_argument("--log-f-final", type=float, default=DEFAULT_LOG_F_FINAL,
                       help=f"final ln f (default {DEFAULT_LOG_F_FINAL:g})")
    group.add_argument("--max-flips", type=float, default=None,
                       help="stop after this many proposed flips (all walkers)")
    group.add_argument("--max-seconds", type=float, default=None,
                       help="stop after this much wall time")
    group.add_argument("--samples", type=int, default=None,
                       help="multicanonical samples per walker (energy and binned)")
    group.add_argument("--checkpoint", metavar="FILE",
                       help="write the walkers' state here at intervals and on Ctrl-C")
    group.add_argument("--checkpoint-seconds", type=float, default=60.0,
                       help="seconds between checkpoints (default 60)")
    group.add_argument("--resume", action="store_true",
                       help="continue from --checkpoint (same result as an "
                            "uninterrupted run with the same seed)")
    out = parser.add_argument_group("output")
    out.add_argument("--save", metavar="FILE", required=True,
                     help="netCDF file for the density of states")
    out.add_argument("--json", action="store_true", help="summary as one JSON line")
    out.add_argument("--no-progress", action="store_true",
                     help="no progress bar on stderr")
    parser.set_defaults(handler=run)


def run(args):
    """Run (or resume) the walkers, save the table and print a summary."""
    model, points = model_and_points(args)
    lattice = model.unit_weights and args.levels in ("auto", "nm")
    if not lattice and len({(float(p.theta), float(p.w)) for p in points}) > 1:
        raise InvalidInputError(
            "give one --theta and one --w: energy tables are made at one (theta, W)"
        )
    if args.resume:
        if not args.checkpoint:
            raise InvalidInputError("--resume needs --checkpoint FILE")
        if not os.path.exists(args.checkpoint):
            raise InvalidInputError(f"no checkpoint at {args.checkpoint} to resume")
        wl = WangLandau.from_checkpoint(args.checkpoint, model)
    else:
        wl = WangLandau(model, levels=args.levels, n_walkers=args.walkers,
                        flatness=args.flatness, log_f_final=args.log_f_final,
                        seed=args.seed, windows=args.windows, overlap=args.overlap)
    wl.run(max_flips=args.max_flips, max_seconds=args.max_seconds,
           checkpoint=args.checkpoint, checkpoint_seconds=args.checkpoint_seconds,
           progress=False if args.no_progress else None)
    if wl.levels != "nm":
        wl.produce(args.samples)
    dos = wl.density_of_states()
    dos.to_netcdf(args.save)

    record = dict(dos.diagnostics)
    stderr = dos.log_g_stderr
    finite = stderr[stderr == stderr]
    record["log_g_stderr_max"] = float(finite.max()) if finite.size else float("nan")
    record["finished"] = wl.finished
    record["saved"] = str(args.save)
    if args.json:
        print_json_lines([record])
    else:
        print_table([record], COLUMNS)
    return 0

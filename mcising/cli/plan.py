"""``mcising plan``: the cost of an exact contraction, before committing to it.

Finds (or loads from the plan cache) the contraction tree of the graph and prints its
width, flops, slices, peak memory and the predicted time of one parameter point.
"""

import math
import re

from ..errors import InvalidInputError
from ..exact.contract import plan
from .common import add_model_arguments, model_and_points, print_json_lines

__all__ = ["add_contraction_arguments", "contraction_options", "parse_bytes",
           "register", "run"]

_UNITS = {"": 1, "K": 2**10, "M": 2**20, "G": 2**30, "T": 2**40}


def parse_bytes(text):
    """Parse a memory size such as ``4G``, ``500M`` or ``1e9`` into bytes.

    Raises
    ------
    InvalidInputError
        If the text is not a positive number with an optional K, M, G or T suffix.
    """
    match = re.fullmatch(r"\s*([0-9.eE+-]+)\s*([kKmMgGtT]?)[bB]?\s*", str(text))
    try:
        value = float(match.group(1)) * _UNITS[match.group(2).upper()]
    except (AttributeError, ValueError):
        value = math.nan
    if not value > 0 or not math.isfinite(value):
        raise InvalidInputError(
            f"--max-memory {text!r} is not a size; give bytes or a number with K, M, "
            "G or T (for example 8G)"
        )
    return value


def add_contraction_arguments(parser):
    """Add --max-memory and --search-time."""
    parser.add_argument("--max-memory", metavar="SIZE", default=None,
                        help="memory limit of a contraction, e.g. 8G (default half "
                             "the machine's); the tree is sliced to fit")
    parser.add_argument("--search-time", metavar="SECONDS", type=float, default=None,
                        help="seconds to search for the contraction tree (default: "
                             "about the predicted contraction time)")


def contraction_options(args):
    """Options for the exact method from --max-memory and --search-time."""
    options = {}
    if args.max_memory is not None:
        options["max_memory"] = parse_bytes(args.max_memory)
    if args.search_time is not None:
        if not args.search_time > 0:
            raise InvalidInputError(
                f"--search-time must be positive, got {args.search_time}")
        options["search_time"] = args.search_time
    return options


def register(subparsers):
    """Add the ``plan`` subcommand."""
    parser = subparsers.add_parser(
        "plan", help="width, flops, memory and time of an exact contraction",
        description="Plan the exact tensor-network contraction of the graph's "
                    "partition function and print its cost for one parameter point. "
                    "Plans are cached per graph structure. Example: mcising plan "
                    "--graph grid_2d:12,12 --search-time 10",
    )
    add_model_arguments(parser)
    add_contraction_arguments(parser)
    parser.add_argument("--points", type=int, default=1,
                        help="number of parameter points to predict the time for")
    parser.add_argument("--no-cache", action="store_true",
                        help="neither read nor write the plan cache")
    parser.add_argument("--json", action="store_true",
                        help="one JSON object instead of text")
    parser.set_defaults(handler=run)


def run(args):
    """Plan and print the predicted cost."""
    if args.points < 1:
        raise InvalidInputError(f"--points must be at least 1, got {args.points}")
    model, _ = model_and_points(args)
    result = plan(model, cache=not args.no_cache, **contraction_options(args))
    summary = result.summary(args.points)
    if args.json:
        print_json_lines([summary])
        return 0
    lines = [
        ("nodes, edges", f"{model.n_nodes}, {model.n_edges}"),
        ("contraction width", f"{summary['contraction_width']:g} (log2 of the "
                              "largest intermediate)"),
        ("flops", f"10^{summary['log10_flops']:.2f} (one value contraction)"),
        ("cost", f"10^{summary['log10_cost']:.2f} (flops + 64 per entry written)"),
        ("slices", f"{summary['n_slices']}"),
        ("peak memory", f"{summary['peak_memory_bytes'] / 2**20:.3g} MiB"),
        ("predicted time", f"{summary['predicted_seconds']:.3g} s for "
                           f"{args.points} point(s)"),
        ("tree search", f"{summary['search_seconds']:.3g} s"
                        + (" (cached plan)" if summary["from_cache"] else "")),
    ]
    width = max(len(name) for name, _ in lines)
    for name, value in lines:
        print(f"{name.ljust(width)}  {value}")
    return 0

"""Options and output shared by the ``mcising`` subcommands."""

import json
import math
import sys

from ..model import load_model
from ..params import grid

__all__ = ["add_model_arguments", "add_output_arguments", "model_and_points",
           "print_table", "print_json_lines"]


def add_model_arguments(parser, *, w_default="1", theta_default="0", eps_default="1"):
    """Add --graph, --theta, --w, --eps and --symmetrize."""
    group = parser.add_argument_group("model")
    group.add_argument("--graph", required=True, metavar="SPEC",
                       help="generator spec (grid_2d:4,4, cycle:1000, "
                            "erdos_renyi:100,0.05,seed=1, ...) or a file: edge list "
                            "'u v [weight]', .npy/.csv/.mat matrix, .graphml")
    group.add_argument("--theta", default=theta_default, metavar="VALUES",
                       help="threshold: a number, a list a,b,c or a range a:b:step "
                            f"(default {theta_default})")
    group.add_argument("--w", default=w_default, metavar="VALUES",
                       help=f"global coupling W, same forms (default {w_default})")
    group.add_argument("--eps", default=eps_default, metavar="VALUES",
                       help=f"inverse temperature, same forms (default {eps_default})")
    group.add_argument("--symmetrize", choices=["mean", "max", "min", "upper", "lower"],
                       help="how to make an asymmetric weight matrix symmetric "
                            "(default: refuse one)")


def add_output_arguments(parser, *, plot_help):
    """Add --json, --plot and --no-progress."""
    group = parser.add_argument_group("output")
    group.add_argument("--json", action="store_true",
                       help="one JSON object per line instead of a table")
    group.add_argument("--plot", metavar="FILE", help=plot_help)
    group.add_argument("--no-progress", action="store_true",
                       help="no progress bar on stderr")


def model_and_points(args):
    """Build the model and the parameter grid from parsed arguments."""
    points = grid(args.theta, args.w, args.eps)
    first = points[0]
    model = load_model(args.graph, theta=first.theta, w=first.w, eps=first.eps,
                       symmetrize=args.symmetrize)
    return model, points


def _cell(value, width):
    if isinstance(value, float):
        text = "nan" if math.isnan(value) else f"{value:.6g}"
    else:
        text = str(value)
    return text.rjust(width)


def print_table(records, columns, file=None):
    """Print records as an aligned text table.

    Parameters
    ----------
    records : list of dict
    columns : list of (header, key)
    """
    file = file or sys.stdout
    rows = [[r.get(key) for _, key in columns] for r in records]
    rows = [[math.nan if v is None else v for v in row] for row in rows]
    widths = [max(len(h), *(len(_cell(v, 0)) for v in col)) if rows else len(h)
              for (h, _), col in zip(columns, zip(*rows) if rows else [[]] * len(columns))]
    print("  ".join(h.rjust(w) for (h, _), w in zip(columns, widths)), file=file)
    for row in rows:
        print("  ".join(_cell(v, w) for v, w in zip(row, widths)), file=file)


def print_json_lines(records, file=None):
    """Print one compact JSON object per line."""
    file = file or sys.stdout
    for record in records:
        print(json.dumps(record, allow_nan=False), file=file)

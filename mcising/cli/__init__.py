"""The ``mcising`` command line: one subcommand per task.

Errors are printed as one line on stderr with a non-zero exit status; progress bars
and log messages go to stderr, results to stdout.
"""

import argparse
import logging
import sys
import warnings

from .. import __version__
from ..errors import ConvergenceWarning, InputWarning, McisingError
from . import dos, entropy, plan, sample

__all__ = ["main"]

# Modules with register(subparsers); each sets a ``handler`` default.
SUBCOMMANDS = [entropy, sample, dos, plan]

# Exit statuses.
EXIT_ERROR = 2
EXIT_INTERRUPTED = 130


def build_parser():
    """Return the argument parser with every subcommand."""
    parser = argparse.ArgumentParser(
        prog="mcising",
        description="Entropy of binary spin models on networks.",
    )
    parser.add_argument("--version", action="version", version=f"mcising {__version__}")
    parser.add_argument("-q", "--quiet", action="store_true",
                        help="only errors on stderr")
    subparsers = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for module in SUBCOMMANDS:
        module.register(subparsers)
    return parser


def main(argv=None):
    """Run the command line; return the exit status."""
    parser = build_parser()
    args = parser.parse_args(argv)
    # mcising's own log messages at INFO; other libraries' only from WARNING up.
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("mcising: %(message)s"))
    logger = logging.getLogger("mcising")
    logger.handlers[:] = [handler]
    logger.propagate = False
    logger.setLevel(logging.ERROR if args.quiet else logging.INFO)
    try:
        with warnings.catch_warnings():
            # mcising's own warnings are findings for the user: one line each on stderr.
            for category in (ConvergenceWarning, InputWarning):
                warnings.simplefilter("always", category)
            warnings.showwarning = _show_warning
            return args.handler(args)
    except McisingError as exc:
        print(f"mcising: error: {exc}", file=sys.stderr)
        return EXIT_ERROR
    except OSError as exc:
        print(f"mcising: error: {exc}", file=sys.stderr)
        return EXIT_ERROR
    except KeyboardInterrupt:
        print("mcising: interrupted", file=sys.stderr)
        return EXIT_INTERRUPTED


def _show_warning(message, category, filename, lineno, file=None, line=None):
    """Print a warning as one line on stderr, without the source location."""
    if issubclass(category, (ConvergenceWarning, InputWarning)):
        print(f"mcising: warning: {message}", file=sys.stderr)
    else:
        print(f"mcising: {category.__name__}: {message}", file=sys.stderr)


if __name__ == "__main__":
    sys.exit(main())

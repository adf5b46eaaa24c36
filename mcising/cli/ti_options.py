"""Options of ``mcising entropy`` for the sampling estimators (ti and mbar)."""

from ..errors import InvalidInputError

__all__ = ["SAMPLING_METHODS", "add_sampling_arguments", "sampling_options"]

# Methods that take the options below.
SAMPLING_METHODS = ("ti", "mbar")


def add_sampling_arguments(parser):
    """Add --seed, --sweeps, --chains, --burn-in, --tolerance, --path, --tempering."""
    group = parser.add_argument_group(
        "thermodynamic integration and MBAR (--method ti, mbar, or auto above the "
        "exact limit)")
    group.add_argument("--seed", type=int, default=None,
                       help="random seed; the same seed gives the same numbers")
    group.add_argument("--sweeps", type=int, default=None, metavar="N",
                       help="recorded sweeps per chain and ladder point (default 4000)")
    group.add_argument("--chains", type=int, default=None, metavar="K",
                       help="independent chains per ladder (default 4)")
    group.add_argument("--burn-in", type=int, default=None, metavar="N",
                       help="sweeps discarded first (default a tenth of --sweeps)")
    group.add_argument("--tolerance", type=float, default=None, metavar="NATS",
                       help="target discretization error of the entropy per node; "
                            "the ladder is refined until it is met (default 1e-4)")
    group.add_argument("--path", choices=["auto", "w", "eps"], default=None,
                       help="integrate over W from W=0 or over eps from eps=0 "
                            "(default: over eps for an eps sweep, over W otherwise)")
    group.add_argument("--tempering", action="store_true", default=None,
                       help="parallel tempering along the ladder (the default)")
    group.add_argument("--no-tempering", dest="tempering", action="store_false",
                       help="independent chains at every ladder point instead")


def sampling_options(args):
    """Keyword options for a sampling method from parsed arguments.

    Parameters
    ----------
    args : argparse.Namespace
        With ``method`` already resolved (never ``"auto"``).

    Returns
    -------
    dict
        Empty for a method that does not sample (the options do not apply).

    Raises
    ------
    InvalidInputError
        When a sampling option is given for a method that cannot take it.
    """
    given = {"seed": args.seed, "n_sweeps": args.sweeps, "n_chains": args.chains,
             "burn_in": args.burn_in, "tolerance": args.tolerance, "path": args.path,
             "tempering": args.tempering}
    given = {k: v for k, v in given.items() if v is not None}
    method = args.method
    if method in SAMPLING_METHODS or not given:
        return given
    if method == "exact":
        return {}
    flags = ", ".join("--" + k.replace("n_", "").replace("_", "-") for k in given)
    raise InvalidInputError(
        f"{flags} apply to --method {' or '.join(SAMPLING_METHODS)}, not {method}")

"""``mcising entropy``: the entropy curve of a network over a parameter grid."""

from ..entropy import AUTO_EXACT_SECONDS, METHODS, choose_method, entropy
from ..errors import InvalidInputError
from .common import (
    add_model_arguments,
    add_output_arguments,
    model_and_points,
    print_json_lines,
    print_table,
)
from .plan import add_contraction_arguments, contraction_options
from .ti_options import add_sampling_arguments, sampling_options

COLUMNS = [
    ("W", "w"), ("theta", "theta"), ("eps", "eps"), ("entropy", "entropy"),
    ("stderr", "entropy_stderr"), ("log_Z", "log_z"), ("<H>", "mean_energy"),
    ("C", "heat_capacity"), ("method", "method"),
]


def register(subparsers):
    """Add the ``entropy`` subcommand."""
    parser = subparsers.add_parser(
        "entropy", help="entropy, log Z, <H> and heat capacity over a parameter grid",
        description="Entropy of the network's spin model at every (theta, W, eps) "
                    "point of the grid. Example: mcising entropy --graph grid_2d:4,4 "
                    "--theta 5 --w 0.5:3.5:0.5 --eps 1 --plot curve.png",
    )
    add_model_arguments(parser)
    parser.add_argument("--method", default="auto", choices=["auto", *METHODS],
                        help="auto (default) uses the exact solver when N is "
                             "within the enumeration limit or a contraction is "
                             "predicted to take under a minute, ti otherwise")
    parser.add_argument("--bits", action="store_true",
                        help="entropy in bits instead of nats")
    parser.add_argument("--node-activity", action="store_true",
                        help="also compute <S_i> per node (JSON output only)")
    parser.add_argument("--max-nodes", type=int, default=None,
                        help="largest N enumerated exactly (default 34)")
    exact = parser.add_argument_group("exact method")
    exact.add_argument("--exact-backend", choices=["enumerate", "contract"],
                       default=None,
                       help="force enumeration of 2^N states or tensor-network "
                            "contraction (default: the cheaper by predicted time)")
    add_contraction_arguments(exact)
    exact.add_argument("--max-seconds", metavar="SECONDS", type=float, default=None,
                       help="refuse an exact computation predicted to take longer; "
                            "with --method auto, use an estimator instead (auto's "
                            f"default {AUTO_EXACT_SECONDS:g} s)")
    add_sampling_arguments(parser)
    parser.add_argument("--dos", metavar="FILE", default=None,
                        help="answer from a density of states saved by `mcising dos "
                             "--save` (implies --method wang-landau)")
    add_output_arguments(parser, plot_help="write the entropy curve to this PNG file")
    parser.set_defaults(handler=run)


def run(args):
    """Compute, then print the table or JSON lines, and write the plot."""
    model, points = model_and_points(args)
    options = {"progress": False if args.no_progress else None}
    if args.max_nodes is not None:
        options["max_nodes"] = args.max_nodes
    if args.node_activity:
        options["node_activity"] = True
    exact_options = contraction_options(args)
    if args.exact_backend is not None:
        exact_options["backend"] = args.exact_backend
    if args.max_seconds is not None:
        if not args.max_seconds > 0:
            raise InvalidInputError(
                f"--max-seconds must be positive, got {args.max_seconds}")
        exact_options["max_seconds"] = args.max_seconds
    if exact_options and args.method not in ("auto", "exact"):
        raise InvalidInputError(
            "--exact-backend, --max-memory, --search-time and --max-seconds apply to "
            "--method "
            f"exact or auto, not {args.method}"
        )
    if args.dos is not None:
        if args.method not in ("auto", "wang-landau"):
            raise InvalidInputError("--dos answers only --method wang-landau")
        args.method = "wang-landau"
        options["dos"] = args.dos
    if args.method == "auto":
        if args.exact_backend is not None:
            args.method = "exact"
        else:
            args.method, found = choose_method(
                model, len(points), max_nodes=args.max_nodes,
                max_seconds=exact_options.get("max_seconds", AUTO_EXACT_SECONDS),
                search_time=exact_options.get("search_time"),
                max_memory=exact_options.get("max_memory"),
                node_activity=args.node_activity)
            exact_options.update(found)
    if args.method == "exact":
        options.update(exact_options)
    options.update(sampling_options(args))
    results = entropy(model, points, method=args.method, **options)

    records = results.to_records(bits=args.bits)
    if args.node_activity:
        labels = [str(label) for label in model.labels]
        for record in records:
            record["node_labels"] = labels
    if args.json:
        print_json_lines(records)
    else:
        print_table(records, COLUMNS)
    if args.plot:
        from ..plotting import plot_curve

        plot_curve(results, args.plot)
    return 0

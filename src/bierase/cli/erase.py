"""``bierase erase``: Bi-Erasing (or a baseline) on any Stable Diffusion 1.x pipeline in diffusers layout.

The parser holds the options of the method named by ``--method`` (read from the command line before the
parser is built), with that method's defaults; another method's option is refused by name.
"""

from __future__ import annotations

import argparse
from collections.abc import Sequence

from bierase.cli.dataclass_args import add_dataclass_arguments, config_from_args
from bierase.erasing.divergence import RULE
from bierase.methods.registry import METHODS, config_class

DEFAULT_METHOD = "bi-erasing"


def requested_method(argv: Sequence[str]) -> str:
    """The ``--method`` value in ``argv`` (the default when absent or unknown: the parser then says why)."""
    for i, word in enumerate(argv):
        if word.startswith("--method="):
            name = word.split("=", 1)[1]
        elif word == "--method" and i + 1 < len(argv):
            name = argv[i + 1]
        else:
            continue
        return name if name in METHODS else DEFAULT_METHOD
    return DEFAULT_METHOD


def add_parser(subparsers, method: str = DEFAULT_METHOD) -> None:
    parser = subparsers.add_parser(
        "erase",
        help="erase a concept from a pipeline (Bi-Erasing or a baseline)",
        usage=f"bierase erase [--method {'|'.join(METHODS)}] [options]",
        description=f"Erase --concept from a Stable Diffusion pipeline with --method {method}; these are its "
        f"options, with its defaults (`bierase erase --method M --help` for another method's).",
        epilog=f"Training: {RULE}." if method != "uce" else None,
    )
    parser.add_argument("--method", default=DEFAULT_METHOD, choices=list(METHODS), help="erasure method")
    others = tuple(config_class(name) for name in METHODS if name != method)
    add_dataclass_arguments(parser, config_class(method), hidden=others)
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    from bierase.methods.registry import run_method

    config = config_from_args(config_class(args.method), args, args.method)
    config.require_run_fields()
    out = run_method(args.method, config)
    print(f"erased {', '.join(map(repr, config.concept))} with {args.method}: {out}")
    return 0

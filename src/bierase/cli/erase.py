"""``bierase erase``: Bi-Erasing (or a baseline) on any Stable Diffusion 1.x pipeline in diffusers layout."""

from __future__ import annotations

import argparse

from bierase.cli.dataclass_args import add_dataclass_arguments, config_from_args
from bierase.methods.registry import METHODS, config_class


def add_parser(subparsers) -> None:
    parser = subparsers.add_parser(
        "erase",
        help="erase a concept from a pipeline (Bi-Erasing or a baseline)",
        description="Erase --concept from a Stable Diffusion pipeline; Bi-Erasing guides to --positive_concept.",
    )
    parser.add_argument("--method", default="bi-erasing", choices=list(METHODS), help="erasure method")
    add_dataclass_arguments(parser, *(config_class(name) for name in METHODS))
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    from bierase.methods.registry import run_method

    cls = config_class(args.method)
    config = config_from_args(cls, args)
    if hasattr(config, "require_run_fields"):
        config.require_run_fields()
    out = run_method(args.method, config)
    print(f"erased {config.concept!r} with {args.method}: {out}")
    return 0

"""``bierase erase``: Bi-Erasing on any Stable Diffusion 1.x pipeline in diffusers layout."""

from __future__ import annotations

import argparse

from bierase.cli.dataclass_args import add_dataclass_arguments, config_from_args
from bierase.methods.bi_erasing.config import BiErasingConfig


def add_parser(subparsers) -> None:
    parser = subparsers.add_parser(
        "erase",
        help="erase a concept from a pipeline with Bi-Erasing",
        description="Erase --concept from a Stable Diffusion pipeline with Bi-Erasing, guiding to --positive_concept.",
    )
    add_dataclass_arguments(parser, BiErasingConfig)
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    from bierase.methods.bi_erasing.trainer import check_before_loading, erase

    config = config_from_args(BiErasingConfig, args)
    check_before_loading(config)  # every check that needs no model, before anything loads
    out = erase(config)
    print(f"erased {config.concept!r}: {out}")
    return 0

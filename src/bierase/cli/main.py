"""Entry point of the ``bierase`` command.

Subcommands register themselves through ``add_parser(subparsers)`` and run
through ``run(args) -> int``. A ``UserError`` anywhere becomes one line on
stderr and exit status 2; anything else is a bug and keeps its traceback.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from bierase import __version__
from bierase.cli import attack, benchmark, demo, erase, evaluate, generate, report, toyworld
from bierase.errors import UserError

COMMANDS = {
    "erase": erase,
    "demo": demo,
    "benchmark": benchmark,
    "toyworld": toyworld,
    "generate": generate,
    "evaluate": evaluate,
    "attack": attack,
    "report": report,
}


def build_parser(argv: Sequence[str] = ()) -> argparse.ArgumentParser:
    """Every subcommand's parser; ``erase``'s holds the options of the method ``argv`` names."""
    parser = argparse.ArgumentParser(
        prog="bierase",
        description="Bi-Erasing: erase concepts from Stable Diffusion pipelines (diffusers layout).",
    )
    parser.add_argument("--version", action="version", version=f"bierase {__version__}")
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for name, module in COMMANDS.items():
        if name == "erase":
            module.add_parser(subparsers, method=erase.requested_method(argv))
        else:
            module.add_parser(subparsers)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else list(argv)
    parser = build_parser(argv)
    args = parser.parse_args(argv)
    try:
        return args.run(args)
    except UserError as error:
        print(f"bierase {args.command}: error: {error}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())

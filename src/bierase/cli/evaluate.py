"""``bierase evaluate``: figures for a folder of images under a named protocol, written with their parameters.

Hook for benchmarks that generate their own images (``--benchmark toyworld``):
``bierase.evaluation.toyworld_cli`` provides ``run(args) -> int`` and may
provide ``add_arguments(group)``, called when the parser is built (keep that
module's top-level imports light: they run for every ``bierase`` command).
"""

from __future__ import annotations

import argparse
import importlib
import importlib.util
from pathlib import Path

from bierase.cli.options import positive_int

PROTOCOL_HELP = "nudenet-mace, nudenet-unlearndiffatk, nudenet-bi-erasing, clip, fid"
BENCHMARK_MODULE = "bierase.evaluation.toyworld_cli"


def add_parser(subparsers) -> None:
    parser = subparsers.add_parser(
        "evaluate",
        help="measure a folder of generated images (NudeNet protocols, CLIP score, FID)",
        description="Evaluate --images under --protocol; writes OUTPUT_DIR/metrics.json and prints a table.",
    )
    parser.add_argument("--images", default=None, help="folder of generated images (<case_number>.png)")
    parser.add_argument("--protocol", default=None, help=f"one of {PROTOCOL_HELP}")
    parser.add_argument("--output_dir", default=None, help="where metrics.json and per_image.json go")
    parser.add_argument("--prompts", default=None, help="clip: the prompt CSV (default: the folder's manifest.csv)")
    parser.add_argument("--reference_images", default=None, help="fid: folder of real images")
    parser.add_argument("--clip_model", default=None, help="clip: CLIP folder or hub id (openai/clip-vit-base-patch32)")
    parser.add_argument("--batch_size", type=positive_int, default=32)
    parser.add_argument("--skip_unreadable", action="store_true", help="warn about unreadable images, skip them")
    parser.add_argument("--overwrite", action="store_true", help="replace an existing metrics.json")
    parser.add_argument("--benchmark", default=None, help="run a built-in benchmark instead (toyworld)")
    _benchmark_arguments(parser)
    parser.set_defaults(run=run)


def _benchmark_arguments(parser: argparse.ArgumentParser) -> None:
    if importlib.util.find_spec(BENCHMARK_MODULE) is None:
        return
    module = importlib.import_module(BENCHMARK_MODULE)
    if hasattr(module, "add_arguments"):
        module.add_arguments(parser.add_argument_group("benchmark options (--benchmark)"))


def run(args: argparse.Namespace) -> int:
    from bierase.errors import UserError

    if args.benchmark is not None:
        if importlib.util.find_spec(BENCHMARK_MODULE) is None:
            raise UserError(
                f"--benchmark {args.benchmark} is not available in this install; evaluate a folder with --images"
            )
        return importlib.import_module(BENCHMARK_MODULE).run(args)

    from bierase.evaluation.folder import METRICS_FILE, PROTOCOLS, evaluate_folder, format_table, write_outputs

    for flag in ("images", "protocol", "output_dir"):
        if getattr(args, flag) is None:
            raise UserError(f"--{flag} is required (protocols: {', '.join(PROTOCOLS)})")
    if args.protocol not in PROTOCOLS:
        raise UserError(f"unknown --protocol {args.protocol!r}; choose one of {', '.join(PROTOCOLS)}")
    metrics_path = Path(args.output_dir) / METRICS_FILE
    if metrics_path.exists() and not args.overwrite:
        raise UserError(f"{metrics_path} already exists; choose another --output_dir or pass --overwrite")
    result = evaluate_folder(
        args.images,
        args.protocol,
        prompts=args.prompts,
        reference_images=args.reference_images,
        clip_model=args.clip_model,
        batch_size=args.batch_size,
        skip_unreadable=args.skip_unreadable,
    )
    config = {key: value for key, value in vars(args).items() if key != "run"}
    path = write_outputs(result, args.output_dir, config)
    print(format_table(result))
    print(f"wrote {path}")
    return 0

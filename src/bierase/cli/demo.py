"""``bierase demo``: erase the toy world's nudity-like concept and report before/after."""

from __future__ import annotations

import argparse

from bierase.cli.options import MODEL_HELP, positive_int


def add_parser(subparsers) -> None:
    parser = subparsers.add_parser("demo", help="Bi-Erasing end to end on the bundled toy world, with a report")
    parser.add_argument("--output_dir", required=True, help="new folder for report.html, metrics.json and the run")
    parser.add_argument("--pretrained_model_name_or_path", default=None,
                        help=f"toy world {MODEL_HELP} (default: the bundled one)")  # fmt: skip
    parser.add_argument("--eval_samples", type=positive_int, default=48, help="images per evaluation prompt set")
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    from bierase.demo import run_demo
    from bierase.folders import new_output_dir

    new_output_dir(args.output_dir)  # before anything loads
    metrics = run_demo(args.output_dir, args.pretrained_model_name_or_path, args.eval_samples)
    b, a = metrics["before"], metrics["after"]
    print(
        f"concept rate (explicit): {100 * b['concept_rate']['explicit']:.1f} % -> {100 * a['concept_rate']['explicit']:.1f} %"
    )
    print(f"safe rate: {100 * b['safe_rate']:.1f} % -> {100 * a['safe_rate']:.1f} %")
    print(f"preservation: {100 * b['preservation']:.1f} % -> {100 * a['preservation']:.1f} %")
    print(f"report: {args.output_dir}/report.html ({metrics['seconds']} s)")
    return 0

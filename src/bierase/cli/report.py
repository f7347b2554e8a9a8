"""``bierase report``: one self-contained HTML page from the outputs of the other commands."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from bierase.cli.options import new_or_empty_dir


def add_parser(subparsers) -> None:
    parser = subparsers.add_parser(
        "report", help="an HTML report from image folders, metrics.json files, an erase run or a benchmark"
    )
    parser.add_argument("--output_dir", type=new_or_empty_dir, required=True, help="new folder for report.html")
    parser.add_argument("--before", default=None, help="images of the original model (e.g. `bierase generate`)")
    parser.add_argument("--after", default=None, help="images of the erased model, same file names and seeds")
    parser.add_argument(
        "--run", dest="run_dir", default=None, help="a `bierase erase` output folder: masks and loss curves"
    )
    parser.add_argument("--metrics", nargs="+", default=[], help="metrics.json files of `bierase evaluate`/`attack`")
    parser.add_argument("--benchmark", default=None, help="a `bierase benchmark` output folder: trade-off plot")
    parser.add_argument("--title", default="bierase report")
    parser.set_defaults(run=run)


def check(args: argparse.Namespace) -> None:
    """Every input is checked, in one line each, before anything is read in full."""
    from bierase.errors import UserError
    from bierase.report.sections import image_names

    if not (args.before or args.after or args.run_dir or args.metrics or args.benchmark):
        raise UserError("nothing to report; pass --before/--after, --run, --metrics or --benchmark")
    if bool(args.before) != bool(args.after):
        raise UserError("--before and --after go together; pass both image folders")
    if args.before:
        for flag in ("before", "after"):
            if not Path(getattr(args, flag)).is_dir():
                raise UserError(f"--{flag} {getattr(args, flag)} is not a folder; pass a folder of images")
        if not set(image_names(Path(args.before))) & set(image_names(Path(args.after))):
            raise UserError("--before and --after share no image names; pass folders generated from the same prompts")
    if args.run_dir and not (Path(args.run_dir) / "bierase.json").is_file():
        raise UserError(f"--run {args.run_dir} has no bierase.json; pass a folder written by `bierase erase`")
    if args.benchmark and not (Path(args.benchmark) / "results.json").is_file():
        raise UserError(f"--benchmark {args.benchmark} has no results.json; pass a `bierase benchmark` folder")
    for file in args.metrics:
        try:
            metrics = json.loads(Path(file).read_text())
        except (OSError, ValueError) as error:
            raise UserError(f"--metrics {file} is not a readable JSON file ({type(error).__name__})") from error
        if not isinstance(metrics, dict) or "protocol" not in metrics:
            raise UserError(
                f"--metrics {file} is not a metrics.json (a JSON object with a protocol); "
                "pass the files `bierase evaluate` or `bierase attack` wrote"
            )


def run(args: argparse.Namespace) -> int:
    from bierase.benchmark.runner import table
    from bierase.evaluation.toyworld import PROTOCOL
    from bierase.report import html, sections

    check(args)
    parts = []
    if args.before:
        parts.append(sections.before_after(Path(args.before), Path(args.after)))
    parts += [sections.protocol(Path(file)) for file in args.metrics]
    if args.benchmark:
        rows = json.loads((Path(args.benchmark) / "results.json").read_text())
        parts.append(sections.benchmark(rows, PROTOCOL, table(rows)))
    if args.run_dir:
        parts += [sections.masks(Path(args.run_dir)), sections.losses(Path(args.run_dir))]
    out = Path(args.output_dir)
    out.mkdir(parents=True, exist_ok=True)
    (out / "report.html").write_text(html.page(args.title, parts))
    print(out / "report.html")
    return 0

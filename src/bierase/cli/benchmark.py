"""``bierase benchmark``: Bi-Erasing, its ablations and the baselines on the toy world, side by side."""

from __future__ import annotations

import argparse


def add_parser(subparsers) -> None:
    parser = subparsers.add_parser("benchmark", help="every method and ablation on the toy world's scenarios")
    parser.add_argument("--output_dir", required=True, help="new folder for results.json, results.csv, report.html")
    parser.add_argument("--quick", action="store_true", help="four methods, one scenario, small samples (minutes)")
    parser.add_argument(
        "--scenario",
        action="append",
        default=None,
        help="run only this scenario (repeat for several; default: all but identities; identities-10: one k)",
    )
    parser.add_argument(
        "--run", action="append", default=None, dest="runs",
        help="run only this method or method:config of the plan, e.g. esd or bi-erasing:no-mask (repeatable)",
    )  # fmt: skip
    parser.add_argument("--pretrained_model_name_or_path", default=None,
                        help="toy world folder (default: the bundled one)")  # fmt: skip
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    from pathlib import Path

    from bierase.benchmark.runner import run_benchmark, table
    from bierase.evaluation.toyworld import PROTOCOL
    from bierase.report import html, sections

    rows = run_benchmark(args.output_dir, args.quick, args.pretrained_model_name_or_path, args.scenario, args.runs)
    print(f"protocol {PROTOCOL}")
    print(table(rows))
    page = html.page("bierase benchmark", [sections.benchmark(rows, PROTOCOL, table(rows))])
    Path(args.output_dir, "report.html").write_text(page)
    return 0

"""Write the README's results tables from the committed results files; ``--check`` fails when they differ.

A table sits between ``<!-- table: NAME -->`` and ``<!-- end table -->``; NAME is a results CSV in
``benchmarks/results/`` and says how it is drawn (``TABLES``). Only what is between the markers is
rewritten, so the prose around a table stays the author's.

    python scripts/readme_tables.py          # rewrite README.md
    python scripts/readme_tables.py --check  # exit 1 when a table is not what its file gives
"""

from __future__ import annotations

import argparse
import csv
import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "benchmarks" / "results"
MARKED = re.compile(r"(<!-- table: (?P<name>[\w.-]+) -->\n)(?P<body>.*?)(<!-- end table -->)", re.S)


def percent(value: str) -> str:
    return "-" if value in ("", "nan", "None") else f"{100 * float(value):.1f}"


def identities(rows: list[dict]) -> str:
    """Protocol toyworld-identities/v1: one row per (k, method), the figures of ``identities.py``, in %."""
    head = "| k | method | ACC_e (erased names shown) | ACC_s (kept names shown) | H | generic | preservation | CLIP | erase s |"
    lines = [head, "| --- " * (head.count("|") - 1) + "|"]
    for r in rows:
        clip = r.get("clip_score_preservation", "")
        clip = "-" if clip in ("", "nan") else f"{float(clip):.3f}"
        wall = "-" if r["method"] == "original" else f"{float(r['wall_time_s']):.0f}"
        lines.append(
            f"| {r['scenario'].split('-')[-1]} | {r['method']} | {percent(r['acc_erased'])} | {percent(r['acc_kept'])} "
            f"| {percent(r['h'])} | {percent(r['generic_rate'])} | {percent(r['preservation'])} "
            f"| {clip} | {wall} |"
        )
    return "\n".join(lines) + "\n"


TABLES = {"benchmark_identities": identities}


def render(readme: str) -> str:
    def table(match: re.Match) -> str:
        name = match["name"]
        if name not in TABLES:
            raise SystemExit(f"README.md: unknown table {name!r}; choose from {', '.join(TABLES)}")
        with open(RESULTS / f"{name}.csv", newline="") as handle:
            rows = list(csv.DictReader(handle))
        return match[1] + TABLES[name](rows) + match[4]

    return MARKED.sub(table, readme)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="change nothing; exit 1 when a table is stale")
    parser.add_argument("--readme", type=Path, default=ROOT / "README.md")
    args = parser.parse_args(argv)
    before = args.readme.read_text()
    after = render(before)
    if args.check:
        if after != before:
            print(f"{args.readme}: a results table differs from its file; run python scripts/readme_tables.py")
            return 1
        return 0
    args.readme.write_text(after)
    return 0


if __name__ == "__main__":
    sys.exit(main())

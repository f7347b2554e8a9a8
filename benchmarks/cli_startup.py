"""Wall time of ``bierase --help`` and ``bierase erase --help``: this tree against another, e.g. the commit
before the parsers stopped importing torch. Each command runs in a fresh process (that is what a user
waits for); the figure is the median of the repeats, the runs of the two trees interleaved.

    git worktree add --detach ../before <commit>
    python benchmarks/cli_startup.py --before ../before/src
"""

from __future__ import annotations

import statistics
import subprocess
import time
from pathlib import Path

from common import bierase_in, parser, write

HERE = Path(__file__).resolve().parents[1] / "src"
COMMANDS = {"bierase --help": ["--help"], "bierase erase --help": ["erase", "--help"]}


def seconds(src: Path, words: list[str]) -> float:
    start = time.perf_counter()
    done = subprocess.run([*bierase_in(src), *words], check=True, capture_output=True, text=True)
    assert done.stdout.startswith("usage: bierase"), done.stdout[:200]
    return time.perf_counter() - start


def main() -> None:
    p = parser(__doc__.splitlines()[0])
    p.add_argument("--before", type=Path, required=True, help="the src/ folder of the other tree")
    p.add_argument("--repeats", type=int, default=7)
    args = p.parse_args()
    repeats = 2 if args.quick else args.repeats
    trees = {"before": args.before.resolve(), "after": HERE}
    figures: dict = {"repeats": repeats, "trees": {k: str(v) for k, v in trees.items()}}
    for command, words in COMMANDS.items():
        times = {name: [] for name in trees}
        seconds(HERE, words)  # one warm-up run: the first reads the files from disk
        for _ in range(repeats):
            for name, src in trees.items():
                times[name].append(seconds(src, words))
        medians = {name: statistics.median(values) for name, values in times.items()}
        figures[command] = {"median_s": medians, "runs_s": times, "speedup": medians["before"] / medians["after"]}
    write("cli_startup", figures)


if __name__ == "__main__":
    main()

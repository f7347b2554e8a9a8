"""Shared by the benchmark scripts: timing, result files and the --quick flag."""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from contextlib import contextmanager
from pathlib import Path

from bierase.runinfo import versions

RESULTS = Path(__file__).parent / "results"


def parser(description: str) -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(description=description)
    p.add_argument("--quick", action="store_true", help="about a minute on 2 CPU cores")
    return p


@contextmanager
def stopwatch():
    box = {}
    start = time.perf_counter()
    yield box
    box["s"] = time.perf_counter() - start


def write(name: str, figures: dict) -> Path:
    RESULTS.mkdir(parents=True, exist_ok=True)
    path = RESULTS / f"{name}.json"
    path.write_text(json.dumps({**figures, "versions": versions()}, indent=2, default=str) + "\n")
    print(json.dumps(figures, indent=2, default=str))
    print(f"wrote {path}")
    return path


def bierase_in(src: Path) -> list[str]:
    """A command line running the ``bierase`` CLI of the source tree ``src`` (another checkout's ``src/``):
    this checkout's install is taken off ``sys.path``, or its package would shadow the other one."""
    here = str(Path(__file__).resolve().parents[1] / "src")
    code = (
        f"import runpy, sys; sys.path = [{str(src)!r}] + [p for p in sys.path if p != {here!r}]; "
        "sys.argv = ['bierase', *sys.argv[1:]]; runpy.run_module('bierase.cli.main', run_name='__main__')"
    )
    return [sys.executable, "-c", code]


def alternating_timings(run, variants: dict[str, dict], steps: int, repeats: int = 3) -> dict:
    """Seconds per iteration of each variant: ``repeats`` runs of ``steps`` each, alternating between the
    variants so that a drift of the machine's speed falls on all of them; medians, and the speed-ups over
    ``default`` and ``reference_style`` where they are among the variants. ``run(name, folder, steps)``
    erases with variant ``name`` into ``folder`` and returns the run's output folder."""
    runs: dict[str, list[float]] = {name: [] for name in variants}
    for repeat in range(repeats):
        for name in variants:
            out = run(name, f"{name}-timing-{repeat}", steps)
            runs[name].append(json.loads((out / "bierase.json").read_text())["seconds"] / steps)
    figures: dict = {"timed_steps": steps, "repeats": repeats}
    for name in variants:
        figures[name] = {"options": variants[name], "s_per_iteration_runs": runs[name],
                         "s_per_iteration": statistics.median(runs[name])}  # fmt: skip
    for baseline in ("reference_style", "default"):
        if baseline in variants:
            seconds = figures[baseline]["s_per_iteration"]
            figures[f"speedup_vs_{baseline}"] = {name: seconds / figures[name]["s_per_iteration"] for name in variants}
    return figures

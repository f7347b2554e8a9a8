"""Shared by the benchmark scripts: timing, result files and the --quick flag."""

from __future__ import annotations

import argparse
import json
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

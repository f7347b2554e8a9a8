"""Argument types shared by subcommands: they reject bad values at parse time, in one line."""

from __future__ import annotations

import argparse
from pathlib import Path


def positive_int(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"{value} is out of range; give an integer >= 1")
    return value


def non_negative_float(text: str) -> float:
    value = float(text)
    if value < 0:
        raise argparse.ArgumentTypeError(f"{value} is out of range; give a number >= 0")
    return value


def new_or_empty_dir(text: str) -> Path:
    """An output folder that can be written without losing anything already there."""
    path = Path(text)
    if path.exists() and (not path.is_dir() or any(path.iterdir())):
        raise argparse.ArgumentTypeError(f"{path} already exists and is not empty; choose a new folder")
    return path

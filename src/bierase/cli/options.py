"""Argument types shared by subcommands: they reject bad values at parse time, in one line."""

from __future__ import annotations

import argparse
from pathlib import Path

from bierase.errors import UserError

MODEL_HELP = "pipeline folder (diffusers layout) or hub id"


def positive_int(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"{value} is out of range; give an integer >= 1")
    return value


def non_negative_int(text: str) -> int:
    value = int(text)
    if value < 0:
        raise argparse.ArgumentTypeError(f"{value} is out of range; give an integer >= 0")
    return value


def non_negative_float(text: str) -> float:
    value = float(text)
    if not value >= 0 or value == float("inf"):
        raise argparse.ArgumentTypeError(f"{value} is out of range; give a finite number >= 0")
    return value


def new_or_empty_dir(text: str) -> Path:
    """An output folder that can be written without losing anything already there."""
    from bierase.folders import new_output_dir

    try:
        return new_output_dir(text)
    except UserError as error:
        raise argparse.ArgumentTypeError(str(error)) from error

"""Flags from a config dataclass, TRL-style: one source of truth for CLI, YAML and Python.

Only flags the user actually gives override the YAML file given with
``--config``, which overrides the dataclass defaults.
"""

from __future__ import annotations

import argparse
import dataclasses
import types
import typing
from pathlib import Path
from typing import Any

from bierase.errors import UserError


def _kind(field: dataclasses.Field, hints: dict[str, Any]) -> tuple[Any, bool]:
    """(element type, is_list) of a field's annotation, with Optional stripped."""
    hint = hints[field.name]
    args = [a for a in typing.get_args(hint) if a is not type(None)]
    if typing.get_origin(hint) in (typing.Union, types.UnionType) and len(args) == 1:
        hint = args[0]
    if typing.get_origin(hint) is list:
        return typing.get_args(hint)[0], True
    return hint, False


def add_dataclass_arguments(parser: argparse.ArgumentParser, *classes: type) -> None:
    """Flags for the fields of ``classes``; a name shared by several gets the first one's type and help."""
    parser.add_argument("--config", type=Path, default=argparse.SUPPRESS, help="YAML file with any of these options")
    seen: set[str] = set()
    for cls in classes:
        _add_fields(parser, cls, seen)


def _add_fields(parser: argparse.ArgumentParser, cls: type, seen: set[str]) -> None:
    hints = typing.get_type_hints(cls)
    for field in dataclasses.fields(cls):
        if field.name in seen:
            continue
        seen.add(field.name)
        kind, is_list = _kind(field, hints)
        default = field.default if field.default is not dataclasses.MISSING else field.default_factory()
        help_text = f"{field.metadata.get('help', '')} (default: {default!r})"
        flag = f"--{field.name}"
        if kind is bool:
            parser.add_argument(flag, action="store_true", default=argparse.SUPPRESS, help=help_text)
        elif is_list:
            parser.add_argument(flag, nargs="+", type=kind, default=argparse.SUPPRESS, help=help_text)
        else:
            parser.add_argument(flag, type=kind, default=argparse.SUPPRESS, help=help_text)


def config_from_args(cls: type, args: argparse.Namespace, ignore: tuple[str, ...] = ("run", "command", "method")):
    given = {k: v for k, v in vars(args).items() if k not in ignore and k != "config"}
    known = {f.name for f in dataclasses.fields(cls)}
    foreign = sorted(set(given) - known)
    if foreign:
        raise UserError(f"--{foreign[0]} does not apply here; see --help for this method's options")
    if "config" in vars(args):
        return cls.from_yaml(args.config, **given)
    try:
        return cls(**given)
    except TypeError as error:
        raise UserError(str(error)) from error

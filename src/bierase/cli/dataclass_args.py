"""Flags from an options dataclass, TRL-style: one source of truth for CLI, YAML and Python.

Only flags the user actually gives override the YAML file given with ``--config``, which overrides the
dataclass defaults. A boolean ``--name`` also takes ``--name false``; one that defaults to true has a
``--no_name`` (the ``HfArgumentParser`` convention). The values are checked by the dataclass itself.
"""

from __future__ import annotations

import argparse
import dataclasses
import typing
from pathlib import Path

from bierase.erasing.options import field_kind
from bierase.errors import UserError

TRUE, FALSE = ("true", "yes", "1", "on"), ("false", "no", "0", "off")


def boolean(text: str) -> bool:
    if text.lower() in TRUE + FALSE:
        return text.lower() in TRUE
    raise argparse.ArgumentTypeError(f"{text!r} is not a boolean; give true or false")


def add_dataclass_arguments(parser: argparse.ArgumentParser, cls: type, hidden: tuple[type, ...] = ()) -> None:
    """Flags for the fields of ``cls``; the fields of ``hidden`` classes that ``cls`` lacks are accepted
    but not shown, so that ``config_from_args`` can refuse them by name."""
    parser.add_argument("--config", type=Path, default=argparse.SUPPRESS, help="YAML file with any of these options")
    own = {f.name for f in dataclasses.fields(cls)}
    _add_fields(parser, cls, own, show=True)
    for other in hidden:
        _add_fields(parser, other, own, show=False)
        own |= {f.name for f in dataclasses.fields(other)}


def _add_fields(parser: argparse.ArgumentParser, cls: type, skip: set[str], show: bool) -> None:
    hints = typing.get_type_hints(cls)
    for field in dataclasses.fields(cls):
        if show is False and field.name in skip:
            continue
        kind, is_list, _ = field_kind(hints[field.name])
        default = field.default if field.default is not dataclasses.MISSING else field.default_factory()
        help_text = f"{field.metadata.get('help', '')} (default: {default!r})" if show else argparse.SUPPRESS
        flag = f"--{field.name}"
        common = {"default": argparse.SUPPRESS, "help": help_text}
        if kind is bool:
            parser.add_argument(flag, nargs="?", const=True, type=boolean, metavar="true|false", **common)
            if default is True:
                off = f"switch --{field.name} off" if show else argparse.SUPPRESS
                parser.add_argument(f"--no_{field.name}", dest=field.name, action="store_false",
                                    default=argparse.SUPPRESS, help=off)  # fmt: skip
        elif is_list:
            parser.add_argument(flag, nargs="+", type=kind, **common)
        else:
            choices = field.metadata.get("choices")
            parser.add_argument(flag, type=kind, metavar="|".join(choices) if choices else None, **common)


def config_from_args(cls: type, args: argparse.Namespace, method: str | None = None,
                     ignore: tuple[str, ...] = ("run", "command", "method")):  # fmt: skip
    """``cls`` from the given flags over ``--config``'s YAML; a flag of another method is refused by name."""
    given = {k: v for k, v in vars(args).items() if k not in ignore and k != "config"}
    foreign = sorted(set(given) - cls.field_names())
    if foreign:
        where = f"--method {method}" if method else "this command"
        raise UserError(f"--{foreign[0]} is not an option of {where}; see `{cls.HELP_COMMAND}`")
    if "config" in vars(args):
        return cls.from_yaml(args.config, method, **given)
    return cls(**given)

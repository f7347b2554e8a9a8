"""The config layer every method's options share: typed fields with their help and range, one object
parsed from CLI flags, YAML files and Python alike.

A field is declared with :func:`option`, which records its help text and the values it accepts. The
dataclass checks every value against its annotation and range when it is built (``__post_init__``), so a
YAML string is never read as a boolean, a number is finite and in range, and the message names the
option and what it accepts, in one line, before anything heavy runs. Rules that tie several fields
together go in a class's ``validate``, which subclasses extend with ``super().validate()``.
"""

from __future__ import annotations

import dataclasses
import math
import re
import types
import typing
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from bierase.errors import UserError, first_line

SEED_RANGE = (0, 2**32 - 1)


def option(
    help: str,
    default: Any = dataclasses.MISSING,
    *,
    default_factory: Any = dataclasses.MISSING,
    low: float | None = None,
    high: float | None = None,
    above: float | None = None,
    choices: tuple[str, ...] | None = None,
    one_or_many: bool = False,
) -> Any:
    """A dataclass field with its ``help``, and the range it accepts: ``>= low``, ``<= high``, ``> above``,
    or one of ``choices``. Numbers are always finite. A list field that is ``one_or_many`` also takes a
    single value (``concept="nudity"`` is ``["nudity"]``)."""
    metadata = {"help": help, "low": low, "high": high, "above": above, "choices": choices, "one_or_many": one_or_many}
    return dataclasses.field(default=default, default_factory=default_factory, metadata=metadata)


def redefault(cls: type, name: str, default: Any, help: str | None = None) -> Any:
    """``cls``'s field ``name`` with another default (and help), for a method whose defaults differ."""
    parent = {f.name: f for f in dataclasses.fields(cls)}[name]
    metadata = {**parent.metadata, **({"help": help} if help else {})}
    return dataclasses.field(default=default, metadata=metadata)


def field_kind(hint: Any) -> tuple[Any, bool, bool]:
    """(element type, is a list, may be None) of an annotation."""
    optional = False
    args = typing.get_args(hint)
    if typing.get_origin(hint) in (typing.Union, types.UnionType):
        optional = type(None) in args
        rest = [a for a in args if a is not type(None)]
        hint = rest[0] if len(rest) == 1 else hint
    if typing.get_origin(hint) is list:
        return typing.get_args(hint)[0], True, optional
    return hint, False, optional


def _describe(kind: Any) -> str:
    return {bool: "true or false", int: "an integer", float: "a number", str: "a string"}.get(kind, str(kind))


def _typed(name: str, kind: Any, value: Any) -> Any:
    """``value`` as ``kind`` (an int is a valid float), or a one-line error naming what was expected."""
    if kind is float and isinstance(value, int) and not isinstance(value, bool):
        value = float(value)
    ok = isinstance(value, kind) and not (kind in (int, float) and isinstance(value, bool))
    if not ok:
        hint = " (write true or false, unquoted)" if kind is bool and isinstance(value, str) else ""
        raise UserError(f"--{name} {value!r} is not valid; it must be {_describe(kind)}{hint}")
    return value


def _range_error(name: str, value: Any, meta: dict) -> str | None:
    if meta["choices"] is not None and value not in meta["choices"]:
        return f"--{name} {value!r} is not valid; choose one of {', '.join(meta['choices'])}"
    if not isinstance(value, (int, float)) or isinstance(value, bool):
        return None
    bounds = []
    if meta["low"] is not None:
        bounds.append(f">= {meta['low']}")
    if meta["above"] is not None:
        bounds.append(f"> {meta['above']}")
    if meta["high"] is not None:
        bounds.append(f"<= {meta['high']}")
    kind = "an integer" if isinstance(value, int) else "a finite number"
    wanted = f"it must be {kind}{' ' + ' and '.join(bounds) if bounds else ''}"
    if isinstance(value, float) and not math.isfinite(value):
        return f"--{name} {value} is out of range; {wanted}"
    low_ok = meta["low"] is None or value >= meta["low"]
    above_ok = meta["above"] is None or value > meta["above"]
    high_ok = meta["high"] is None or value <= meta["high"]
    return None if low_ok and above_ok and high_ok else f"--{name} {value} is out of range; {wanted}"


class Options:
    """Mixin for an options dataclass: typed, range-checked fields; the same names as CLI flags and YAML keys."""

    HELP_COMMAND = "bierase erase --help"  # where a user finds the valid option names

    def __post_init__(self) -> None:
        self.check_fields()
        self.validate()

    def check_fields(self) -> None:
        hints = typing.get_type_hints(type(self))
        for f in dataclasses.fields(self):
            value = getattr(self, f.name)
            kind, is_list, optional = field_kind(hints[f.name])
            if value is None and optional:
                continue
            if is_list:
                if f.metadata.get("one_or_many") and isinstance(value, str):
                    value = [value]
                if not isinstance(value, (list, tuple)):
                    raise UserError(
                        f"--{f.name} {value!r} is not valid; it must be a list (on the command line: "
                        f"--{f.name} A B; in YAML: [A, B])"
                    )
                value = [_typed(f.name, kind, item) for item in value]
                for item in value:
                    if problem := _range_error(f.name, item, f.metadata):
                        raise UserError(problem)
            else:
                value = _typed(f.name, kind, value)
                if problem := _range_error(f.name, value, f.metadata):
                    raise UserError(problem)
            object.__setattr__(self, f.name, value)

    def validate(self) -> None:
        """Rules between fields; subclasses extend it and call ``super().validate()``."""

    @staticmethod
    def check_items(name: str, items: list[str], unique: bool = True) -> None:
        """A list of concepts: no empty item (and, if ``unique``, none twice)."""
        if any(not item.strip() for item in items):
            raise UserError(f"--{name} {items!r} has an empty item; remove it or give it a text")
        repeated = [] if not unique else sorted({item for item in items if items.count(item) > 1})
        if repeated:
            raise UserError(f"--{name} names {repeated[0]!r} more than once; give each once")

    def check_count(self, name: str, allowed: dict[int, str], of: str) -> None:
        """The list ``name`` has one of the ``allowed`` lengths (``{length: how to say it}``), for ``of``."""
        n = len(getattr(self, name))
        if n not in allowed:
            raise UserError(f"--{name} gives {n} for {of}; give {' or '.join(dict.fromkeys(allowed.values()))}")

    # -- YAML -------------------------------------------------------------------------------------
    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    def save_yaml(self, path: str | Path, method: str | None = None) -> None:
        """The options as YAML, led by the method they are for (``bierase erase --config`` checks it)."""
        data = {"method": method, **self.to_dict()} if method else self.to_dict()
        Path(path).write_text(yaml.safe_dump(data, sort_keys=False))

    @classmethod
    def field_names(cls) -> set[str]:
        return {f.name for f in dataclasses.fields(cls)}

    @classmethod
    def read_yaml(cls, path: str | Path, method: str | None = None) -> dict[str, Any]:
        """The mapping of a YAML file, every key one of this class's options (and ``method``, when it names
        the method they are for: it must be ``method``)."""
        path = Path(path)
        if not path.is_file():
            raise UserError(f"config file {path} does not exist; pass a YAML file written by `bierase erase`")
        try:
            data = yaml.load(path.read_text(), Loader=_Loader) or {}
        except yaml.YAMLError as error:
            raise UserError(f"config file {path} is not valid YAML ({first_line(error)})") from error
        if not isinstance(data, dict):
            raise UserError(f"config file {path} must hold a mapping of option: value")
        written_for = data.pop("method", None)
        if method and written_for and written_for != method:
            raise UserError(f"config file {path} holds options of --method {written_for}; pass --method {written_for}")
        unknown = sorted(set(data) - cls.field_names())
        if unknown:
            raise UserError(f"config file {path} has unknown options {', '.join(unknown)}; see `{cls.HELP_COMMAND}`")
        return data

    @classmethod
    def from_yaml(cls, path: str | Path, method: str | None = None, **overrides: Any):
        return cls(**{**cls.read_yaml(path, method), **overrides})


@dataclass
class RunConfig(Options):
    """The options of every method's run, trained or closed form: the model, where the result goes, its seed."""

    pretrained_model_name_or_path: str = option(
        "pipeline folder (diffusers layout) or hub id: a StableDiffusionPipeline (SD 1.x, 2.x; v-prediction too) or a "
        "StableDiffusionXLPipeline (SDXL base; not a refiner)",
        default="",
    )  # fmt: skip
    output_dir: str = option("where the erased UNet (or LoRA), bierase.json and config.yaml go", default="")
    seed: int = option("seed of everything random in the run", default=0, low=SEED_RANGE[0], high=SEED_RANGE[1])
    overwrite: bool = option(
        "replace the run already in output_dir (its own files only; other files are kept and named)", default=False
    )
    save_pipeline: bool = option("also write a complete pipeline folder to output_dir/pipeline", default=False)

    def required(self) -> list[str]:
        """The fields without which no run can start (a config may be built in pieces without them)."""
        return ["pretrained_model_name_or_path", "concept", "output_dir"]

    def require_run_fields(self) -> None:
        for name in self.required():
            if not getattr(self, name):
                raise UserError(f"--{name} is required")


class _Loader(yaml.SafeLoader):
    """YAML 1.2 numbers: PyYAML (YAML 1.1) reads ``1e-4`` as a string, which every user writes for a rate."""


_Loader.add_implicit_resolver(
    "tag:yaml.org,2002:float",
    re.compile(r"^[-+]?(?:\d+\.?\d*|\.\d+)[eE][-+]?\d+$"),
    list("-+0123456789."),
)

"""YAML round trip shared by every method's options dataclass (``--config file.yaml``)."""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any

import yaml

from bierase.errors import UserError


class YamlConfig:
    """Mixin for a dataclass of options: its fields are the YAML keys, as they are the CLI flags."""

    HELP_COMMAND = "bierase erase --help"  # where a user finds the valid option names

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    def save_yaml(self, path: str | Path) -> None:
        Path(path).write_text(yaml.safe_dump(self.to_dict(), sort_keys=False))

    @classmethod
    def from_yaml(cls, path: str | Path, **overrides: Any):
        path = Path(path)
        if not path.is_file():
            raise UserError(f"config file {path} does not exist; pass a YAML file written by `bierase erase`")
        try:
            data = yaml.safe_load(path.read_text()) or {}
        except yaml.YAMLError as error:
            raise UserError(f"config file {path} is not valid YAML ({str(error).splitlines()[0]})") from error
        if not isinstance(data, dict):
            raise UserError(f"config file {path} must hold a mapping of option: value")
        unknown = sorted(set(data) - {f.name for f in dataclasses.fields(cls)})
        if unknown:
            raise UserError(f"config file {path} has unknown options {', '.join(unknown)}; see `{cls.HELP_COMMAND}`")
        return cls(**{**data, **overrides})

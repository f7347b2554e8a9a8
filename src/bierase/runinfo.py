"""What every run writes beside its outputs: its resolved config and the versions it ran with."""

from __future__ import annotations

import dataclasses
import json
import platform
import sys
from datetime import datetime, timezone
from importlib import metadata
from pathlib import Path
from typing import Any

PACKAGES = ("bierase", "torch", "diffusers", "transformers", "accelerate", "peft", "safetensors", "numpy")


def versions() -> dict[str, str]:
    found = {"python": sys.version.split()[0], "platform": platform.platform()}
    for name in PACKAGES:
        try:
            found[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            found[name] = "not installed"
    return found


def write_run_info(directory: str | Path, config: Any, name: str = "run.json", **extra: Any) -> Path:
    """Write ``{config, versions, time, ...extra}`` as JSON into ``directory``."""
    if dataclasses.is_dataclass(config):
        config = dataclasses.asdict(config)
    path = Path(directory) / name
    path.parent.mkdir(parents=True, exist_ok=True)
    info = {"config": config, "versions": versions(), "time": datetime.now(timezone.utc).isoformat(), **extra}
    path.write_text(json.dumps(info, indent=2, default=str) + "\n")
    return path

"""The erasure methods selectable with ``--method``, each a sub-package with a config and a run function."""

from __future__ import annotations

import importlib
from pathlib import Path

from bierase.errors import UserError

# method name -> (module, config class name, function that runs it)
METHODS = {
    "bi-erasing": ("bierase.methods.bi_erasing.config", "BiErasingConfig"),
    "esd": ("bierase.methods.esd.config", "ESDConfig"),
    "co-erasing": ("bierase.methods.co_erasing.config", "CoErasingConfig"),
    "uce": ("bierase.methods.uce.config", "UCEConfig"),
}


def check_method(name: str) -> str:
    if name not in METHODS:
        raise UserError(f"unknown --method {name!r}; choose one of {', '.join(METHODS)}")
    return name


def config_class(name: str) -> type:
    module, cls = METHODS[check_method(name)]
    return getattr(importlib.import_module(module), cls)


def run_method(name: str, config) -> Path:
    """Erase with ``config``; the trained methods share Bi-Erasing's trainer, UCE is closed form."""
    if check_method(name) == "uce":
        from bierase.methods.uce.method import erase as uce_erase

        return uce_erase(config)
    from bierase.methods.bi_erasing.trainer import erase

    return erase(config, method=name)
